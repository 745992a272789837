package io.oecloud.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection after its last answer without losing that answer. A server that refuses a
 * body still arriving (413, 400) and closes at once leaves the body's unread bytes in its socket;
 * the kernel then resets the connection, and the reset can reach the client before the client
 * read the answer (Java's HttpClient reports "header parser received no bytes"). As nginx's
 * lingering close does, the server instead ends its side (FIN after the answer), drops what still
 * arrives, and closes when the client does, after {@link #MAX_BYTES} dropped bytes, or after
 * {@link #MAX_MILLIS}, whichever comes first: a hostile client holds the connection 2 s at most.
 */
public final class LingeringClose {
    static final long MAX_MILLIS = 2_000;
    static final long MAX_BYTES = 8L << 20;

    /** Use in place of {@link ChannelFutureListener#CLOSE} on the write of a connection's last answer. */
    public static final ChannelFutureListener AFTER = LingeringClose::linger;

    private LingeringClose() {}

    private static void linger(ChannelFuture written) {
        Channel ch = written.channel();
        if (!written.isSuccess() || !(ch instanceof SocketChannel s) || !ch.isActive()) {
            ch.close();
            return;
        }
        if (ch.pipeline().get(Drain.class) != null) {
            return;
        }
        ch.pipeline().addFirst(new Drain());
        ch.config().setAutoRead(true);
        s.shutdownOutput().addListener(f -> {
            if (!f.isSuccess()) {
                ch.close();
            }
        });
        ch.eventLoop().schedule(() -> ch.close(), MAX_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** First in the pipeline once the answer is out: input is counted and dropped, never decoded. */
    private static final class Drain extends ChannelInboundHandlerAdapter {
        private long dropped;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) {
                dropped += b.readableBytes();
            }
            ReferenceCountUtil.release(msg);
            if (dropped > MAX_BYTES) {
                ctx.close();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                ctx.close(); // the client ended its side too
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
