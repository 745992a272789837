package io.oecloud.node.object;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.dht.Deadlines;
import io.oecloud.dht.Host;
import io.oecloud.dht.Identity;
import io.oecloud.dht.KadDht;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.PeerStore;
import io.oecloud.dht.Provider;
import io.oecloud.erasure.ErasureException;
import io.oecloud.erasure.ReedSolomon;
import io.oecloud.node.pb.ManifestProto.Manifest;
import io.oecloud.node.pb.ManifestProto.Segment;
import io.oecloud.node.pb.ManifestProto.Shard;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.shard.ShardException;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.oecloud.dht.Connection;
import io.oecloud.node.pb.ManifestProto.Encryption;
import io.oecloud.node.pb.ManifestProto.Entry;
import io.oecloud.node.pb.ManifestProto.Kind;
import io.oecloud.node.store.StoredShard;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Objects over the network: upload splits a stream into segments, erasure-codes each into k + m
 * shards named by BLAKE3 CIDs and places them on k + m distinct nodes; the manifest (itself a
 * block, codec oe-manifest) is stored on several nodes and its CID is the object's. Download reads
 * the manifest, fetches the first k shards of each segment that verify, decodes, checks the
 * segment's CID and streams it out; a range fetches only the segments it touches.
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
 * to catch up. An upload that fails takes back every pin it placed ({@link #release}).
 */
public final class ObjectService {
    private static final System.Logger LOG = System.getLogger(ObjectService.class.getName());

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

    private final Host host;
    private final KadDht dht;
    private final ShardStore local;
    private final ShardClient shards;
    private final Identity owner;
    private final Config config;
    private final ExecutorService io;
    private final ReedSolomon rs;
    private final Codecs codecs = new Codecs();
    private final Troubled troubled;
    private final ShardHolders holders;
    /**
     * Manifests whose bytes passed {@link Manifests#parse}, with whether they were signed. A CID
     * names its bytes and every read checks them against it, so bytes that passed once pass
     * again: a hit skips the checks and the signature (which cost a 100,000-entry directory's
     * reader several times its plain parse, at every request).
     */
    private final Cache<Cid, Boolean> checkedManifests = Caffeine.newBuilder().maximumSize(20_000).build();
    /** Smoothed time of one successful shard GET, for the hedging delay. */
    private volatile double shardFetchNanos = TimeUnit.MILLISECONDS.toNanos(50);
    private final Counter uploads;
    private final Counter uploadFailures;
    private final Counter uploadBytes;
    private final Counter degradedUploads;
    private final Counter downloads;
    private final Counter downloadFailures;
    private final Counter downloadBytes;
    private final Counter hedges;
    private final Counter longTails;
    private final Timer uploadTime;
    private final MemoryBudget budget;
    private final Timer downloadTime;

    /**
     * @param storedLocally called with each block this node stores for an upload (to announce it)
     * @param metrics where upload and download counters go
     */
    public ObjectService(Host host, KadDht dht, ShardStore local, ShardClient shards, Identity owner,
                         Config config, ExecutorService io, java.util.function.Consumer<Cid> storedLocally,
                         MeterRegistry metrics) {
        this.uploads = Counter.builder("oe_uploads").description("Objects uploaded through this node").register(metrics);
        this.uploadFailures = Counter.builder("oe_upload_failures").description("Uploads that failed").register(metrics);
        this.uploadBytes = Counter.builder("oe_upload_bytes").description("Object bytes uploaded through this node").register(metrics);
        this.degradedUploads = Counter.builder("oe_uploads_degraded").description(
                "Objects stored with some shards or manifest copies missing (no node could take them), queued for repair").register(metrics);
        this.downloads = Counter.builder("oe_downloads").description("Downloads served (whole objects and ranges)").register(metrics);
        this.downloadFailures = Counter.builder("oe_download_failures").description("Downloads that failed").register(metrics);
        this.downloadBytes = Counter.builder("oe_download_bytes").description("Object bytes served").register(metrics);
        this.hedges = Counter.builder("oe_shard_hedged_requests").description("Extra shard GETs started because the first ones ran late").register(metrics);
        this.longTails = Counter.builder("oe_shard_long_tail_transfers").description("Second transfers started for shards whose first was late").register(metrics);
        this.uploadTime = Timer.builder("oe_upload_duration").description("Time to store an object").register(metrics);
        this.downloadTime = Timer.builder("oe_download_duration").description("Time to serve an object or range").register(metrics);
        this.host = host;
        this.dht = dht;
        this.local = local;
        this.shards = shards;
        this.owner = owner;
        this.config = config;
        this.io = io;
        this.rs = codecs.of(config.k(), config.m());
        this.troubled = new Troubled(com.github.benmanes.caffeine.cache.Ticker.systemTicker(), metrics);
        this.holders = new NodeShardHolders(host.peerId(), local, shards, owner.publicKey(), io, storedLocally, troubled);
        this.budget = config.segmentSlots() > 0 ? new MemoryBudget(config.segmentSlots())
                : MemoryBudget.forHeap(Runtime.getRuntime().maxMemory(), config.segmentSize(), config.k(), config.m());
        Gauge.builder("oe_segment_slots_free", budget, MemoryBudget::available)
                .description("Segments that may still enter memory (of the node's budget)").register(metrics);
    }

    // ---- placement ----

    /**
     * Nodes that store shards (this one, and peers whose identify listed the shard protocol, connected
     * now or not: a transfer dials them, and one that does not answer is tried last for a while),
     * nearest to {@code key} first.
     */
    List<PeerId> candidates(byte[] key) {
        Set<PeerId> all = new LinkedHashSet<>();
        all.add(host.peerId());
        for (PeerId p : host.peerStore().peers()) {
            PeerStore.Identified id = host.peerStore().identified(p);
            if (id != null && id.protocols().contains(ShardServer.PROTOCOL_ID)) {
                all.add(p);
            }
        }
        byte[] target = sha256(key);
        List<PeerId> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparing((PeerId p) -> xor(sha256(p.toBytes()), target), Arrays::compareUnsigned));
        return sorted;
    }

    private static byte[] xor(byte[] a, byte[] b) {
        byte[] r = new byte[a.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (byte) (a[i] ^ b[i]);
        }
        return r;
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private CompletableFuture<Void> putOn(PeerId peer, Cid cid, byte[] data) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicReference<CompletableFuture<?>> current = new java.util.concurrent.atomic.AtomicReference<>();
        result.whenComplete((v, e) -> { // cancelled (long tail): stop the transfer under way
            CompletableFuture<?> c = current.get();
            if (e != null && c != null) {
                c.cancel(true);
            }
        });
        putRemote(peer, cid, data, 0, result, current);
        return result;
    }

    /** A PUT that a busy peer refused is tried again after 0.1, 0.2, 0.4, 0.8 and 1.6 s. */
    private void putRemote(PeerId peer, Cid cid, byte[] data, int attempt, CompletableFuture<Void> result,
                           java.util.concurrent.atomic.AtomicReference<CompletableFuture<?>> current) {
        if (result.isDone()) {
            return;
        }
        CompletableFuture<Void> f = holders.put(peer, cid, data);
        current.set(f);
        f.whenComplete((v, e) -> {
            if (e == null) {
                result.complete(null);
                return;
            }
            Throwable c = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
            if (c instanceof ShardException se
                    && se.status() == ShardResponse.Status.BUSY && attempt < 5) {
                CompletableFuture.delayedExecutor(100L << attempt, TimeUnit.MILLISECONDS)
                        .execute(() -> putRemote(peer, cid, data, attempt + 1, result, current));
            } else {
                result.completeExceptionally(c);
            }
        });
    }

    /**
     * The nodes to try for a segment's n shards: nearest to {@code key} first, subnet-diverse
     * among the first n, recently troubled nodes last.
     */
    List<PeerId> placementOrder(byte[] key, int n) {
        return Placement.order(candidates(key), this::subnetOf, troubled::test, n);
    }

    private String subnetOf(PeerId p) {
        Connection c = host.connection(p); // none to this node itself
        if (c == null || c.remoteAddress() == null || c.remoteAddress().getAddress() == null) {
            return null;
        }
        return Placement.subnetOf(c.remoteAddress().getAddress());
    }

    /** One transfer of block {@code index} to {@code peer}, and how it ended. */
    private record Attempt(int index, PeerId peer, CompletableFuture<Void> transfer) {}

    /** A pin this node's key holds on {@code cid} at {@code peer}: one PUT that completed there. */
    record Pin(PeerId peer, Cid cid) {}

    /**
     * Places block i on a node of its own (distinct nodes for all blocks), failing over to the
     * next candidate when a transfer fails. Once half the blocks are placed, a block whose
     * transfer has taken twice as long as those gets a second transfer to a spare node; the first
     * to finish is kept and the other cancelled. Each CID must have been computed here from its
     * block: this node stores its own copy without hashing it again.
     *
     * <p>Write quorum: placement goes on while any transfer runs or any candidate is untried, so
     * slowness alone never leaves a block out. Only when every candidate was tried or failed and
     * nothing under way could free one may it end with blocks unplaced, and only if at least
     * {@code quorum} were placed; otherwise it fails with the counts and each node's reason.
     *
     * @param what what the blocks are, for messages ("segment 3", "the manifest")
     * @param pinned receives every placed block's pin (also those of a placement that then fails),
     *     so that an upload that fails can take them back
     * @return the holder of each block, null for a block no node took
     */
    private List<PeerId> place(String what, List<Cid> cids, List<byte[]> blocks, List<PeerId> candidates, int quorum,
                               java.util.Queue<Pin> pinned) throws ObjectException {
        int n = cids.size();
        PeerId[] holders = new PeerId[n];
        List<List<Attempt>> attempts = new ArrayList<>();
        BlockingQueue<Attempt> finished = new LinkedBlockingQueue<>();
        ArrayDeque<PeerId> spare = new ArrayDeque<>(candidates);
        for (int i = 0; i < n; i++) {
            attempts.add(new ArrayList<>());
        }
        ArrayDeque<PeerId> again = new ArrayDeque<>(); // failed for a passing reason (busy, slow): one more try each
        Set<PeerId> retried = new HashSet<>();
        Set<PeerId> taken = new HashSet<>(); // holding a block of this placement, or trying to
        ArrayDeque<Integer> starved = new ArrayDeque<>(); // blocks whose transfers failed, waiting for a free node
        int[] launched = {0};
        int processed = 0;
        java.util.function.IntPredicate launch = i -> {
            PeerId p = spare.poll();
            while (p == null && !again.isEmpty()) {
                PeerId q = again.poll();
                if (!taken.contains(q) && retried.add(q)) {
                    p = q;
                }
            }
            if (p == null) {
                return false;
            }
            taken.add(p);
            launched[0]++;
            CompletableFuture<Void> t = putOn(p, cids.get(i), blocks.get(i));
            Attempt a = new Attempt(i, p, t);
            attempts.get(i).add(a);
            t.whenComplete((ok, e) -> finished.add(a));
            return true;
        };
        java.util.Map<PeerId, String> failures = new java.util.LinkedHashMap<>();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(120);
        long hedgeAt = Long.MAX_VALUE;
        boolean hedged = false;
        int placed = 0;
        try {
            for (int i = 0; i < n; i++) {
                if (!launch.test(i)) {
                    starved.add(i); // fewer candidates than blocks: it waits for a node to come free
                }
            }
            while (placed < n) {
                while (!starved.isEmpty() && launch.test(starved.peek())) {
                    starved.poll();
                }
                if (!starved.isEmpty() && processed == launched[0]) { // nothing under way can free a node
                    if (placed >= quorum) {
                        break; // every candidate was tried: the missing blocks are recorded, and repaired later
                    }
                    throw new ObjectException(ObjectException.Code.PLACEMENT_FAILED, what + ": placed " + placed + " of "
                            + n + (n == 1 ? " copy" : " shards") + ", " + quorum + " needed (write quorum); "
                            + tried(candidates.size(), failures));
                }
                long now = System.nanoTime();
                if (now >= deadline) {
                    throw new ObjectException(ObjectException.Code.PLACEMENT_FAILED, what + ": placed " + placed + " of " + n
                            + " in 120 s, " + quorum + " needed (write quorum); the other transfers did not finish; "
                            + tried(candidates.size(), failures));
                }
                Attempt a = finished.poll(Math.max(0, Math.min(deadline, hedgeAt) - now), TimeUnit.NANOSECONDS);
                if (a == null) {
                    if (!hedged && System.nanoTime() >= hedgeAt) {
                        hedged = true;
                        for (int i = 0; i < n; i++) {
                            if (holders[i] == null && launch.test(i)) {
                                longTails.increment();
                            }
                        }
                    }
                    continue;
                }
                processed++;
                Throwable error = a.transfer().handle((ok, e) -> e).join();
                if (error == null && holders[a.index()] == null) {
                    holders[a.index()] = a.peer();
                    placed++;
                    for (Attempt other : attempts.get(a.index())) {
                        other.transfer().cancel(true); // the slower copy of the same shard
                    }
                    if (placed * 2 >= n && hedgeAt == Long.MAX_VALUE && placed < n) {
                        long elapsed = System.nanoTime() - start;
                        hedgeAt = start + Math.max(2 * elapsed, elapsed + TimeUnit.MILLISECONDS.toNanos(50));
                    }
                } else if (error != null && holders[a.index()] != null) {
                    if (!Arrays.asList(holders).contains(a.peer())) {
                        taken.remove(a.peer()); // the cancelled slower copy: that node is free again
                        spare.addFirst(a.peer());
                    }
                } else if (error != null) {
                    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
                    troubled.mark(a.peer(), reason(cause));
                    failures.put(a.peer(), reason(cause));
                    taken.remove(a.peer());
                    if (passing(cause)) {
                        again.add(a.peer());
                    }
                    boolean running = attempts.get(a.index()).stream().anyMatch(x -> !x.transfer().isDone());
                    if (running) {
                        if (hedged && launch.test(a.index())) { // a second copy failed beside a slow first: one more spare
                            longTails.increment();
                        }
                    } else if (!launch.test(a.index())) {
                        starved.add(a.index()); // a node busy with a second copy may come free
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ObjectException(ObjectException.Code.PLACEMENT_FAILED, "interrupted while placing shards");
        } finally {
            List<Pin> extra = new ArrayList<>();
            for (List<Attempt> l : attempts) {
                for (Attempt a : l) {
                    if (!a.peer().equals(holders[a.index()])) {
                        a.transfer().cancel(true);
                    }
                    // Every transfer has ended now (cancelled or done). One that completed holds a
                    // pin of ours: the kept copy is the block's; a second copy that finished too
                    // is extra and its pin is given back (a cancelled one the peer had stored
                    // already cannot be known, and stays: garbage kept, never data lost).
                    if (a.transfer().isDone() && !a.transfer().isCompletedExceptionally()) {
                        Pin pin = new Pin(a.peer(), cids.get(a.index()));
                        if (a.peer().equals(holders[a.index()])) {
                            pinned.add(pin);
                        } else {
                            extra.add(pin);
                        }
                    }
                }
            }
            release(extra, "second copies");
        }
        return Arrays.asList(holders);
    }

    /** "6 nodes known; 2 failed (12D3KooWabcd…: busy; ...)" for a placement's error message. */
    private static String tried(int known, java.util.Map<PeerId, String> failures) {
        StringBuilder why = new StringBuilder();
        failures.forEach((p, m) -> why.append(why.isEmpty() ? "" : "; ").append(p.toString(), 0, Math.min(16, p.toString().length()))
                .append("…: ").append(m));
        return known + (known == 1 ? " node" : " nodes") + " known, every one tried"
                + (failures.isEmpty() ? "" : "; " + failures.size() + " failed (" + why + ")");
    }

    /** Why a PUT failed, in words (never a Java exception's text): it goes into answers to clients. */
    static String reason(Throwable e) {
        if (e instanceof ShardException se) {
            String said = se.getMessage() == null ? "" : se.getMessage();
            return switch (se.status()) {
                case BUSY -> "busy";
                case FULL -> "full";
                default -> se.status().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                        + (said.isEmpty() ? "" : " (" + (said.length() > 80 ? said.substring(0, 80) + "…" : said) + ")");
            };
        }
        if (e instanceof StoreException se) {
            return "this node's store: " + se.getMessage();
        }
        if (e instanceof java.util.concurrent.TimeoutException) {
            return "no answer in time";
        }
        if (e instanceof java.util.concurrent.CancellationException) {
            return "cancelled";
        }
        if (e instanceof IOException || e instanceof IllegalStateException) {
            return "unreachable, or the connection closed";
        }
        return "failed (" + e.getClass().getSimpleName() + ")";
    }

    /** Whether a failed PUT may succeed when tried again: not when the node is full or refused the request itself. */
    private static boolean passing(Throwable e) {
        if (e instanceof ShardException se) {
            return switch (se.status()) {
                case FULL, CID_MISMATCH, TOO_LARGE, FORBIDDEN, BAD_REQUEST -> false;
                default -> true;
            };
        }
        return !(e instanceof StoreException);
    }

    // ---- upload ----

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
        String badType = contentType == null ? null : Manifests.contentTypeProblem(contentType);
        if (badType != null) { // refused before any byte is read or placed: the manifest could not carry it
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "content type " + badType);
        }
        long t0 = System.nanoTime();
        try {
            UploadResult r = doUpload(in, contentType, encrypt);
            uploads.increment();
            uploadBytes.increment(r.size());
            return r.cid();
        } catch (IOException | ObjectException | RuntimeException e) {
            uploadFailures.increment();
            throw e;
        } finally {
            uploadTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    private record UploadResult(Cid cid, long size) {}

    /**
     * Stores the object, or nothing: when anything fails (the body ends early or breaks off, a
     * segment cannot reach its write quorum, the manifest cannot be placed) every pin the upload
     * had already placed is taken back, in the background ({@link #release}), so an upload that
     * was not acknowledged leaves no pinned shards behind.
     */
    private UploadResult doUpload(InputStream in, String contentType, boolean encrypt) throws IOException, ObjectException {
        java.util.Queue<Pin> pinned = new java.util.concurrent.ConcurrentLinkedQueue<>();
        boolean stored = false;
        try {
            UploadResult r = storeObject(in, contentType, encrypt, pinned);
            stored = true;
            return r;
        } finally {
            if (!stored) {
                release(pinned, "a failed upload");
            }
        }
    }

    private UploadResult storeObject(InputStream in, String contentType, boolean encrypt, java.util.Queue<Pin> pinned)
            throws IOException, ObjectException {
        Manifest.Builder mb = Manifest.newBuilder().setContentType(contentType == null ? "application/octet-stream" : contentType)
                .setSegmentSize(config.segmentSize()).setK(config.k()).setM(config.m()).setKind(Kind.FILE)
                .setOwner(ByteString.copyFrom(owner.publicKey()));
        acquireSlot();
        boolean holding = true; // the slot of the segment buffer being read
        ArrayDeque<Future<Segment>> inflight = new ArrayDeque<>();
        long total = 0;
        try {
            SegmentPieces segment = new SegmentPieces(config.segmentSize(), config.k());
            int first = segment.readFrom(in);
            if (first < config.inlineThreshold() && !encrypt) {
                budget.release();
                holding = false;
                mb.setSize(first).setInlineData(ByteString.copyFrom(segment.join(first)));
                return new UploadResult(storeManifest(mb.build(), pinned), first);
            }
            SegmentCipher cipher = null;
            if (encrypt) {
                Encryption.Builder eb = Encryption.newBuilder();
                cipher = SegmentCipher.create(owner, eb);
                mb.setEncryption(eb);
            }
            // Segments are coded and placed on virtual threads while the next one is read: at most
            // PIPELINE per upload, and only while the node's memory budget has slots to spare.
            try (var segments = Executors.newVirtualThreadPerTaskExecutor()) {
                // On a failure (the body broke off, a segment missed its quorum) the segments
                // already under way finish rather than being cancelled: a cancelled transfer that
                // the peer had just stored would leave a pin nobody knows of, while every finished
                // one is taken back with the rest. They are bounded (placement gives up after
                // 120 s) and at most PIPELINE of them; only an interrupt cancels them.
                try {
                    int len = first;
                    SegmentPieces current = segment;
                    long index = 0;
                    while (len > 0 || (index == 0 && cipher != null)) {
                        SegmentPieces data = current;
                        int n = len;
                        long idx = index++;
                        SegmentCipher c = cipher;
                        inflight.add(segments.submit(() -> {
                            try {
                                return uploadSegment(idx, data, n, c, pinned);
                            } finally {
                                budget.release();
                            }
                        }));
                        holding = false; // the task releases it
                        total += len;
                        if (len < current.capacity) {
                            break; // a short read is the end of the stream
                        }
                        while (true) { // a slot for the next buffer; while we hold others, wait for our oldest
                            if (inflight.size() < PIPELINE && budget.tryAcquire()) {
                                break;
                            }
                            if (inflight.isEmpty()) {
                                acquireSlot();
                                break;
                            }
                            mb.addSegments(await(inflight.poll()));
                        }
                        holding = true;
                        current = new SegmentPieces(config.segmentSize(), config.k());
                        len = current.readFrom(in);
                        if (len == 0) {
                            break;
                        }
                    }
                    while (!inflight.isEmpty()) {
                        mb.addSegments(await(inflight.poll()));
                    }
                } finally {
                    if (Thread.currentThread().isInterrupted()) {
                        inflight.forEach(f -> f.cancel(true)); // the node is stopping: stop the others before waiting for them
                    }
                }
            }
        } finally {
            if (holding) {
                budget.release();
            }
        }
        return new UploadResult(storeManifest(mb.setSize(total).build(), pinned), total);
    }

    /** Waits up to a minute for a segment slot of the node's memory budget. */
    private void acquireSlot() throws ObjectException {
        try {
            if (!budget.acquire(60)) {
                throw new ObjectException(ObjectException.Code.BUSY, "node busy: all " + budget.total()
                        + " segment slots stayed in use for 60 s; try again or use another node");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ObjectException(ObjectException.Code.BUSY, "interrupted while waiting for memory");
        }
    }

    /** Segments coded and in transit at once during one upload. */
    static final int PIPELINE = 2;

    private static <T> T await(Future<T> f) throws ObjectException, IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ObjectException oe) {
                throw oe;
            }
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }

    /**
     * One segment's bytes as they are read, laid out over k arrays of the shard size, so that a
     * whole unencrypted segment's arrays are its data shards as they are (no copy). The arrays are
     * fresh: past the last byte read they hold zeros, the shards' padding.
     */
    private static final class SegmentPieces {
        final byte[][] pieces;
        final int pieceSize;
        final int capacity;

        SegmentPieces(int capacity, int k) {
            this.capacity = capacity;
            this.pieceSize = (capacity + k - 1) / k;
            this.pieces = new byte[k][pieceSize];
        }

        /** Reads up to the capacity; fewer bytes only at the end of the stream. */
        int readFrom(InputStream in) throws IOException {
            int total = 0;
            for (byte[] p : pieces) {
                int want = Math.min(pieceSize, capacity - total);
                int got = in.readNBytes(p, 0, want);
                total += got;
                if (got < want) {
                    break;
                }
            }
            return total;
        }

        /** The first {@code len} bytes in one array (a copy). */
        byte[] join(int len) {
            return ObjectService.join(pieces, pieceSize, len);
        }
    }

    /** The first {@code len} bytes laid end to end over {@code pieces} of {@code pieceSize}, in one array. */
    private static byte[] join(byte[][] pieces, int pieceSize, int len) {
        byte[] out = new byte[len];
        for (int i = 0, at = 0; at < len; i++) {
            int c = Math.min(pieceSize, len - at);
            System.arraycopy(pieces[i], 0, out, at, c);
            at += c;
        }
        return out;
    }

    /**
     * A segment's name (the manifest's {@code Segment.cid}): the BLAKE3 CID of its data shards'
     * CIDs end to end. It keys placement and repair. The data shards' CIDs are what fix the
     * segment's bytes: a decoded segment is checked against them, so no pass over the segment's
     * own bytes is needed, on upload or download (a quarter of the hashing of each).
     */
    static Cid segmentKey(List<Cid> dataShards) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (Cid c : dataShards) {
            b.writeBytes(c.toBytes());
        }
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b.toByteArray());
    }

    private Segment uploadSegment(long index, SegmentPieces plain, int plainLen, SegmentCipher cipher, java.util.Queue<Pin> pinned)
            throws ObjectException {
        int k = config.k();
        int n = k + config.m();
        byte[][] s = new byte[n][];
        int shardSize;
        if (cipher == null && plainLen == plain.capacity) { // a whole segment: the pieces are its data shards
            shardSize = plain.pieceSize;
            System.arraycopy(plain.pieces, 0, s, 0, k);
        } else { // the last, short segment, or ciphertext: cut into shards of its own size
            byte[] data = cipher == null ? plain.join(plainLen) : cipher.seal(index, plain.join(plainLen), plainLen);
            int len = data.length;
            shardSize = (len + k - 1) / k;
            for (int i = 0; i < k; i++) {
                s[i] = new byte[shardSize];
                int from = i * shardSize;
                if (from < len) { // a tiny segment may leave the last shards all padding
                    System.arraycopy(data, from, s[i], 0, Math.min(shardSize, len - from));
                }
            }
        }
        for (int i = k; i < n; i++) {
            s[i] = new byte[shardSize];
        }
        rs.encode(s, 0, shardSize);
        List<Cid> cids = new ArrayList<>();
        for (byte[] shard : s) {
            cids.add(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, shard));
        }
        Cid segCid = segmentKey(cids.subList(0, k));
        List<PeerId> holders = place("segment " + index, cids, Arrays.asList(s), placementOrder(segCid.toBytes(), n),
                config.writeQuorum(), pinned);
        // A shard no node could take is recorded with no holders: the manifest says what is
        // missing, downloads take any k of the others, and repair rebuilds it (RepairService).
        Segment.Builder sb = Segment.newBuilder().setSize(plainLen).setCid(ByteString.copyFrom(segCid.toBytes()));
        for (int i = 0; i < n; i++) {
            Shard.Builder shard = Shard.newBuilder().setCid(ByteString.copyFrom(cids.get(i).toBytes()));
            if (holders.get(i) != null) {
                shard.addHolders(ByteString.copyFrom(holders.get(i).toBytes()));
            }
            sb.addShards(shard);
        }
        return sb.build();
    }

    /**
     * Stores the manifest on up to {@code manifestReplicas} nodes, this one first, and returns
     * its CID (the object's). It needs {@link Config#manifestQuorum()} copies (all the known
     * nodes when fewer are known). An object stored short of full redundancy (a segment with a
     * shard no node took, or fewer manifest copies) is reported to {@link #onDegraded}.
     */
    private Cid storeManifest(Manifest m, java.util.Queue<Pin> pinned) throws ObjectException {
        byte[] bytes = Manifests.sign(m, owner); // signed by this node's key (its owner), checked below as every receiver will
        if (bytes.length > ShardServer.MAX_SHARD) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "the manifest would be " + bytes.length
                    + " bytes, over the block limit of " + ShardServer.MAX_SHARD);
        }
        String problem = Manifests.problem(bytes);
        if (problem != null) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "the nodes would refuse this object's " + problem);
        }
        Cid cid = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, bytes);
        List<PeerId> cands = new ArrayList<>(candidates(cid.toBytes()));
        cands.remove(host.peerId());
        cands.add(0, host.peerId()); // the uploading node keeps a copy of what it was given
        int r = Math.min(config.manifestReplicas(), cands.size());
        List<Cid> cids = new ArrayList<>();
        List<byte[]> blocks = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            cids.add(cid);
            blocks.add(bytes);
        }
        List<PeerId> copies = place("the manifest", cids, blocks, cands, Math.min(config.manifestQuorum(), r), pinned);
        int missingShards = 0;
        for (Segment seg : m.getSegmentsList()) {
            for (Shard sh : seg.getShardsList()) {
                missingShards += sh.getHoldersCount() == 0 ? 1 : 0;
            }
        }
        int missingCopies = (int) copies.stream().filter(java.util.Objects::isNull).count();
        if (missingShards > 0 || missingCopies > 0) {
            degradedUploads.increment();
            LOG.log(System.Logger.Level.WARNING, "{0} stored short of full redundancy: {1} shards and {2} manifest copies "
                    + "could not be placed (every known node was tried); queued for repair", cid, missingShards, missingCopies);
            java.util.function.Consumer<Cid> l = degraded;
            if (l != null) {
                l.accept(cid);
            }
        }
        return cid;
    }

    /** A manifest stored alone (a directory): its copies are taken back when it cannot reach its quorum. */
    private Cid storeManifest(Manifest m) throws ObjectException {
        java.util.Queue<Pin> pinned = new java.util.concurrent.ConcurrentLinkedQueue<>();
        boolean stored = false;
        try {
            Cid cid = storeManifest(m, pinned);
            stored = true;
            return cid;
        } finally {
            if (!stored) {
                release(pinned, "a failed manifest");
            }
        }
    }

    /** Called with each object stored short of full redundancy, for repair to catch up on it at once. */
    public void onDegraded(java.util.function.Consumer<Cid> listener) {
        this.degraded = listener;
    }

    private volatile java.util.function.Consumer<Cid> degraded;

    /** Node-wide bounds on taking back the pins of failed uploads: unpin requests at once, and uploads waiting. */
    private static final int RELEASE_PARALLEL = 16;
    private static final int RELEASE_BACKLOG = 1_000;
    private final java.util.concurrent.Semaphore releaseSlots = new java.util.concurrent.Semaphore(RELEASE_PARALLEL);
    private final Set<CompletableFuture<Void>> releasing = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Takes back {@code pins} (this node's key's pins that an upload placed and will not use) in
     * the background, best effort: at most {@value #RELEASE_PARALLEL} unpin requests at once
     * node-wide, each bounded by the shard client's deadline (60 s); beyond
     * {@value #RELEASE_BACKLOG} batches waiting, a batch is dropped with a warning (its shards stay
     * pinned: garbage kept, never data lost). Only pins known to have been placed are taken back:
     * unpinning where our PUT had not landed would remove another object's pin of the same shard.
     */
    private void release(java.util.Collection<Pin> pins, String what) {
        if (pins.isEmpty()) {
            return;
        }
        List<Pin> all = List.copyOf(pins);
        if (releasing.size() >= RELEASE_BACKLOG) {
            LOG.log(System.Logger.Level.WARNING, "{0} pins of {1} left in place: {2} batches are already being taken back",
                    all.size(), what, releasing.size());
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        releasing.add(done);
        Thread.ofVirtual().name("oe-unpin").start(() -> {
            int failed = 0;
            try {
                List<CompletableFuture<Boolean>> fs = new ArrayList<>();
                for (Pin p : all) {
                    releaseSlots.acquire();
                    CompletableFuture<Boolean> f;
                    try {
                        f = unpinAt(p.peer(), p.cid());
                    } catch (RuntimeException e) {
                        f = CompletableFuture.completedFuture(false);
                    }
                    fs.add(f.whenComplete((ok, e) -> releaseSlots.release()));
                }
                for (CompletableFuture<Boolean> f : fs) {
                    failed += f.handle((ok, e) -> e == null && ok ? 0 : 1).join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                if (failed > 0) {
                    LOG.log(System.Logger.Level.WARNING, "{0} of {1} pins of {2} could not be taken back (node unreachable?)",
                            failed, all.size(), what);
                }
                releasing.remove(done);
                done.complete(null);
            }
        });
    }

    /**
     * Waits until every pin that failed uploads placed (and second copies of long-tail transfers)
     * has been taken back, or tried; for tests and orderly shutdown.
     *
     * @return false if some were still under way after {@code timeout}
     */
    public boolean awaitReleases(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!releasing.isEmpty()) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            CompletableFuture<?>[] now = releasing.toArray(CompletableFuture[]::new);
            if (now.length == 0) {
                break;
            }
            try {
                CompletableFuture.anyOf(now).get(left, TimeUnit.NANOSECONDS);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                // checked again above
            }
        }
        return true;
    }

    // ---- download ----

    /** The object's manifest: from this node's store, else from providers found in the DHT. */
    public Manifest manifest(Cid cid) throws ObjectException {
        if (cid.codec() != ContentCodec.MANIFEST) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, cid + " is not an object CID (codec " + cid.codec().label() + ")");
        }
        byte[] bytes = null;
        try {
            if (local.metadata(cid) != null) {
                bytes = local.get(cid);
            }
        } catch (StoreException e) {
            bytes = null;
        }
        if (bytes == null) {
            List<PeerId> sources = new ArrayList<>(candidates(cid.toBytes()));
            try {
                for (Provider p : dht.findProviders(multihash(cid), 10).get(30, TimeUnit.SECONDS)) {
                    if (!sources.contains(p.peer())) {
                        host.peerStore().addAddrs(p.peer(), p.addrs());
                        sources.add(p.peer());
                    }
                }
            } catch (Exception e) {
                // the DHT is a second source; the nodes we know came first
            }
            sources.remove(holders.self()); // its copy was looked for above
            for (PeerId p : sources) {
                try {
                    bytes = holders.find(p, cid).get(30, TimeUnit.SECONDS);
                    break;
                } catch (Exception e) {
                    // next source
                }
            }
        }
        if (bytes == null) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, "no node has the manifest of " + cid);
        }
        // The CID proved these are the bytes asked for, not that they make sense: checked before
        // anything acts on them. A manifest without a signature (written before signatures) is
        // still served: the CID is what the reader trusts here.
        try {
            return checked(cid, bytes).manifest();
        } catch (ObjectException e) {
            throw new ObjectException(e.code(), cid + ": " + e.getMessage());
        }
    }

    /** {@link Manifests#parse} of {@code bytes}, which must have been checked against {@code cid} (every store and shard read does). */
    private Manifests.Checked checked(Cid cid, byte[] bytes) throws ObjectException {
        Boolean signed = checkedManifests.getIfPresent(cid);
        if (signed != null) {
            try {
                return new Manifests.Checked(Manifest.parseFrom(bytes), signed);
            } catch (InvalidProtocolBufferException e) {
                checkedManifests.invalidate(cid); // cannot be: they parsed before; check them again
            }
        }
        Manifests.Checked c = Manifests.parse(bytes);
        checkedManifests.put(cid, c.signed());
        return c;
    }

    /**
     * Removes this node's pins from every shard of the object and from its manifest copies; the
     * holders collect them after their grace period.
     *
     * @return how many pins were removed
     * @throws ObjectException NOT_FOUND for an unknown object; PLACEMENT_FAILED (403 at the API)
     *     when this node's key is not the object's owner
     */
    public int unpin(Cid cid) throws ObjectException {
        Manifest m = manifest(cid);
        if (!Arrays.equals(m.getOwner().toByteArray(), owner.publicKey())) {
            throw new ObjectException(ObjectException.Code.NOT_OWNER, cid + " was not uploaded by this node's key");
        }
        try { // anyone can write this node's key into an unsigned manifest: only its own copy vouches for one
            if (m.getSignature().isEmpty() && local.metadata(cid) == null) {
                throw new ObjectException(ObjectException.Code.NOT_OWNER, cid + " carries no owner signature and this node"
                        + " holds no copy of it: nothing shows this node's key wrote it");
            }
        } catch (StoreException e) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, "cannot read this node's copy of " + cid + ": " + e.getMessage());
        }
        // This node's own copy of the manifest carries one pin per upload: it is unpinned first and
        // refuses when no pin is left, so deleting twice cannot take pins that other objects
        // sharing these shards still hold. (Pins are counted; a crash from here on leaks pins, never data.)
        int n = 0;
        try {
            StoredShard mine = local.metadata(cid);
            if (mine != null) {
                if (!local.unpin(cid, owner.publicKey())) {
                    throw new ObjectException(ObjectException.Code.NOT_FOUND, cid + " is not pinned by this node any more (already deleted)");
                }
                n++;
            }
        } catch (StoreException e) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, "cannot read this node's copy of " + cid + ": " + e.getMessage());
        }
        List<CompletableFuture<Boolean>> all = new ArrayList<>();
        for (Segment seg : m.getSegmentsList()) {
            for (Shard sh : seg.getShardsList()) {
                Cid c = Cid.fromBytes(sh.getCid().toByteArray());
                for (ByteString h : sh.getHoldersList()) {
                    all.add(unpinAt(PeerId.fromBytes(h.toByteArray()), c));
                }
            }
        }
        Set<PeerId> manifestHolders = new LinkedHashSet<>(candidates(cid.toBytes()));
        try {
            for (Provider p : dht.findProviders(multihash(cid), 20).get(30, TimeUnit.SECONDS)) {
                manifestHolders.add(p.peer());
            }
        } catch (Exception e) {
            // the known nodes were asked anyway
        }
        manifestHolders.remove(host.peerId());
        for (PeerId p : manifestHolders) {
            all.add(unpinAt(p, cid));
        }
        for (CompletableFuture<Boolean> f : all) {
            n += f.join() ? 1 : 0;
        }
        return n;
    }

    private CompletableFuture<Boolean> unpinAt(PeerId peer, Cid cid) {
        return holders.unpin(peer, cid);
    }

    // ---- directories and listings ----

    /** Content type of directory objects. */
    public static final String DIRECTORY_TYPE = "inode/directory";
    /** Entries one directory may hold (its manifest stays a few MiB at most). */
    public static final int MAX_ENTRIES = 100_000;

    /** A directory entry as asked for: a name and the object (file or directory) it names. */
    public record NewEntry(String name, Cid cid) {}

    /**
     * Stores a directory of existing objects and returns its CID. Every entry's object is looked up
     * (never trusted from the request): its size, type and kind come from its own manifest.
     *
     * @throws ObjectException BAD_INPUT for a bad or repeated name, too many entries or an unknown object
     */
    public Cid putDirectory(List<NewEntry> entries) throws ObjectException {
        if (entries.size() > MAX_ENTRIES) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "a directory holds at most " + MAX_ENTRIES
                    + " entries, was given " + entries.size());
        }
        List<Entry> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        long total = 0;
        for (NewEntry e : entries) {
            checkName(e.name());
            if (!names.add(e.name())) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, "entry name '" + e.name() + "' appears twice");
            }
            if (e.cid().codec() != ContentCodec.MANIFEST) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, "entry '" + e.name() + "': " + e.cid()
                        + " is not an object CID (codec " + e.cid().codec().label() + ")");
            }
            Manifest child;
            try {
                child = manifest(e.cid());
            } catch (ObjectException x) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, "entry '" + e.name() + "': " + x.getMessage());
            }
            out.add(Entry.newBuilder().setName(e.name()).setCid(ByteString.copyFrom(e.cid().toBytes()))
                    .setSize(child.getSize()).setContentType(child.getContentType()).setKind(child.getKind()).build());
            total = Math.addExact(total, child.getSize());
        }
        out.sort(Comparator.comparing((Entry e) -> e.getName().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
        Manifest m = Manifest.newBuilder().setKind(Kind.DIRECTORY).setContentType(DIRECTORY_TYPE).setSize(total)
                .setOwner(ByteString.copyFrom(owner.publicKey())).addAllEntries(out).build();
        return storeManifest(m);
    }

    static void checkName(String name) throws ObjectException {
        byte[] b = name == null ? new byte[0] : name.getBytes(StandardCharsets.UTF_8);
        String why = b.length == 0 ? "is empty" : b.length > 255 ? "is longer than 255 bytes"
                : name.indexOf('/') >= 0 ? "contains '/'" : name.indexOf('\0') >= 0 ? "contains NUL"
                : name.equals(".") || name.equals("..") ? "is '.' or '..'" : null;
        if (why != null) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "entry name '" + name + "' " + why);
        }
    }

    /** An object reached from a root by a path. */
    public record Resolved(Cid cid, Manifest manifest) {}

    /**
     * The object at {@code path} (names, outermost first) under the directory {@code root}.
     *
     * @throws ObjectException NOT_FOUND when a name is missing; BAD_INPUT when the path runs through a file
     */
    public Resolved resolve(Cid root, List<String> path) throws ObjectException {
        Cid at = root;
        Manifest m = manifest(root);
        StringBuilder walked = new StringBuilder(root.toString());
        for (String name : path) {
            if (m.getKind() != Kind.DIRECTORY) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, walked + " is a file, so it has no '" + name + "' inside");
            }
            Entry found = null;
            for (Entry e : m.getEntriesList()) {
                if (e.getName().equals(name)) {
                    found = e;
                    break;
                }
            }
            if (found == null) {
                throw new ObjectException(ObjectException.Code.NOT_FOUND, "directory " + walked + " has no entry '" + name + "'");
            }
            walked.append('/').append(name);
            at = Cid.fromBytes(found.getCid().toByteArray());
            m = manifest(at);
        }
        return new Resolved(at, m);
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
        byte[] me = owner.publicKey();
        List<ObjectInfo> out = new ArrayList<>();
        for (StoredShard s : local.list()) {
            if (s.cid().codec() != ContentCodec.MANIFEST || s.owners().stream().noneMatch(o -> Arrays.equals(o, me))) {
                continue;
            }
            try {
                Manifests.Checked c = checked(s.cid(), local.get(s.cid()));
                Manifest m = c.manifest();
                if (c.signed() && Arrays.equals(m.getOwner().toByteArray(), me)) {
                    out.add(new ObjectInfo(s.cid(), m.getSize(), m.getContentType(), m.getKind() == Kind.DIRECTORY,
                            m.hasEncryption(), s.storedAtMillis()));
                }
            } catch (StoreException | ObjectException e) {
                // corrupt, invalid or just collected: not listed; the scrubber and repair deal with it
            }
        }
        out.sort(Comparator.comparingLong(ObjectInfo::storedAtMillis).reversed().thenComparing(i -> i.cid().toString()));
        return out;
    }

    static byte[] multihash(Cid cid) {
        byte[] b = cid.toBytes();
        int at = 1;
        while ((b[at] & 0x80) != 0) {
            at++;
        }
        return Arrays.copyOfRange(b, at + 1, b.length);
    }

    /** Writes bytes [from, to) of the object to {@code out}, fetching only the segments they touch. */
    public void download(Manifest m, long from, long to, OutputStream out) throws IOException, ObjectException {
        long t0 = System.nanoTime();
        try {
            checkReadable(m);
            doDownload(m, from, to, out);
            downloads.increment();
        } catch (IOException | ObjectException | RuntimeException e) {
            downloadFailures.increment();
            throw e;
        } finally {
            downloadTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Checks a manifest handed to {@link #download} (the one {@link #manifest} returned passed
     * already; a caller may have built or changed it) and that its segments fit this node's memory
     * budget, whose slots are counted in segments of its own size and RS parameters: a segment may
     * take up to twice what a slot stands for, not more (64 MiB segments from another node would
     * otherwise take 8 times what a default node's slot counts).
     *
     * @throws ObjectException CORRUPT for a malformed manifest; BUSY (503) for segments too large for this node
     */
    void checkReadable(Manifest m) throws ObjectException {
        Manifests.check(m);
        long slot = Manifests.segmentMemory(config.segmentSize(), config.k(), config.m());
        if (m.getSegmentsCount() > 0 && Manifests.segmentMemory(m) > 2 * slot) {
            throw new ObjectException(ObjectException.Code.BUSY, "this object's segments of " + m.getSegmentSize()
                    + " bytes at RS(" + m.getK() + ", " + m.getM() + ") need " + Manifests.segmentMemory(m)
                    + " bytes of memory each; this node reads at most " + 2 * slot
                    + " (twice a slot of its own segments): read it through a node configured for larger segments");
        }
    }

    /** Segments fetched at once by one download: the one being written and the next. */
    static final int READ_AHEAD = 2;

    private void doDownload(Manifest m, long from, long to, OutputStream out) throws IOException, ObjectException {
        if (m.getKind() == Kind.DIRECTORY) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "this object is a directory: list it, or name a path inside it");
        }
        if (from < 0 || to > m.getSize() || from > to) {
            throw new ObjectException(ObjectException.Code.BAD_RANGE, "range " + from + "-" + to
                    + " is outside the object of " + m.getSize() + " bytes");
        }
        if (!m.getInlineData().isEmpty() || m.getSegmentsCount() == 0) {
            out.write(m.getInlineData().toByteArray(), (int) from, (int) (to - from));
            downloadBytes.increment(to - from);
            return;
        }
        SegmentCipher cipher = m.hasEncryption() ? SegmentCipher.open(owner, m.getEncryption(), "this object") : null;
        record Part(long index, Segment seg, int a, int b) {}
        List<Part> parts = new ArrayList<>();
        long segStart = 0;
        for (int i = 0; i < m.getSegmentsCount() && segStart < to; i++) {
            Segment seg = m.getSegments(i);
            long segEnd = segStart + seg.getSize();
            if (segEnd > from) {
                parts.add(new Part(i, seg, (int) Math.max(0, from - segStart), (int) Math.min(seg.getSize(), to - segStart)));
            }
            segStart = segEnd;
        }
        // Read-ahead: the next segment is fetched and decoded while this one is written out, when
        // the node's memory budget has a slot to spare; each fetched segment holds a slot until written.
        ArrayDeque<Future<Decoded>> ahead = new ArrayDeque<>();
        try (var fetchers = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                int next = 0;
                for (Part p : parts) {
                    while (next < parts.size() && ahead.size() < READ_AHEAD) {
                        if (ahead.isEmpty()) {
                            acquireSlot();
                        } else if (!budget.tryAcquire()) {
                            break;
                        }
                        Part q = parts.get(next++);
                        ahead.add(fetchers.submit(() -> fetchSegment(m, q.index(), q.seg(), cipher)));
                    }
                    try {
                        await(ahead.poll()).writeTo(out, p.a(), p.b());
                        downloadBytes.increment(p.b() - p.a());
                    } finally {
                        budget.release();
                    }
                }
            } finally {
                for (Future<Decoded> f : ahead) {
                    f.cancel(true);
                    budget.release();
                }
            }
        }
    }

    /** A shard GET that ended: its index and bytes, or the error. */
    private record Fetched(int index, byte[] data, Throwable error, long nanos) {}

    /**
     * A segment's checked bytes: {@code length} bytes laid out over {@code pieces} of
     * {@code pieceSize} bytes each (its data shards, which are not copied into one array).
     */
    private record Decoded(byte[][] pieces, int pieceSize, int length) {
        static Decoded of(byte[] bytes) {
            return new Decoded(new byte[][] {bytes}, bytes.length, bytes.length);
        }

        void writeTo(OutputStream out, int from, int to) throws IOException {
            for (int i = 0; i < pieces.length && from < to; i++) {
                int start = i * pieceSize;
                int end = Math.min(start + pieceSize, length);
                if (from < end) {
                    int upTo = Math.min(to, end);
                    out.write(pieces[i], from - start, upTo - from);
                    from = upTo;
                }
            }
        }
    }

    private Decoded fetchSegment(Manifest m, long index, Segment seg, SegmentCipher cipher) throws ObjectException {
        int k = m.getK(); // checked: 1 <= k, k + m <= 256, shards within the limits (download checked the manifest)
        int n = k + m.getM();
        long coded = seg.getSize() + (cipher == null ? 0 : SegmentCipher.TAG);
        int shardSize = Manifests.shardSize(m, seg);
        byte[][] s = new byte[n][];
        boolean[] present = new boolean[n];
        Cid segCid = Cid.fromBytes(seg.getCid().toByteArray());
        // Data shards first (with all of them no decoding is needed); a failure asks the next
        // shard; when the ones asked run late, one more is asked (hedging); the first k win.
        BlockingQueue<Fetched> done = new LinkedBlockingQueue<>();
        List<CompletableFuture<byte[]>> asked = new ArrayList<>();
        int[] next = {0};
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        // stable: data first among the good; then shards whose holders failed lately; last the
        // shards an upload could not place (no holders listed: only the DHT knows where repair put them)
        order.sort(Comparator.comparingInt((Integer i) -> seg.getShards(i).getHoldersCount() == 0 ? 2 : troubled.allHolders(seg.getShards(i)) ? 1 : 0));
        java.util.function.BooleanSupplier ask = () -> {
            if (next[0] >= n) {
                return false;
            }
            int i = order.get(next[0]++);
            long t = System.nanoTime();
            CompletableFuture<byte[]> f = fetchShard(seg.getShards(i));
            asked.add(f);
            f.whenComplete((b, e) -> done.add(new Fetched(i, b, e, System.nanoTime() - t)));
            return true;
        };
        int got = 0;
        int running = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try {
            for (int i = 0; i < k; i++) {
                running += ask.getAsBoolean() ? 1 : 0;
            }
            long hedgeDelay = Math.clamp((long) (4 * shardFetchNanos), TimeUnit.MILLISECONDS.toNanos(20), TimeUnit.SECONDS.toNanos(2));
            while (got < k && running > 0) {
                long now = System.nanoTime();
                if (now >= deadline) {
                    break;
                }
                Fetched f = done.poll(Math.min(hedgeDelay, deadline - now), TimeUnit.NANOSECONDS);
                if (f == null) {
                    // a hedge is for slowness: it never goes to a holder that failed or lied lately;
                    // those are asked only when a shard GET fails and no one else is left
                    if (next[0] < n && !troubled.allHolders(seg.getShards(order.get(next[0]))) && ask.getAsBoolean()) {
                        running++;
                        hedges.increment();
                    }
                    continue;
                }
                running--;
                if (f.error() == null && f.data().length != shardSize) {
                    // its CID matched, so the manifest itself is inconsistent: no shard set can decode
                    throw new ObjectException(ObjectException.Code.CORRUPT, "segment " + segCid + ": shard " + f.index()
                            + " is " + f.data().length + " bytes where the manifest's sizes give " + shardSize);
                }
                if (f.error() == null) {
                    s[f.index()] = f.data();
                    present[f.index()] = true;
                    got++;
                    shardFetchNanos = 0.9 * shardFetchNanos + 0.1 * f.nanos();
                } else if (got + running < k) {
                    running += ask.getAsBoolean() ? 1 : 0; // unreachable or corrupt: the next shard takes its place
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, "interrupted while fetching segment " + segCid);
        } finally {
            asked.forEach(f -> f.cancel(true));
        }
        if (got < k) {
            throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, "segment " + segCid
                    + ": " + got + " of its shards were found, " + k + " are needed");
        }
        for (int i = 0; i < n; i++) {
            if (!present[i]) {
                s[i] = new byte[shardSize];
            }
        }
        boolean allData = true;
        for (int i = 0; i < k; i++) {
            allData &= present[i];
        }
        if (!allData) {
            try {
                codecs.of(k, m.getM()).reconstruct(s, present, 0, shardSize);
            } catch (ErasureException e) {
                throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, e.getMessage());
            }
            // The decoded bytes must be the ones the manifest names: shards that each match their
            // CID can still come from an uploader that coded them inconsistently. Data shards that
            // were fetched matched their CIDs already; the rebuilt ones are checked here.
            for (int i = 0; i < k; i++) {
                if (!present[i] && !Cid.fromBytes(seg.getShards(i).getCid().toByteArray()).verify(s[i])) {
                    throw new ObjectException(ObjectException.Code.CORRUPT, "segment " + segCid + " decoded to the wrong bytes: data shard "
                            + i + " rebuilt from the others does not match its CID (its shards were not coded together)");
                }
            }
        }
        if (cipher == null) {
            return new Decoded(Arrays.copyOf(s, k), shardSize, (int) coded);
        }
        byte[] data = join(s, shardSize, (int) coded);
        return Decoded.of(cipher.open(index, data, data.length, segCid.toString()));
    }

    /**
     * The shard from its first holder that answers with bytes matching its CID: the holders the
     * manifest lists, then the providers the DHT knows (repair moves shards to new nodes).
     */
    CompletableFuture<byte[]> fetchShard(Shard shard) {
        Cid cid = Cid.fromBytes(shard.getCid().toByteArray());
        List<PeerId> holders = new ArrayList<>();
        for (ByteString h : shard.getHoldersList()) {
            holders.add(PeerId.fromBytes(h.toByteArray()));
        }
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicReference<CompletableFuture<?>> current = new java.util.concurrent.atomic.AtomicReference<>();
        result.whenComplete((b, e) -> { // cancelled by a hedging caller: stop the transfer under way
            CompletableFuture<?> c = current.get();
            if (e != null && c != null) {
                c.cancel(true);
            }
        });
        tryHolders(cid, holders, 0, new HashSet<>(), result, current, true);
        return result;
    }

    /** Asks holders[i..] one after another, then (once) the DHT's providers of the CID. */
    private void tryHolders(Cid cid, List<PeerId> holders, int i, Set<PeerId> tried, CompletableFuture<byte[]> result,
                            java.util.concurrent.atomic.AtomicReference<CompletableFuture<?>> current, boolean askDht) {
        if (result.isDone()) {
            return;
        }
        while (i < holders.size() && !tried.add(holders.get(i))) {
            i++;
        }
        if (i == holders.size()) {
            if (!askDht) {
                result.completeExceptionally(new IOException("no reachable holder of " + cid + " (asked the DHT too)"));
                return;
            }
            CompletableFuture<List<Provider>> lookup = dht.findProviders(multihash(cid), 8);
            current.set(lookup);
            lookup.whenComplete((providers, e) -> {
                List<PeerId> more = new ArrayList<>();
                for (Provider p : providers == null ? List.<Provider>of() : providers) {
                    host.peerStore().addAddrs(p.peer(), p.addrs());
                    more.add(p.peer());
                }
                tryHolders(cid, more, 0, tried, result, current, false);
            });
            return;
        }
        int at = i;
        CompletableFuture<byte[]> f = this.holders.get(holders.get(at), cid);
        current.set(f);
        f.whenComplete((bytes, e) -> {
            if (e == null) {
                result.complete(bytes);
            } else {
                tryHolders(cid, holders, at + 1, tried, result, current, askDht);
            }
        });
    }

    /** Whether {@code peer} holds a good copy of {@code cid} (HAS probe; local store for this node). */
    CompletableFuture<Boolean> holds(PeerId peer, Cid cid) {
        return holders.has(peer, cid);
    }

    /**
     * Whether any of the first 16 of {@code peers} answers a HAS for {@code cid}, whatever it says:
     * a node that could take a shard now. Repair asks before it fetches and decodes k shards.
     */
    boolean anyAnswers(List<PeerId> peers, Cid cid) {
        try {
            return holders.anyAnswers(peers.subList(0, Math.min(16, peers.size())), cid).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    /**
     * For each shard of the segment, the nodes that answer HAS for a good copy: the holders the
     * manifest lists, and, for a shard none of them still has, the DHT's providers (repair moved it).
     */
    List<Set<PeerId>> probe(Segment seg) {
        int n = seg.getShardsCount();
        List<Set<PeerId>> alive = new ArrayList<>();
        List<CompletableFuture<Void>> checks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Shard sh = seg.getShards(i);
            Cid cid = Cid.fromBytes(sh.getCid().toByteArray());
            Set<PeerId> found = java.util.concurrent.ConcurrentHashMap.newKeySet();
            alive.add(found);
            List<PeerId> listed = sh.getHoldersList().stream().map(h -> PeerId.fromBytes(h.toByteArray())).toList();
            checks.add(probeAll(listed, cid, found).thenCompose(v -> found.isEmpty()
                    ? CompletableFuture.supplyAsync(() -> providersOf(cid), io).thenCompose(ps -> probeAll(ps, cid, found))
                    : CompletableFuture.completedFuture(null)));
        }
        Deadlines.orTimeout(CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)), TimeUnit.SECONDS.toMillis(60))
                .exceptionally(e -> null).join();
        return alive;
    }

    private CompletableFuture<Void> probeAll(List<PeerId> peers, Cid cid, Set<PeerId> found) {
        List<CompletableFuture<Boolean>> fs = new ArrayList<>();
        for (PeerId p : peers) {
            fs.add(holds(p, cid).thenApply(ok -> ok && found.add(p)).exceptionally(e -> false));
        }
        return CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new));
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
        Manifest m = manifest(cid);
        List<Integer> counts = new ArrayList<>();
        try (var probes = Executors.newVirtualThreadPerTaskExecutor()) {
            java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(8);
            List<Future<Integer>> fs = new ArrayList<>();
            for (Segment seg : m.getSegmentsList()) {
                fs.add(probes.submit(() -> {
                    window.acquire();
                    try {
                        return (int) probe(seg).stream().filter(s -> !s.isEmpty()).count();
                    } finally {
                        window.release();
                    }
                }));
            }
            for (Future<Integer> f : fs) {
                try {
                    counts.add(await(f));
                } catch (IOException e) {
                    throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, "health probe failed: " + e.getMessage());
                }
            }
        }
        return new Health(cid, m.getK(), m.getM(), counts);
    }

    /** Providers of {@code cid} the DHT knows, best effort. */
    List<PeerId> providersOf(Cid cid) {
        try {
            return dht.findProviders(multihash(cid), 20).get(30, TimeUnit.SECONDS).stream().map(Provider::peer).toList();
        } catch (Exception e) {
            return List.of();
        }
    }

    /**
     * Stores {@code block} on one node from {@code candidates} not in {@code avoid}, pinned by
     * {@code pinOwner} when that node is this one, else by this node's key (a pin on another node
     * must be signed, and only the owner could sign for the owner). Nodes that fail for a passing reason (busy with other transfers, slow)
     * are tried again, up to three more rounds with a growing pause, before the block is given up
     * until the next repair round; nodes that refuse (full, forbidden) are not.
     */
    PeerId placeOne(Cid cid, byte[] block, List<PeerId> candidates, Set<PeerId> avoid, byte[] pinOwner) {
        List<PeerId> round = new ArrayList<>(candidates);
        for (int attempt = 0; attempt < 4 && !round.isEmpty(); attempt++) {
            if (attempt > 0) {
                try {
                    Thread.sleep(250L << (2 * (attempt - 1))); // 250 ms, 1 s, 4 s: the others' transfers drain
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
            List<PeerId> again = new ArrayList<>();
            for (PeerId p : round) {
                if (avoid.contains(p)) {
                    continue;
                }
                try {
                    holders.putRebuilt(p, cid, block, pinOwner).get(60, TimeUnit.SECONDS);
                    return p;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                } catch (Exception e) {
                    Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
                    if (passing(cause) && !(cause instanceof java.util.concurrent.TimeoutException)) {
                        again.add(p); // busy: maybe in the next round (a minute's silence is not retried)
                    } else {
                        avoid.add(p); // full or refusing: not this block
                    }
                }
            }
            round = again;
        }
        return null;
    }

    PeerId self() {
        return holders.self();
    }

    /** This node's key: the owner of what it uploads. */
    byte[] ownerKey() {
        return owner.publicKey();
    }

    int manifestReplicas() {
        return config.manifestReplicas();
    }

    ShardStore localStore() {
        return local;
    }
}
