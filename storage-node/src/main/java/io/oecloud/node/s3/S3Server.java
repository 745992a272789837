package io.oecloud.node.s3;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.oecloud.http.HttpServer;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.paying.ContractBuyer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The S3 gateway of a storage node ({@code oe node --s3}): S3's HTTP API on its own port (9000 by
 * default), its namespace in {@code DATA_DIR/s3/index} (RocksDB), its keys in
 * {@code DATA_DIR/s3-keys.json}, its bytes in the object store it is given: on a node, the view
 * of the node's store owned by the namespace key ({@code DATA_DIR/s3/identity.key}), so the
 * namespace key signs, pins and (private buckets) encrypts every piece, and the buyer it is given
 * pays from the namespace key's account. A node holding a copy of that key can take the namespace
 * over ({@code oe s3 restore}).
 *
 * <pre>
 *   HttpServer base    idle 120 s; head within the silence limit; 512 connections
 *   HttpServerCodec    request line 8 KiB (long keys, presigned queries), headers 16 KiB, chunks up to 1 MiB
 *   S3Connection       one request at a time; body streamed to the request's virtual thread
 *   S3Gateway          addressing, SigV4 (S3Auth), then S3Buckets / S3Objects
 * </pre>
 */
public final class S3Server implements AutoCloseable {
    public static final int DEFAULT_PORT = 9000;
    static final int MAX_LINE = 8192;
    static final int MAX_HEADERS = 16384;
    static final int MAX_CHUNK = 1 << 20;
    /** What the HTTP base answers itself (a head not whole in time, a connection over the cap), as S3 errors: S3 clients read XML. */
    static final HttpServer.Refusals REFUSALS = new HttpServer.Refusals(
            refusal(S3Error.RequestTimeout, "Your socket connection to the server was not read from or written to within the timeout period:"
                    + " the request head was not complete in time"),
            refusal(S3Error.SlowDown, "Please reduce your request rate: too many connections to this gateway"));

    private static byte[] refusal(S3Error error, String message) {
        HttpResponseStatus status = HttpResponseStatus.valueOf(error.status());
        return HttpServer.Refusals.answer(status.code(), status.reasonPhrase(), "application/xml",
                S3Xml.error(new S3Exception(error, message), "0000000000000000"));
    }

    /**
     * @param bind where to listen
     * @param domain virtual-host-style requests come to {@code BUCKET.DOMAIN} (empty: path style only)
     * @param region the one region this gateway is (signatures name it)
     * @param bodySilence a request body that sends nothing for this long fails (and stores nothing)
     * @param connections open at once; more are answered 503 and closed
     * @param bodiesPerClient of the {@value S3Gateway#MAX_BODIES} bodies streamed in at once, what one client address
     *                        (an IPv6 /64) may hold; over it that client gets SlowDown while others still get places
     */
    public record Config(InetSocketAddress bind, String domain, String region, Duration bodySilence, int connections, int bodiesPerClient) {
        public Config {
            if (bodiesPerClient < 1 || bodiesPerClient > S3Gateway.MAX_BODIES) {
                throw new IllegalArgumentException("bodies per client must be 1 to " + S3Gateway.MAX_BODIES + ", was " + bodiesPerClient);
            }
        }

        public static Config defaults(InetSocketAddress bind) {
            return new Config(bind, "localhost", "us-east-1", Duration.ofSeconds(30), 512, S3Gateway.BODIES_PER_CLIENT);
        }

        public Config withDomain(String d) {
            return new Config(bind, d, region, bodySilence, connections, bodiesPerClient);
        }

        public Config withBodySilence(Duration d) {
            return new Config(bind, domain, region, d, connections, bodiesPerClient);
        }

        public Config withBodiesPerClient(int n) {
            return new Config(bind, domain, region, bodySilence, connections, n);
        }
    }

    private final S3Namespace namespace;
    private final ExecutorService work;
    private final HttpServer server;
    private final S3Keys keys;
    private final S3Snapshots snapshots;
    private final S3Gateway gateway;

