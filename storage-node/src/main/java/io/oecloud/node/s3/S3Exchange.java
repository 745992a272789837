package io.oecloud.node.s3;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.oecloud.http.LingeringClose;
import io.oecloud.node.api.ChannelOutput;

/**
 * One request's answer, written from its work thread: a whole answer (XML, empty, an S3 error)
 * or a streamed body. Every answer carries {@code x-amz-request-id}; a HEAD's error has no body,
 * as S3's. Exactly one answer per request; after an answer whose body did not go out whole the
 * connection closes (a client never takes a cut body for a whole one).
 */
final class S3Exchange {
    private final ChannelHandlerContext ctx;
    private final String requestId;
    private final boolean head;
    private volatile boolean keepAlive;

    S3Exchange(ChannelHandlerContext ctx, String requestId, boolean head, boolean keepAlive) {
        this.ctx = ctx;
        this.requestId = requestId;
        this.head = head;
        this.keepAlive = keepAlive;
    }

    String requestId() {
        return requestId;
    }

    /** The connection closes after this answer (its request body was not read to the end). */
    void closeAfter() {
        keepAlive = false;
    }

    /** A new header set with the request ID. */
    HttpHeaders headers() {
        HttpHeaders h = new io.netty.handler.codec.http.DefaultHttpHeaders();
        h.set("x-amz-request-id", requestId).set(HttpHeaderNames.SERVER, "OE-S3");
        return h;
    }

    void xml(HttpResponseStatus status, byte[] body, HttpHeaders h) {
        h.set(HttpHeaderNames.CONTENT_TYPE, "application/xml");
        send(status, body, h);
    }

    void empty(HttpResponseStatus status, HttpHeaders h) {
        send(status, new byte[0], h);
    }

    void error(S3Exception e) {
        HttpHeaders h = headers();
        HttpResponseStatus status = HttpResponseStatus.valueOf(e.error().status());
        if (e.error() == S3Error.NotModified) {
            empty(status, h);
            return;
        }
        xml(status, S3Xml.error(e, requestId), h);
    }

    /** Head only (a HEAD, or a GET's 304): {@code length} in Content-Length, no body. */
    void headOnly(HttpResponseStatus status, HttpHeaders h, long length) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        r.headers().set(h);
        if (status.code() != 304) {
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
        }
        write(r);
    }

    /** The head of a streamed body of {@code length} bytes; the caller writes them and then {@link #finish}es. */
    ChannelOutput stream(HttpResponseStatus status, HttpHeaders h, long length) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        r.headers().set(h).set(HttpHeaderNames.CONTENT_LENGTH, length);
        HttpUtil.setKeepAlive(r, keepAlive);
        return new ChannelOutput(ctx, r);
    }

    void finish(ChannelOutput out) {
        out.finish(keepAlive);
    }

    /** A streamed body failed after its head went out: the connection ends, the client sees a short body. */
    void abort() {
        ctx.executor().execute(ctx::close);
    }

    private void send(HttpResponseStatus status, byte[] body, HttpHeaders h) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        r.headers().set(h).set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        write(r);
    }

    private void write(FullHttpResponse r) {
        boolean ka = keepAlive;
        HttpUtil.setKeepAlive(r, ka);
        ChannelFuture f = ctx.writeAndFlush(r);
        if (!ka) {
            f.addListener(LingeringClose.AFTER);
        }
    }
}
