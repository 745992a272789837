package io.oecloud.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A request head must be complete within a deadline of its first byte (placed before the HTTP
 * codec, which holds a partial head as long as the connection lives). Without it a client that
 * sends a head a byte at a time, or stops half-way, holds a connection for the idle limit of two
 * minutes, and 512 such clients hold them all (slowloris). The handler after the codec (storage-node's
 * ApiGate) says when a head arrived ({@link #arrived}) and when the next may begin ({@link #expect}); the deadline runs from the first byte read after that, so
 * an idle keep-alive connection is left to the idle limit; a new connection's first head is due
 * within the deadline of the connection's start. On expiry the client gets a 408 written
 * raw (the codec is mid-message) and the connection closes. Event loop only.
 */
public final class HeadDeadline extends ChannelInboundHandlerAdapter {
    private static final String BODY = "{\"error\":\"the request head was not complete in time\"}";
    /** The answer a server whose errors are JSON writes on expiry. */
    static final byte[] TIMEOUT = ("HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + "X-Content-Type-Options: nosniff\r\nContent-Length: " + BODY.length() + "\r\n\r\n" + BODY).getBytes(StandardCharsets.US_ASCII);

    private final long deadlineMillis;
    private final byte[] timeout;
    private ChannelHandlerContext ctx;
    private boolean awaiting = true; // no head yet since the last answer
    private ScheduledFuture<?> timer;

    /** A deadline that answers a JSON 408 on expiry. */
    public HeadDeadline(long deadlineMillis) {
        this(deadlineMillis, TIMEOUT);
    }

    /** @param timeout the raw answer written on expiry (a whole HTTP/1.1 response that closes the connection) */
    public HeadDeadline(long deadlineMillis, byte[] timeout) {
        this.deadlineMillis = deadlineMillis;
        this.timeout = timeout.clone();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        timer = ctx.executor().schedule(this::expire, deadlineMillis, TimeUnit.MILLISECONDS); // the first head is due
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (awaiting && timer == null) {
            timer = ctx.executor().schedule(this::expire, deadlineMillis, TimeUnit.MILLISECONDS);
        }
        ctx.fireChannelRead(msg);
    }

    /** The gate has a whole head: the deadline is met. */
    public void arrived() {
        awaiting = false;
        cancel();
    }

    /** The gate answered a request: the next head's deadline starts with its first byte. */
    public void expect() {
        awaiting = true;
        cancel();
    }

    private void expire() {
        timer = null;
        if (awaiting && ctx.channel().isActive()) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(timeout)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancel();
        super.channelInactive(ctx);
    }
}
