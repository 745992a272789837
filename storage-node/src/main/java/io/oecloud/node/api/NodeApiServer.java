package io.oecloud.node.api;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.oecloud.chain.client.ChainViews;
import io.oecloud.chain.client.CometRpc;
import io.oecloud.chain.node.ChainRoutes;
import io.oecloud.chain.node.LedgerApp;
import io.oecloud.http.HeadDeadline;
import io.oecloud.http.HttpServer;
import io.oecloud.http.Route;
import io.oecloud.http.Router;
import io.oecloud.node.DhtOps;
import io.oecloud.node.object.ObjectStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The node's HTTP API on the project's HTTP front ({@link HttpServer}, {@link Router}). JSON in
 * and out; errors are {@code {"error": "..."}} in words (never a Java exception's text), their
 * status from one mapping ({@link Failures}): 400 for malformed input, 401 without the API token,
 * 403 for a foreign Host or Origin, 404 for what is not there, 405 for a known path under another
 * method, 413 for oversized bodies, 429 when a rate limit says wait, 504 when the network does not
 * answer within the deadline.
 *
 * <p>The pipeline of each connection:
 * <pre>
 *   IdleStateHandler     reader idle after Limits.bodySilence (a stalled body), all idle after 120 s (close)   } HttpServer,
 *   HeadDeadline         a request head whole within Limits.bodySilence of its first byte (408 and close)    } the base
 *   HttpServerCodec      request line at most 4096 bytes, headers 8192, body chunks up to 1 MiB               }
 *   ApiGate              decoder failures answered (400/414/431) and closed; Host, Origin, token; one
 *                        request at a time; nosniff and CSP sandbox on every answer
 *   ObjectsHttpHandler   /v1/objects, /v1/directories, /v1/health: bodies streamed, work on virtual threads
 *   HttpObjectAggregator the other routes' bodies, at most 64 KiB
 *   JsonRoutesHandler    the routes of DhtRoutes, StatusRoutes (with a StatusSource), ContractRoutes (with a payer),
 *                        chain-bridge's ChainRoutes (on a super-node)
 * </pre>
 */
public final class NodeApiServer implements AutoCloseable {
    static final int MAX_BODY = 64 * 1024;
    static final int MAX_LINE = 4096;
    static final int MAX_HEADERS = 8192;
    /** Body chunks as large as a socket read: 8 KiB ones cost an upload 32,768 per 256 MiB. */
    static final int MAX_CHUNK = 1 << 20;
    /** Idle both ways this long closes a connection; a long download keeps writing, so it stays. */
    static final Duration IDLE = Duration.ofSeconds(120);
    /** How long a JSON route may take (the network's answer included); clients wait a little longer. */
    public static final long DEADLINE_SECONDS = 60;

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
    public record Limits(int uploadsPerAddress, int uploads, long bufferedBodies, Duration bodySilence,
                  Duration repairEvery, int connections) {
        public Limits {
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
        public static Limits defaults() {
            return new Limits(4, 8, 64 << 20, Duration.ofSeconds(15), Duration.ofSeconds(10), 512);
        }

        public Limits withBodySilence(Duration d) {
            return new Limits(uploadsPerAddress, uploads, bufferedBodies, d, repairEvery, connections);
        }
    }

    /** What /v1/status and /metrics report. */
    public interface StatusSource {
        Map<String, Object> status();

        /** Prometheus text format. */
        String metrics();

        /** Scrubs and repairs now rather than on the schedule; says what it did. */
        Map<String, Object> upkeepNow();
    }

    private final DhtOps ops;
    private final ObjectStore objects;
    private final ApiAccess access;
    private final Limits limits;
    private final UploadLimits uploads;
    private final BodyBudget buffered;
    /** Request work: a virtual thread each, apart from the event loop and from the shard protocol's disk threads. */
    private final ExecutorService work;
    private StatusSource status;
    private ChainRoutes chain;
    private io.oecloud.node.paying.ContractBuyer buyer;
    private java.util.function.Supplier<Map<String, Object>> paidStorage;
    private HttpServer server;

    /** The identity, ping and DHT routes only. */
    public NodeApiServer(DhtOps ops, ApiAccess access) {
        this(ops, null, access, Limits.defaults());
    }

    /** With the object routes (/v1/objects, /v1/directories, /v1/health) served by {@code objects}. */
    public NodeApiServer(DhtOps ops, ObjectStore objects, ApiAccess access, Limits limits) {
        this(ops, objects, access, limits, Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("api-work-", 0).factory()));
    }

