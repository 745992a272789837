package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * uvarint-length-prefixed messages on a stream (identify, kad, our own protocols). The length is
 * checked against the limit before any message byte is buffered.
 */
final class LengthPrefixed {
    private final int maxMessage;
    private ByteBuf buffer;

    LengthPrefixed(int maxMessage) {
        this.maxMessage = maxMessage;
    }

    static ByteBuf encode(ByteBufAllocator alloc, byte[] message) {
        ByteBuf out = alloc.buffer(Varints.size(message.length) + message.length);
        Varints.write(out, message.length);
        out.writeBytes(message);
        return out;
    }

    /**
     * Adds {@code data} (released here) and returns every message now complete.
     *
     * @throws ProtocolException when a length exceeds the limit
     */
    List<byte[]> feed(ByteBufAllocator alloc, ByteBuf data) {
        if (buffer == null) {
            buffer = alloc.buffer(Math.max(256, data.readableBytes()));
        }
        buffer.writeBytes(data);
        data.release();
        List<byte[]> out = new ArrayList<>(1);
        while (buffer.isReadable()) {
            int start = buffer.readerIndex();
            long len = Varints.read(buffer);
            if (len == Varints.INCOMPLETE) {
                break;
            }
            if (len > maxMessage) {
                release();
                throw new ProtocolException("message of " + len + " bytes exceeds the limit of " + maxMessage);
            }
            if (buffer.readableBytes() < len) {
                buffer.readerIndex(start);
                break;
            }
            byte[] m = new byte[(int) len];
            buffer.readBytes(m);
            out.add(m);
        }
        buffer.discardReadBytes();
        return out;
    }

    /** Bytes of a message still incomplete. */
    int buffered() {
        return buffer == null ? 0 : buffer.readableBytes();
    }

    void release() {
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }
}
