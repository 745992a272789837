package io.oecloud.chain.node;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.ContentLengthNotAllowedException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
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
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.http.HeadDeadline;
import io.oecloud.http.HttpServer;
import io.oecloud.http.Json;
import io.oecloud.http.LingeringClose;
import io.oecloud.http.Router;
import io.oecloud.wire.LengthPrefix;
import io.oecloud.wire.WireException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ledger's mempool over HTTP:
 * <ul>
 *   <li>{@code POST /v1/chain/txs[?wait=commit]}: a client's signed transaction (1 byte to 64 KiB);
 *       answers {hash, code, log} once the mempool has it, or with {@code wait=commit} once its block
 *       is committed (adding {height}). 200 when admitted (or applied), 422 with the ledger's code
 *       and message when refused, 503 when the mempool is full (or, admitted, too many clients
 *       already wait for blocks to wait for this one), 504 when no block took it within
 *       30 s (it may still come: {@code GET /v1/chain/txs/HASH}).</li>
 *   <li>{@code POST /v1/chain/mempool}: a batch gossiped by another super-node ({@link TxGossip}),
 *       signed by a known super-node ({@link GossipAuth}: checked from the headers before the body
 *       is read, the signature before any transaction in it is parsed), with a Content-Length of
 *       at most 4 MiB and at most 20,000 transactions; answers {received, admitted}.</li>
 *   <li>{@code GET /v1/chain/mempool}: {pending}.</li>
 * </ul>
 *
 * <p>Bodies are read as they arrive, never more than the route takes: a Content-Length above the
 * route's limit is refused (413) before a byte of the body is read, a chunked body when it passes
 * the limit, and every body must be complete within {@link Limits#deadline} of its headers
 * (408). Bodies being read at once are bounded in total, clients' and peers' apart (a stranger's
 * stalled uploads cannot starve the super-nodes' gossip): a request whose body does not fit in
 * what is left is answered 503 at once. Headers over 8 KiB (431), a request line over 4 KiB (414),
 * a Content-Length that is not a number or comes with chunked encoding (400) are refused and the
 * connection closed. Connections are kept alive; one idle both ways for a minute is closed.
 *
 * <p>It stands on the project's HTTP front ({@link HttpServer}), which adds two limits of its own:
 * a request head must be whole within the same deadline of its first byte (408 and close), and at
 * most {@link Limits#connections} connections are open at once (503 and close beyond). Two event
 * loops ("tx-http") read, check signatures and answer, as before the move.
 */
public final class TxServer implements AutoCloseable {
    /** Largest gossip batch body. */
    static final int MAX_BODY = TxGossip.MAX_BATCH_BYTES;
    /** Most transactions in one gossip batch. */
    static final int MAX_BATCH_TXS = TxGossip.MAX_BATCH_TXS;
    static final long COMMIT_WAIT_MILLIS = 30_000;
    private static final String BOTH = "Content-Length together with Transfer-Encoding: chunked";
    private static final System.Logger LOG = System.getLogger(TxServer.class.getName());

    /**
     * Bounds of the requests being read.
     *
     * @param clientBytes bodies of {@code POST /v1/chain/txs} being read at once, in total (8 MiB: 128 of the largest)
     * @param peerBytes gossip batches being read at once, in total (32 MiB: 8 of the largest; each peer sends one at a time)
     * @param deadline how long a body may take after its head, and a head after its first byte
     * @param connections open at once (1,024: eight times the 128 keep-alive connections the chain
     *                    benchmark's senders hold on each validator, with its validators' gossip besides)
     */
    record Limits(long clientBytes, long peerBytes, Duration deadline, int connections) {
        static final Limits DEFAULTS = new Limits(8L << 20, 32L << 20, Duration.ofSeconds(10), 1024);
    }

    /** Request line, headers and body chunks the codec takes (414, 431 beyond; larger chunks come in parts). */
    private static final int MAX_LINE = 4096;
    private static final int MAX_HEADERS = 8192;
    private static final int MAX_CHUNK = 8192;
    /** Idle both ways this long: the connection is closed. */
    private static final Duration IDLE = Duration.ofSeconds(60);
    /** Admission (a transaction's signature check) runs on the loops: the two worker threads the endpoint had before it stood on the base. */
    private static final HttpServer.Loops LOOPS = new HttpServer.Loops(2, "tx-http");

    private final LedgerApp app;
    private final GossipAuth auth;
    private final Limits limits;
    private final AtomicLong clientBytes = new AtomicLong();
    private final AtomicLong peerBytes = new AtomicLong();
    private HttpServer server;

    TxServer(LedgerApp app, GossipAuth auth) {
        this(app, auth, Limits.DEFAULTS);
    }

    TxServer(LedgerApp app, GossipAuth auth, Limits limits) {
        this.app = app;
        this.auth = auth;
        this.limits = limits;
    }

    public TxServer start(InetSocketAddress bind) throws IOException {
        HttpServer.Limits front = new HttpServer.Limits(MAX_LINE, MAX_HEADERS, MAX_CHUNK, limits.deadline(), IDLE, limits.connections());
        // no HttpServerKeepAliveHandler: it closes at once after an answer with Connection: close, so a
        // refusal sent while the body still arrives was reset away (reply's lingering close keeps it)
        server = HttpServer.start("mempool endpoint", bind, front, LOOPS, (p, head) -> p.addLast(new Handler(head)));
        return this;
    }

    /** Bytes of bodies being read now (clients', peers'): for tests. */
    long[] buffered() {
        return new long[] {clientBytes.get(), peerBytes.get()};
    }

    public InetSocketAddress address() {
        return server.address();
    }

    /** Connections open now: for tests. */
    int connections() {
        return server.connections();
    }

    /** An HTTP answer: status and JSON body. */
    public record Answer(int status, Map<String, Object> body) {
    }

    /**
     * A client's transaction into {@code app}'s mempool, and with {@code waitCommit} until its
     * block commits: what {@code POST /v1/chain/txs} answers (the storage node's API answers the same).
     */
    public static CompletableFuture<Answer> submit(LedgerApp app, byte[] tx, boolean waitCommit) {
        if (tx.length == 0 || tx.length > Ledger.MAX_TX_BYTES) {
            return CompletableFuture.completedFuture(new Answer(400, Map.of("error",
                    "a transaction is 1 to " + Ledger.MAX_TX_BYTES + " bytes, was " + tx.length)));
        }
        LedgerApp.Submission s = app.submit(tx, true, waitCommit);
        LedgerApp.Admission a = s.admission();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("hash", a.hash());
        out.put("code", a.code().value());
        out.put("log", a.log());
        if (!a.ok()) {
            return CompletableFuture.completedFuture(new Answer(a.code() == Ledger.Code.MEMPOOL_FULL ? 503 : 422, out));
        }
        if (s.committed() == null) {
            return CompletableFuture.completedFuture(new Answer(200, out));
        }
        CompletableFuture<LedgerApp.Committed> wait = s.committed();
        return wait.orTimeout(COMMIT_WAIT_MILLIS, TimeUnit.MILLISECONDS).handle((c, e) -> {
            if (e == null) {
                out.put("code", c.code());
                out.put("log", c.log());
                out.put("height", c.height());
                return new Answer(c.code() == 0 ? 200 : 422, out);
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof LedgerApp.DroppedException d) {
                out.put("code", d.code.value());
                out.put("log", d.getMessage());
                return new Answer(422, out);
            }
            if (cause instanceof LedgerApp.TooManyWaitersException) {
                out.put("log", cause.getMessage() + " (GET /v1/chain/txs/" + a.hash() + " tells when it is committed)");
                return new Answer(503, out);
            }
            app.forget(a.hash(), wait);
            out.put("log", cause instanceof TimeoutException ? "no block took it within " + COMMIT_WAIT_MILLIS / 1000
                    + " s; it may still be committed (GET /v1/chain/txs/" + a.hash() + ")" : cause.toString());
            return new Answer(504, out);
        });
    }

    /** A gossiped batch: {uvarint length, bytes} repeated, each transaction checked like a client's. */
    static Answer receiveBatch(LedgerApp app, ByteBuf body) {
        int received = 0;
        int admitted = 0;
        while (body.isReadable()) {
            if (received == MAX_BATCH_TXS) {
                return new Answer(400, Map.of("error", "a gossip batch holds at most " + MAX_BATCH_TXS + " transactions",
                        "received", received, "admitted", admitted));
            }
            long len = entryLength(body);
            if (len < 1 || len > Ledger.MAX_TX_BYTES || len > body.readableBytes()) {
                return new Answer(400, Map.of("error", "gossip batch entry " + received + " has length " + len
                        + " (1 to " + Ledger.MAX_TX_BYTES + ", within the body)", "received", received, "admitted", admitted));
            }
            byte[] tx = new byte[(int) len];
            body.readBytes(tx);
            received++;
            admitted += app.submit(tx, false, false).admission().ok() ? 1 : 0;
        }
        return new Answer(200, Map.of("received", received, "admitted", admitted));
    }

    /**
     * An entry's length prefix, or -1 (answered as a bad length) where the body ends inside it or
     * it runs past the 5 bytes that hold any int.
     */
    private static long entryLength(ByteBuf body) {
        try {
            return LengthPrefix.readUvarint(body, 5);
        } catch (WireException e) {
            return -1;
        }
    }

    private enum Route { TXS, GOSSIP, PENDING, NOT_FOUND }

    /** The routes; any other method or path is NOT_FOUND (404, as this server has always answered). */
    private static final Router<Route> ROUTES = new Router<Route>()
            .add(HttpMethod.POST, "/v1/chain/txs", Route.TXS)
            .add(HttpMethod.POST, "/v1/chain/mempool", Route.GOSSIP)
            .add(HttpMethod.GET, "/v1/chain/mempool", Route.PENDING);

    /**
     * One request at a time per connection: the headers pick the route and its limit (and for
     * gossip, check the sender), the body is copied into an array of the declared length as it
     * arrives, and the request is handled when its last part is in. Anything refused before the
     * end is answered at once and the connection closed, the rest of the body unread.
     */
    private final class Handler extends ChannelInboundHandlerAdapter {
        private final HeadDeadline head;
        private Route route;
        private boolean keepAlive;
        private boolean wait;
        private int limit;
        private long declared;
        private byte[] body;
        private int filled;
        private GossipAuth.Claim claim;
        private AtomicLong budget;
        private long reserved;
        private io.netty.util.concurrent.ScheduledFuture<?> deadline;
        /** An answer was sent early: the connection is closing, nothing more is read. */
        private boolean closing;

        Handler(HeadDeadline head) {
            this.head = head;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (closing) {
                    return;
                }
                if (msg instanceof HttpRequest r) {
                    begin(ctx, r);
                }
                if (msg instanceof HttpContent c && !closing && route != null) {
                    content(ctx, c);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void begin(ChannelHandlerContext ctx, HttpRequest r) {
            head.arrived();
            if (r.decoderResult().isFailure()) {
                Throwable cause = r.decoderResult().cause();
                int status = cause instanceof io.netty.handler.codec.http.TooLongHttpLineException ? 414
                        : cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException ? 431 : 400;
                // the codec refuses both framings at once (RFC 9112 §6.1): two that disagree are how requests get smuggled past a proxy
                refuse(ctx, status, status == 414 ? "the request line is longer than " + MAX_LINE + " bytes"
                        : status == 431 ? "the request headers are larger than " + MAX_HEADERS + " bytes"
                        : cause instanceof ContentLengthNotAllowedException ? BOTH
                        : "not a valid HTTP request (request line, headers or Content-Length)");
                return;
            }
            keepAlive = HttpUtil.isKeepAlive(r);
            wait = false;
            QueryStringDecoder q = new QueryStringDecoder(r.uri());
            String path = q.path();
            route = ROUTES.match(r.method(), path) instanceof Router.Found<Route> found ? found.handler() : Route.NOT_FOUND;
            switch (route) {
                case TXS -> {
                    limit = Ledger.MAX_TX_BYTES;
                    budget = clientBytes;
                    wait = q.parameters().getOrDefault("wait", List.of()).contains("commit");
                }
                case GOSSIP -> {
                    limit = MAX_BODY;
                    budget = peerBytes;
                }
                case PENDING, NOT_FOUND -> limit = 0;
            }
            String cl = r.headers().get(HttpHeaderNames.CONTENT_LENGTH);
            boolean chunked = HttpUtil.isTransferEncodingChunked(r);
            declared = -1;
            if (cl != null) {
                if (chunked) {
                    refuse(ctx, 400, BOTH);
                    return;
                }
                try {
                    declared = Long.parseLong(cl.strip());
                } catch (NumberFormatException e) {
                    declared = Long.MIN_VALUE;
                }
                if (declared < 0) {
                    refuse(ctx, 400, "Content-Length must be a number of bytes, 0 or more");
                    return;
                }
            }
            if (route == Route.GOSSIP) {
                GossipAuth.Verdict v = auth.headers(r.headers());
                if (v.refusal() != null) {
                    refuse(ctx, v.refusal().status(), v.refusal().reason());
                    return;
                }
                if (declared < 0) {
                    refuse(ctx, 411, "a gossip batch needs a Content-Length");
                    return;
                }
                claim = v.claim();
            }
            if (declared > limit) {
                refuse(ctx, 413, "a body of " + declared + " bytes is over the " + limit + " bytes " + r.method() + " " + path + " takes");
                return;
            }
            long need = declared >= 0 ? declared : limit;
            if (need > 0) {
                long cap = budget == clientBytes ? limits.clientBytes() : limits.peerBytes();
                if (budget.addAndGet(need) > cap) {
                    budget.addAndGet(-need);
                    refuse(ctx, 503, "busy: " + (budget == clientBytes ? "clients'" : "gossip") + " request bodies being read take"
                            + " all of their " + cap + " bytes; try again in a moment");
                    return;
                }
                reserved = need;
            }
            body = new byte[(int) (declared >= 0 ? declared : Math.min(limit, 4096))];
            filled = 0;
            if (HttpUtil.is100ContinueExpected(r)) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
            }
            long millis = limits.deadline().toMillis();
            deadline = ctx.executor().schedule(() -> {
                if (route != null && !closing) {
                    refuse(ctx, 408, "the request body did not arrive within " + millis + " ms of its headers");
                }
            }, millis, TimeUnit.MILLISECONDS);
        }

        private void content(ChannelHandlerContext ctx, HttpContent c) {
            if (c.decoderResult().isFailure()) {
                refuse(ctx, 400, "the request body's framing is broken");
                return;
            }
            int n = c.content().readableBytes();
            if ((long) filled + n > limit || (declared >= 0 && (long) filled + n > declared)) {
                refuse(ctx, 413, "the body is over the " + limit + " bytes this route takes");
                return;
            }
            if (filled + n > body.length) {
                body = java.util.Arrays.copyOf(body, (int) Math.min(limit, Math.max((long) filled + n, 2L * body.length)));
            }
            c.content().readBytes(body, filled, n);
            filled += n;
            if (c instanceof LastHttpContent) {
                finish(ctx);
            }
        }

        private void finish(ChannelHandlerContext ctx) {
            Route r = route;
            byte[] b = filled == body.length ? body : java.util.Arrays.copyOf(body, filled);
            GossipAuth.Claim who = claim;
            boolean ka = keepAlive;
            reset();
            head.expect(); // the request is whole: the next head's deadline starts with its first byte
            try {
                switch (r) {
                    case TXS -> submit(app, b, wait).thenAccept(a -> reply(ctx, a, ka));
                    case GOSSIP -> {
                        GossipAuth.Refusal bad = auth.body(who, b);
                        if (bad != null) {
                            reply(ctx, new Answer(bad.status(), Map.of("error", bad.reason())), false);
                        } else {
                            reply(ctx, receiveBatch(app, Unpooled.wrappedBuffer(b)), ka);
                        }
                    }
                    case PENDING -> reply(ctx, new Answer(200, Map.of("pending", app.pending())), ka);
                    case NOT_FOUND -> reply(ctx, new Answer(404, Map.of("error", "no route for this method and path"
                            + " (POST /v1/chain/txs, POST and GET /v1/chain/mempool)")), ka);
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "handling a " + r + " request failed", e);
                reply(ctx, new Answer(500, Map.of("error", "internal error (logged on the node)")), false);
            }
        }

        /** Frees what this request held: its budget, its deadline, its state. */
        private void reset() {
            if (reserved > 0) {
                budget.addAndGet(-reserved);
                reserved = 0;
            }
            if (deadline != null) {
                deadline.cancel(false);
                deadline = null;
            }
            route = null;
            body = null;
            claim = null;
        }

        private void refuse(ChannelHandlerContext ctx, int status, String reason) {
            reset();
            closing = true;
            reply(ctx, new Answer(status, Map.of("error", reason)), false);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            reset();
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            reset();
            ctx.close();
        }
    }

    private static void reply(ChannelHandlerContext ctx, Answer a, boolean keepAlive) {
        FullHttpResponse r = Json.response(HttpResponseStatus.valueOf(a.status()), a.body());
        HttpUtil.setKeepAlive(r, keepAlive);
        var f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(LingeringClose.AFTER);
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }
}
