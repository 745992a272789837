package io.oecloud.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.object.ObjectView;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.CidFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The object routes of the HTTP API, streamed both ways (placed before the aggregator that the
 * small JSON routes use):
 *
 * <pre>
 *   POST   /v1/objects[?encrypt=true]  body = the object (streamed; Content-Type kept) -> 201 {"cid": ...}
 *   GET    /v1/objects                 the objects uploaded through this node -> {"objects": [...]}
 *   GET    /v1/objects/{cid}[/path]    the bytes (Range, one range; ETag = CID; immutable caching);
 *                                      a directory answers its entries as JSON
 *   HEAD   /v1/objects/{cid}[/path]    the headers
 *   DELETE /v1/objects/{cid}           unpin (this node's key must be the owner) -> {"cid", "unpinned"}
 *   POST   /v1/directories             {"entries": [{"name", "cid"}]} -> 201 {"cid": ...}
 *   GET    /v1/health/{cid}            healthy shards per segment (HAS probes) -> {"k", "m", "weakest", "healthy": [...]}
 * </pre>
 *
 * Uploads read the body through a bounded queue (the socket stops being read when it is full), so
 * heap stays bounded whatever the size. An upload ends only with its body: a body whose framing
 * breaks ({@link ApiGate.BodyAborted}), a client that closes the connection, or one that sends
 * nothing for {@code bodySilence} makes the stream throw, so the upload fails and stores nothing.
 * Uploads are admitted per client address and in all ({@link UploadLimits}); directory listings
 * are held whole within a node-wide {@link BodyBudget}. Work runs on {@code work} (virtual
 * threads), never on the event loop and never on the shard protocol's disk threads.
 *
 * <p>Downloads fetch the first segment before answering, so a missing object or too few shards is a
 * clean 404 or 503; a failure later aborts the connection (a client sees fewer bytes than
 * Content-Length, never a complete-looking truncated 200). Object answers carry
 * {@code Content-Disposition: attachment} unless their type is known to be inert (images, audio,
 * video, plain text, CSS, JSON, PDF, fonts); with the gate's {@code nosniff} and
 * {@code Content-Security-Policy: sandbox} nothing served from the API's origin runs script there.
 * An encrypted object is decrypted only for a request that carried the API token.
 */
final class ObjectsHttpHandler extends ChannelDuplexHandler {
    static final long MAX_OBJECT = 1L << 40;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern OBJECT_PATH = Pattern.compile("^/v1/objects/([^/?]+)((?:/[^/?]+)*)/?$");
    /** Directory listings sent in one request (100,000 entries of long names fit). */
    static final int MAX_DIRECTORY_BODY = 32 << 20;
    /** A media type with parameters, as RFC 9110 spells it; anything else is served as octet-stream. */
    private static final Pattern MEDIA_TYPE = Pattern.compile(
            "[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,128}(\\s*;\\s*[A-Za-z0-9!#$&^_.+-]{1,64}=(\"[^\"\\\\\\x00-\\x1f\\x7f]{0,128}\"|[A-Za-z0-9!#$&^_.+-]{1,128})){0,8}");
    private static final java.util.Set<String> INERT_TYPES = java.util.Set.of("image/png", "image/jpeg", "image/gif",
            "image/webp", "image/avif", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon", "text/plain", "text/csv",
            "text/css", "application/json", "application/pdf");

    private final ObjectStore objects;
    private final java.util.concurrent.Executor work;
    private final UploadLimits uploads;
    private final BodyBudget buffered;
    private final long silenceMillis;
    private BodyStream upload; // non-null while a POST body streams in
    private ByteBuf directory; // non-null while a POST /v1/directories body comes in
    private boolean directoryKeepAlive;

    ObjectsHttpHandler(ObjectStore objects, java.util.concurrent.Executor work, UploadLimits uploads, BodyBudget buffered,
                       java.time.Duration bodySilence) {
        this.objects = objects;
        this.work = work;
        this.uploads = uploads;
        this.buffered = buffered;
        this.silenceMillis = bodySilence.toMillis();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req) {
            // A new request means the previous one's body has ended (HTTP/1.1 sends them in order):
            // its content must never be taken for this one's, even before its upload task has finished.
            upload = null;
            dropDirectory();
            String path = req.uri().split("\\?", 2)[0];
            if (req.method().equals(HttpMethod.POST) && path.equals("/v1/objects")) {
                startUpload(ctx, req);
                ReferenceCountUtil.release(msg);
                return;
            }
            if (req.method().equals(HttpMethod.GET) && path.equals("/v1/objects")) {
                boolean keepAlive = HttpUtil.isKeepAlive(req);
                ReferenceCountUtil.release(msg);
                work.execute(guarded(ctx, () -> list(ctx, keepAlive)));
                return;
            }
            if (req.method().equals(HttpMethod.POST) && path.equals("/v1/directories")) {
                directoryKeepAlive = HttpUtil.isKeepAlive(req);
                if (HttpUtil.getContentLength(req, 0L) > MAX_DIRECTORY_BODY) {
                    ReferenceCountUtil.release(msg);
                    respond(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Map.of("error",
                            "directory listing exceeds " + MAX_DIRECTORY_BODY + " bytes"), false);
                    return;
                }
                if (HttpUtil.is100ContinueExpected(req)) {
                    ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
                }
                directory = ctx.alloc().heapBuffer();
                ReferenceCountUtil.release(msg);
                return;
            }
            if (req.method().equals(HttpMethod.GET) && path.startsWith("/v1/health/")) {
                boolean keepAlive = HttpUtil.isKeepAlive(req);
                ReferenceCountUtil.release(msg);
                work.execute(guarded(ctx, () -> health(ctx, path.substring("/v1/health/".length()), keepAlive)));
                return;
            }
            Matcher m = OBJECT_PATH.matcher(path);
            if (m.matches() && !m.group(2).isEmpty() && req.method().equals(HttpMethod.DELETE)) {
                ReferenceCountUtil.release(msg);
                respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "DELETE takes an object CID, not a path inside a directory"), false);
                return;
            }
            if (m.matches() && req.method().equals(HttpMethod.DELETE)) {
                boolean keepAlive = HttpUtil.isKeepAlive(req);
                ReferenceCountUtil.release(msg);
                work.execute(guarded(ctx, () -> unpin(ctx, m.group(1), keepAlive)));
                return;
            }
            if (m.matches() && (req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD))) {
                boolean head = req.method().equals(HttpMethod.HEAD);
                String range = req.headers().get(HttpHeaderNames.RANGE);
                boolean keepAlive = HttpUtil.isKeepAlive(req);
                ReferenceCountUtil.release(msg);
                List<String> names = new java.util.ArrayList<>();
                for (String part : m.group(2).split("/")) {
                    if (!part.isEmpty()) {
                        try {
                            names.add(QueryStringDecoder.decodeComponent(part));
                        } catch (IllegalArgumentException e) {
                            respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "the path element '" + ApiGate.shorten(part)
                                    + "' has malformed percent-encoding (% must be followed by two hex digits)"), keepAlive);
                            return;
                        }
                    }
                }
                boolean authenticated = Boolean.TRUE.equals(ctx.channel().attr(ApiGate.AUTHENTICATED).get());
                work.execute(guarded(ctx, () -> serve(ctx, m.group(1), names, range, head, keepAlive, authenticated)));
                return;
            }
        }
        if (upload != null && msg instanceof HttpContent c) {
            upload.offer(ctx, c);
            return;
        }
        if (directory != null && msg instanceof HttpContent c) {
            int n = c.content().readableBytes();
            if (directory.readableBytes() + n > MAX_DIRECTORY_BODY) {
                c.release();
                dropDirectory();
                respond(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Map.of("error",
                        "directory listing exceeds " + MAX_DIRECTORY_BODY + " bytes"), false);
                return;
            }
            if (!buffered.tryReserve(n)) {
                c.release();
                dropDirectory();
                respond(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, Map.of("error", "the node is holding "
                        + (buffered.limit() >> 20) + " MiB of unfinished request bodies, its limit; try again shortly"), false);
                return;
            }
            directory.writeBytes(c.content());
            boolean last = c instanceof LastHttpContent;
            c.release();
            if (last) {
                ByteBuf body = directory;
                directory = null;
                boolean keepAlive = directoryKeepAlive;
                work.execute(guarded(ctx, () -> {
                    try {
                        putDirectory(ctx, body, keepAlive);
                    } finally {
                        buffered.release(body.writerIndex());
                        body.release();
                    }
                }));
            }
            return;
        }
        ctx.fireChannelRead(msg); // other routes; the aggregator drops the empty ends of GETs we took
    }

    private static final System.Logger LOG = System.getLogger(ObjectsHttpHandler.class.getName());

    /** Runs {@code task}; anything it throws becomes a 500 and a log line, never a silent hang. */
    private static Runnable guarded(ChannelHandlerContext ctx, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                internalError(ctx, t, false);
            }
        };
    }

    /** A bug: the detail goes to the log, the client gets words without Java in them. */
    private static void internalError(ChannelHandlerContext ctx, Throwable t, boolean keepAlive) {
        LOG.log(System.Logger.Level.ERROR, "request failed", t);
        respond(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, Map.of("error", "internal error; see the node's log"), keepAlive);
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

    private void startUpload(ChannelHandlerContext ctx, HttpRequest req) {
        long length = HttpUtil.getContentLength(req, -1L);
        if (length > MAX_OBJECT) {
            respond(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Map.of("error",
                    "object of " + length + " bytes exceeds the limit of " + MAX_OBJECT), false);
            return;
        }
        java.net.InetAddress client = ((java.net.InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        UploadLimits.Refusal refused = uploads.admit(client);
        if (refused != null) {
            FullHttpResponse r = json(refused.status(), Map.of("error", refused.reason()));
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
            send(ctx, r, false);
            return;
        }
        String declared = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
        String type = declared == null || !MEDIA_TYPE.matcher(declared).matches() ? "application/octet-stream" : declared;
        List<String> enc;
        try {
            enc = new QueryStringDecoder(req.uri()).parameters().getOrDefault("encrypt", List.of());
        } catch (IllegalArgumentException e) {
            uploads.release(client);
            respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "the query has malformed percent-encoding"), false);
            return;
        }
        boolean encrypt = enc.contains("true") || "true".equalsIgnoreCase(req.headers().get("X-OE-Encrypt"));
        if (HttpUtil.is100ContinueExpected(req)) {
            // curl asks before sending large bodies and would otherwise wait a second for this
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        BodyStream body = new BodyStream(ctx, silenceMillis);
        upload = body;
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        work.execute(() -> {
            try {
                Cid cid = objects.upload(body, type, encrypt);
                body.drain();
                respond(ctx, HttpResponseStatus.CREATED, Map.of("cid", cid.toString()), keepAlive);
            } catch (Throwable t) { // never leave a client waiting for an answer that will not come
                body.drain();
                BodyStream.Aborted aborted = body.failure();
                if (aborted != null) { // the body never ended: answer only if someone is there to hear it
                    if (aborted.status != null) {
                        respond(ctx, aborted.status, Map.of("error", aborted.getMessage()), false);
                    }
                } else if (t instanceof ObjectException e) {
                    respond(ctx, statusOf(e), Map.of("error", e.getMessage()), false);
                } else {
                    internalError(ctx, t, false);
                }
            } finally {
                uploads.release(client);
                ctx.executor().execute(() -> {
                    if (upload == body) {
                        upload = null;
                    }
                });
            }
        });
    }

    static HttpResponseStatus statusOf(ObjectException e) {
        return switch (e.code()) {
            case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
            case NOT_ENOUGH_SHARDS, PLACEMENT_FAILED, BUSY -> HttpResponseStatus.SERVICE_UNAVAILABLE;
            case BAD_RANGE -> HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE;
            case CORRUPT -> HttpResponseStatus.BAD_GATEWAY;
            case NOT_OWNER -> HttpResponseStatus.FORBIDDEN;
            case BAD_INPUT -> HttpResponseStatus.BAD_REQUEST;
        };
    }

    private void unpin(ChannelHandlerContext ctx, String cidText, boolean keepAlive) {
        try {
            Cid cid = Cid.parse(cidText);
            int n = objects.unpin(cid);
            respond(ctx, HttpResponseStatus.OK, Map.of("cid", cid.toString(), "unpinned", n), keepAlive);
        } catch (CidFormatException e) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "malformed CID '" + ApiGate.shorten(cidText) + "': " + e.getMessage()), keepAlive);
        } catch (ObjectException e) {
            respond(ctx, statusOf(e), Map.of("error", e.getMessage()), keepAlive);
        } catch (RuntimeException e) {
            internalError(ctx, e, keepAlive);
        }
    }

    private void list(ChannelHandlerContext ctx, boolean keepAlive) {
        try {
            List<Map<String, Object>> out = new java.util.ArrayList<>();
            for (ObjectStore.ObjectInfo i : objects.list()) {
                Map<String, Object> o = new java.util.LinkedHashMap<>();
                o.put("cid", i.cid().toString());
                o.put("size", i.size());
                o.put("type", i.contentType());
                o.put("directory", i.directory());
                o.put("encrypted", i.encrypted());
                o.put("stored", java.time.Instant.ofEpochMilli(i.storedAtMillis()).toString());
                out.add(o);
            }
            respond(ctx, HttpResponseStatus.OK, Map.of("objects", out), keepAlive);
        } catch (StoreException | RuntimeException e) {
            internalError(ctx, e, keepAlive);
        }
    }

    private void health(ChannelHandlerContext ctx, String cidText, boolean keepAlive) {
        try {
            ObjectStore.Health h = objects.health(Cid.parse(cidText));
            Map<String, Object> out = new java.util.LinkedHashMap<>();
            out.put("cid", h.cid().toString());
            out.put("k", h.k());
            out.put("m", h.m());
            out.put("segments", h.healthyPerSegment().size());
            out.put("weakest", h.weakest());
            out.put("healthy", h.healthyPerSegment());
            respond(ctx, HttpResponseStatus.OK, out, keepAlive);
        } catch (CidFormatException e) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "malformed CID '" + ApiGate.shorten(cidText) + "': " + e.getMessage()), keepAlive);
        } catch (ObjectException e) {
            respond(ctx, statusOf(e), Map.of("error", e.getMessage()), keepAlive);
        } catch (RuntimeException e) {
            internalError(ctx, e, keepAlive);
        }
    }

    private void putDirectory(ChannelHandlerContext ctx, ByteBuf body, boolean keepAlive) {
        try {
            com.fasterxml.jackson.databind.JsonNode doc;
            try {
                doc = JSON.readTree(new io.netty.buffer.ByteBufInputStream(body));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                var at = e.getLocation();
                respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "directory body is not JSON"
                        + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")")), keepAlive);
                return;
            } catch (IOException e) {
                respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "directory body is not JSON"), keepAlive);
                return;
            }
            if (doc == null || !doc.path("entries").isArray()) {
                respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "directory body must be {\"entries\": [{\"name\", \"cid\"}, ...]}"), keepAlive);
                return;
            }
            List<ObjectStore.NewEntry> entries = new java.util.ArrayList<>();
            for (com.fasterxml.jackson.databind.JsonNode e : doc.get("entries")) {
                String name = e.path("name").asText(null);
                String cidText = e.path("cid").asText("");
                try {
                    entries.add(new ObjectStore.NewEntry(name, Cid.parse(cidText)));
                } catch (CidFormatException x) {
                    respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "entry '" + name + "': malformed CID '"
                            + cidText + "': " + x.getMessage()), keepAlive);
                    return;
                }
            }
            Cid cid = objects.putDirectory(entries);
            respond(ctx, HttpResponseStatus.CREATED, Map.of("cid", cid.toString()), keepAlive);
        } catch (ObjectException e) {
            respond(ctx, statusOf(e), Map.of("error", e.getMessage()), keepAlive);
        } catch (RuntimeException e) {
            internalError(ctx, e, keepAlive);
        }
    }

    private void serve(ChannelHandlerContext ctx, String cidText, List<String> path, String range, boolean head, boolean keepAlive,
                       boolean authenticated) {
        Cid root;
        try {
            root = Cid.parse(cidText);
        } catch (CidFormatException e) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, Map.of("error", "malformed CID '" + ApiGate.shorten(cidText) + "': " + e.getMessage()), keepAlive);
            return;
        }
        try {
            ObjectView target = objects.resolve(root, path);
            Cid cid = target.cid();
            if (target.encrypted() && !authenticated) {
                FullHttpResponse r = json(HttpResponseStatus.UNAUTHORIZED, Map.of("error", cid + " is encrypted: reading it needs the node's"
                        + " API token ('Authorization: Bearer TOKEN'; the token is the file api-token in the node's data directory)"));
                r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"oe\"");
                send(ctx, r, keepAlive);
                return;
            }
            if (target.directory()) {
                FullHttpResponse listing = json(HttpResponseStatus.OK, directoryListing(target));
                listing.headers().set(HttpHeaderNames.ETAG, "\"" + cid + "\"")
                        .set(HttpHeaderNames.CACHE_CONTROL, "public, max-age=31536000, immutable");
                if (head) {
                    listing.content().clear();
                }
                send(ctx, listing, keepAlive);
                return;
            }
            long size = target.size();
            long from = 0;
            long to = size;
            HttpResponseStatus status = HttpResponseStatus.OK;
            switch (ByteRange.parse(range, size)) {
                case ByteRange.Slice slice -> {
                    from = slice.from();
                    to = slice.to();
                    status = HttpResponseStatus.PARTIAL_CONTENT;
                }
                case ByteRange.Unsatisfiable u -> {
                    FullHttpResponse resp = json(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, Map.of("error", u.reason()));
                    resp.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
                    send(ctx, resp, keepAlive);
                    return;
                }
                case ByteRange.Whole w -> { }
            }
            String type = servedType(target.contentType());
            HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                    .set(HttpHeaderNames.CONTENT_LENGTH, to - from)
                    .set(HttpHeaderNames.ETAG, "\"" + cid + "\"")
                    .set(HttpHeaderNames.CACHE_CONTROL, "public, max-age=31536000, immutable")
                    .set(HttpHeaderNames.ACCEPT_RANGES, "bytes");
            if (!inert(type)) { // websites are the edge's job, on their own origins
                resp.headers().set(HttpHeaderNames.CONTENT_DISPOSITION, "attachment");
            }
            if (status == HttpResponseStatus.PARTIAL_CONTENT) {
                resp.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes " + from + "-" + (to - 1) + "/" + size);
            }
            if (head) {
                HttpUtil.setKeepAlive(resp, keepAlive);
                ctx.writeAndFlush(resp);
                ChannelFuture f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                if (!keepAlive) {
                    f.addListener(ChannelFutureListener.CLOSE);
                }
                return;
            }
            ChannelOutput out = new ChannelOutput(ctx, resp);
            try {
                objects.read(target, new ObjectStore.ByteSpan(from, to), out);
            } catch (ObjectException | IOException e) {
                if (!out.started) {
                    throw e; // nothing sent yet: a clean error answer
                }
                ctx.executor().execute(ctx::close); // mid-body: abort, never a complete-looking 200
                return;
            }
            out.finish(keepAlive);
        } catch (ObjectException e) {
            respond(ctx, statusOf(e), Map.of("error", e.getMessage()), keepAlive);
        } catch (IOException e) { // the client stopped reading before the first byte
            LOG.log(System.Logger.Level.DEBUG, "download of {0} failed: {1}", cidText, e.getMessage());
            ctx.executor().execute(ctx::close);
        } catch (RuntimeException e) {
            internalError(ctx, e, keepAlive);
        }
    }

    /** The type to answer with: the recorded one when it is a well-formed media type, else octet-stream. */
    static String servedType(String recorded) {
        return recorded == null || !MEDIA_TYPE.matcher(recorded).matches() ? "application/octet-stream" : recorded;
    }

    /** Whether a browser shows this type without running anything in it (else it is served as an attachment). */
    static boolean inert(String type) {
        int semi = type.indexOf(';');
        String base = (semi < 0 ? type : type.substring(0, semi)).strip().toLowerCase(java.util.Locale.ROOT);
        return INERT_TYPES.contains(base) || base.startsWith("audio/") || base.startsWith("video/") || base.startsWith("font/");
    }

    private static Map<String, Object> directoryListing(ObjectView dir) {
        List<Map<String, Object>> entries = new java.util.ArrayList<>();
        for (ObjectStore.DirectoryEntry e : dir.entries()) {
            Map<String, Object> o = new java.util.LinkedHashMap<>();
            o.put("name", e.name());
            o.put("cid", e.cid().toString());
            o.put("size", e.size());
            o.put("type", e.contentType());
            o.put("directory", e.directory());
            entries.add(o);
        }
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("cid", dir.cid().toString());
        out.put("size", dir.size());
        out.put("entries", entries);
        return out;
    }

    private static FullHttpResponse json(HttpResponseStatus status, Object body) {
        try {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.wrappedBuffer(JSON.writeValueAsBytes(body)));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            HttpUtil.setContentLength(r, r.content().readableBytes());
            return r;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        HttpUtil.setKeepAlive(r, keepAlive);
        ChannelFuture f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, Object body, boolean keepAlive) {
        send(ctx, json(status, body), keepAlive);
    }

    /** Writes the response head on the first bytes, then chunks, waiting while the socket is full. */
    private static final class ChannelOutput extends OutputStream {
        private static final int WRITE_SLICE = 64 << 10;
        private final ChannelHandlerContext ctx;
        private final HttpResponse head;
        boolean started;

        ChannelOutput(ChannelHandlerContext ctx, HttpResponse head) {
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

        void finish(boolean keepAlive) {
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

    /**
     * The request body as an InputStream for the uploader, fed from the event loop, bounded in
     * bytes (the socket stops being read above {@link #MAX_QUEUED}). The uploader copies faster
     * than a socket fills, so woken for every chunk it would sleep and wake again thousands of
     * times per upload; it is woken once {@link #WAKE_AT} bytes wait (or the body ends), and a
     * slow client's bytes are taken every {@link #SLOW_CLIENT_MILLIS} all the same.
     *
     * <p>The stream ends (-1) only after the body's last chunk. When the body will never end (its
     * framing broke, the client closed the connection, or sent nothing for the silence limit while
     * the socket was being read) every read throws {@link Aborted}, so the upload fails and
     * nothing is stored.
     */
    private static final class BodyStream extends InputStream {
        static final int MAX_QUEUED = 8 << 20;
        static final int WAKE_AT = 1 << 20;
        static final long SLOW_CLIENT_MILLIS = 20;

        /** Why the body ended early; {@code status} is the answer to send, null when there is none to send. */
        static final class Aborted extends IOException {
            private static final long serialVersionUID = 1L;
            final transient HttpResponseStatus status;

            Aborted(String message, HttpResponseStatus status) {
                super(message);
                this.status = status;
            }
        }

        private final ChannelHandlerContext ctx;
        private final long silenceNanos;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition arrived = lock.newCondition();
        private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>(); // guarded by lock
        private long queued; // bytes in queue, guarded by lock
        private long wanted; // > 0 while the reader waits for that many bytes, guarded by lock
        private boolean ended; // the last chunk arrived, guarded by lock
        private boolean drained; // guarded by lock: chunks that arrive now are released at once
        private Aborted failure; // guarded by lock: the body will not end
        private ByteBuf current; // the reader's
        private boolean eof; // the reader's

        BodyStream(ChannelHandlerContext ctx, long silenceMillis) {
            this.ctx = ctx;
            this.silenceNanos = TimeUnit.MILLISECONDS.toNanos(silenceMillis);
        }

        /** Event loop: queue a chunk; stop reading the socket while the uploader is behind. */
        void offer(ChannelHandlerContext c, HttpContent content) {
            ByteBuf b = content.content();
            boolean pause;
            lock.lock();
            try {
                if (drained || failure != null) {
                    content.release();
                    return;
                }
                if (b.isReadable()) {
                    queue.add(b.retain());
                    queued += b.readableBytes();
                }
                if (content instanceof LastHttpContent) {
                    ended = true;
                }
                if (wanted > 0 && (ended || queued >= wanted)) {
                    wanted = 0;
                    arrived.signal();
                }
                pause = queued > MAX_QUEUED;
            } finally {
                lock.unlock();
            }
            content.release();
            if (pause) {
                c.channel().config().setAutoRead(false);
            }
        }

        /** The body will never end: every read from now on throws {@code why} (once the reader sees it). */
        void abort(Aborted why) {
            lock.lock();
            try {
                if (failure == null && !ended) {
                    failure = why;
                    arrived.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }

        /** Why the body ended early, or null. */
        Aborted failure() {
            lock.lock();
            try {
                return failure;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (current == null || !current.isReadable()) {
                if (eof) {
                    return -1;
                }
                if (current != null) {
                    current.release();
                    current = null;
                }
                current = next(len);
                if (current == null) {
                    eof = true;
                    return -1;
                }
            }
            int n = Math.min(len, current.readableBytes());
            current.readBytes(b, off, n);
            return n;
        }

        /**
         * The next chunk; when none waits, sleeps until {@code want} bytes (at most WAKE_AT) have
         * gathered, the body ended or SLOW_CLIENT_MILLIS passed. Null at the end. Silence counts
         * only while the socket is being read: a pause of our own is not the client's.
         */
        private ByteBuf next(int want) throws IOException {
            boolean resume;
            ByteBuf chunk;
            lock.lock();
            try {
                long silentSince = System.nanoTime();
                while (queue.isEmpty() && !ended) {
                    if (failure != null) {
                        throw failure;
                    }
                    wanted = Math.min(want, WAKE_AT);
                    try {
                        arrived.await(SLOW_CLIENT_MILLIS, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted", e);
                    } finally {
                        wanted = 0;
                    }
                    if (queue.isEmpty() && failure == null && System.nanoTime() - silentSince > silenceNanos) {
                        failure = new Aborted("the upload stalled: nothing arrived for "
                                + ApiGate.words(java.time.Duration.ofNanos(silenceNanos)), HttpResponseStatus.REQUEST_TIMEOUT);
                    }
                }
                if (failure != null) { // queued bytes of a body that will not end are worth nothing
                    throw failure;
                }
                chunk = queue.poll();
                if (chunk != null) {
                    queued -= chunk.readableBytes();
                }
                resume = queued <= MAX_QUEUED / 2 && !ended; // after the end the gate decides when to read
            } finally {
                lock.unlock();
            }
            if (resume && !ctx.channel().config().isAutoRead()) {
                ctx.channel().eventLoop().execute(() -> ctx.channel().config().setAutoRead(true));
            }
            return chunk; // null: ended and nothing left
        }

        /** Releases what the uploader did not read (after an error), and whatever still arrives. */
        void drain() {
            if (current != null) {
                current.release();
                current = null;
            }
            boolean resume;
            lock.lock();
            try {
                drained = true;
                for (ByteBuf x; (x = queue.poll()) != null; ) {
                    x.release();
                }
                queued = 0;
                resume = !ended; // the rest of an unfinished body is read and dropped
            } finally {
                lock.unlock();
            }
            if (resume) {
                ctx.channel().eventLoop().execute(() -> ctx.channel().config().setAutoRead(true));
            }
        }
    }
}
