package io.oecloud.proofs;

/** Unsigned LEB128 varints as multiformats uses them: at most 9 bytes (63 bits), minimal encoding. */
final class Varint {
    static final int MAX_BYTES = 9;

    private Varint() {}

    static int size(long value) {
        int n = 1;
        while ((value >>>= 7) != 0) {
            n++;
        }
        return n;
    }

    static int write(long value, byte[] dst, int off) {
        while ((value & ~0x7fL) != 0) {
            dst[off++] = (byte) ((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        dst[off++] = (byte) value;
        return off;
    }

    /**
     * Reads a varint at {@code pos[0]} and advances it.
     *
     * @param what names the field in error messages
     */
    static long read(byte[] src, int[] pos, String what) {
        long value = 0;
        int start = pos[0];
        for (int i = 0; ; i++) {
            if (i == MAX_BYTES) {
                throw new CidFormatException(CidFormatException.Part.VARINT,
                        what + " varint is longer than " + MAX_BYTES + " bytes");
            }
            if (start + i >= src.length) {
                throw new CidFormatException(CidFormatException.Part.VARINT,
                        what + " varint is truncated at byte " + (start + i));
            }
            int b = src[start + i] & 0xff;
            value |= (long) (b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    throw new CidFormatException(CidFormatException.Part.VARINT,
                            what + " varint is not minimally encoded");
                }
                pos[0] = start + i + 1;
                return value;
            }
        }
    }
}
