package io.oecloud.dht;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/** A secured, multiplexed connection to one peer. Thread-safe. */
public interface Connection {
    PeerId remotePeer();

    /** The remote peer's public key in libp2p's protobuf form, as proven in the handshake. */
    byte[] remotePublicKey();

    InetSocketAddress remoteAddress();

    /** Whether we dialed it. */
    boolean isOutbound();

    /**
     * Opens a stream and agrees on {@code protocol} with multistream-select.
     *
     * @return completes with the open stream, or fails with {@link UnsupportedProtocolException}
     *     when the peer lacks the protocol, or with a timeout
     */
    CompletableFuture<P2pStream> newStream(String protocol, StreamHandler handler);

    /** Streams open now. */
    int streamCount();

    boolean isOpen();

    /** Closes the connection (GoAway, then the socket). */
    void close();
}
