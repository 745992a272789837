package io.oecloud.edge.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.oecloud.edge.EdgeCache;
import io.oecloud.edge.EdgeCache.Cached;
import io.oecloud.edge.EdgeCache.Chunk;
import io.oecloud.edge.EdgeException;
import io.oecloud.edge.EdgeMetrics.Tier;
import io.oecloud.edge.EdgeObject;
import io.oecloud.http.CacheHeaders;
import io.oecloud.http.Conditional;
import io.oecloud.http.RangeSet;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;

/**
 * One connection's requests: the host and path name an object ({@link Sites}), the cache gives
 * its chunks, and the answer follows HTTP's caching and range rules. Each request runs on a
 * virtual thread with the socket's reads paused, so requests of one connection are answered in
 * order and a slow origin never blocks the event loop; writes wait for the client at most
 * {@code writeDeadline} a chunk (then the connection is closed).
 *
 * <p>Routes: {@code GET|HEAD /c/{cid}[/path]} on the edge's own host; any path on a site host
 * ({@code {cid}.c.DOMAIN}, {@code {name}.n.DOMAIN}, mapped hosts); {@code DELETE /cache/{cid}}
 * with the edge's token; {@code GET /metrics}.
 */
final class EdgeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    /** Answers to names may move: browsers keep them briefly. */
    static final String NAME_CACHE_CONTROL = "public, max-age=30";
    /** Text up to this size is gzipped (once; the result cached) when the client accepts it. */
    static final int MAX_GZIP = 8 << 20;
    /** Requests for one object within a minute at which its next chunks are prefetched. */
    static final int HOT = 8;
    /** Chunks fetched ahead of a streamed response or a rising object. */
    static final int AHEAD = 2;

    /** What the handlers of all connections share. */
    record Shared(EdgeCache cache, Sites sites, String token, Supplier<String> metricsText, Duration writeDeadline,
                  Cache<Cid, byte[]> gzipped, Cache<Cid, AtomicInteger> popularity, Cache<Cid, Long> lastChunk, Cache<String, Hot> hot) {
        static Shared of(EdgeCache cache, Sites sites, String token, Supplier<String> metricsText, Duration writeDeadline) {
            return new Shared(cache, sites, token, metricsText, writeDeadline,
                    Caffeine.newBuilder().maximumWeight(64L << 20).weigher((Cid c, byte[] b) -> b.length + 64).build(),
                    Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(Duration.ofMinutes(1)).build(),
                    Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(Duration.ofMinutes(1)).build(),
                    Caffeine.newBuilder().maximumWeight(32L << 20).weigher((String k, Hot h) -> h.body().length + 1024).build());
        }
    }

    private static final System.Logger LOG = System.getLogger(EdgeHandler.class.getName());
    /** Bodies up to this size are kept whole for the fast path. */
    static final int MAX_HOT_BODY = 64 << 10;
    private final Shared shared;
    /** Requests of this connection that arrived while one was being served (event loop only). */
    private final java.util.ArrayDeque<FullHttpRequest> waiting = new java.util.ArrayDeque<>();
    /** Whether a request of this connection is being served on a virtual thread (event loop only). */
    private boolean busy;
    /** This connection's head deadline (null on an HTTP/2 stream): met when a whole request is here, running again once it is answered. */
    private final io.oecloud.http.HeadDeadline head;

    EdgeHandler(Shared shared, io.oecloud.http.HeadDeadline head) {
        this.shared = shared;
        this.head = head;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (head != null) {
            head.arrived();
        }
        if (req.decoderResult().isFailure()) {
            Throwable cause = req.decoderResult().cause();
            HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            sendError(ctx, req, status, "the request could not be read: " + status.reasonPhrase(), false);
            return;
        }
        req.retain();
        if (busy) {
            waiting.add(req); // pipelined behind one being served: answered after it, in order
            ctx.channel().config().setAutoRead(false);
            return;
        }
        serve(ctx, req);
    }

    /** Serves {@code req} (retained): from the hot answers on this event loop, else on a virtual thread with reads paused. */
    private void serve(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (hot(ctx, req)) {
            req.release();
            if (head != null) {
                head.expect();
            }
            return;
        }
        busy = true;
        ctx.channel().config().setAutoRead(false);
        Thread.ofVirtual().name("edge-request").start(() -> {
            try {
                handle(ctx, req);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "edge request " + req.method() + " " + shorten(req.uri()) + " failed", e);
                sendError(ctx, req, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error", false);
            } finally {
                req.release();
                ctx.channel().eventLoop().execute(() -> {
                    busy = false;
                    if (head != null) {
                        head.expect(); // the next request's head is due within the deadline of its first byte
                    }
                    FullHttpRequest next = waiting.poll();
                    if (next != null) {
                        serve(ctx, next);
                        return;
                    }
                    ctx.channel().config().setAutoRead(true);
                    ctx.read();
                });
            }
        });
    }

    /**
     * The event loop's fast path: a plain GET or HEAD (no Range, no validators) whose whole answer
     * is in {@link Shared#hot}, the answers of small files named by CID that were served whole
     * before (their bytes never change; only {@code Age} is set anew). Returns false for
     * everything else, which the virtual thread serves.
     */
    private boolean hot(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean headOnly = req.method().equals(HttpMethod.HEAD);
        if (!headOnly && !req.method().equals(HttpMethod.GET)) {
            return false;
        }
        HttpHeaders in = req.headers();
        if (in.contains(HttpHeaderNames.RANGE) || in.contains(HttpHeaderNames.IF_NONE_MATCH) || in.contains(HttpHeaderNames.IF_RANGE)) {
            return false;
        }
        Hot h = shared.hot().getIfPresent(hotKey(req));
        if (h == null) {
            return false;
        }
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                headOnly ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(h.body()));
        r.headers().set(h.headers()).set(HttpHeaderNames.AGE, shared.cache().ageSeconds(h.fetchedAtMillis()))
                .set(HttpHeaderNames.CONTENT_LENGTH, h.body().length).set(X_CACHE, "HIT");
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, "close");
        }
        ChannelFuture f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
        shared.cache().servedHot(h.body().length);
        return true;
    }

    /** The key of a hot answer: host, target and whether the client takes gzip (the answer differs by them). */
    private static String hotKey(FullHttpRequest req) {
        return req.headers().get(HttpHeaderNames.HOST, "") + " " + req.uri() + (acceptsGzip(req.headers().get(HttpHeaderNames.ACCEPT_ENCODING)) ? " gz" : "");
    }

    /** A whole answer kept for the fast path: headers but Age, the body, the object's first fetch. */
    record Hot(Cid cid, HttpHeaders headers, byte[] body, long fetchedAtMillis) {}

    /** Keeps a whole 200 answer of a small immutable file for the fast path. */
    private void keepHot(FullHttpRequest req, EdgeObject o, long fetchedAt, HttpHeaders h, byte[] body) {
        if (body.length <= MAX_HOT_BODY) {
            HttpHeaders copy = new io.netty.handler.codec.http.DefaultHttpHeaders().set(h);
            copy.remove(HttpHeaderNames.AGE);
            copy.remove(X_CACHE);
            shared.hot().put(hotKey(req), new Hot(o.cid(), copy, body, fetchedAt));
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof io.netty.handler.codec.http.HttpServerUpgradeHandler.UpgradeEvent && head != null) {
            head.arrived(); // HTTP/2 now: its frames are not heads (idle connections are closed by the idle limit)
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "edge connection failed", cause);
        ctx.close();
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String rawPath = uri.rawPath();
        HttpMethod method = req.method();
        Sites.Target target = shared.sites().target(req.headers().get(HttpHeaderNames.HOST));
        if (method.equals(HttpMethod.DELETE)) {
            purge(ctx, req, target, rawPath);
            return;
        }
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            FullHttpResponse r = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "the edge serves GET and HEAD (and DELETE /cache/{cid} for its operator)");
            r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD, DELETE");
            send(ctx, req, r);
            return;
        }
        try {
            switch (target) {
                case Sites.Unknown u -> throw new EdgeException(EdgeException.Kind.NOT_FOUND, "this edge serves no site for host '" + u.host() + "'");
                case Sites.Gateway g -> gateway(ctx, req, rawPath, uri);
                case Sites.Fixed f -> site(ctx, req, f.root(), rawPath, uri, CacheHeaders.IMMUTABLE);
                case Sites.Named n -> site(ctx, req, shared.sites().resolve(n.name()), rawPath, uri, NAME_CACHE_CONTROL);
            }
        } catch (EdgeException e) {
            sendError(ctx, req, HttpResponseStatus.valueOf(e.kind().status()), e.getMessage(), true);
        } catch (BadPath e) {
            sendError(ctx, req, HttpResponseStatus.BAD_REQUEST, e.getMessage(), true);
        }
    }

    private void gateway(ChannelHandlerContext ctx, FullHttpRequest req, String rawPath, QueryStringDecoder uri) throws EdgeException, BadPath {
        if (rawPath.equals("/metrics")) {
            FullHttpResponse r = text(HttpResponseStatus.OK, shared.metricsText().get());
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
            send(ctx, req, r);
            return;
        }
        if (!rawPath.startsWith("/c/")) {
            throw new EdgeException(EdgeException.Kind.NOT_FOUND, "nothing at " + shorten(rawPath) + ": content is at /c/{cid}[/path]"
                    + " or on its own origin, http://{cid in base36}.c.DOMAIN/");
        }
        int slash = rawPath.indexOf('/', 3);
        String cidText = slash < 0 ? rawPath.substring(3) : rawPath.substring(3, slash);
        Cid root;
        try {
            root = Cid.parse(cidText);
        } catch (IllegalArgumentException e) {
            throw new BadPath("'" + shorten(cidText) + "' is not a CID: " + e.getMessage());
        }
        String rest = slash < 0 ? "" : rawPath.substring(slash);
        serve(ctx, req, root, rest, "/c/" + cidText, uri, CacheHeaders.IMMUTABLE);
    }

    private void site(ChannelHandlerContext ctx, FullHttpRequest req, Cid root, String rawPath, QueryStringDecoder uri, String cacheControl)
            throws EdgeException, BadPath {
        serve(ctx, req, root, rawPath, "", uri, cacheControl);
    }

    /**
     * Serves {@code rest} (a raw path, "" or starting with '/') under {@code root}, whose URL
     * prefix is {@code base}: a file, a directory's index.html, a listing, a redirect to the
     * directory URL with its slash, or the site's 404.html for a miss inside it.
     */
    private void serve(ChannelHandlerContext ctx, FullHttpRequest req, Cid root, String rest, String base, QueryStringDecoder uri,
                       String cacheControl) throws EdgeException, BadPath {
        List<String> names = segments(rest);
        Cached top = shared.cache().object(root);
        if (top.object().encrypted()) {
            throw notPublic(root);
        }
        Cached at = top;
        String name = null;
        for (String n : names) {
            Entry e = at.object().directory() ? at.object().entry(n) : null;
            if (e == null) {
                notFound(ctx, req, top, at.object().directory() ? "no '" + n + "' in " + at.object().cid()
                        : at.object().cid() + " is a file, not a directory: nothing is under it", cacheControl);
                return;
            }
            at = shared.cache().object(Cid.fromBytes(e.getCid().toByteArray()));
            name = n;
            if (at.object().encrypted()) {
                throw notPublic(at.object().cid());
            }
        }
        if (at.object().directory()) {
            if (!rest.endsWith("/")) {
                String q = uri.rawQuery();
                FullHttpResponse r = text(HttpResponseStatus.MOVED_PERMANENTLY, "a directory: see its URL with a slash");
                r.headers().set(HttpHeaderNames.LOCATION, base + rest + "/" + (q.isEmpty() ? "" : "?" + q));
                send(ctx, req, r);
                return;
            }
            Entry index = at.object().entry("index.html");
            if (index == null) {
                listing(ctx, req, at, base + rest, cacheControl);
                return;
            }
            at = shared.cache().object(Cid.fromBytes(index.getCid().toByteArray()));
            name = "index.html";
            if (at.object().encrypted() || at.object().directory()) {
                throw at.object().encrypted() ? notPublic(at.object().cid())
                        : new EdgeException(EdgeException.Kind.NOT_FOUND, "index.html in " + root + " is a directory");
            }
        }
        file(ctx, req, at, name, HttpResponseStatus.OK, cacheControl);
    }

    /** A miss inside a site: its root's 404.html with status 404 when it has one, else words. */
    private void notFound(ChannelHandlerContext ctx, FullHttpRequest req, Cached root, String why, String cacheControl) throws EdgeException {
        Entry page = root.object().directory() ? root.object().entry("404.html") : null;
        if (page != null) {
            Cached p = shared.cache().object(Cid.fromBytes(page.getCid().toByteArray()));
            if (!p.object().directory() && !p.object().encrypted()) {
                file(ctx, req, p, "404.html", HttpResponseStatus.NOT_FOUND, cacheControl);
                return;
            }
        }
        throw new EdgeException(EdgeException.Kind.NOT_FOUND, why);
    }

    private void listing(ChannelHandlerContext ctx, FullHttpRequest req, Cached dir, String path, String cacheControl) {
        StringBuilder html = new StringBuilder("<!doctype html><meta charset=utf-8><title>").append(escape(path))
                .append("</title><h1>").append(escape(path)).append("</h1><ul>");
        for (Entry e : dir.object().entries()) {
            String href = e.getName();
            html.append("<li><a href=\"").append(escape(urlEncode(href))).append(e.getKind().getNumber() == 1 ? "/" : "").append("\">")
                    .append(escape(e.getName())).append(e.getKind().getNumber() == 1 ? "/" : "").append("</a> ")
                    .append(e.getSize()).append(" bytes</li>");
        }
        html.append("</ul>");
        FullHttpResponse r = text(HttpResponseStatus.OK, html.toString());
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, cacheControl)
                .set(HttpHeaderNames.ETAG, CacheHeaders.etag(dir.object().cid()));
        if (Conditional.notModified(req.headers().get(HttpHeaderNames.IF_NONE_MATCH), CacheHeaders.etag(dir.object().cid()))) {
            send(ctx, req, notModified(r.headers()));
            return;
        }
        send(ctx, req, r);
    }

    /** A public file with {@code status} (200, or 404 for a site's 404.html). */
    private void file(ChannelHandlerContext ctx, FullHttpRequest req, Cached c, String name, HttpResponseStatus status, String cacheControl)
            throws EdgeException {
        EdgeObject o = c.object();
        String etag = CacheHeaders.etag(o.cid());
        String type = ContentTypes.of(o.contentType(), name);
        HttpHeaders h = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status).headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, type)
                .set(HttpHeaderNames.CACHE_CONTROL, cacheControl)
                .set(HttpHeaderNames.AGE, shared.cache().ageSeconds(c.fetchedAtMillis()))
                .set("X-Content-Type-Options", "nosniff")
                .set(HttpHeaderNames.ACCEPT_RANGES, "bytes");
        boolean gzip = status.code() == 200 && ContentTypes.compressible(type) && o.size() >= 256 && o.size() <= MAX_GZIP;
        if (gzip) {
            h.set(HttpHeaderNames.VARY, "Accept-Encoding");
        }
        boolean wantsGzip = gzip && acceptsGzip(req.headers().get(HttpHeaderNames.ACCEPT_ENCODING));
        String gzEtag = CacheHeaders.etag(o.cid() + "-gzip");
        h.set(HttpHeaderNames.ETAG, wantsGzip ? gzEtag : etag);
        if (status.code() == 200 && Conditional.notModified(req.headers().get(HttpHeaderNames.IF_NONE_MATCH), wantsGzip ? gzEtag : etag)) {
            send(ctx, req, notModified(h));
            return;
        }
        touch(o);
        RangeSet ranges = status.code() == 200 ? RangeSet.parse(req.headers().get(HttpHeaderNames.RANGE), o.size()) : new RangeSet.Whole();
        String ifRange = req.headers().get(HttpHeaderNames.IF_RANGE);
        if (ifRange != null && !ifRange.strip().equals(etag)) {
            ranges = new RangeSet.Whole(); // a representation other than the client's: send it whole (RFC 9110, 13.1.5)
        }
        boolean head = req.method().equals(HttpMethod.HEAD);
        boolean immutable = status.code() == 200 && CacheHeaders.IMMUTABLE.equals(cacheControl); // names move: never hot
        switch (ranges) {
            case RangeSet.Unsatisfiable u -> {
                FullHttpResponse r = text(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, u.reason());
                r.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + o.size()).set(HttpHeaderNames.ETAG, etag);
                send(ctx, req, r);
            }
            case RangeSet.Whole w when wantsGzip -> {
                Compressed z = gzipped(o);
                h.set(HttpHeaderNames.CONTENT_ENCODING, "gzip").remove(HttpHeaderNames.ACCEPT_RANGES);
                if (immutable) {
                    keepHot(req, o, c.fetchedAtMillis(), h, z.bytes());
                }
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(z.bytes()));
                r.headers().set(h).set(X_CACHE, z.hit() ? "HIT" : "MISS");
                send(ctx, req, r);
            }
            case RangeSet.Whole w -> {
                Chunk first = null;
                if (immutable && !head && o.size() > 0 && o.size() <= Math.min(MAX_HOT_BODY, shared.cache().chunkSize())) {
                    first = shared.cache().chunk(o, 0);
                    keepHot(req, o, c.fetchedAtMillis(), h, first.bytes());
                }
                stream(ctx, req, status, h, o, List.of(new long[] {0, o.size()}), null, head, first);
            }
            case RangeSet.Spans s when s.spans().size() == 1 -> {
                long[] span = s.spans().get(0);
                h.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + span[0] + "-" + (span[1] - 1) + "/" + o.size());
                stream(ctx, req, HttpResponseStatus.PARTIAL_CONTENT, h, o, s.spans(), null, head, null);
            }
            case RangeSet.Spans s -> stream(ctx, req, HttpResponseStatus.PARTIAL_CONTENT, h, o, s.spans(), type, head, null);
        }
    }

    private static final String X_CACHE = "X-Cache";

    /** A file's gzip encoding and whether every byte of it came from the edge's tiers. */
    private record Compressed(byte[] bytes, boolean hit) {}

    private Compressed gzipped(EdgeObject o) throws EdgeException {
        byte[] z = shared.gzipped().getIfPresent(o.cid());
        if (z != null) {
            return new Compressed(z, true);
        }
        boolean hit = true;
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(o.size(), 1 << 20));
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 64 << 10)) {
            long n = shared.cache().chunks(o);
            for (long i = 0; i < n && o.size() > 0; i++) {
                Chunk c = shared.cache().chunk(o, i);
                hit &= c.tier() != Tier.ORIGIN;
                gz.write(c.bytes());
            }
        } catch (IOException e) {
            throw new IllegalStateException("gzip into memory failed", e);
        }
        z = out.toByteArray();
        shared.gzipped().put(o.cid(), z);
        return new Compressed(z, hit);
    }

    private static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String part : acceptEncoding.split(",")) {
            String[] kv = part.strip().split(";");
            String coding = kv[0].strip();
            if (coding.equalsIgnoreCase("gzip") || coding.equals("*")) {
                for (int i = 1; i < kv.length; i++) {
                    String q = kv[i].strip();
                    if (q.startsWith("q=") && q.substring(2).strip().matches("0(\\.0{0,3})?")) {
                        return false;
                    }
                }
                return true;
            }
        }
        return false;
    }

    /** Counts a request for {@code o}; at {@link #HOT} within a minute its first chunks are fetched ahead. */
    private void touch(EdgeObject o) {
        int n = shared.popularity().get(o.cid(), c -> new AtomicInteger()).incrementAndGet();
        if (n == HOT && !o.directory()) {
            shared.cache().prefetch(o, 0, 16);
        }
    }

    /**
     * Writes {@code spans} of {@code o}: one span as a plain body, several as
     * multipart/byteranges of {@code partType} ({@code fetched}: chunk 0 when the caller has it). The first chunk is fetched before the head is
     * written, so a failing origin still gets a clean error status; a failure later closes the
     * connection (the short body tells the client).
     */
    private void stream(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, HttpHeaders h, EdgeObject o,
                        List<long[]> spans, String partType, boolean head, Chunk fetched) throws EdgeException {
        int cs = shared.cache().chunkSize();
        String boundary = partType == null ? null : "oe-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        List<byte[]> partHeads = new ArrayList<>();
        long length = 0;
        for (long[] s : spans) {
            if (boundary != null) {
                byte[] ph = ("\r\n--" + boundary + "\r\nContent-Type: " + partType + "\r\nContent-Range: bytes " + s[0] + "-"
                        + (s[1] - 1) + "/" + o.size() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
                partHeads.add(ph);
                length += ph.length;
            }
            length += s[1] - s[0];
        }
        byte[] tail = boundary == null ? new byte[0] : ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        length += tail.length;
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        r.headers().set(h).set(HttpHeaderNames.CONTENT_LENGTH, length);
        if (boundary != null) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "multipart/byteranges; boundary=" + boundary);
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, "close");
        }
        if (head || o.size() == 0) {
            ctx.write(r);
            finish(ctx, ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT), keepAlive);
            return;
        }
        long firstIndex = spans.get(0)[0] / cs;
        long lastIndex = (spans.get(spans.size() - 1)[1] - 1) / cs;
        Chunk first = fetched != null && firstIndex == 0 ? fetched : shared.cache().chunk(o, firstIndex);
        r.headers().set(X_CACHE, first.tier() == Tier.ORIGIN ? "MISS" : "HIT");
        Long prev = shared.lastChunk().getIfPresent(o.cid());
        if (prev != null && (firstIndex == prev || firstIndex == prev + 1)) {
            shared.cache().prefetch(o, lastIndex + 1, AHEAD); // ranges walking through the object: a player streaming it
        }
        shared.lastChunk().put(o.cid(), lastIndex);
        ctx.write(r); // flushed with the first body bytes
        ChannelFuture pending = null;
        try {
            for (int p = 0; p < spans.size(); p++) {
                long[] s = spans.get(p);
                if (boundary != null) {
                    await(ctx, pending).write(new DefaultHttpContent(Unpooled.wrappedBuffer(partHeads.get(p)))); // flushed with its bytes
                }
                for (long i = s[0] / cs; i * cs < s[1]; i++) {
                    if ((i + 1) * cs < s[1]) {
                        shared.cache().prefetch(o, i + 1, 1); // read-ahead: the next chunk comes while this one is written
                    }
                    byte[] bytes = i == firstIndex && first != null ? first.bytes() : shared.cache().chunk(o, i).bytes();
                    first = null; // later spans in the same chunk read it from memory
                    long c0 = Math.max(s[0], i * cs);
                    long c1 = Math.min(s[1], i * cs + bytes.length);
                    ByteBuf slice = Unpooled.wrappedBuffer(bytes, (int) (c0 - i * cs), (int) (c1 - c0));
                    pending = await(ctx, pending).writeAndFlush(new DefaultHttpContent(slice));
                }
            }
            await(ctx, pending);
            finish(ctx, ctx.writeAndFlush(tail.length == 0 ? LastHttpContent.EMPTY_LAST_CONTENT
                    : new io.netty.handler.codec.http.DefaultLastHttpContent(Unpooled.wrappedBuffer(tail))), keepAlive);
        } catch (EdgeException | SlowClient e) {
            ctx.close(); // the head is out: a short body (and a closed connection) is what the client can still be told
        }
    }

    /** Thrown when a client did not take a chunk within the write deadline. */
    private static final class SlowClient extends Exception {
        private static final long serialVersionUID = 1L;
    }

    /** Waits for {@code f} (the last write) up to the write deadline; returns the context to write on. */
    private ChannelHandlerContext await(ChannelHandlerContext ctx, ChannelFuture f) throws SlowClient {
        if (f == null) {
            return ctx;
        }
        try {
            if (!f.await(shared.writeDeadline().toMillis(), TimeUnit.MILLISECONDS) || !f.isSuccess()) {
                throw new SlowClient();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlowClient();
        }
        return ctx;
    }

    private static void finish(ChannelHandlerContext ctx, ChannelFuture last, boolean keepAlive) {
        if (!keepAlive) {
            last.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void purge(ChannelHandlerContext ctx, FullHttpRequest req, Sites.Target target, String rawPath) {
        if (!(target instanceof Sites.Gateway) || !rawPath.startsWith("/cache/")) {
            FullHttpResponse r = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "DELETE is only for /cache/{cid} on the edge's own host");
            r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            send(ctx, req, r);
            return;
        }
        String token = shared.token();
        String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (token == null) {
            send(ctx, req, text(HttpResponseStatus.FORBIDDEN, "this edge has no admin token: purges are disabled"));
            return;
        }
        if (auth == null || !auth.startsWith("Bearer ")
                || !MessageDigest.isEqual(auth.substring(7).strip().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
            FullHttpResponse r = text(HttpResponseStatus.UNAUTHORIZED, "a purge needs the edge's token: Authorization: Bearer TOKEN");
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
            send(ctx, req, r);
            return;
        }
        Cid cid;
        try {
            cid = Cid.parse(rawPath.substring("/cache/".length()));
        } catch (IllegalArgumentException e) {
            send(ctx, req, text(HttpResponseStatus.BAD_REQUEST, "'" + shorten(rawPath.substring(7)) + "' is not a CID"));
            return;
        }
        int n = shared.cache().purge(cid);
        shared.gzipped().invalidate(cid);
        shared.hot().asMap().values().removeIf(h -> h.cid().equals(cid));
        FullHttpResponse r = text(HttpResponseStatus.OK, "{\"cid\":\"" + cid + "\",\"chunks\":" + n + "}");
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        send(ctx, req, r);
    }

    /** A thrown path problem (400). */
    private static final class BadPath extends Exception {
        private static final long serialVersionUID = 1L;

        BadPath(String message) {
            super(message);
        }
    }

    /**
     * The names of a raw path ("/a/b%20c/" gives a, "b c"), percent-decoded one by one. Refused
     * (400): names that decode to "." or "..", or hold '/', '\\' or NUL after decoding, and
     * malformed escapes. Empty names (a doubled or trailing slash) are skipped.
     */
    static List<String> segments(String rawPath) throws BadPath {
        List<String> out = new ArrayList<>();
        for (String raw : rawPath.split("/")) {
            if (raw.isEmpty()) {
                continue;
            }
            String n;
            try {
                n = QueryStringDecoder.decodeComponent(raw, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new BadPath("the path has a malformed escape in '" + shorten(raw) + "'");
            }
            if (n.equals(".") || n.equals("..") || n.indexOf('/') >= 0 || n.indexOf('\\') >= 0 || n.indexOf('\0') >= 0) {
                throw new BadPath("the path name '" + shorten(raw) + "' is not allowed: no '.', '..', '/', '\\' or NUL");
            }
            out.add(n);
        }
        return out;
    }

    private static EdgeException notPublic(Cid cid) {
        return new EdgeException(EdgeException.Kind.NOT_PUBLIC, cid + " is encrypted: only its owner's node reads it; edges serve public content only");
    }

    private static FullHttpResponse notModified(HttpHeaders h) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
        for (var name : List.of(HttpHeaderNames.ETAG, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.AGE, HttpHeaderNames.VARY)) {
            if (h.contains(name)) {
                r.headers().set(name, h.get(name));
            }
        }
        return r;
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body.endsWith("\n") || body.startsWith("<") || body.startsWith("{") ? body : body + "\n", StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8").set("X-Content-Type-Options", "nosniff");
        return r;
    }

    private void sendError(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String message, boolean keepAlive) {
        FullHttpResponse r = text(status, message);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, "close");
        }
        send(ctx, req, r);
    }

    /** Sends a whole response (its body dropped for HEAD, its length kept), closing when the request or response asks. */
    private static void send(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse r) {
        HttpUtil.setContentLength(r, r.content().readableBytes());
        if (req.method().equals(HttpMethod.HEAD)) {
            r = r.replace(Unpooled.EMPTY_BUFFER);
        }
        boolean close = !HttpUtil.isKeepAlive(req) || "close".equalsIgnoreCase(r.headers().get(HttpHeaderNames.CONNECTION));
        if (close) {
            r.headers().set(HttpHeaderNames.CONNECTION, "close");
        }
        ChannelFuture f = ctx.writeAndFlush(r);
        if (close) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static String shorten(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }

    private static String urlEncode(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
