package io.oecloud.node.s3;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.oecloud.http.HeadDeadline;
import io.oecloud.node.api.BodyStream;
import java.util.concurrent.Executor;

/**
 * One S3 connection, after the HTTP codec: one request at a time. A request's body streams into
 * a {@link BodyStream} (the socket pauses when 8 MiB wait) read by the request's work on a
 * virtual thread ({@link S3Gateway}); reading stops at the body's end until the answer is written,
 * and a client that pipelines gets its first answer and a closed connection. A head the decoder
 * refused (too long, malformed framing) gets an S3 error and a closed connection. Event loop only.
 */
final class S3Connection extends ChannelDuplexHandler {
    private static final System.Logger LOG = System.getLogger(S3Connection.class.getName());

    /**
     * Last in the pipeline: answers are written from its context, so they pass through
     * {@link S3Connection#write} (a write from a handler's own context skips that handler).
     */
    static final class Tail extends io.netty.channel.ChannelInboundHandlerAdapter {}

    /**
     * Body bytes queued per request before its socket pauses: 64 bodies at once (the gateway's
     * limit, {@link S3Gateway#MAX_BODIES}) hold at most 128 MiB of buffers.
     */
    static final int MAX_QUEUED = 2 << 20;

    private final S3Gateway gateway;
    private final Executor work;
    private final HeadDeadline headDeadline;
    private final long silenceMillis;
    private BodyStream body; // the open request's, until its last content
    private S3Exchange exchange; // the request being answered
    private boolean bodyEnded;
    private boolean closing;

    S3Connection(S3Gateway gateway, Executor work, HeadDeadline headDeadline, long silenceMillis) {
        this.gateway = gateway;
        this.work = work;
        this.headDeadline = headDeadline;
        this.silenceMillis = silenceMillis;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (closing) {
                return;
            }
            if (msg instanceof HttpRequest req) {
                head(ctx, req);
            }
            if (msg instanceof HttpContent c && body != null) {
                if (c.decoderResult().isFailure()) {
                    body.abort(new BodyStream.Aborted("the request body's chunked framing is broken", HttpResponseStatus.BAD_REQUEST));
                    body = null;
                    closing = true;
                    return;
                }
                boolean last = c instanceof LastHttpContent;
                body.offer(ctx, c.retain());
                if (last) {
                    body = null;
                    bodyEnded = true;
                    ctx.channel().config().setAutoRead(false); // the next request is read once this one is answered
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void head(ChannelHandlerContext ctx, HttpRequest req) {
        headDeadline.arrived();
        boolean headMethod = req.method().equals(HttpMethod.HEAD);
        if (exchange != null) { // pipelined: the first request is answered, then the connection closes
            closing = true;
            exchange.closeAfter();
            ctx.channel().config().setAutoRead(false);
            return;
        }
        String id = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong()).toUpperCase(java.util.Locale.ROOT);
        if (req.decoderResult().isFailure()) {
            closing = true;
            S3Exchange x = new S3Exchange(tail(ctx), id, headMethod, false);
            exchange = x;
            Throwable cause = req.decoderResult().cause();
            String words = cause instanceof io.netty.handler.codec.http.TooLongHttpLineException ? "the request line is too long"
                    : cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException ? "the request headers are too large"
                    : "the request is not valid HTTP/1.1 (request line, headers, Content-Length or Transfer-Encoding)";
            x.error(new S3Exception(S3Error.InvalidRequest, words));
            return;
        }
        S3Exchange x = new S3Exchange(tail(ctx), id, headMethod, HttpUtil.isKeepAlive(req));
        exchange = x;
        bodyEnded = false;
        BodyStream b = new BodyStream(ctx, silenceMillis, MAX_QUEUED);
        body = b;
        if (HttpUtil.is100ContinueExpected(req)) { // aws cli asks before large bodies
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        req.headers().remove(io.netty.handler.codec.http.HttpHeaderNames.EXPECT);
        HttpRequest copy = new io.netty.handler.codec.http.DefaultHttpRequest(req.protocolVersion(), req.method(), req.uri(), req.headers().copy());
        java.net.SocketAddress from = ctx.channel().remoteAddress();
        java.net.InetAddress client = from instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
        String remote = String.valueOf(from);
        work.execute(() -> {
            try {
                gateway.handle(copy, b, x, client);
            } catch (Throwable t) { // never leave a client waiting
                LOG.log(System.Logger.Level.ERROR, "S3 request from " + remote + " failed", t);
                x.closeAfter();
                x.error(new S3Exception(S3Error.InternalError, "We encountered an internal error. Please try again."));
            } finally {
                b.drain();
            }
        });
    }

    private static ChannelHandlerContext tail(ChannelHandlerContext ctx) {
        return ctx.pipeline().context(Tail.class);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        boolean interim = msg instanceof HttpResponse r && r.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL;
        if (msg instanceof LastHttpContent && !interim) {
            if (!bodyEnded && exchange != null) { // answered before the body ended: the rest is never parsed as a request
                closing = true;
                if (msg instanceof HttpResponse r) {
                    HttpUtil.setKeepAlive(r, false);
                }
                promise = promise.unvoid();
                promise.addListener(io.oecloud.http.LingeringClose.AFTER);
                if (body != null) {
                    body.abort(new BodyStream.Aborted("answered before the body ended", null));
                    body = null;
                }
            }
            exchange = null;
            if (!closing) {
                headDeadline.expect();
                ctx.channel().config().setAutoRead(true);
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (body != null) {
            body.abort(new BodyStream.Aborted("the client closed the connection before the body ended", null));
            body = null;
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "S3 connection failed", cause);
        ctx.close();
    }
}