    /** With request work on {@code work} (tests run it by hand); closing the server shuts it down. */
    NodeApiServer(DhtOps ops, ObjectStore objects, ApiAccess access, Limits limits, ExecutorService work) {
        this.work = work;
        this.ops = ops;
        this.objects = objects;
        this.access = access;
        this.limits = limits;
        this.uploads = new UploadLimits(limits.uploadsPerAddress(), limits.uploads());
        this.buffered = new BodyBudget(limits.bufferedBodies());
    }

    /** Serves /v1/chain/* through this super-node's CometBFT RPC, and transactions into its ledger's mempool. */
    public NodeApiServer withChain(CometRpc rpc, LedgerApp ledger) {
        this.chain = new ChainRoutes(new ChainViews(rpc), ledger);
        return this;
    }

    /**
     * Pays for what is stored from this node's account ({@code buyer}: uploads buy contracts,
     * deletes end them, /v1/contracts lists and renews them), and shows {@code paidStorage} (the
     * contracts paid and held, earnings, collateral) under "paidStorage" in /v1/status.
     */
    public NodeApiServer withPayer(io.oecloud.node.paying.ContractBuyer buyer, java.util.function.Supplier<Map<String, Object>> paidStorage) {
        this.buyer = buyer;
        this.paidStorage = paidStorage;
        return this;
    }

    /** Serves /v1/status, /metrics and /v1/repair from {@code s}. */
    public NodeApiServer withStatus(StatusSource s) {
        this.status = s;
        return this;
    }

    /** Listens on {@code bind}; the routes are those configured by now. */
    public NodeApiServer start(InetSocketAddress bind) throws IOException {
        Router<Route> router = routes();
        HttpServer.Limits front = new HttpServer.Limits(MAX_LINE, MAX_HEADERS, MAX_CHUNK, limits.bodySilence(), IDLE, limits.connections());
        var hosts = new java.util.concurrent.atomic.AtomicReference<ApiAccess.Hosts>(); // set once bound; until then Host is refused
        try {
            server = HttpServer.start("API", bind, front, (p, headDeadline) -> addHandlers(p, headDeadline, hosts::get, router));
        } catch (IOException e) {
            work.shutdownNow();
            throw e;
        }
        hosts.set(access.hostsFor(server.address()));
        return this;
    }

    /** The JSON routes configured by now. */
    Router<Route> routes() {
        Router<Route> router = new Router<>();
        new DhtRoutes(ops).addTo(router);
        if (status != null) {
            new StatusRoutes(status, limits.repairEvery(), work, paidStorage).addTo(router);
            UiRoutes.addTo(router);
        }
        if (buyer != null) {
            new ContractRoutes(buyer, work).addTo(router);
        }
        if (chain != null) {
            chain.addTo(router);
        }
        return router;
    }

    /** This API's handlers of one connection, after the base's codec (see the class comment). */
    void addHandlers(ChannelPipeline p, HeadDeadline headDeadline, Supplier<ApiAccess.Hosts> hosts, Router<Route> router) {
        p.addLast(new ApiGate(access, hosts, limits.bodySilence(), headDeadline));
        if (objects != null) {
            p.addLast(new ObjectsHttpHandler(objects, work, uploads, buffered, limits.bodySilence(), buyer));
        }
        p.addLast(new HttpObjectAggregator(MAX_BODY)).addLast(new JsonRoutesHandler(router, chain != null, DEADLINE_SECONDS));
    }

    /** Bytes of request bodies held whole right now (directory listings), node-wide. */
    public long bufferedBodyBytes() {
        return buffered.used();
    }

    /** Uploads streaming in right now. */
    public int uploadsRunning() {
        return uploads.running();
    }

    /** Whether the API is reachable from other machines (anything but a loopback address). */
    public static boolean exposed(InetSocketAddress bind) {
        return bind.getAddress() == null || !bind.getAddress().isLoopbackAddress();
    }

    public InetSocketAddress address() {
        return server.address();
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        work.shutdownNow();
    }
}
