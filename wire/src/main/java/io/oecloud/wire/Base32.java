package io.oecloud.wire;

import java.util.Arrays;

/**
 * RFC 4648 base32 without padding, written in lower case: multibase's {@code b} alphabet, in which
 * CIDs and the CIDv1 form of peer IDs are written. Decoding takes either case and is canonical:
 * a length no byte count encodes to, or unused last bits that are not zero, are refused, so each
 * byte string has exactly one spelling per case.
 *
 * <pre>{@code
 * Base32.encode("foobar".getBytes(US_ASCII))    // "mzxw6ytboi"
 * Base32.decode("bmzxw6ytboi", 1)               // "foobar": from index 1, past the multibase prefix
 * }</pre>
 */
public final class Base32 {
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    private static final byte[] DECODE = new byte[128];

    static {
        Arrays.fill(DECODE, (byte) -1);
        for (int i = 0; i < ALPHABET.length; i++) {
            DECODE[ALPHABET[i]] = (byte) i;
            DECODE[Character.toUpperCase(ALPHABET[i])] = (byte) i;
        }
    }

    private Base32() {}

    /** {@code data} in lower-case base32, unpadded. */
    public static String encode(byte[] data) {
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
     * Decodes {@code s} from index {@code from} to its end, in either case.
     *
     * @throws WireException {@code BASE32_LENGTH}, {@code BASE32_CHARACTER} (naming the character and
     *     its index in {@code s}) or {@code BASE32_PADDING}
     */
    public static byte[] decode(String s, int from) {
        int chars = s.length() - from;
        if (chars % 8 == 1 || chars % 8 == 3 || chars % 8 == 6) {
            throw new WireException(WireException.Kind.BASE32_LENGTH, "base32 length " + chars + " is not a whole number of bytes");
        }
        byte[] out = new byte[chars * 5 / 8];
        int buffer = 0;
        int bits = 0;
        int o = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            int v = c < 128 ? DECODE[c] : -1;
            if (v < 0) {
                throw new WireException(WireException.Kind.BASE32_CHARACTER, "'" + c + "' at position " + i + " is not a base32 character");
            }
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8) {
                out[o++] = (byte) (buffer >>> (bits - 8));
                bits -= 8;
            }
        }
        if ((buffer & ((1 << bits) - 1)) != 0) {
            throw new WireException(WireException.Kind.BASE32_PADDING, "base32 padding bits are not zero");
        }
        return out;
    }
}
