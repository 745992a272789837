package io.oecloud.node.object;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.dht.Host;
import io.oecloud.dht.Identity;
import io.oecloud.dht.KadDht;
import io.oecloud.erasure.ReedSolomon;
import io.oecloud.node.pb.ManifestProto.Manifest;
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
import java.util.function.Consumer;

/**
 * Objects over the network: upload splits a stream into segments, erasure-codes each into k + m
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
 *   unpin, list OwnedObjects   this node's key's objects
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
public final class ObjectService {
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

    /** Content type of directory objects. */
    public static final String DIRECTORY_TYPE = "inode/directory";
    /** Entries one directory may hold (its manifest stays a few MiB at most). */
    public static final int MAX_ENTRIES = 100_000;

    final Config config;
    /** This node's key: the owner of what it uploads. */
    final byte[] ownerKey;
    final ShardStore local;
    final ShardHolders holders;
    final Candidates candidates;
    final Codecs codecs = new Codecs();
    final Placer placer;
    final ShardFetcher fetcher;
    final Probes probes;
    final Download download;
    private final PinRelease release;
    private final ManifestStore manifests;
    private final Upload upload;
    private final Directories directories;
    private final OwnedObjects owned;

    /**
     * @param io the node's short disk and network tasks (this node's own store, DHT lookups of probes)
     * @param storedLocally called with each block this node stores for an upload (to announce it)
     * @param metrics where upload and download counters go
     */
    public ObjectService(Host host, KadDht dht, ShardStore local, ShardClient shards, Identity owner,
                         Config config, ExecutorService io, Consumer<Cid> storedLocally,
                         MeterRegistry metrics) {
        Ticker ticker = Ticker.systemTicker();
        this.config = config;
        this.ownerKey = owner.publicKey();
        this.local = local;
        Troubled troubled = new Troubled(ticker, metrics);
        this.holders = new NodeShardHolders(host.peerId(), local, shards, ownerKey, io, storedLocally, troubled);
        this.candidates = new Candidates(host, troubled);
        Providers providers = new Providers(dht, host);
        this.release = new PinRelease(holders);
        this.placer = new Placer(holders, troubled, release, ticker, metrics);
        this.manifests = new ManifestStore(local, holders, candidates, providers, placer, release, owner,
                config.manifestReplicas(), config.manifestQuorum(), metrics);
        MemoryBudget budget = config.segmentSlots() > 0 ? new MemoryBudget(config.segmentSlots())
                : MemoryBudget.forHeap(Runtime.getRuntime().maxMemory(), config.segmentSize(), config.k(), config.m());
        Gauge.builder("oe_segment_slots_free", budget, MemoryBudget::available)
                .description("Segments that may still enter memory (of the node's budget)").register(metrics);
        ReedSolomon rs = codecs.of(config.k(), config.m());
        this.upload = new Upload(config, owner, rs, candidates, placer, manifests, release, budget, metrics);
        this.fetcher = new ShardFetcher(holders, providers);
        this.download = new Download(config, owner, new SegmentReader(fetcher, troubled, codecs, ticker, metrics), budget, metrics);
        this.directories = new Directories(manifests, owner);
        this.owned = new OwnedObjects(manifests, local, holders, candidates, providers, ownerKey);
        this.probes = new Probes(holders, providers, manifests, io);
    }

    /** Reads {@code in} to its end and stores it as public content; returns the object's CID (its manifest's). */
    public Cid upload(InputStream in, String contentType) throws IOException, ObjectException {
        return upload(in, contentType, false);
    }

    /**
     * Reads {@code in} to its end and stores it; returns the object's CID (its manifest's).
     *
     * @param encrypt encrypt the segments (AES-256-GCM) with a key only this node's identity can open
     */
    public Cid upload(InputStream in, String contentType, boolean encrypt) throws IOException, ObjectException {
        return upload.upload(in, contentType, encrypt);
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

    /** The object's manifest: from this node's store, else from providers found in the DHT. */
    public Manifest manifest(Cid cid) throws ObjectException {
        return manifests.get(cid);
    }

    /**
     * Removes this node's pins from every shard of the object and from its manifest copies; the
     * holders collect them after their grace period.
     *
     * @return how many pins were removed
     * @throws ObjectException NOT_FOUND for an unknown object; NOT_OWNER (403 at the API)
     *     when this node's key is not the object's owner
     */
    public int unpin(Cid cid) throws ObjectException {
        return owned.unpin(cid);
    }

    /** A directory entry as asked for: a name and the object (file or directory) it names. */
    public record NewEntry(String name, Cid cid) {}

    /**
     * Stores a directory of existing objects and returns its CID. Every entry's object is looked up
     * (never trusted from the request): its size, type and kind come from its own manifest.
     *
     * @throws ObjectException BAD_INPUT for a bad or repeated name, too many entries or an unknown object
     */
    public Cid putDirectory(List<NewEntry> entries) throws ObjectException {
        return directories.put(entries);
    }

    /** An object reached from a root by a path. */
    public record Resolved(Cid cid, Manifest manifest) {}

    /**
     * The object at {@code path} (names, outermost first) under the directory {@code root}.
     *
     * @throws ObjectException NOT_FOUND when a name is missing; BAD_INPUT when the path runs through a file
     */
    public Resolved resolve(Cid root, List<String> path) throws ObjectException {
        return directories.resolve(root, path);
    }

    /** An object this node's key owns, as {@code oe ls} shows it. */
    public record ObjectInfo(Cid cid, long size, String contentType, boolean directory, boolean encrypted, long storedAtMillis) {}

    /**
     * The objects uploaded through this node, newest first: manifests here pinned by its key whose
     * owner signature verifies with its key. A node also holds copies of others' manifests (repair
     * places them), and a pin names a key without proving anything: only the signature does.
     * Unsigned manifests (written before signatures) are not listed.
     */
    public List<ObjectInfo> list() throws StoreException {
        return owned.list();
    }

    /** Writes bytes [from, to) of the object to {@code out}, fetching only the segments they touch. */
    public void download(Manifest m, long from, long to, OutputStream out) throws IOException, ObjectException {
        download.download(m, from, to, out);
    }

    /** How many shards of each segment of an object are held by a node that answers. */
    public record Health(Cid cid, int k, int m, List<Integer> healthyPerSegment) {
        /** The fewest healthy shards of any segment (k + m for an object without segments). */
        public int weakest() {
            return healthyPerSegment.stream().mapToInt(Integer::intValue).min().orElse(k + m);
        }
    }

    /** Probes every shard of the object (eight segments at a time). */
    public Health health(Cid cid) throws ObjectException {
        return probes.health(cid);
    }
}
