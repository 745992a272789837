package io.oecloud.node;

import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.edge.Edge;
import io.oecloud.edge.EdgeConfig;
import io.oecloud.edge.NameResolver;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.store.Quotas;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An edge node ({@code oe edge}): a client-only libp2p node (a DHT client: it looks up and fetches,
 * answers no DHT queries, serves no shard protocol and stores nothing for the network) whose
 * object parts are the origin of a CDN edge ({@link Edge}: the checked, tiered cache and its
 * HTTP front). Its own shard store exists only because the object parts read "this node's copy"
 * first; nothing is ever written to it.
 */
public final class EdgeNode implements AutoCloseable {
    /** The empty local store's bound: no shard is ever put there. */
    private static final long LOCAL_STORE = 64L << 20;

    private final P2pNode p2p;
    private final ShardStore store;
    private final ExecutorService io;
    private final Edge edge;
    private final PrometheusMeterRegistry metrics;

    private EdgeNode(P2pNode p2p, ShardStore store, ExecutorService io, Edge edge, PrometheusMeterRegistry metrics) {
        this.p2p = p2p;
        this.store = store;
        this.io = io;
        this.edge = edge;
        this.metrics = metrics;
    }

    /**
     * Starts the host, joins through {@code bootstrap} (or the peers of the last run) and starts
     * the edge on {@code config.bind()}.
     *
     * @param names the chain's name registry, or null (site names are then not served)
     */
    public static EdgeNode start(Path dataDir, List<Multiaddr> listen, List<Multiaddr> bootstrap, EdgeConfig config,
                                 NameResolver names, PrintWriter out, PrintWriter err) throws IOException, StoreException {
        Identity id = Identity.loadOrCreate(dataDir);
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(metrics);
        ShardStore store = ShardStore.open(dataDir.resolve("edge-store"), LOCAL_STORE, Quotas.of(0, 0, List.of()).trusting(id.publicKey()));
        P2pNode p2p = null;
        ExecutorService io = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "edge-io");
            t.setDaemon(true);
            return t;
        });
        try {
            p2p = P2pNode.start(id, listen, dataDir, false);
            List<PeerId> reached = p2p.bootstrap(bootstrap, err);
            if (reached.isEmpty()) {
                err.println("warning: no bootstrap peer reached: the edge finds no content until a node connects");
            }
            ShardClient shards = new ShardClient(p2p.host, id, 60_000, store.clock());
            ObjectService objects = new ObjectService(p2p.host, p2p.dht, store, shards, id, ObjectService.Config.defaults(), io,
                    cid -> { }, metrics);
            Edge edge = Edge.open(config, objects.edgeOrigin(), names, metrics, metrics::scrape);
            EdgeNode node = new EdgeNode(p2p, store, io, edge, metrics);
            out.println("peer ID " + id.peerId());
            for (Multiaddr a : p2p.host.listenAddresses()) {
                out.println("listening on " + a.withPeerId(id.peerId()));
            }
            InetSocketAddress at = edge.address();
            out.println("edge on " + (config.tls() == null ? "http" : "https") + "://" + at.getHostString() + ":" + at.getPort() + " (content at /c/{cid}, sites at http://{base36 cid}.c."
                    + config.domain() + ":" + at.getPort() + "/" + (names == null ? "" : " and http://{name}.n." + config.domain() + ":"
                    + at.getPort() + "/") + "; cache " + (config.dataDir() == null ? "in memory" : "in " + config.dataDir().resolve("cache")) + ")");
            out.println("DHT client, routing table " + p2p.dht.routingTableSize() + " peers; ready");
            out.flush();
            return node;
        } catch (IOException | RuntimeException e) {
            if (p2p != null) {
                p2p.close();
            }
            io.shutdownNow();
            store.close();
            throw e;
        }
    }

    public InetSocketAddress address() {
        return edge.address();
    }

    public Edge edge() {
        return edge;
    }

    @Override
    public void close() {
        edge.close();
        p2p.close();
        io.shutdownNow();
        store.close();
        metrics.close();
    }
}
