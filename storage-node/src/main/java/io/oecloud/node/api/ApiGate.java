package io.oecloud.node.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.oecloud.http.HeadDeadline;
import io.oecloud.http.Json;
import io.oecloud.http.LingeringClose;
import java.util.List;
import java.util.function.Supplier;

/**
 * The API's boundary, the first handler after the HTTP codec: nothing reaches a route that this
 * handler has not let through. Per connection it
 *
 * <ul>
 *   <li>answers every request whose head the decoder could not parse (414 for a request line over
 *       4096 bytes, 431 for headers over 8192, 400 otherwise: bad Content-Length, Content-Length
 *       with Transfer-Encoding, bad characters) and closes, never routing it;</li>
 *   <li>answers a body whose framing breaks (a chunk size that is not hex or overflows, chunk data
 *       without its CR LF) with 400 and closes, after telling the handlers behind it with
 *       {@link BodyAborted} so an upload in progress is abandoned, never stored;</li>
 *   <li>drops a request body that stalls for {@code bodySilence} (408; an upload's own reader
 *       measures its stalls, since it pauses the socket itself), and tells {@link HeadDeadline}
 *       when a head is complete and when the next may start;</li>
 *   <li>checks Host, Origin and the API token ({@link ApiAccess}): 400, 403, 401 in words;</li>
 *   <li>takes one request at a time: reading pauses once a request is complete until its answer
 *       is written, and a client that pipelines gets its first answer and a closed connection
 *       (RFC 9112 lets it retry the rest);</li>
 *   <li>adds to every answer {@code X-Content-Type-Options: nosniff} and
 *       {@code Content-Security-Policy: sandbox} (nothing from this origin runs script, except the
 *       dashboard's own, whose answers set a strict policy of their own: {@link UiRoutes}), and CORS
 *       headers for configured origins only.</li>
 * </ul>
 *
 * All state is the event loop's.
 */
final class ApiGate extends ChannelDuplexHandler {
    /** Whether the request being handled carried the API token. */
    static final AttributeKey<Boolean> AUTHENTICATED = AttributeKey.valueOf("oe.api.authenticated");

    /** Fired down the pipeline when the current request's body will never be complete: drop it. */
    record BodyAborted(String reason) {}

    private static final System.Logger LOG = System.getLogger(ApiGate.class.getName());
    private static final String UPLOAD_PATH = "/v1/objects";
    private static final io.netty.util.AsciiString NOSNIFF_HEADER = io.netty.util.AsciiString.cached("x-content-type-options");

    private final ApiAccess access;
    private final Supplier<ApiAccess.Hosts> hosts;
    private final String bodySilence;
    private final HeadDeadline headDeadline;

    private boolean requestOpen; // a head arrived, its last content not yet
    private boolean streamed; // the open request's body streams to its handler (an upload)
    private boolean responding; // a request is being answered: its final response is not written yet
    private boolean responseStarted; // the answer's head is written
    private boolean discarding; // refused or broken: the rest of the connection's input is dropped
    private boolean closeAfterResponse;
    private boolean paused; // this handler stopped reading until the answer is written
    private String corsOrigin; // the request's Origin when it gets CORS headers

