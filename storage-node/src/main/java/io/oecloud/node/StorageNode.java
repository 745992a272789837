package io.oecloud.node;

import io.oecloud.node.api.NodeApiServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.node.object.Manifests;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.object.RepairQueue;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.node.store.Quotas;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A storage node: the libp2p host and DHT ({@link P2pNode}), the shard store, the shard protocol,
 * and the object service that uploads and downloads through the network. Built with {@code new},
 * started in dependency order, closed in reverse.
 */
final class StorageNode implements AutoCloseable, NodeApiServer.StatusSource {
    final P2pNode p2p;
    final ShardStore store;
    final ShardServer server;
    /** The node's shard client (uploads, repair, and paid storage's receipts: {@link ShardClient#useChain}). */
    final ShardClient shards;
    final ObjectService objects;
    /** The object service's short disk and network tasks (local puts, unpins, health probes). */
    final ExecutorService io;
    /**
     * The shard protocol's disk I/O, a pool of its own: a peer's shard PUT never waits behind the
     * node's own work (issue 22: with one shared pool, stalled HTTP uploads delayed a 4 KB shard
     * PUT by 31 s). HTTP requests run on the API's virtual threads, on neither pool.
     */
    private final ExecutorService shardIo = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "shard-io");
        t.setDaemon(true);
        return t;
    });
    final PrometheusMeterRegistry metrics =
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ObjectService.Config config;
    private final java.util.concurrent.ScheduledExecutorService upkeep =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "storage-upkeep");
                t.setDaemon(true);
                return t;
            });
    private static final System.Logger LOG = System.getLogger(StorageNode.class.getName());

    /**
     * How often the node looks after what it holds.
     *
     * @param scrub re-hash every stored shard this often
     * @param repair check the health of the segments of the manifests held here this often
     * @param garbage collect unpinned shards this often
     * @param grace delete an unpinned shard this long after its last pin went
     */
    record Upkeep(java.time.Duration scrub, java.time.Duration repair, java.time.Duration garbage, java.time.Duration grace) {
        Upkeep {
            for (java.time.Duration d : List.of(scrub, repair, garbage)) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("upkeep intervals must be positive, was " + d);
                }
            }
        }

        static Upkeep defaults() {
            return new Upkeep(java.time.Duration.ofHours(1), java.time.Duration.ofMinutes(5),
                    java.time.Duration.ofMinutes(10), java.time.Duration.ofHours(24));
        }
    }

    private final Upkeep schedule;
    private final Announcer announcer;

    private StorageNode(P2pNode p2p, ShardStore store, ExecutorService io, ObjectService.Config config, Upkeep schedule) {
        this.schedule = schedule;
        this.p2p = p2p;
        this.store = store;
        this.io = io;
        this.config = config;
        Gauge.builder("oe_store_used_bytes", store, ShardStore::used)
                .description("Bytes of shards held").register(metrics);
        Gauge.builder("oe_store_capacity_bytes", store, ShardStore::capacity)
                .description("Configured shard capacity").register(metrics);
        Gauge.builder("oe_store_shards", store, ShardStore::count)
                .description("Shards held").register(metrics);
        Gauge.builder("oe_p2p_connections", p2p.host, h -> h.connections().size())
                .description("Open libp2p connections").register(metrics);
        Gauge.builder("oe_dht_routing_table_peers", p2p.dht, d -> d.routingTableSize())
                .description("Peers in the Kademlia routing table").register(metrics);
        new JvmMemoryMetrics().bindTo(metrics);
        this.announcer = new Announcer(p2p.dht, 2);
        Gauge.builder("oe_dht_announcements_queued", announcer, Announcer::queued)
                .description("Stored blocks waiting to be announced in the DHT").register(metrics);
        this.server = new ShardServer(store, shardIo, p2p.host.peerId());
        // Every stored shard and manifest is announced, so it can be found after repair moves it.
        server.onStored(this::provide);
        // A manifest from a peer is validated (structure and owner signature) before it is stored,
        // one at a time: parsing the largest block accepted holds about 2.4 times its 32 MiB.
        Object manifestChecks = new Object();
        server.checkBlocks((cid, bytes) -> {
            if (cid.codec() != ContentCodec.MANIFEST) {
                return null;
            }
            synchronized (manifestChecks) {
                return Manifests.problem(bytes);
            }
        });
        p2p.host.setStreamHandler(ShardServer.PROTOCOL_ID, server::newHandler);
        this.shards = new ShardClient(p2p.host, p2p.host.identity(), 60_000, store.clock());
        this.objects = new ObjectService(p2p.host, p2p.dht, store, shards, p2p.host.identity(), config, io, this::provide, metrics);
        // A corrupt shard is dropped by the store (never served); repair rebuilds it from the other shards.
        store.onCorrupt(cid -> LOG.log(System.Logger.Level.WARNING, "shard {0} was corrupt and is dropped; it needs repair", cid));
        this.repair = new io.oecloud.node.object.RepairService(objects, 1);
        // Objects acknowledged with their write quorum are repaired as soon as a node can take
        // what is missing; a new connection is often the missing node coming back.
        this.catchUp = RepairQueue.of(repair);
        objects.onDegraded(catchUp::add);
        p2p.host.onConnection(c -> catchUp.wake());
        // Objects whose listed holders the chain caught are repaired at once, not at the next pass.
        this.chainRepairs = new RepairQueue(repair::chainCatchUp, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(30), 10_000);
        every(schedule.scrub(), "scrub", this::scrub);
        every(schedule.garbage(), "gc", this::collectGarbage);
        every(schedule.repair(), "repair", this::repair);
    }

    /**
     * Runs {@code task} every {@code d} on the upkeep thread, for the node's life. A run that
     * throws anything, an Error included, is logged and counted ({@code oe_upkeep_failures_total}
     * by task) and the next run comes on schedule: a ScheduledExecutorService silently cancels a
     * task whose run throws, which is how one poisoned manifest once stopped repair for good.
     * Interruption while the node closes is passed on, not logged as a failure.
     */
    void every(java.time.Duration d, String name, Runnable task) {
        Counter runs = Counter.builder("oe_upkeep_runs")
                .tag("task", name).description("Upkeep task runs that completed").register(metrics);
        Counter failures = Counter.builder("oe_upkeep_failures")
                .tag("task", name).description("Upkeep task runs that threw (the task runs again on schedule)").register(metrics);
        long ms = d.toMillis();
        upkeep.scheduleWithFixedDelay(() -> {
            try {
                task.run();
                runs.increment();
            } catch (Throwable t) {
                if (upkeep.isShutdown() || Thread.currentThread().isInterrupted()) {
                    Thread.currentThread().interrupt(); // closing: let the executor see it
                    return;
                }
                failures.increment();
                LOG.log(System.Logger.Level.WARNING, "upkeep task {0} failed ({1}{2}); it runs again in {3}", name,
                        t.getClass().getSimpleName(), t.getMessage() == null ? "" : ": " + t.getMessage(), d);
            }
        }, ms, ms, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private final io.oecloud.node.object.RepairService repair;
    /** Objects stored short of full redundancy, retried until whole. */
    final RepairQueue catchUp;
    /** Objects listing holders the chain caught, repaired until none is short. */
    final RepairQueue chainRepairs;
    private final Object chainScan = new Object();
    private long chainGeneration;

    /**
     * Follows {@code records} (the chain's word on holders) from now on: probes and repair stop
     * counting the holders it names suspect, placement prefers the nodes it ranks best. Call
     * {@link #chainRecordsChanged} whenever its generation may have changed.
     */
    void followChain(io.oecloud.node.object.HolderRecords records) {
        objects.holderRecords(records);
    }

    /**
     * When the records' generation changed since the last call: finds the objects held here that
     * list a holder the chain caught and queues them for repair (a local scan of the manifests
     * held here, nothing on the network). Never throws: a failure is logged and the next change
     * scans again.
     */
    void chainRecordsChanged(io.oecloud.node.object.HolderRecords records) {
        synchronized (chainScan) {
            long g = records.generation();
            if (g == chainGeneration) {
                return;
            }
            try {
                List<Cid> found = repair.chainFaulted();
                chainGeneration = g;
                for (Cid c : found) {
                    chainRepairs.addFresh(c);
                }
                if (!found.isEmpty()) {
                    LOG.log(System.Logger.Level.INFO, "the chain caught holders of shards of {0} objects held here: repairing them",
                            found.size());
                }
            } catch (StoreException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "looking for objects with holders the chain caught failed: {0}", e.getMessage());
            }
        }
    }

    /**
     * Repairs an object this node pays for, from this node whatever its distance to the keys (the
     * payer side's {@link io.oecloud.node.paying.ContractKeeper}): every segment short enough to
     * repair, and the manifest's copies. Nothing when this node holds no pinned copy of its manifest.
     */
    void repairPaid(Cid cid) throws StoreException, io.oecloud.node.object.ObjectException {
        repairPaid(repair, cid);
    }

    /** {@link #repairPaid(Cid)} of an object {@code owned}'s key pays for: rebuilt blocks pinned by that key. */
    void repairPaid(Owned owned, Cid cid) throws StoreException, io.oecloud.node.object.ObjectException {
        repairPaid(owned.repair(), cid);
    }

    private void repairPaid(io.oecloud.node.object.RepairService repair, Cid cid)
            throws StoreException, io.oecloud.node.object.ObjectException {
        if (store.metadata(cid) == null) {
            return;
        }
        int segments = Manifests.parse(store.get(cid)).manifest().getSegmentsCount();
        java.util.Set<Integer> all = new java.util.HashSet<>();
        for (int i = 0; i < segments; i++) {
            all.add(i);
        }
        synchronized (upkeepLock) {
            repair.catchUp(cid, new io.oecloud.node.object.RepairService.Shortfall(all, true));
        }
    }

    /**
     * The objects of another key that this node stores for: a view of the node's object store
     * ({@link ObjectService#owning}) whose uploads, pins, unpins and encryption are that key's,
     * its shard client (pins and receipts asked as that key), and a repair of its own whose rebuilt
     * blocks that key pins. The S3 gateway's objects belong to its namespace key this way.
     */
    record Owned(ObjectService objects, ShardClient shards, io.oecloud.node.object.RepairService repair) {
        /** Tells {@code l} whenever this key's repair placed rebuilt blocks on new holders (its payer moves the shares). */
        void onRepairPlaced(io.oecloud.node.object.RepairListener l) {
            repair.onPlaced(l);
        }
    }

    /** The catch-up queues of the {@link Owned} views, closed with the node. */
    private final List<RepairQueue> ownedQueues = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * The objects {@code owner} owns through this node ({@link Owned}). Its uploads stored short of
     * full redundancy are caught up at once, as the node's are, pinned by {@code owner}; the periodic
     * repair pass stays the node's (it looks at every manifest held here, whoever owns it).
     */
    Owned owning(Identity owner) {
        ShardClient client = new ShardClient(p2p.host, owner, 60_000, store.clock());
        ObjectService view = objects.owning(owner, client);
        io.oecloud.node.object.RepairService ownRepair = new io.oecloud.node.object.RepairService(view, 1);
        RepairQueue queue = RepairQueue.of(ownRepair);
        ownedQueues.add(queue);
        view.onDegraded(queue::add);
        p2p.host.onConnection(c -> queue.wake());
        return new Owned(view, client, ownRepair);
    }

    /** Tells {@code l} whenever repair placed rebuilt blocks on new holders (the payer side moves its contracts' shares). */
    void onRepairPlaced(io.oecloud.node.object.RepairListener l) {
        repair.onPlaced(l);
    }

    private void repair() {
        try {
            synchronized (upkeepLock) {
                repair.repairOnce();
            }
        } catch (StoreException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "repair pass failed: {0}", e.getMessage());
        }
    }

    private void scrub() {
        try {
            synchronized (upkeepLock) {
                store.scrub();
            }
        } catch (StoreException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "scrub failed: {0}", e.getMessage());
        }
    }

    private void collectGarbage() {
        try {
            store.collectGarbage(schedule.grace().toMillis());
        } catch (StoreException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "garbage collection failed: {0}", e.getMessage());
        }
    }

    static StorageNode start(Identity id, List<Multiaddr> listen, Path dataDir, long capacity,
                             ObjectService.Config config) throws IOException, StoreException {
        return start(id, listen, dataDir, capacity, config, Upkeep.defaults());
    }

    static StorageNode start(Identity id, List<Multiaddr> listen, Path dataDir, long capacity,
                             ObjectService.Config config, Upkeep schedule) throws IOException, StoreException {
        return start(id, listen, dataDir, capacity, config, schedule, defaultQuotas(capacity));
    }

    /** 1 GiB for each key the node does not trust, half the capacity for all of them together. */
    static Quotas defaultQuotas(long capacity) {
        return Quotas.of(Quotas.DEFAULT_PER_STRANGER, capacity / 2, List.of());
    }

    /** @param quotas what other owners' pins may take here; the node's own key is trusted in any case */
    static StorageNode start(Identity id, List<Multiaddr> listen, Path dataDir, long capacity,
                             ObjectService.Config config, Upkeep schedule, Quotas quotas) throws IOException, StoreException {
        return start(id, listen, dataDir, capacity, config, schedule, quotas, InstantSource.system());
    }

    /**
     * @param clock the node's now: the times its store records, its garbage grace, the signature
     *     windows it admits and signs (tests move it instead of waiting)
     */
    static StorageNode start(Identity id, List<Multiaddr> listen, Path dataDir, long capacity, ObjectService.Config config,
                             Upkeep schedule, Quotas quotas, InstantSource clock) throws IOException, StoreException {
        ShardStore store = ShardStore.open(dataDir.resolve("store"), capacity, quotas.trusting(id.publicKey()), clock);
        P2pNode p2p;
        try {
            p2p = P2pNode.start(id, listen, dataDir, true);
        } catch (IOException e) {
            store.close();
            throw e;
        }
        ExecutorService io = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "storage-io");
            t.setDaemon(true);
            return t;
        });
        return new StorageNode(p2p, store, io, config, schedule);
    }

    @Override
    public java.util.Map<String, Object> status() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("peerId", p2p.host.peerId().toString());
        m.put("addrs", p2p.host.listenAddresses().stream().map(Object::toString).toList());
        m.put("shards", store.count());
        m.put("usedBytes", store.used());
        m.put("capacityBytes", store.capacity());
        m.put("connections", p2p.host.connections().size());
        m.put("routingTablePeers", p2p.dht.routingTableSize());
        m.put("k", config.k());
        m.put("m", config.m());
        m.put("segmentSize", config.segmentSize());
        m.put("writeQuorum", config.writeQuorum());
        m.put("repairQueue", catchUp.size());
        m.put("chainRepairQueue", chainRepairs.size());
        return m;
    }

    @Override
    public java.util.Map<String, Object> upkeepNow() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        synchronized (upkeepLock) {
            try {
                m.put("corrupt", store.scrub().stream().map(Cid::toString).toList());
                var r = repair.repairOnce();
                m.put("rebuilt", r.shards());
                m.put("manifestCopies", r.manifestCopies());
                m.put("failed", r.failed());
            } catch (StoreException e) {
                m.put("error", e.getMessage());
            }
        }
        return m;
    }

    /** One scrub or repair at a time, scheduled or asked for. */
    private final Object upkeepLock = new Object();

    @Override
    public String metrics() {
        return metrics.scrape();
    }

    private void provide(Cid cid) {
        announcer.announce(cid);
    }

    @Override
    public void close() {
        catchUp.close();
        chainRepairs.close();
        ownedQueues.forEach(RepairQueue::close);
        upkeep.shutdownNow();
        announcer.close();
        p2p.close();
        io.shutdownNow();
        shardIo.shutdownNow();
        store.close();
    }
}
