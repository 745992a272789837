package io.oecloud.dht;

import io.netty.buffer.ByteBuf;

/**
 * What a protocol does with one stream. Every callback runs on the connection's event loop, in
 * order; none may block.
 */
public interface StreamHandler {
    /** The protocol is agreed and the stream is ready. */
    default void onOpen(P2pStream stream) {}

    /** Bytes arrived. The handler owns {@code data} and must release it. */
    void onData(P2pStream stream, ByteBuf data);

    /** The remote side closed its half (FIN): no more data will arrive; we may still write. */
    default void onRemoteClose(P2pStream stream) {
        stream.closeWrite();
    }

    /** The stream's write buffer went below its low-water mark. */
    default void onWritable(P2pStream stream) {}

    /**
     * The stream is gone: both halves closed ({@code error} null), reset by either side, timed
     * out, or its connection closed.
     */
    default void onClose(P2pStream stream, Throwable error) {}
}