    ApiGate(ApiAccess access, Supplier<ApiAccess.Hosts> hosts, java.time.Duration bodySilence, HeadDeadline headDeadline) {
        this.access = access;
        this.hosts = hosts;
        this.bodySilence = words(bodySilence);
        this.headDeadline = headDeadline;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (discarding) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest req) {
            head(ctx, req);
            return;
        }
        if (msg instanceof HttpContent c) {
            DecoderResult r = c.decoderResult();
            if (r.isFailure()) {
                c.release();
                String why = bodyFailure(r.cause());
                ctx.fireUserEventTriggered(new BodyAborted(why));
                refuse(ctx, HttpResponseStatus.BAD_REQUEST, why);
                return;
            }
            if (c instanceof LastHttpContent) {
                requestOpen = false;
                if (responding && !closeAfterResponse) {
                    paused = true; // one request at a time: the next is read once this one is answered
                    ctx.channel().config().setAutoRead(false);
                }
            }
        }
        ctx.fireChannelRead(msg);
    }

    private void head(ChannelHandlerContext ctx, HttpRequest req) {
        headDeadline.arrived();
        if (req.decoderResult().isFailure()) {
            ReferenceCountUtil.release(req);
            Throwable cause = req.decoderResult().cause();
            HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            responding = true;
            refuse(ctx, status, headFailure(cause));
            return;
        }
        if (responding || requestOpen) { // pipelined: answer the first request, then close
            ReferenceCountUtil.release(req);
            closeAfterResponse = true;
            discarding = true;
            ctx.channel().config().setAutoRead(false);
            return;
        }
        requestOpen = true;
        responding = true;
        responseStarted = false;
        corsOrigin = null;
        String path = req.uri();
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        streamed = req.method().equals(HttpMethod.POST) && path.equals(UPLOAD_PATH);
        HttpHeaders h = req.headers();
        List<String> hostHeaders = h.getAll(HttpHeaderNames.HOST);
        if (hostHeaders.size() != 1) {
            ReferenceCountUtil.release(req);
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, hostHeaders.isEmpty() ? "the request has no Host header"
                    : "the request has " + hostHeaders.size() + " Host headers; one is allowed");
            return;
        }
        String host = hostHeaders.get(0);
        ApiAccess.Hosts allowed = hosts.get();
        if (allowed == null || !allowed.allowed(host)) {
            ReferenceCountUtil.release(req);
            refuse(ctx, HttpResponseStatus.FORBIDDEN, "Host '" + shorten(host) + "' is not a name of this API (a name that merely"
                    + " resolves to this machine is how DNS rebinding reaches a local API); if it should be one, start the node with --api-host NAME");
            return;
        }
        String origin = h.get(HttpHeaderNames.ORIGIN);
        boolean cors = access.cors(origin);
        if (req.method().equals(HttpMethod.OPTIONS) && origin != null) {
            ReferenceCountUtil.release(req);
            preflight(ctx, origin, cors);
            return;
        }
        ApiAccess.Need need = ApiAccess.need(req.method(), path);
        boolean tokenNeeded = need == ApiAccess.Need.TOKEN || need == ApiAccess.Need.CONTENT && !access.publicReads();
        boolean read = req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD);
        if ((tokenNeeded || !read) && !access.originAllowed(origin, host)) {
            ReferenceCountUtil.release(req);
            refuse(ctx, HttpResponseStatus.FORBIDDEN, "requests from the web page at '" + shorten(origin)
                    + "' are refused here: this API changes state and holds private data; the node's operator may allow an origin with --api-cors-origin ORIGIN");
            return;
        }
        String authorization = h.get(HttpHeaderNames.AUTHORIZATION);
        boolean authenticated = access.authorized(authorization);
        if (tokenNeeded && !authenticated) {
            ReferenceCountUtil.release(req);
            FullHttpResponse r = Json.error(HttpResponseStatus.UNAUTHORIZED, authorization == null
                    ? "this route needs the node's API token: send 'Authorization: Bearer TOKEN' (the token is the file api-token in the node's data directory)"
                    : "the API token sent is not this node's (see the file api-token in its data directory)");
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, authorization == null ? "Bearer realm=\"oe\"" : "Bearer realm=\"oe\", error=\"invalid_token\"");
            answerAndClose(ctx, r);
            return;
        }
        if (cors) {
            corsOrigin = origin;
        }
        ctx.channel().attr(AUTHENTICATED).set(authenticated);
        ctx.fireChannelRead(req);
    }

    /** A CORS preflight: allowed for configured origins only (no CORS headers otherwise). */
    private void preflight(ChannelHandlerContext ctx, String origin, boolean cors) {
        if (!cors) {
            refuse(ctx, HttpResponseStatus.FORBIDDEN, "requests from the web page at '" + shorten(origin)
                    + "' are refused here; the node's operator may allow an origin with --api-cors-origin ORIGIN");
            return;
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT, Unpooled.EMPTY_BUFFER);
        r.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, POST, PUT, DELETE")
                .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type, Range, X-OE-Encrypt")
                .set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, "600")
                .set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
        answerAndClose(ctx, r);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent e && e.state() == IdleState.READER_IDLE) {
            if (requestOpen && !streamed && !discarding) {
                String why = "the request body stalled: nothing arrived for " + bodySilence;
                ctx.fireUserEventTriggered(new BodyAborted(why));
                refuse(ctx, HttpResponseStatus.REQUEST_TIMEOUT, why);
            }
            return; // otherwise a client reading a long answer, or between requests: the all-idle limit applies
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        boolean interim = msg instanceof HttpResponse r && r.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL;
        if (msg instanceof HttpResponse r && !interim) {
            responseStarted = true;
            HttpHeaders h = r.headers();
            h.set(NOSNIFF_HEADER, "nosniff");
            if (!h.contains(HttpHeaderNames.CONTENT_SECURITY_POLICY)) {
                h.set(HttpHeaderNames.CONTENT_SECURITY_POLICY, "sandbox");
            }
            if (corsOrigin != null && !h.contains(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN)) {
                h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, corsOrigin)
                        .add(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN)
                        .set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, "Content-Range, Content-Length, ETag");
            }
            if (closeAfterResponse || discarding) {
                HttpUtil.setKeepAlive(r, false);
            }
        }
        if (msg instanceof LastHttpContent && !interim && responding) {
            responding = false;
            if (closeAfterResponse) {
                promise = promise.unvoid();
                promise.addListener(LingeringClose.AFTER);
            } else if (!requestOpen) {
                headDeadline.expect();
                if (paused) {
                    paused = false;
                    ctx.channel().config().setAutoRead(true);
                }
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // I/O errors (a reset connection) and anything the codec throws: the connection ends here,
        // and the handlers behind see channelInactive. Nothing of it goes to the client.
        LOG.log(System.Logger.Level.DEBUG, "API connection failed", cause);
        ctx.close();
    }

    /** Answers {@code status} with words (unless an answer has begun) and closes; drops all further input. */
    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String words) {
        discarding = true;
        if (responseStarted) {
            ctx.close(); // the answer is on its way: a second one would corrupt it
            return;
        }
        answerAndClose(ctx, Json.error(status, words));
    }

    private void answerAndClose(ChannelHandlerContext ctx, FullHttpResponse r) {
        discarding = true;
        closeAfterResponse = true;
        responding = true;
        HttpUtil.setContentLength(r, r.content().readableBytes());
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // through this handler's own write: it adds the security headers and closes after the answer
        write(ctx, r, ctx.newPromise());
        ctx.flush();
    }

    /** "15 s" or "250 ms". */
    static String words(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** Words for a request head the decoder refused (the decoder's own message never reaches the client). */
    static String headFailure(Throwable cause) {
        String m = cause == null || cause.getMessage() == null ? "" : cause.getMessage();
        if (cause instanceof TooLongHttpLineException) {
            return "the request line is longer than " + NodeApiServer.MAX_LINE + " bytes";
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return "the request's headers are larger than " + NodeApiServer.MAX_HEADERS + " bytes";
        }
        if (cause instanceof io.netty.handler.codec.http.ContentLengthNotAllowedException) {
            return "a request may not carry both Content-Length and Transfer-Encoding";
        }
        if (cause instanceof io.netty.handler.codec.http.TransferEncodingNotAllowedException) {
            return "Transfer-Encoding needs HTTP/1.1";
        }
        if (m.contains("Content-Length")) {
            return "Content-Length must be one non-negative decimal number";
        }
        if (m.contains("transfer coding")) {
            return "the last transfer coding of a request must be chunked";
        }
        if (cause instanceof io.netty.handler.codec.http.InvalidLineSeparatorException) {
            return "lines of the request head must end with CR LF";
        }
        if (cause instanceof io.netty.handler.codec.PrematureChannelClosureException) {
            return "the connection closed before the request head was complete";
        }
        return "the request head is not valid HTTP/1.1 (method, target, version or a header)";
    }

    /** Words for a body the decoder could not frame. */
    static String bodyFailure(Throwable cause) {
        String m = cause == null || cause.getMessage() == null ? "" : cause.getMessage();
        if (m.contains("Invalid character in chunk size")) {
            return "malformed chunked body: a chunk size is not a hexadecimal number";
        }
        if (m.contains("Chunk size overflow")) {
            return "malformed chunked body: a chunk size is too large";
        }
        if (cause instanceof io.netty.handler.codec.http.InvalidChunkTerminationException) {
            return "malformed chunked body: chunk data must end with CR LF";
        }
        if (cause instanceof io.netty.handler.codec.http.InvalidChunkExtensionException) {
            return "malformed chunked body: a chunk extension is malformed";
        }
        if (cause instanceof TooLongFrameException) {
            return "malformed chunked body: the trailer is larger than " + NodeApiServer.MAX_HEADERS + " bytes";
        }
        return "malformed chunked body";
    }

    /** A client's text quoted back in an error ({@link io.oecloud.http.Quote#shorten}). */
    static String shorten(String s) {
        return io.oecloud.http.Quote.shorten(s);
    }
}
