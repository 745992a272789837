package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.oecloud.wire.LengthPrefix;
import io.oecloud.wire.Uvarint;
import io.oecloud.wire.WireException;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages of one stream (identify, kad, our own protocols), gathered from its data as it
 * arrives: {@code wire}'s uvarint-length-prefixed frames ({@link LengthPrefix#encode} writes
 * them). The length is checked against the limit before any message byte is buffered; a bad
 * frame is this stream's {@link ProtocolException}, which resets it.
 */
final class LengthPrefixed {
    private final int maxMessage;
    private ByteBuf buffer;

    LengthPrefixed(int maxMessage) {
        this.maxMessage = maxMessage;
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
            int len;
            try {
                len = LengthPrefix.frameLength(buffer, Uvarint.MAX_BYTES, maxMessage);
            } catch (WireException e) {
                release();
                throw new ProtocolException(e.getMessage(), e);
            }
            if (len == LengthPrefix.INCOMPLETE) {
                break;
            }
            byte[] m = new byte[len];
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
