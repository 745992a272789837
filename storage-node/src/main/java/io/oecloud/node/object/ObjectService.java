package io.oecloud.node.object;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.dht.Host;
import io.oecloud.dht.Identity;
import io.oecloud.dht.KadDht;
import io.oecloud.dht.PeerId;
import io.oecloud.erasure.ReedSolomon;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The {@link ObjectStore} of a storage node, over the network: upload splits a stream into segments, erasure-codes each into k + m
 * shards named by BLAKE3 CIDs and places them on k + m distinct nodes; the manifest (itself a
 * block, codec oe-manifest) is stored on several nodes and its CID is the object's. Download reads
 * the manifest, fetches the first k shards of each segment that verify, decodes, checks the
 * segment's CID and streams it out; a range fetches only the segments it touches.
 *
 * <p>This class builds the parts, each with one job, and hands each request to its part:
 *
 * <pre>
 *   upload      Upload         segments, coding, pipelining -> Placer -> ManifestStore.store
 *   download    Download       range -> segments, read-ahead -> SegmentReader (hedging, decoding)
 *                                -> ShardFetcher (listed holders, then DHT providers)
 *   directories Directories    putDirectory, resolve (paths)    -> ManifestStore
 *   unpin, list OwnedObjects   the owner's objects (the node's key, or another's: {@link #owning})
 *   health      Probes         HAS probes of every shard
 *   shared      ManifestStore  manifests fetched, checked (Manifests), signed and stored with a quorum
 *               Placer         distinct nodes, write quorum, long tail; repair's placeOne
 *               Candidates     nodes nearest to a key; placement order (Placement)
 *               ShardHolders   this node's store or a peer, by peer ID (NodeShardHolders)
 *               Troubled       peers that failed lately; PinRelease: pins of failed uploads
 *               Codecs         one ReedSolomon per RS(k, m); MemoryBudget: segment slots
 * </pre>
 *
 * {@link RepairService} uses the same parts by name.
 *
 * <p>Memory: two segments (plus their shards) in flight per upload, coded on virtual threads while
 * the next is read; two per download (the one being written and the next, read ahead). Small
 * objects are kept inline in the manifest.
 *
 * <p>Tails: uploads start a second transfer of every shard still in flight once the others are
 * placed and it runs late, keep whichever finishes first and cancel the other (long-tail
 * cancellation); downloads ask one more holder whenever the k they asked are slower than usual
 * (hedged requests) and take the first k shards that verify. Nodes that failed or were full are
 * tried last for a minute.
 *
 * <p>Write quorum: a segment whose other shards no node could take (every candidate tried or
 * failed) is stored with {@link Config#writeQuorum()} shards (k + 1 by default) and the missing
 * ones recorded as shards without holders; the object is handed to {@link #onDegraded} for repair
 * to catch up. An upload that fails takes back every pin it placed ({@link PinRelease}).
 */
public final class ObjectService implements ObjectStore {
    /**
     * @param k data shards per segment
     * @param m parity shards per segment
     * @param segmentSize S, bytes per segment (8 MiB by default)
     * @param inlineThreshold objects smaller than this live inside their manifest
     * @param manifestReplicas nodes that hold each manifest
     * @param segmentSlots segments in memory at once across all requests (0: half the heap's worth)
     * @param writeQuorum shards of each segment that must be durable on distinct nodes before an
     *     upload is acknowledged, from k to k + m (default k + 1: one loss survivable at once). It
     *     is used only when the other shards could not be placed on any node; the missing ones are
     *     recorded and repair restores them. k means a segment may be acknowledged with no spare
     *     shard: the commands accept it only with an explicit flag.
     */
    public record Config(int k, int m, int segmentSize, int inlineThreshold, int manifestReplicas, int segmentSlots,
                         int writeQuorum) {
        public Config(int k, int m, int segmentSize, int inlineThreshold, int manifestReplicas) {
            this(k, m, segmentSize, inlineThreshold, manifestReplicas, 0);
        }

        public Config(int k, int m, int segmentSize, int inlineThreshold, int manifestReplicas, int segmentSlots) {
            this(k, m, segmentSize, inlineThreshold, manifestReplicas, segmentSlots, defaultWriteQuorum(k, m));
        }

        public Config {
            if (segmentSlots < 0) {
                throw new IllegalArgumentException("segmentSlots must be >= 0, was " + segmentSlots);
            }
            if (k < 1 || m < 0 || k + m > ReedSolomon.MAX_TOTAL_SHARDS) {
                throw new IllegalArgumentException("RS(" + k + ", " + m + ") is out of range");
            }
            if (segmentSize < k || segmentSize > 64 << 20) {
                throw new IllegalArgumentException("segment size must be from k to 64 MiB, was " + segmentSize);
            }
            if (inlineThreshold < 0 || manifestReplicas < 1) {
                throw new IllegalArgumentException("inlineThreshold >= 0 and manifestReplicas >= 1 required");
            }
            if (writeQuorum < k || writeQuorum > k + m) {
                throw new IllegalArgumentException("write quorum must be from k = " + k + " to k + m = " + (k + m)
                        + " shards, was " + writeQuorum);
            }
        }

        public static Config defaults() {
            return new Config(4, 2, 8 << 20, 64 * 1024, 3);
        }

        /** k + 1 (one shard to spare while repair catches up), or k when there is no parity at all. */
        public static int defaultWriteQuorum(int k, int m) {
            return k + Math.min(1, m);
        }

        /** The same configuration with another write quorum. */
        public Config withWriteQuorum(int quorum) {
            return new Config(k, m, segmentSize, inlineThreshold, manifestReplicas, segmentSlots, quorum);
        }

        /**
         * Manifest copies an upload needs before it is acknowledged: as many losses survivable as
         * each segment survives (a segment with q shards survives q - k; the manifest with c copies
         * survives c - 1), so c = q - k + 1, at most {@link #manifestReplicas}: 2 of 3 by default.
         */
        public int manifestQuorum() {
            return Math.min(manifestReplicas, writeQuorum - k + 1);
        }
    }

    /**
     * What every owner-bound view of one node's object store shares ({@link #owning}): the node's
     * store, its I/O, its metrics, the peers that failed lately, the nodes it knows, the DHT's
     * providers, the segment memory budget and the chain's records.
     */
    private record Shared(PeerId self, ShardStore local, Config config, ExecutorService io, Consumer<Cid> storedLocally,
                          MeterRegistry metrics, Troubled troubled, Candidates candidates, Providers providers, MemoryBudget budget,
                          Codecs codecs, AtomicReference<HolderRecords> records) {}

    // The parts, package-private: RepairService takes those it uses by name.
    private final Shared shared;
    final Config config;
    /** The owner's key: of the node, or of an owner-bound view ({@link #owning}). */
    final byte[] ownerKey;
    final ShardStore local;
    final ShardHolders holders;
    final Candidates candidates;
    final Codecs codecs;
    final Placer placer;
    final ShardFetcher fetcher;
    final Probes probes;
    final Download download;
    final SegmentReader reader;
    final ManifestStore manifests;
    private final PinRelease release;
    private final Upload upload;
    private final Directories directories;
    private final OwnedObjects owned;
    final MeterRegistry metrics;

    /**
     * @param io the node's short disk and network tasks (this node's own store, DHT lookups of probes)
     * @param storedLocally called with each block this node stores for an upload (to announce it)
     * @param metrics where upload and download counters go
     */
    public ObjectService(Host host, KadDht dht, ShardStore local, ShardClient shards, Identity owner,
                         Config config, ExecutorService io, Consumer<Cid> storedLocally,
                         MeterRegistry metrics) {
        this(shared(host, dht, local, config, io, storedLocally, metrics), shards, owner);
    }

    private static Shared shared(Host host, KadDht dht, ShardStore local, Config config, ExecutorService io,
                                 Consumer<Cid> storedLocally, MeterRegistry metrics) {
        Troubled troubled = new Troubled(Ticker.systemTicker(), metrics);
        AtomicReference<HolderRecords> records = new AtomicReference<>(HolderRecords.NONE);
        MemoryBudget budget = config.segmentSlots() > 0 ? new MemoryBudget(config.segmentSlots())
                : MemoryBudget.forHeap(Runtime.getRuntime().maxMemory(), config.segmentSize(), config.k(), config.m());
        Gauge.builder("oe_segment_slots_free", budget, MemoryBudget::available)
                .description("Segments that may still enter memory (of the node's budget)").register(metrics);
        return new Shared(host.peerId(), local, config, io, storedLocally, metrics, troubled,
                new Candidates(host, troubled, records::get), Providers.of(dht, host), budget, new Codecs(), records);
    }

    private ObjectService(Shared s, ShardClient shards, Identity owner) {
        Ticker ticker = Ticker.systemTicker();
        this.shared = s;
        this.metrics = s.metrics();
        this.config = s.config();
        this.ownerKey = owner.publicKey();
        this.local = s.local();
        this.candidates = s.candidates();
        this.codecs = s.codecs();
        Troubled troubled = s.troubled();
        Providers providers = s.providers();
        this.holders = new NodeShardHolders(s.self(), local, shards, ownerKey, s.io(), s.storedLocally(), troubled);
        this.release = new PinRelease(holders);
        this.placer = new Placer(holders, troubled, release, ticker, metrics);
        this.manifests = new ManifestStore(local, holders, candidates, providers, placer, troubled, release, owner,
                config.manifestReplicas(), config.manifestQuorum(), metrics);
        ReedSolomon rs = codecs.of(config.k(), config.m());
        this.upload = new Upload(config, owner, rs, candidates, placer, manifests, release, s.budget(), metrics);
        this.fetcher = new ShardFetcher(holders, providers);
        this.reader = new SegmentReader(fetcher, troubled, codecs, ticker, metrics);
        this.download = new Download(config, owner, reader, s.budget(), metrics);
        this.directories = new Directories(manifests, owner);
        this.owned = new OwnedObjects(manifests, local, holders, candidates, providers, ownerKey);
        this.probes = new Probes(holders, providers, manifests, s.io(), this::records);
    }

    /**
     * The same node's object store with another owner: what it uploads is signed by {@code owner}
     * (the manifest), pinned by {@code owner} (shards and manifest copies, here and on the holders:
     * {@code shards} must sign with {@code owner}) and, when encrypted, opened only with
     * {@code owner}'s key; its unpins and {@link #list} are {@code owner}'s. It shares this node's
     * store, I/O, memory budget, known peers and metrics (its counters add to the node's); it
     * starts nothing of its own. Used by the S3 gateway, whose namespace key owns its objects so
     * that another node holding that key can take the namespace over.
     *
     * @throws IllegalArgumentException when {@code shards} does not sign with {@code owner}
     */
    public ObjectService owning(Identity owner, ShardClient shards) {
        if (!java.util.Arrays.equals(shards.signerKey(), owner.publicKey())) {
            throw new IllegalArgumentException("the shard client of an owner-bound view must sign with that owner's key");
        }
        return new ObjectService(shared, shards, owner);
    }

    /** This service as a CDN edge's origin ({@link NetworkOrigin}): the edge checks what it gets itself. */
    public io.oecloud.edge.Origin edgeOrigin() {
        return new NetworkOrigin(this);
    }

    @Override
    public Cid upload(InputStream in, String contentType, boolean encrypt) throws IOException, ObjectException {
        return upload.upload(in, contentType, encrypt);
    }

    @Override
    public Cid upload(InputStream in, String contentType, boolean encrypt, StoredHook hook) throws IOException, ObjectException {
        return upload.upload(in, contentType, encrypt, hook);
    }

    @Override
    public ObjectView resolve(Cid root, List<String> path) throws ObjectException {
        return directories.resolve(root, path);
    }

    @Override
    public void read(ObjectView object, ByteSpan span, OutputStream out) throws IOException, ObjectException {
        download.download(object.manifest(), span.from(), span.to(), out);
    }

    @Override
    public Cid putDirectory(List<NewEntry> entries) throws ObjectException {
        return directories.put(entries);
    }

    @Override
    public Cid putDirectory(List<NewEntry> entries, StoredHook hook) throws ObjectException {
        return directories.put(entries, hook);
    }

    @Override
    public int unpin(Cid cid) throws ObjectException {
        return owned.unpin(cid);
    }

    /**
     * {@inheritDoc} Only manifests here pinned by its key whose owner signature verifies with its
     * key: a node also holds copies of others' manifests (repair places them), and a pin names a
     * key without proving anything. Unsigned manifests (written before signatures) are not listed.
     */
    @Override
    public List<ObjectInfo> list() throws StoreException {
        return owned.list();
    }

    /** {@inheritDoc} Eight segments at a time. */
    @Override
    public Health health(Cid cid) throws ObjectException {
        return probes.health(cid);
    }

    /**
     * Follows {@code records} from now on: repair does not count a holder it names suspect, and
     * placement prefers the nodes it ranks best ({@link HolderRecords}).
     */
    public void holderRecords(HolderRecords records) {
        shared.records().set(java.util.Objects.requireNonNull(records));
    }

    /** The records followed now ({@link HolderRecords#NONE} until {@link #holderRecords} is called). */
    HolderRecords records() {
        return shared.records().get();
    }

    /** Called with each object stored short of full redundancy, for repair to catch up on it at once. */
    public void onDegraded(Consumer<Cid> listener) {
        manifests.onDegraded(listener);
    }

    /**
     * Waits until every pin that failed uploads placed (and second copies of long-tail transfers)
     * has been taken back, or tried; for tests and orderly shutdown.
     *
     * @return false if some were still under way after {@code timeout}
     */
    public boolean awaitReleases(Duration timeout) throws InterruptedException {
        return release.await(timeout);
    }
}
