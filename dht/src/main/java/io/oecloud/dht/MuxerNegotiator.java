package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.Set;

/**
 * Inside the secure channel, when the Noise payloads did not settle the muxer: multistream-select
 * for {@code /yamux/1.0.0}, then a {@link YamuxSession} takes over.
 */
final class MuxerNegotiator extends ByteToMessageDecoder {
    private final ConnectionSetup setup;
    private final PeerId remotePeer;
    private final Negotiation negotiation;

    MuxerNegotiator(ConnectionSetup setup, PeerId remotePeer) {
        this.setup = setup;
        this.remotePeer = remotePeer;
        this.negotiation = setup.initiator()
                ? Negotiation.dialler(Yamux.PROTOCOL_ID)
                : Negotiation.listener(Set.of(Yamux.PROTOCOL_ID));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(negotiation.opening(ctx.alloc()));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        ByteBuf replies = ctx.alloc().buffer(32);
        Negotiation.Result r;
        try {
            r = negotiation.feed(in, replies);
        } finally {
            if (replies.isReadable()) {
                ctx.writeAndFlush(replies);
            } else {
                replies.release();
            }
        }
        if (r == Negotiation.Result.AGREED) {
            ctx.pipeline().addAfter(ctx.name(), "yamux", new YamuxSession(setup, remotePeer));
            ctx.pipeline().remove(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        setup.fail(ctx, cause);
    }
}
