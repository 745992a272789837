package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.Set;

/**
 * First handler of a raw TCP connection: multistream-select for {@code /noise}, then it hands the
 * connection (and any bytes that came after the agreement) to a {@link NoiseHandler}.
 */
final class SecurityNegotiator extends ByteToMessageDecoder {
    static final String NOISE = "/noise";

    private final Negotiation negotiation;
    private final ConnectionSetup setup;

    SecurityNegotiator(ConnectionSetup setup) {
        this.setup = setup;
        this.negotiation = setup.initiator() ? Negotiation.dialler(NOISE) : Negotiation.listener(Set.of(NOISE));
    }

    private boolean opened;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            open(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        open(ctx);
        super.channelActive(ctx);
    }

    private void open(ChannelHandlerContext ctx) {
        if (!opened) { // accepted channels are active when added, dialed ones become active later
            opened = true;
            ctx.writeAndFlush(negotiation.opening(ctx.alloc()));
        }
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
            ctx.pipeline().addAfter(ctx.name(), "noise", new NoiseHandler(setup));
            ctx.pipeline().remove(this); // remaining bytes flow on to the Noise handler
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        setup.fail(ctx, cause);
    }
}
