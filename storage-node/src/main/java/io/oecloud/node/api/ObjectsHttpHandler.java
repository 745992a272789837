package io.oecloud.node.api;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.oecloud.http.Router;
import io.oecloud.node.object.ObjectStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The object routes of the HTTP API, bodies streamed both ways (placed before the aggregator that
 * the JSON routes use); one connection's dispatcher to the route families' handlers:
 *
 * <pre>
 *   POST   /v1/objects[?encrypt=true]  {@link UploadHandler}: body = the object, streamed -> 201 {"cid": ...}
 *   GET    /v1/objects/{cid}[/path]    {@link DownloadHandler}: the bytes (Range, one range; ETag = CID;
 *   HEAD   /v1/objects/{cid}[/path]    immutable caching); a directory answers its entries as JSON
 *   POST   /v1/directories             {@link DirectoryHandler}: {"entries": [{"name", "cid"}]} -> 201 {"cid": ...}
 *   GET    /v1/objects                 {@link ObjectAdmin}: the objects uploaded through this node
 *   DELETE /v1/objects/{cid}           {@link ObjectAdmin}: unpin (this node's key must be the owner)
 *   GET    /v1/health/{cid}            {@link ObjectAdmin}: healthy shards per segment (HAS probes)
 * </pre>
 *
 * Bodies, per route: an upload's chunks go to its {@link BodyStream} as they arrive (the socket
 * stops being read when it is full, so heap stays bounded whatever the size); a directory listing
 * is gathered whole here, at most {@link DirectoryHandler#MAX_DIRECTORY_BODY} and within the
 * node-wide {@link BodyBudget}. A body that will never end (its framing broke:
 * {@link ApiGate.BodyAborted}; the client closed the connection) fails its upload and drops its
 * listing. Work runs on {@code work} (virtual threads), never on the event loop and never on the
 * shard protocol's disk threads. Requests of other routes, and object paths this class does not
 * serve, go on down the pipeline. Event loop only; one per connection.
 */
final class ObjectsHttpHandler extends ChannelDuplexHandler {
    /** The route families served here. */
    private enum Family { UPLOAD, LIST, DIRECTORY, HEALTH, UNPIN, READ }

    private static final Router<Family> ROUTES = new Router<Family>()
            .add(HttpMethod.POST, "/v1/objects", Family.UPLOAD)
            .add(HttpMethod.GET, "/v1/objects", Family.LIST)
            .add(HttpMethod.POST, "/v1/directories", Family.DIRECTORY)
            .add(HttpMethod.GET, "/v1/health/{cid...}", Family.HEALTH)
            .add(HttpMethod.DELETE, "/v1/objects/{target...}", Family.UNPIN)
            .add(HttpMethod.GET, "/v1/objects/{target...}", Family.READ)
            .add(HttpMethod.HEAD, "/v1/objects/{target...}", Family.READ);
    /** A CID, then names under it, each non-empty; anything else is not an object path. */
    private static final Pattern OBJECT_PATH = Pattern.compile("^/v1/objects/([^/?]+)((?:/[^/?]+)*)/?$");

    private final Executor work;
    private final BodyBudget buffered;
    private final UploadHandler uploads;
    private final DownloadHandler downloads;
    private final DirectoryHandler directories;
    private final ObjectAdmin admin;
    private BodyStream upload; // non-null while a POST body streams in
    private ByteBuf directory; // non-null while a POST /v1/directories body comes in
    private boolean directoryKeepAlive;
    private io.oecloud.node.paying.Terms directoryTerms;

    ObjectsHttpHandler(ObjectStore objects, Executor work, UploadLimits uploads, BodyBudget buffered, java.time.Duration bodySilence) {
        this(objects, work, uploads, buffered, bodySilence, null);
    }

    /** @param buyer pays for what is stored (a node with a chain link), or null */
    ObjectsHttpHandler(ObjectStore objects, Executor work, UploadLimits uploads, BodyBudget buffered, java.time.Duration bodySilence,
                       io.oecloud.node.paying.ContractBuyer buyer) {
        this.work = work;
        this.buffered = buffered;
        this.uploads = new UploadHandler(objects, work, uploads, bodySilence.toMillis(), buyer);
        this.downloads = new DownloadHandler(objects);
        this.directories = new DirectoryHandler(objects, buyer);
        this.admin = new ObjectAdmin(objects, buyer);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req) {
            // A new request means the previous one's body has ended (HTTP/1.1 sends them in order):
            // its content must never be taken for this one's, even before its upload task has finished.
            upload = null;
            dropDirectory();
            if (request(ctx, req)) {
                return;
            }
        }
        if (upload != null && msg instanceof HttpContent c) {
            upload.offer(ctx, c);
            return;
        }
        if (directory != null && msg instanceof HttpContent c) {
            directoryContent(ctx, c);
            return;
        }
        ctx.fireChannelRead(msg); // other routes; the aggregator drops the empty ends of GETs we took
    }

    /** Takes {@code req} when it is one of the object routes (releasing it), else leaves it to the next handler. */
    private boolean request(ChannelHandlerContext ctx, HttpRequest req) {
        String path = req.uri().split("\\?", 2)[0];
        if (!(ROUTES.match(req.method(), path) instanceof Router.Found<Family> found)) {
            return false;
        }
        Matcher m = OBJECT_PATH.matcher(path);
        boolean objectPath = m.matches();
        if ((found.handler() == Family.UNPIN || found.handler() == Family.READ) && !objectPath) {
            return false;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        switch (found.handler()) {
            case UPLOAD -> upload = uploads.start(ctx, req, ended -> {
                if (upload == ended) {
                    upload = null;
                }
            });
            case LIST -> work.execute(Answers.guarded(ctx, () -> admin.list(ctx, keepAlive)));
            case DIRECTORY -> startDirectory(ctx, req, keepAlive);
            case HEALTH -> work.execute(Answers.guarded(ctx, () -> admin.health(ctx, found.param("cid"), keepAlive)));
            case UNPIN -> {
                if (!m.group(2).isEmpty()) {
                    Answers.error(ctx, HttpResponseStatus.BAD_REQUEST, "DELETE takes an object CID, not a path inside a directory", false);
                } else {
                    work.execute(Answers.guarded(ctx, () -> admin.unpin(ctx, m.group(1), keepAlive)));
                }
            }
            case READ -> read(ctx, req, m, keepAlive);
        }
        ReferenceCountUtil.release(req);
        return true;
    }

    private void read(ChannelHandlerContext ctx, HttpRequest req, Matcher m, boolean keepAlive) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        String range = req.headers().get(HttpHeaderNames.RANGE);
        List<String> names = new ArrayList<>();
        for (String part : m.group(2).split("/")) {
            if (!part.isEmpty()) {
                try {
                    names.add(QueryStringDecoder.decodeComponent(part));
                } catch (IllegalArgumentException e) {
                    Answers.error(ctx, HttpResponseStatus.BAD_REQUEST, "the path element '" + ApiGate.shorten(part)
                            + "' has malformed percent-encoding (% must be followed by two hex digits)", keepAlive);
                    return;
                }
            }
        }
        boolean authenticated = Boolean.TRUE.equals(ctx.channel().attr(ApiGate.AUTHENTICATED).get());
        String cid = m.group(1);
        work.execute(Answers.guarded(ctx, () -> downloads.serve(ctx, cid, names, range, head, keepAlive, authenticated)));
    }

    private void startDirectory(ChannelHandlerContext ctx, HttpRequest req, boolean keepAlive) {
        directoryKeepAlive = keepAlive;
        try {
            directoryTerms = UploadHandler.terms(new io.netty.handler.codec.http.QueryStringDecoder(req.uri()).parameters());
        } catch (IllegalArgumentException e) {
            Answers.error(ctx, HttpResponseStatus.BAD_REQUEST, e.getMessage() == null ? "the query is malformed" : e.getMessage(), false);
            return;
        }
        if (HttpUtil.getContentLength(req, 0L) > DirectoryHandler.MAX_DIRECTORY_BODY) {
            tooLarge(ctx);
            return;
        }
        if (HttpUtil.is100ContinueExpected(req)) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        directory = ctx.alloc().heapBuffer();
    }

    /** A chunk of a directory listing: kept within the listing's cap and the node's budget, handed on whole at its end. */
    private void directoryContent(ChannelHandlerContext ctx, HttpContent c) {
        int n = c.content().readableBytes();
        if (directory.readableBytes() + n > DirectoryHandler.MAX_DIRECTORY_BODY) {
            c.release();
            dropDirectory();
            tooLarge(ctx);
            return;
        }
        if (!buffered.tryReserve(n)) {
            c.release();
            dropDirectory();
            Answers.error(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "the node is holding "
                    + (buffered.limit() >> 20) + " MiB of unfinished request bodies, its limit; try again shortly", false);
            return;
        }
        directory.writeBytes(c.content());
        boolean last = c instanceof LastHttpContent;
        c.release();
        if (last) {
            ByteBuf body = directory;
            directory = null;
            boolean keepAlive = directoryKeepAlive;
            io.oecloud.node.paying.Terms terms = directoryTerms;
            work.execute(Answers.guarded(ctx, () -> {
                try {
                    directories.put(ctx, body, keepAlive, terms);
                } finally {
                    buffered.release(body.writerIndex());
                    body.release();
                }
            }));
        }
    }

    private static void tooLarge(ChannelHandlerContext ctx) {
        Answers.error(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "directory listing exceeds " + DirectoryHandler.MAX_DIRECTORY_BODY + " bytes", false);
    }

    /** The unfinished directory listing, if any, and its share of the budget go. */
    private void dropDirectory() {
        if (directory != null) {
            buffered.release(directory.writerIndex());
            directory.release();
            directory = null;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ApiGate.BodyAborted aborted) { // the gate answers the client
            if (upload != null) {
                upload.abort(new BodyStream.Aborted(aborted.reason(), null));
                upload = null;
            }
            dropDirectory();
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        dropDirectory();
        if (upload != null) { // nobody is left to answer
            upload.abort(new BodyStream.Aborted("the client closed the connection before the body ended", null));
            upload = null;
        }
        super.channelInactive(ctx);
    }
}
