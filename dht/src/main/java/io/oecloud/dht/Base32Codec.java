package io.oecloud.dht;

/** RFC 4648 base32 decoding (upper case, '=' padded), for the CIDv1 form of peer IDs. */
final class Base32Codec {
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    private Base32Codec() {}

    static byte[] decode(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '=') {
            end--;
        }
        byte[] out = new byte[end * 5 / 8];
        int buffer = 0;
        int bits = 0;
        int o = 0;
        for (int i = 0; i < end; i++) {
            int v = ALPHABET.indexOf(s.charAt(i));
            if (v < 0) {
                throw new IllegalArgumentException("'" + s.charAt(i) + "' at position " + i);
            }
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8) {
                out[o++] = (byte) (buffer >>> (bits - 8));
                bits -= 8;
            }
        }
        return out;
    }

    static String encodeLower(byte[] data) {
        StringBuilder sb = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                sb.append(Character.toLowerCase(ALPHABET.charAt((buffer >>> (bits - 5)) & 31)));
                bits -= 5;
            }
        }
        if (bits > 0) {
            sb.append(Character.toLowerCase(ALPHABET.charAt((buffer << (5 - bits)) & 31)));
        }
        return sb.toString();
    }
}
