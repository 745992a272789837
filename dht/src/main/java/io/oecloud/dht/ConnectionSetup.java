package io.oecloud.dht;

import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.CompletableFuture;

/**
 * What the handlers of one connection share while it is being upgraded: our side of it, the
 * identity to prove, the peer we expect (when dialing a /p2p address) and the future the dialer
 * waits on.
 */
final class ConnectionSetup {
    private final Host host;
    private final boolean initiator;
    private final PeerId expectedPeer;
    final CompletableFuture<Connection> ready = new CompletableFuture<>();
    /** Set by the Noise handler once the remote identity is proven. */
    volatile NoiseHandler.Secured secured;

    ConnectionSetup(Host host, boolean initiator, PeerId expectedPeer) {
        this.host = host;
        this.initiator = initiator;
        this.expectedPeer = expectedPeer;
    }

    Host host() {
        return host;
    }

    boolean initiator() {
        return initiator;
    }

    PeerId expectedPeer() {
        return expectedPeer;
    }

    Identity identity() {
        return host.identity();
    }

    /** Fails the upgrade (or the live connection) and closes the channel; the process goes on. */
    void fail(ChannelHandlerContext ctx, Throwable cause) {
        ready.completeExceptionally(cause);
        host.log(System.Logger.Level.DEBUG, "connection " + ctx.channel().remoteAddress() + " closed: " + cause);
        ctx.close();
    }
}
