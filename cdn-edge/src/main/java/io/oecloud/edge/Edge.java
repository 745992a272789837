package io.oecloud.edge;

import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.edge.cache.ChunkStore;
import io.oecloud.edge.cache.DiskTier;
import io.oecloud.edge.cache.MemoryTier;
import io.oecloud.edge.http.EdgeServer;
import io.oecloud.edge.http.Sites;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * An edge: the checking reader over an {@link Origin}, the tiered cache and the HTTP front,
 * started together and closed in reverse. The {@code oe} program wires in the network's origin
 * and the chain's name registry; tests wire in their own.
 */
public final class Edge implements AutoCloseable {
    private final EdgeCache cache;
    private final EdgeServer server;
    private final EdgeMetrics metrics;
    private final ExecutorService background;
    private final List<AutoCloseable> owned;

    private Edge(EdgeCache cache, EdgeServer server, EdgeMetrics metrics, ExecutorService background, List<AutoCloseable> owned) {
        this.cache = cache;
        this.server = server;
        this.metrics = metrics;
        this.background = background;
        this.owned = owned;
    }

    /**
     * Starts an edge with its disk tiers under {@code config.dataDir()/cache} ({@code chunks/}
     * bounded by {@code diskBytes}, {@code manifests/} by a sixteenth of it, 16 MiB to 1 GiB), or
     * memory only when there is no data directory.
     */
    public static Edge open(EdgeConfig config, Origin origin, NameResolver names, MeterRegistry registry,
                            Supplier<String> metricsText) throws IOException {
        if (config.dataDir() == null) {
            return start(config, origin, names, null, null, registry, metricsText);
        }
        java.nio.file.Path dir = config.dataDir().resolve("cache");
        DiskTier chunks = DiskTier.open(dir.resolve("chunks"), config.diskBytes(), registry, "chunks");
        DiskTier manifests;
        try {
            manifests = DiskTier.open(dir.resolve("manifests"), Math.clamp(config.diskBytes() / 16, 16L << 20, 1L << 30), registry, "manifests");
        } catch (IOException | RuntimeException e) {
            chunks.close();
            throw e;
        }
        try {
            return start(config, origin, names, chunks, manifests, registry, metricsText);
        } catch (IOException | RuntimeException e) {
            manifests.close();
            chunks.close();
            throw e;
        }
    }

    /**
     * Starts an edge.
     *
     * @param disk the disk tier of chunks, or null; closed with the edge when it is {@link AutoCloseable}
     * @param manifests the disk tier of manifests, or null; likewise
     * @param names the name registry, or null (site names are then not served)
     * @param metricsText what {@code GET /metrics} answers (the registry's Prometheus text)
     */
    public static Edge start(EdgeConfig config, Origin origin, NameResolver names, ChunkStore disk, ChunkStore manifests,
                             MeterRegistry registry, Supplier<String> metricsText) throws IOException {
        EdgeMetrics metrics = new EdgeMetrics(registry);
        ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
        MemoryTier memory = new MemoryTier(config.memoryBytes(), background);
        ObjectReader reader = new ObjectReader(origin, config.originDeadline().toMillis(), metrics);
        EdgeCache cache = new EdgeCache(reader, memory, disk, manifests, config.chunkSize(), metrics, System::currentTimeMillis, background);
        Sites sites = new Sites(config.domain(), config.sites(), names, config.nameTtl());
        List<AutoCloseable> owned = new ArrayList<>();
        for (ChunkStore s : new ChunkStore[] {disk, manifests}) {
            if (s instanceof AutoCloseable c) {
                owned.add(c);
            }
        }
        try {
            EdgeServer server = EdgeServer.start(config, cache, sites, metricsText);
            return new Edge(cache, server, metrics, background, owned);
        } catch (IOException | RuntimeException e) {
            background.shutdownNow();
            throw e;
        }
    }

    public InetSocketAddress address() {
        return server.address();
    }

    public EdgeCache cache() {
        return cache;
    }

    public EdgeMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() {
        server.close();
        background.shutdownNow();
        for (AutoCloseable c : owned.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                System.getLogger(Edge.class.getName()).log(System.Logger.Level.WARNING, "closing " + c + " failed", e);
            }
        }
    }
}