    private S3Server(S3Namespace namespace, ExecutorService work, HttpServer server, S3Keys keys, S3Snapshots snapshots, S3Gateway gateway) {
        this.gateway = gateway;
        this.snapshots = snapshots;
        this.namespace = namespace;
        this.work = work;
        this.server = server;
        this.keys = keys;
    }

    /**
     * Opens the namespace under {@code dataDir} and listens. When the node has no access key yet, one
     * is created and {@code firstKey} gets it (to print once).
     *
     * @param objects where the pieces go, owned by the namespace key ({@code io.oecloud.node.object.ObjectService#owning})
     * @param buyer buys the pieces' contracts from the namespace key's account; null: nothing is paid
     */
    public static S3Server start(Config config, Path dataDir, ObjectStore objects, ContractBuyer buyer,
                                 java.util.function.Consumer<S3Keys.Key> firstKey) throws IOException {
        return start(config, dataDir, objects, buyer, firstKey, null);
    }

    /**
     * {@link #start(Config, Path, ObjectStore, ContractBuyer, java.util.function.Consumer)} that also
     * keeps the namespace on the network ({@link S3Snapshots}), published through {@code publisher};
     * null: no snapshots (the namespace lives on this disk only).
     */
    public static S3Server start(Config config, Path dataDir, ObjectStore objects, ContractBuyer buyer,
                                 java.util.function.Consumer<S3Keys.Key> firstKey, S3Snapshots.Publisher publisher) throws IOException {
        S3Keys keys = S3Keys.in(dataDir);
        if (keys.list().isEmpty()) {
            firstKey.accept(keys.create(System.currentTimeMillis()));
        }
        S3Namespace namespace = S3Namespace.open(dataDir.resolve("s3").resolve("index"));
        ExecutorService work = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("s3-work-", 0).factory());
        S3Pieces pieces = new S3Pieces(objects, buyer);
        S3Gateway gateway = new S3Gateway(new S3Auth(keys, config.region()), namespace, pieces, config.domain(), Clock.systemUTC(),
                config.bodiesPerClient());
        S3Snapshots snapshots = null;
        if (publisher != null) {
            Path s3 = dataDir.resolve("s3");
            snapshots = new S3Snapshots(namespace, pieces, io.oecloud.dht.Identity.loadOrCreate(s3), s3, publisher, Clock.systemUTC());
        }
        HttpServer.Limits limits = new HttpServer.Limits(MAX_LINE, MAX_HEADERS, MAX_CHUNK, config.bodySilence(), Duration.ofSeconds(120),
                config.connections());
        long silence = config.bodySilence().toMillis();
        try {
            HttpServer server = HttpServer.start("S3 gateway", config.bind(), limits, REFUSALS,
                    (p, head) -> p.addLast(new S3Connection(gateway, work, head, silence)).addLast(new S3Connection.Tail()));
            if (snapshots != null) {
                snapshots.start();
            }
            return new S3Server(namespace, work, server, keys, snapshots, gateway);
        } catch (IOException | RuntimeException e) {
            work.shutdownNow();
            namespace.close();
            throw e;
        }
    }

    public InetSocketAddress address() {
        return server.address();
    }

    /** Request bodies streaming in now (each holds a body place until its request is answered or fails). */
    int bodiesInFlight() {
        return gateway.bodies().inFlight();
    }

    /** Request bodies streaming in now from {@code client}'s share. */
    int bodiesInFlight(java.net.InetAddress client) {
        return gateway.bodies().inFlight(client);
    }

    public S3Keys keys() {
        return keys;
    }

    /**
     * Whether a piece (an OE object of this gateway's) is still in use: a key or a part of an upload
     * in progress refers to it. What a {@link io.oecloud.node.paying.Renewal} of the gateway's
     * contracts asks; answered from memory.
     */
    public java.util.function.Predicate<io.oecloud.proofs.Cid> piecesInUse() {
        return cid -> namespace.refersTo(cid.toString());
    }

    /** The namespace's snapshots, or null when they are off. */
    public S3Snapshots snapshots() {
        return snapshots;
    }

    @Override
    public void close() {
        server.close();
        if (snapshots != null) {
            snapshots.close();
        }
        work.shutdownNow();
        try {
            work.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        namespace.close();
    }
}
