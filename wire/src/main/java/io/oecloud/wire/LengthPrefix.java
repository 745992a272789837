package io.oecloud.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Uvarint-length-prefixed frames in Netty buffers: {@code uvarint(n)} then n bytes, as libp2p
 * (identify, kad, multistream), ABCI, the shard protocol and the chain's gossip batches frame
 * their messages. The varint is the one {@link Uvarint} writes to arrays.
 *
 * <p>Readers work on a cumulation buffer at its reader index and never copy: they either take a
 * whole item (and move the reader index past it) or return {@link #INCOMPLETE} and leave the
 * buffer as it was, so the caller appends the next read and asks again. A length over the limit
 * is refused from the prefix alone, before a byte of the frame is buffered.
 *
 * <pre>{@code
 * LengthPrefix.writeUvarint(out, m.length); out.writeBytes(m);   // or LengthPrefix.encode(alloc, m)
 *
 * int n = LengthPrefix.frameLength(cumulation, 5, MAX);          // WireException past MAX
 * if (n == LengthPrefix.INCOMPLETE) return;                      // wait for more bytes
 * ByteBuf frame = cumulation.readRetainedSlice(n);               // reader index is past the prefix
 * }</pre>
 *
 * <p>Buffers are the caller's: nothing here retains or releases one, except that
 * {@link #encode} returns a new buffer the caller owns.
 */
public final class LengthPrefix {
    /** What the readers return while the buffer does not yet hold the whole item. */
    public static final int INCOMPLETE = -1;

    private LengthPrefix() {}

    /** Writes {@code v} (read as unsigned) as a varint at the writer index. */
    public static void writeUvarint(ByteBuf out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.writeByte((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    /** {@code message} with its length prefix, in a new buffer from {@code alloc} that the caller owns. */
    public static ByteBuf encode(ByteBufAllocator alloc, byte[] message) {
        ByteBuf out = alloc.buffer(Uvarint.size(message.length) + message.length);
        writeUvarint(out, message.length);
        out.writeBytes(message);
        return out;
    }

    /**
     * Reads a varint at the reader index and moves past it, or returns {@link #INCOMPLETE} with
     * the buffer untouched while the varint is not whole.
     *
     * @param maxBytes the longest varint the protocol allows (1 to {@link Uvarint#MAX_BYTES}):
     *     5 where lengths are 32-bit (ABCI, the shard protocol), 9 for libp2p
     * @throws WireException {@code VARINT_TOO_LONG} as soon as {@code maxBytes} bytes have not ended it
     */
    public static long readUvarint(ByteBuf in, int maxBytes) {
        if (maxBytes < 1 || maxBytes > Uvarint.MAX_BYTES) {
            throw new IllegalArgumentException("maxBytes must be 1 to " + Uvarint.MAX_BYTES + ", was " + maxBytes);
        }
        int start = in.readerIndex();
        int end = in.writerIndex();
        long v = 0;
        for (int i = 0; i < maxBytes; i++) {
            if (start + i >= end) {
                return INCOMPLETE;
            }
            int b = in.getByte(start + i) & 0xff;
            v |= (long) (b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) {
                in.readerIndex(start + i + 1);
                return v;
            }
        }
        throw new WireException(WireException.Kind.VARINT_TOO_LONG, "length varint is longer than " + maxBytes + " bytes");
    }

    /**
     * Reads a frame's length prefix: when the whole frame is in the buffer, returns its length
     * with the reader index just past the prefix (the frame's bytes are next); otherwise returns
     * {@link #INCOMPLETE} with the buffer untouched.
     *
     * @param maxPrefixBytes the longest prefix allowed, as for {@link #readUvarint}
     * @param maxFrame the largest frame allowed
     * @throws WireException {@code VARINT_TOO_LONG}, or {@code FRAME_TOO_LONG} naming the length and
     *     the limit as soon as the prefix is read
     */
    public static int frameLength(ByteBuf in, int maxPrefixBytes, int maxFrame) {
        int start = in.readerIndex();
        long len = readUvarint(in, maxPrefixBytes);
        if (len == INCOMPLETE) {
            return INCOMPLETE;
        }
        if (len > maxFrame) {
            in.readerIndex(start);
            throw new WireException(WireException.Kind.FRAME_TOO_LONG,
                    "frame of " + len + " bytes exceeds the limit of " + maxFrame);
        }
        if (in.readableBytes() < len) {
            in.readerIndex(start);
            return INCOMPLETE;
        }
        return (int) len;
    }
}
