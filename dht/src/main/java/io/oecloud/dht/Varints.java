package io.oecloud.dht;

import io.netty.buffer.ByteBuf;

/** Unsigned varints (LEB128) as libp2p frames messages with them. */
final class Varints {
    /** A frame length we read is at most 9 bytes of varint (63 bits). */
    static final int MAX_BYTES = 9;
    /** Returned by {@link #read} when the buffer does not yet hold a whole varint. */
    static final long INCOMPLETE = -1;

    private Varints() {}

    static int size(long v) {
        int n = 1;
        while ((v >>>= 7) != 0) {
            n++;
        }
        return n;
    }

    static void write(ByteBuf out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.writeByte((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    static int write(byte[] out, int off, long v) {
        while ((v & ~0x7fL) != 0) {
            out[off++] = (byte) ((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out[off++] = (byte) v;
        return off;
    }

    /**
     * Reads a varint at the reader index and advances past it, or returns {@link #INCOMPLETE} and
     * leaves the buffer alone.
     *
     * @throws ProtocolException if the varint is longer than {@link #MAX_BYTES}
     */
    static long read(ByteBuf in) {
        long v = 0;
        int start = in.readerIndex();
        for (int i = 0; i < MAX_BYTES; i++) {
            if (start + i >= in.writerIndex()) {
                return INCOMPLETE;
            }
            int b = in.getByte(start + i) & 0xff;
            v |= (long) (b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) {
                in.readerIndex(start + i + 1);
                return v;
            }
        }
        throw new ProtocolException("varint longer than " + MAX_BYTES + " bytes");
    }

    /** Reads a varint from {@code b} at {@code pos[0]}, advancing it. */
    static long read(byte[] b, int[] pos) {
        long v = 0;
        for (int i = 0; i < MAX_BYTES; i++) {
            if (pos[0] >= b.length) {
                throw new IllegalArgumentException("truncated varint");
            }
            int x = b[pos[0]++] & 0xff;
            v |= (long) (x & 0x7f) << (7 * i);
            if ((x & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("varint longer than " + MAX_BYTES + " bytes");
    }
}
