package io.oecloud.proofs;

/** RFC 4648 base32, lower case, no padding: the multibase 'b' alphabet. */
final class Base32 {
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    private static final byte[] DECODE = new byte[128];

    static {
        java.util.Arrays.fill(DECODE, (byte) -1);
        for (int i = 0; i < ALPHABET.length; i++) {
            DECODE[ALPHABET[i]] = (byte) i;
            DECODE[Character.toUpperCase(ALPHABET[i])] = (byte) i;
        }
    }

    private Base32() {}

    static String encode(byte[] data) {
        StringBuilder sb = new StringBuilder((data.length * 8 + 4) / 5);
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                sb.append(ALPHABET[(buffer >>> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) {
            sb.append(ALPHABET[(buffer << (5 - bits)) & 31]);
        }
        return sb.toString();
    }

    /**
     * Decodes {@code s} from {@code from} (either case, not mixed within a string by callers' choice).
     *
     * @throws CidFormatException on a character outside the alphabet or non-zero padding bits
     */
    static byte[] decode(String s, int from) {
        int chars = s.length() - from;
        if (chars % 8 == 1 || chars % 8 == 3 || chars % 8 == 6) {
            throw new CidFormatException(CidFormatException.Part.BASE32,
                    "base32 length " + chars + " is not a whole number of bytes");
        }
        byte[] out = new byte[chars * 5 / 8];
        int buffer = 0;
        int bits = 0;
        int o = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            int v = c < 128 ? DECODE[c] : -1;
            if (v < 0) {
                throw new CidFormatException(CidFormatException.Part.BASE32,
                        "'" + c + "' at position " + i + " is not a base32 character");
            }
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8) {
                out[o++] = (byte) (buffer >>> (bits - 8));
                bits -= 8;
            }
        }
        if ((buffer & ((1 << bits) - 1)) != 0) {
            throw new CidFormatException(CidFormatException.Part.BASE32, "base32 padding bits are not zero");
        }
        return out;
    }
}
