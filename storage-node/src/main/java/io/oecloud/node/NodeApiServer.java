package io.oecloud.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.CidFormatException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The node's HTTP API, the part that serves the {@code oe id/ping/dht} commands (the object API
 * joins it with the storage node). JSON in and out; errors are {@code {"error": "..."}} in words
 * (never a Java exception's text) with 400 for malformed input, 401 without the API token, 403 for
 * a foreign Host or Origin, 404 for what the DHT does not have, 413 for oversized bodies, 429 when a
 * rate limit says wait, 504 when the network does not answer within the deadline.
 *
 * <p>The pipeline of each connection:
 * <pre>
 *   IdleStateHandler     reader idle after Limits.bodySilence (a stalled body), all idle after 120 s (close)
 *   HeadDeadline         a request head whole within Limits.bodySilence of its first byte (408 and close)
 *   HttpServerCodec      request line at most 4096 bytes, headers 8192, body chunks up to 1 MiB
 *   ApiGate              decoder failures answered (400/414/431) and closed; Host, Origin, token; one
 *                        request at a time; nosniff and CSP sandbox on every answer
 *   ObjectsHttpHandler   /v1/objects, /v1/directories, /v1/health: streamed, on virtual threads
 *   HttpObjectAggregator the other routes' bodies, at most 64 KiB
 *   Handler              the routes below
 * </pre>
 *
 * <pre>
 *   GET  /v1/id                          this node: peer ID, addresses, protocols
 *   GET  /v1/status                      shards, bytes used and capacity, connections, RS parameters
 *   GET  /metrics                        Prometheus (Micrometer): store, connections, DHT, JVM memory
 *   POST /v1/repair                      scrub and repair now -> {"corrupt", "rebuilt"}
 *   POST /v1/ping?addr=MULTIADDR         {"peerId", "rttMs"}
 *   POST /v1/dht/provide/{cid}           {"cid", "peers"}   (peers told)
 *   GET  /v1/dht/providers/{cid}?max=N   {"providers": [{"peerId", "addrs"}]}
 *   GET  /v1/dht/peers/{peerId}          {"peerId", "addrs"}
 *   PUT  /v1/dht/values/{name}           body = value; signed as /oe/PEER/name; {"key"}
 *   GET  /v1/dht/values?key=KEY          the value's bytes
 * </pre>
 */
public final class NodeApiServer implements AutoCloseable {
    static final int MAX_BODY = 64 * 1024;
    static final int MAX_LINE = 4096;
    static final int MAX_HEADERS = 8192;
    public static final long DEADLINE_SECONDS = 60;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(NodeApiServer.class.getName());
    private static final String TOO_MANY_CONNECTIONS_BODY = "{\"error\":\"too many connections to this API; try again shortly\"}";
    /** Written raw to a connection over the limit, before anything of it is read. */
    private static final String TOO_MANY_CONNECTIONS = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            + "Connection: close\r\nContent-Length: " + TOO_MANY_CONNECTIONS_BODY.length() + "\r\n\r\n" + TOO_MANY_CONNECTIONS_BODY;

    /**
     * How much the API takes on at once, so no client can hold what others need.
     *
     * @param uploadsPerAddress uploads streaming in at once from one client address (429 beyond)
     * @param uploads uploads streaming in at once in all (503 beyond); each holds up to 8 MiB of
     *                queued body and a segment of the node's memory budget
     * @param bufferedBodies bytes of request bodies held whole at once, node-wide (directory listings; 503 beyond)
     * @param bodySilence a request body that sends nothing for this long is dropped (408) and, for an upload, abandoned
     * @param repairEvery {@code POST /v1/repair} (a scrub re-reads every stored byte) at most once in this
     *                    long, and one at a time (429 otherwise)
     * @param connections connections open at once; more are answered 503 and closed (with the 64 KiB
     *                    limit of the small routes' bodies, at most 32 MiB of those at the default)
     */
    record Limits(int uploadsPerAddress, int uploads, long bufferedBodies, java.time.Duration bodySilence,
                  java.time.Duration repairEvery, int connections) {
        Limits {
            if (uploadsPerAddress < 1 || uploads < uploadsPerAddress) {
                throw new IllegalArgumentException("need 1 <= uploads per address <= uploads, were " + uploadsPerAddress + " and " + uploads);
            }
            if (bufferedBodies < MAX_BODY) {
                throw new IllegalArgumentException("the buffered body budget must be at least " + MAX_BODY + " bytes, was " + bufferedBodies);
            }
            if (bodySilence.toMillis() < 1 || repairEvery.isNegative()) {
                throw new IllegalArgumentException("body silence must be positive and the repair interval not negative, were "
                        + bodySilence + " and " + repairEvery);
            }
            if (connections < 1) {
                throw new IllegalArgumentException("connections must be at least 1, was " + connections);
            }
        }

        /**
         * 4 uploads per client address and 8 in all, 64 MiB of buffered bodies, 15 s of body
         * silence, a scrub and repair at most every 10 s, 512 connections.
         */
        static Limits defaults() {
            return new Limits(4, 8, 64 << 20, java.time.Duration.ofSeconds(15), java.time.Duration.ofSeconds(10), 512);
        }

        Limits withBodySilence(java.time.Duration d) {
            return new Limits(uploadsPerAddress, uploads, bufferedBodies, d, repairEvery, connections);
        }
    }

    /** What /v1/status and /metrics report. */
    interface StatusSource {
        Map<String, Object> status();

        /** Prometheus text format. */
        String metrics();

        /** Scrubs and repairs now rather than on the schedule; says what it did. */
        Map<String, Object> upkeepNow();
    }

    private final DhtOps ops;
    private StatusSource status;
    private final io.oecloud.node.object.ObjectStore objects;
    private final ApiAccess access;
    private final Limits limits;
    private final UploadLimits uploads;
    private final BodyBudget buffered;
    /** Request work: a virtual thread each, apart from the event loop and from the shard protocol's disk threads. */
    private final java.util.concurrent.ExecutorService work = java.util.concurrent.Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("api-work-", 0).factory());
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicBoolean repairing = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile long lastRepairNanos = System.nanoTime() - java.time.Duration.ofDays(1).toNanos();
    private volatile ApiAccess.Hosts hosts; // set once bound
    private Channel channel;

    /** The identity, ping and DHT routes only. */
    NodeApiServer(DhtOps ops, ApiAccess access) {
        this(ops, null, access, Limits.defaults());
    }

    /** With the object routes (/v1/objects, /v1/directories, /v1/health) served by {@code objects}. */
    NodeApiServer(DhtOps ops, io.oecloud.node.object.ObjectStore objects, ApiAccess access, Limits limits) {
        this.ops = ops;
        this.objects = objects;
        this.access = access;
        this.limits = limits;
        this.uploads = new UploadLimits(limits.uploadsPerAddress(), limits.uploads());
        this.buffered = new BodyBudget(limits.bufferedBodies());
    }

    private io.oecloud.chain.client.ChainViews chain;
    private io.oecloud.chain.node.LedgerApp ledger;

    /** Serves /v1/chain/* through this super-node's CometBFT RPC, and transactions into its ledger's mempool. */
    NodeApiServer withChain(io.oecloud.chain.client.CometRpc rpc, io.oecloud.chain.node.LedgerApp ledger) {
        this.chain = new io.oecloud.chain.client.ChainViews(rpc);
        this.ledger = ledger;
        return this;
    }

    /** Serves /v1/status and /metrics from {@code s}. */
    NodeApiServer withStatus(StatusSource s) {
        this.status = s;
        return this;
    }

    NodeApiServer start(InetSocketAddress bind) throws IOException {
        long silence = Math.max(1, limits.bodySilence().toMillis());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (connections.incrementAndGet() > limits.connections()) {
                            connections.decrementAndGet();
                            ch.writeAndFlush(Unpooled.copiedBuffer(TOO_MANY_CONNECTIONS, java.nio.charset.StandardCharsets.US_ASCII))
                                    .addListener(ChannelFutureListener.CLOSE);
                            return;
                        }
                        ch.closeFuture().addListener(f -> connections.decrementAndGet());
                        // A body that stalls is the gate's business (reader idle); idle both ways for 2 minutes closes,
                        // while a long download keeps writing, so it stays. A head must be whole within the silence limit.
                        HeadDeadline headDeadline = new HeadDeadline(silence);
                        ch.pipeline().addLast(new io.netty.handler.timeout.IdleStateHandler(silence, 0, 120_000, TimeUnit.MILLISECONDS))
                                .addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                        if (evt instanceof io.netty.handler.timeout.IdleStateEvent e
                                                && e.state() == io.netty.handler.timeout.IdleState.ALL_IDLE) {
                                            ctx.close();
                                        } else {
                                            ctx.fireUserEventTriggered(evt);
                                        }
                                    }
                                })
                                .addLast(headDeadline)
                                // body chunks as large as a socket read: 8 KiB ones cost an upload 32,768 per 256 MiB
                                .addLast(new HttpServerCodec(MAX_LINE, MAX_HEADERS, 1 << 20))
                                .addLast(new ApiGate(access, () -> hosts, limits.bodySilence(), headDeadline));
                        if (objects != null) {
                            ch.pipeline().addLast(new ObjectsHttpHandler(objects, work, uploads, buffered, limits.bodySilence()));
                        }
                        ch.pipeline().addLast(new HttpObjectAggregator(MAX_BODY))
                                .addLast(new Handler());
                    }
                });
        try {
            channel = b.bind(bind).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully();
            work.shutdownNow();
            throw new IOException("cannot listen for the API on " + bind + ": " + e.getMessage(), e);
        }
        hosts = access.hostsFor((InetSocketAddress) channel.localAddress());
        return this;
    }

    /** Bytes of request bodies held whole right now (directory listings), node-wide. */
    long bufferedBodyBytes() {
        return buffered.used();
    }

    /** Uploads streaming in right now. */
    int uploadsRunning() {
        return uploads.running();
    }

    /** Whether the API is reachable from other machines (anything but a loopback address). */
    static boolean exposed(InetSocketAddress bind) {
        return bind.getAddress() == null || !bind.getAddress().isLoopbackAddress();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        work.shutdownNow();
    }

    /** A request the API refuses; carries its status. */
    static final class ApiException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final HttpResponseStatus status;

        ApiException(HttpResponseStatus status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            CompletableFuture<FullHttpResponse> f;
            try {
                f = route(req);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            io.oecloud.dht.Deadlines.orTimeout(f, TimeUnit.SECONDS.toMillis(DEADLINE_SECONDS))
                    .exceptionally(NodeApiServer::error)
                    .thenAccept(resp -> {
                        HttpUtil.setContentLength(resp, resp.content().readableBytes());
                        if (keepAlive) {
                            HttpUtil.setKeepAlive(resp, true);
                            ctx.writeAndFlush(resp);
                        } else {
                            ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
                        }
                    });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // a handler failed on the event loop: a bug (logged), or the client went away (an I/O error, or
            // the aggregator's "closed while still aggregating"); either way the connection ends here
            if (cause instanceof IOException || cause instanceof io.netty.handler.codec.PrematureChannelClosureException) {
                LOG.log(System.Logger.Level.DEBUG, "API client went away", cause);
            } else {
                LOG.log(System.Logger.Level.ERROR, "API request failed", cause);
            }
            ctx.close();
        }
    }

    private CompletableFuture<FullHttpResponse> route(FullHttpRequest req) {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        String path = q.path();
        HttpMethod m = req.method();
        if (m.equals(HttpMethod.GET) && path.equals("/v1/id")) {
            return ops.id().thenApply(i -> json(HttpResponseStatus.OK, Map.of(
                    "peerId", i.peerId(), "addrs", i.addrs(), "protocols", i.protocols(), "agentVersion", i.agentVersion())));
        }
        if (m.equals(HttpMethod.GET) && path.equals("/v1/status") && status != null) {
            return CompletableFuture.completedFuture(json(HttpResponseStatus.OK, status.status()));
        }
        if (m.equals(HttpMethod.GET) && path.equals("/metrics") && status != null) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(status.metrics(), java.nio.charset.StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
            return CompletableFuture.completedFuture(r);
        }
        if (m.equals(HttpMethod.POST) && path.equals("/v1/repair") && status != null) {
            return repairNow();
        }
        if (m.equals(HttpMethod.POST) && path.equals("/v1/ping")) {
            Multiaddr addr = multiaddr(param(q, "addr"));
            return ops.ping(addr).thenApply(d -> json(HttpResponseStatus.OK, Map.of(
                    "peerId", addr.peerId().toString(), "rttMs", d.toNanos() / 1e6)));
        }
        if (m.equals(HttpMethod.POST) && path.startsWith("/v1/dht/provide/")) {
            Cid cid = cid(path.substring("/v1/dht/provide/".length()));
            return ops.provide(cid).thenApply(n -> json(HttpResponseStatus.OK, Map.of("cid", cid.toString(), "peers", n)));
        }
        if (m.equals(HttpMethod.GET) && path.startsWith("/v1/dht/providers/")) {
            Cid cid = cid(path.substring("/v1/dht/providers/".length()));
            int max = q.parameters().containsKey("max") ? intParam(param(q, "max")) : 20;
            return ops.findProviders(cid, max).thenApply(ps -> json(HttpResponseStatus.OK, Map.of("providers", providers(ps))));
        }
        if (m.equals(HttpMethod.GET) && path.startsWith("/v1/dht/peers/")) {
            PeerId p = peerId(path.substring("/v1/dht/peers/".length()));
            return ops.findPeer(p).thenApply(a -> json(HttpResponseStatus.OK, Map.of(
                    "peerId", p.toString(), "addrs", a.stream().map(Multiaddr::toString).toList())));
        }
        if (m.equals(HttpMethod.PUT) && path.startsWith("/v1/dht/values/")) {
            String name = path.substring("/v1/dht/values/".length());
            byte[] body = new byte[req.content().readableBytes()];
            req.content().readBytes(body);
            return ops.put(name, body).thenApply(k -> json(HttpResponseStatus.OK, Map.of("key", k)));
        }
        if (m.equals(HttpMethod.GET) && path.equals("/v1/dht/values")) {
            String key = param(q, "key");
            return ops.get(key).thenApply(v -> {
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.wrappedBuffer(v));
                r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
                return r;
            });
        }
        if (path.startsWith("/v1/chain/")) {
            return chainRoute(m, path, q, req);
        }
        throw new ApiException(HttpResponseStatus.NOT_FOUND, "no route for " + m + " " + path);
    }

    /**
     * Scrub and repair now: one at a time and at most once per {@link Limits#repairEvery} (a scrub
     * re-reads every stored byte), on its own thread, 429 with Retry-After otherwise.
     */
    private CompletableFuture<FullHttpResponse> repairNow() {
        long wait = limits.repairEvery().toNanos() - (System.nanoTime() - lastRepairNanos);
        if (wait > 0 || !repairing.compareAndSet(false, true)) {
            FullHttpResponse r = json(HttpResponseStatus.TOO_MANY_REQUESTS, Map.of("error", repairing.get()
                    ? "a scrub and repair is running; one runs at a time"
                    : "a scrub and repair ran moments ago; at most one every " + limits.repairEvery().toSeconds() + " s"));
            r.headers().set(HttpHeaderNames.RETRY_AFTER, String.valueOf(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(Math.max(wait, 0)) + 1)));
            return CompletableFuture.completedFuture(r);
        }
        lastRepairNanos = System.nanoTime();
        return CompletableFuture.supplyAsync(() -> {
            try {
                return json(HttpResponseStatus.OK, status.upkeepNow());
            } finally {
                lastRepairNanos = System.nanoTime();
                repairing.set(false);
            }
        }, work);
    }

    private static List<Map<String, Object>> providers(List<Provider> ps) {
        return ps.stream().map(p -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("peerId", p.peer().toString());
            e.put("addrs", p.addrs().stream().map(Multiaddr::toString).toList());
            return e;
        }).toList();
    }

    private static String param(QueryStringDecoder q, String name) {
        List<String> v = q.parameters().get(name);
        if (v == null || v.isEmpty()) {
            throw new ApiException(HttpResponseStatus.BAD_REQUEST, "missing query parameter '" + name + "'");
        }
        return v.get(0);
    }

    private static int intParam(String s) {
        try {
            int v = Integer.parseInt(s);
            if (v < 1 || v > 1000) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new ApiException(HttpResponseStatus.BAD_REQUEST, "max must be a number from 1 to 1000, was '" + s + "'");
        }
    }

    private static Cid cid(String s) {
        try {
            return Cid.parse(s);
        } catch (CidFormatException e) {
            throw new ApiException(HttpResponseStatus.BAD_REQUEST, "malformed CID '" + s + "': " + e.getMessage());
        }
    }

    private static PeerId peerId(String s) {
        try {
            return PeerId.parse(s);
        } catch (IllegalArgumentException e) {
            throw new ApiException(HttpResponseStatus.BAD_REQUEST, "malformed peer ID '" + s + "': " + e.getMessage());
        }
    }

    private static Multiaddr multiaddr(String s) {
        try {
            return Multiaddr.parse(s);
        } catch (IllegalArgumentException e) {
            throw new ApiException(HttpResponseStatus.BAD_REQUEST, "malformed multiaddr '" + s + "': " + e.getMessage());
        }
    }

    /**
     * OEChain through this super-node's CometBFT:
     * GET /v1/chain/status, /v1/chain/validators, /v1/chain/candidates, /v1/chain/params,
     * /v1/chain/accounts/{addr}[?prove=true], /v1/chain/accounts/{addr}/txs, /v1/chain/txs/{hash},
     * /v1/chain/cids/{cid}[?prove=true], /v1/chain/light/commit/{height}, /v1/chain/light/validators/{height};
     * POST /v1/chain/txs (body = signed transaction bytes, into the ledger's mempool; ?wait=commit
     * waits for the block), GET /v1/chain/mempool.
     */
    private CompletableFuture<FullHttpResponse> chainRoute(HttpMethod m, String path, QueryStringDecoder q, FullHttpRequest req) {
        if (chain == null) {
            throw new ApiException(HttpResponseStatus.NOT_FOUND, "this node is not a super-node: OEChain is served by nodes started with --super-node");
        }
        if (m.equals(HttpMethod.GET) && path.equals("/v1/chain/status")) {
            return view(chain.status());
        }
        if (m.equals(HttpMethod.GET) && path.equals("/v1/chain/validators")) {
            return view(chain.validators());
        }
        if (m.equals(HttpMethod.GET) && path.equals("/v1/chain/candidates")) {
            return view(chain.candidates());
        }
        if (m.equals(HttpMethod.GET) && path.equals("/v1/chain/params")) {
            return view(chain.params());
        }
        if (m.equals(HttpMethod.GET) && path.startsWith("/v1/chain/txs/")) {
            String hash = path.substring("/v1/chain/txs/".length());
            if (!hash.matches("(?i)(0x)?[0-9a-f]{64}")) {
                throw new ApiException(HttpResponseStatus.BAD_REQUEST, "a transaction hash is 64 hex digits, not '" + hash + "'");
            }
            return view(chain.tx(hash));
        }
        if (m.equals(HttpMethod.GET) && path.startsWith("/v1/chain/accounts/") && path.endsWith("/txs")) {
            String addr = path.substring("/v1/chain/accounts/".length(), path.length() - "/txs".length());
            peerId(addr);
            return view(chain.history(addr));
        }
        boolean prove = q.parameters().getOrDefault("prove", List.of()).contains("true");
        if (m.equals(HttpMethod.GET) && path.startsWith("/v1/chain/accounts/")) {
            String addr = path.substring("/v1/chain/accounts/".length());
            peerId(addr); // 400 for a malformed address
            return view(chain.account(addr, prove));
        }
        if (m.equals(HttpMethod.GET) && path.startsWith("/v1/chain/cids/")) {
            Cid c = cid(path.substring("/v1/chain/cids/".length()));
            return view(chain.cid(c.toString(), prove));
        }
        // what a light client needs to check the answers above without trusting this node
        if (m.equals(HttpMethod.GET) && path.startsWith("/v1/chain/light/")) {
            String[] parts = path.substring("/v1/chain/light/".length()).split("/");
            long height;
            try {
                height = parts.length == 2 ? Long.parseLong(parts[1]) : -1;
            } catch (NumberFormatException e) {
                height = -1;
            }
            if (height < 1 || !(parts[0].equals("commit") || parts[0].equals("validators"))) {
                throw new ApiException(HttpResponseStatus.BAD_REQUEST, "use /v1/chain/light/commit/HEIGHT or /v1/chain/light/validators/HEIGHT");
            }
            return view(parts[0].equals("commit") ? chain.lightCommit(height) : chain.lightValidators(height));
        }
        if (m.equals(HttpMethod.POST) && path.equals("/v1/chain/txs")) {
            byte[] tx = new byte[req.content().readableBytes()];
            req.content().readBytes(tx);
            boolean commit = q.parameters().getOrDefault("wait", List.of()).contains("commit");
            return io.oecloud.chain.node.TxServer.submit(ledger, tx, commit).thenApply(a -> json(HttpResponseStatus.valueOf(a.status()), a.body()));
        }
        if (m.equals(HttpMethod.GET) && path.equals("/v1/chain/mempool")) {
            return CompletableFuture.completedFuture(json(HttpResponseStatus.OK, Map.of("pending", ledger.pending())));
        }
        throw new ApiException(HttpResponseStatus.NOT_FOUND, "no route for " + m + " " + path);
    }

    /** A chain view answered with its status and JSON body. */
    private static CompletableFuture<FullHttpResponse> view(CompletableFuture<io.oecloud.chain.client.ChainViews.View> v) {
        return v.thenApply(x -> json(HttpResponseStatus.valueOf(x.status()), x.body()));
    }

    static FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        return r;
    }

    /**
     * The answer to a failed request: the status its cause calls for, and words. A message is
     * passed on only when this project wrote it (its exception was thrown from io.oecloud code);
     * anything else is logged and answered with words of our own.
     */
    private static FullHttpResponse error(Throwable t) {
        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        String ours = ours(c) ? withoutCause(c) : null;
        HttpResponseStatus status;
        String words;
        if (c instanceof ApiException a) {
            status = a.status;
            words = a.getMessage();
        } else if (c instanceof TimeoutException) {
            status = HttpResponseStatus.GATEWAY_TIMEOUT;
            words = "no answer from the network within " + DEADLINE_SECONDS + " s";
        } else if (c instanceof IllegalArgumentException) {
            status = HttpResponseStatus.BAD_REQUEST;
            words = ours != null ? ours : "the request is malformed";
        } else if (ours != null && (c instanceof IOException && ours.contains("not found") || ours.startsWith("no record"))) {
            status = HttpResponseStatus.NOT_FOUND;
            words = ours;
        } else if (c instanceof java.net.ConnectException) {
            status = HttpResponseStatus.BAD_GATEWAY;
            words = "could not connect to the peer";
        } else {
            status = HttpResponseStatus.BAD_GATEWAY;
            words = ours != null ? ours : "the request failed in the network; see the node's log";
            if (ours == null) {
                LOG.log(System.Logger.Level.WARNING, "API request failed", c);
            }
        }
        return json(status, Map.of("error", words == null ? "the request failed" : words));
    }

    /**
     * Our message without the text of a foreign cause that it quotes at its end ("cannot connect to
     * ADDR: " + Netty's words): the first part is ours, the rest goes to the log only.
     */
    private static String withoutCause(Throwable t) {
        String m = t.getMessage();
        Throwable cause = t.getCause();
        if (cause != null && !ours(cause) && cause.getMessage() != null && m.endsWith(": " + cause.getMessage())) {
            LOG.log(System.Logger.Level.DEBUG, "API request failed: {0}", m);
            return m.substring(0, m.length() - cause.getMessage().length() - 2)
                    + (cause instanceof java.net.ConnectException ? ": the connection was refused or failed" : "");
        }
        return m;
    }

    /** Whether {@code t}'s message was written by this project (thrown from io.oecloud code). */
    private static boolean ours(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        return t.getMessage() != null && st.length > 0 && st[0].getClassName().startsWith("io.oecloud.");
    }
}
