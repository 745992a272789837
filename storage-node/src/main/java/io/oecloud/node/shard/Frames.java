package io.oecloud.node.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

/** uvarint-length-prefixed protobuf messages at the head of a shard stream, size-checked first. */
final class Frames {
    private Frames() {}

    /**
     * The message, length-prefixed, followed by {@code body}. The body is wrapped, not copied: the
     * caller must not change it afterwards (shards are fresh arrays, never reused).
     */
    static ByteBuf encode(ByteBufAllocator alloc, byte[] message, byte[] body) {
        ByteBuf head = alloc.heapBuffer(5 + message.length);
        long v = message.length;
        while ((v & ~0x7fL) != 0) {
            head.writeByte((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        head.writeByte((int) v);
        head.writeBytes(message);
        if (body == null || body.length == 0) {
            return head;
        }
        return alloc.compositeBuffer(2).addComponents(true, head, Unpooled.wrappedBuffer(body));
    }

    /**
     * Reads one length-prefixed message from {@code in}, or returns null (buffer untouched) while
     * it is incomplete.
     *
     * @throws IllegalArgumentException when the length exceeds {@code max}
     */
    static byte[] read(ByteBuf in, int max) {
        int start = in.readerIndex();
        long len = 0;
        int i = 0;
        while (true) {
            if (!in.isReadable()) {
                in.readerIndex(start);
                return null;
            }
            int b = in.readUnsignedByte();
            len |= (long) (b & 0x7f) << (7 * i++);
            if ((b & 0x80) == 0) {
                break;
            }
            if (i == 5) {
                throw new IllegalArgumentException("message length varint too long");
            }
        }
        if (len > max) {
            throw new IllegalArgumentException("message of " + len + " bytes exceeds " + max);
        }
        if (in.readableBytes() < len) {
            in.readerIndex(start);
            return null;
        }
        byte[] m = new byte[(int) len];
        in.readBytes(m);
        return m;
    }
}
