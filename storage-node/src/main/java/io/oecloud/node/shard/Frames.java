package io.oecloud.node.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.oecloud.wire.LengthPrefix;

/**
 * The head of a shard stream: a uvarint-length-prefixed protobuf message ({@code wire}'s
 * {@link LengthPrefix}), size-checked first, then the shard's bytes for a PUT or a GET's answer.
 */
final class Frames {
    /** A head is at most {@link ShardServer#MAX_REQUEST} bytes: 5 bytes of varint cover any int. */
    private static final int MAX_PREFIX = 5;

    private Frames() {}

    /**
     * The message, length-prefixed, followed by {@code body}. The body is wrapped, not copied: the
     * caller must not change it afterwards (shards are fresh arrays, never reused).
     */
    static ByteBuf encode(ByteBufAllocator alloc, byte[] message, byte[] body) {
        ByteBuf head = alloc.heapBuffer(MAX_PREFIX + message.length);
        LengthPrefix.writeUvarint(head, message.length);
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
     * @throws io.oecloud.wire.WireException when the length exceeds {@code max} or its prefix 5 bytes
     */
    static byte[] read(ByteBuf in, int max) {
        int len = LengthPrefix.frameLength(in, MAX_PREFIX, max);
        if (len == LengthPrefix.INCOMPLETE) {
            return null;
        }
        byte[] m = new byte[len];
        in.readBytes(m);
        return m;
    }
}
