package io.oecloud.node.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;

/** Writes the response head on the first bytes, then chunks, waiting while the socket is full. */
public final class ChannelOutput extends OutputStream {
    private static final int WRITE_SLICE = 64 << 10;
    private final ChannelHandlerContext ctx;
    private final HttpResponse head;
    boolean started;

    public ChannelOutput(ChannelHandlerContext ctx, HttpResponse head) {
        this.ctx = ctx;
        this.head = head;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (!started) {
            started = true;
            ctx.writeAndFlush(head);
        }
        // Wrapped, not copied: the bytes are not touched again before the write completes below.
        // In slices: the transport copies each into a pooled direct buffer, where one wrapper of a
        // whole segment would make it allocate and zero a direct buffer of that size per write.
        ChannelFuture f = null;
        for (int at = 0; at < len; at += WRITE_SLICE) {
            f = ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(b, off + at, Math.min(WRITE_SLICE, len - at))));
        }
        ctx.flush();
        if (f == null) {
            return;
        }
        try { // back-pressure: a slow client holds at most one segment here
            if (!f.await(120, TimeUnit.SECONDS) || !f.isSuccess()) {
                throw new IOException("client stopped reading");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Whether the response head was written (an error can no longer be answered cleanly). */
    public boolean started() {
        return started;
    }

    public void finish(boolean keepAlive) {
        if (!started) {
            started = true;
            ctx.writeAndFlush(head);
        }
        ChannelFuture f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
