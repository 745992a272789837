package io.oecloud.wire;

/**
 * Unsigned LEB128 varints in byte arrays, as multiformats and libp2p write them: seven bits a
 * byte, low group first, the high bit set on every byte but the last. {@link LengthPrefix} reads
 * and writes the same encoding in Netty buffers.
 *
 * <pre>{@code
 * byte[] b = new byte[Uvarint.size(300)];        // 2
 * Uvarint.write(b, 0, 300);                      // ac 02
 * int[] pos = {0};
 * long v = Uvarint.readMinimal(b, pos);          // 300, pos[0] == 2
 * }</pre>
 *
 * <p>Readers accept at most {@link #MAX_BYTES} bytes (63 bits), the multiformats limit; longer
 * runs are refused before they are read further, so hostile input costs nine bytes at most.
 */
public final class Uvarint {
    /** The longest varint multiformats allows: nine bytes carry 63 bits. */
    public static final int MAX_BYTES = 9;

    private Uvarint() {}

    /** Bytes {@code v} takes, read as unsigned (1 to 10). */
    public static int size(long v) {
        int n = 1;
        while ((v >>>= 7) != 0) {
            n++;
        }
        return n;
    }

    /**
     * Writes {@code v} (read as unsigned) at {@code dst[off]}.
     *
     * @return the offset just past it
     * @throws ArrayIndexOutOfBoundsException if {@code dst} has fewer than {@link #size(long)} bytes
     *     from {@code off}
     */
    public static int write(byte[] dst, int off, long v) {
        while ((v & ~0x7fL) != 0) {
            dst[off++] = (byte) ((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        dst[off++] = (byte) v;
        return off;
    }

    /**
     * Reads a varint at {@code pos[0]} and advances {@code pos[0]} past it. Non-minimal forms
     * (trailing zero groups) are accepted, as libp2p's multiaddr and peer ID readers have.
     *
     * @throws WireException {@code VARINT_TRUNCATED} or {@code VARINT_TOO_LONG}
     */
    public static long read(byte[] src, int[] pos) {
        return read(src, pos, false);
    }

    /**
     * Reads a varint at {@code pos[0]} in its shortest form, as the multiformats spec requires of
     * CIDs and multihashes, and advances {@code pos[0]} past it.
     *
     * @throws WireException {@code VARINT_TRUNCATED}, {@code VARINT_TOO_LONG} or
     *     {@code VARINT_NOT_MINIMAL}
     */
    public static long readMinimal(byte[] src, int[] pos) {
        return read(src, pos, true);
    }

    private static long read(byte[] src, int[] pos, boolean minimal) {
        long v = 0;
        int start = pos[0];
        for (int i = 0; i < MAX_BYTES; i++) {
            if (start + i >= src.length) {
                throw new WireException(WireException.Kind.VARINT_TRUNCATED, "varint is truncated at byte " + (start + i));
            }
            int b = src[start + i] & 0xff;
            v |= (long) (b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) {
                if (minimal && b == 0 && i > 0) {
                    throw new WireException(WireException.Kind.VARINT_NOT_MINIMAL, "varint is not minimally encoded");
                }
                pos[0] = start + i + 1;
                return v;
            }
        }
        throw new WireException(WireException.Kind.VARINT_TOO_LONG, "varint is longer than " + MAX_BYTES + " bytes");
    }
}
