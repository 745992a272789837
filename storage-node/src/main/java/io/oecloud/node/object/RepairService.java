package io.oecloud.node.object;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.oecloud.dht.PeerId;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Repair without a coordinator. Every node that holds a manifest looks at its segments; for each
 * segment, the node closest to the segment key among the manifest's live holders is the one that
 * acts (two acting at once only store a shard twice). It counts the shards that still have a
 * holder answering HAS (the manifest's holders, then the DHT's providers); when k <= healthy <=
 * k + r it fetches any k, rebuilds the missing shards and places each on a node that holds no
 * other shard of the segment, pinned by the object's owner key. The new holders announce the
 * shards in the DHT, which is where downloads look when a manifest's holder list is stale.
 *
 * <p>A segment whose manifest records a shard with no holder (an upload acknowledged with its
 * write quorum because no node could take that shard) is repaired whenever it is short, whatever
 * r is: it was never whole. Such objects are also handed to {@link RepairQueue}, which calls
 * {@link #catchUp} until they are whole instead of waiting for the next pass.
 *
 * <p>On a node linked to OEChain, the chain's fault lists reach repair through
 * {@link HolderRecords}: a holder the chain caught (a missed window, a fault declared or found) is
 * not counted as holding the shards it names, even when it answers HAS, and ranks last as the
 * place for the rebuilt shard. {@link #chainFaulted} finds the objects held here that list such a
 * holder whenever the records' {@link HolderRecords#generation} changes; a {@link RepairQueue}
 * over {@link #chainCatchUp} repairs them at once (whatever r is: the chain proved the loss), each
 * segment by the node that acts for it, as in a pass.
 *
 * <p>Every manifest passes {@link Manifests#parse} before anything acts on it, and only one that
 * carries its owner's valid signature is copied to another node. One that was written before
 * signatures is repaired (its segments, never its copies) only by the node whose key it names and
 * pins it. A manifest or segment whose repair fails, with any exception or Error, is logged and
 * counted, and the pass goes on with the next one: a single bad item never stops the pass, nor the
 * passes after.
 */
public final class RepairService {
    private static final System.Logger LOG = System.getLogger(RepairService.class.getName());

    private final ShardStore local;
    private final PeerId self;
    private final byte[] ownerKey;
    private final int manifestReplicas;
    private final Candidates candidates;
    private final Probes probes;
    private final ShardFetcher fetcher;
    private final Placer placer;
    private final Download download;
    private final Codecs codecs;
    private final int r;
    private final java.util.function.Supplier<HolderRecords> records;
    private final io.micrometer.core.instrument.Counter chainFaults;
    private final io.micrometer.core.instrument.Counter chainRebuilt;
    /** (holder, shard) pairs counted in {@code oe_repair_chain_faults_total} lately, so each is counted once. */
    private final Cache<String, Boolean> chainSeen = Caffeine.newBuilder().maximumSize(100_000)
            .expireAfterWrite(Duration.ofDays(1)).build();
    private volatile Consumer<Cid> beforeManifest = cid -> {};
    private volatile RepairListener placedListener = RepairListener.NONE;
    /** Manifests refused lately, so each is logged once a day, not at every pass. */
    private final Cache<Cid, Boolean> refused = Caffeine.newBuilder().maximumSize(10_000)
            .expireAfterWrite(Duration.ofDays(1)).build();

    /**
     * Repair with the parts of {@code objects}: its store, its candidates and placement, its HAS
     * probes, its shard fetches, its codecs.
     *
     * @param r repair when healthy shards fall to k + r or fewer (1 by default)
     */
    public RepairService(ObjectService objects, int r) {
        if (r < 0) {
            throw new IllegalArgumentException("r must be >= 0, was " + r);
        }
        this.local = objects.local;
        this.self = objects.holders.self();
        this.ownerKey = objects.ownerKey;
        this.manifestReplicas = objects.config.manifestReplicas();
        this.candidates = objects.candidates;
        this.probes = objects.probes;
        this.fetcher = objects.fetcher;
        this.placer = objects.placer;
        this.download = objects.download;
        this.codecs = objects.codecs;
        this.r = r;
        this.records = objects::records;
        this.chainFaults = io.micrometer.core.instrument.Counter.builder("oe_repair_chain_faults")
                .description("Shards held here in objects' manifests whose listed holder the chain caught (each holder and shard once)")
                .register(objects.metrics);
        this.chainRebuilt = io.micrometer.core.instrument.Counter.builder("oe_repair_chain_rebuilt")
                .description("Shards rebuilt and placed by repairs the chain's fault lists started").register(objects.metrics);
    }

    /**
     * What one pass did: shards rebuilt and placed, manifest copies added, and items that failed
     * (manifests refused as invalid, manifests and segments whose repair threw).
     */
    public record Repaired(int shards, int manifestCopies, int failed) {
        public Repaired(int shards, int manifestCopies) {
            this(shards, manifestCopies, 0);
        }
    }

    /**
     * Called with each manifest's CID before it is looked at, inside that manifest's error
     * handling: tests inject failures here (an exception or Error from deep inside a pass).
     */
    public RepairService beforeManifest(Consumer<Cid> hook) {
        this.beforeManifest = hook;
        return this;
    }

    /** Told whenever this node placed rebuilt blocks of an object on new holders (the payer side moves its contract's shares). */
    public RepairService onPlaced(RepairListener listener) {
        this.placedListener = java.util.Objects.requireNonNull(listener);
        return this;
    }

    /** Tells the listener; what it throws is logged, never the repair's failure. */
    private void told(Cid object, Manifest m, List<PeerId> added, List<PeerId> lost) {
        if (added.isEmpty()) {
            return;
        }
        try {
            placedListener.placed(object, m, List.copyOf(added), List.copyOf(lost));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the repair listener failed for {0} ({1})", object, describe(e));
        }
    }

    /** One pass over the manifests this node holds. */
    public Repaired repairOnce() throws StoreException {
        int[] done = new int[3]; // shards rebuilt, manifest copies, failures
        for (StoredShard s : local.list()) {
            if (Thread.currentThread().isInterrupted()) {
                break; // the node is closing
            }
            if (s.cid().codec() != ContentCodec.MANIFEST || s.pins().isEmpty()) {
                continue; // an unpinned manifest is a deleted object: its shards are left to the collector
            }
            try {
                beforeManifest.accept(s.cid());
                repairManifest(s, done);
            } catch (RuntimeException | Error e) { // one manifest never stops the pass (an Error included: OOM was the poison)
                done[2]++;
                LOG.log(System.Logger.Level.WARNING, "repair of manifest {0} failed ({1}); the pass goes on",
                        s.cid(), describe(e));
            }
        }
        return new Repaired(done[0], done[1], done[2]);
    }

    private void repairManifest(StoredShard stored, int[] done) {
        Cid cid = stored.cid();
        byte[] bytes;
        Manifests.Checked checked;
        try {
            bytes = local.get(cid);
            checked = Manifests.parse(bytes);
        } catch (StoreException e) {
            return; // vanished or corrupt: the scrub reports corrupt blocks
        } catch (ObjectException e) {
            done[2]++;
            logOnce(cid, "manifest {0} is not repaired and never copied: {1}", e);
            return;
        }
        Manifest m = checked.manifest();
        byte[] me = ownerKey;
        // Unsigned (written before signatures): anyone can name any owner in it, so only a manifest
        // naming this node's key and pinned by it here is taken as this node's own upload.
        boolean mine = Arrays.equals(m.getOwner().toByteArray(), me) && stored.owners().stream().anyMatch(o -> Arrays.equals(o, me));
        if (!checked.signed() && !mine) {
            return; // another key's, or nobody's: its owner's node repairs it
        }
        List<PeerId> manifestHolders = liveHolders(cid);
        if (!manifestHolders.contains(self)) {
            manifestHolders.add(self);
        }
        if (checked.signed()) {
            done[1] += keepManifestCopies(cid, bytes, m, manifestHolders);
        }
        try {
            download.checkReadable(m); // segments this node has the memory to rebuild
        } catch (ObjectException e) {
            done[2]++;
            logOnce(cid, "the segments of manifest {0} are not repaired here: {1}", e);
            return;
        }
        for (Segment seg : m.getSegmentsList()) {
            // An unsigned manifest reaches here only on its owner's node, which acts alone for it.
            if (checked.signed() && !actsFor(seg, manifestHolders)) {
                continue;
            }
            try {
                done[0] += repairSegment(cid, m, seg);
            } catch (RuntimeException | Error e) {
                done[2]++;
                LOG.log(System.Logger.Level.WARNING, "repair of a segment of {0} failed ({1}); the pass goes on", cid, describe(e));
            }
        }
    }

    /** A warning once a day per manifest, then debug: a peer must not be able to fill the log by storing junk. */
    private void logOnce(Cid cid, String format, ObjectException e) {
        boolean first = refused.asMap().putIfAbsent(cid, Boolean.TRUE) == null;
        LOG.log(first ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG, format, cid, e.getMessage());
    }

    private static String describe(Throwable e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    /**
     * The DHT's providers of {@code cid} that answer HAS for it now: provider records outlive
     * wiped disks, and a holder that lost its copy must not be the one trusted to act.
     */
    private List<PeerId> liveHolders(Cid cid) {
        List<PeerId> out = java.util.Collections.synchronizedList(new ArrayList<>());
        List<java.util.concurrent.CompletableFuture<Boolean>> asked = new ArrayList<>();
        // The nearest candidates too: an upload places its manifest there, and their provider
        // records may not be out yet (a catch-up right after the upload would add needless copies).
        Set<PeerId> ask = new java.util.LinkedHashSet<>(probes.providersOf(cid));
        List<PeerId> nearest = candidates.nearest(cid.toBytes());
        ask.addAll(nearest.subList(0, Math.min(nearest.size(), 2 * manifestReplicas)));
        for (PeerId p : ask) {
            asked.add(probes.holds(p, cid).thenApply(ok -> ok && out.add(p)).exceptionally(e -> false));
        }
        io.oecloud.dht.Deadlines.orTimeout(java.util.concurrent.CompletableFuture.allOf(
                asked.toArray(java.util.concurrent.CompletableFuture[]::new)), TimeUnit.SECONDS.toMillis(60))
                .exceptionally(e -> null).join();
        return new ArrayList<>(out);
    }

    /**
     * When fewer live nodes hold the manifest than the object's replica count, the closest live
     * holder to the manifest's key stores another copy on a node without one: the block as it was
     * checked (validated and signed), byte for byte.
     */
    private int keepManifestCopies(Cid cid, byte[] bytes, Manifest m, List<PeerId> live) {
        return keepManifestCopies(cid, bytes, m, live, false);
    }

    /** @param always act even when another live holder is closer to the manifest's key (catch-up) */
    private int keepManifestCopies(Cid cid, byte[] bytes, Manifest m, List<PeerId> live, boolean always) {
        if (live.size() >= manifestReplicas) {
            return 0;
        }
        List<PeerId> order = candidates.nearest(cid.toBytes());
        PeerId acting = order.stream().filter(live::contains).findFirst().orElse(null);
        if (!always && !self.equals(acting)) {
            return 0;
        }
        if (!busy.add(cid)) {
            return 0; // a pass and a catch-up of the same object at once: one is enough
        }
        try {
            Set<PeerId> avoid = new HashSet<>(live);
            List<PeerId> placedOn = new ArrayList<>();
            int added = 0;
            for (int i = live.size(); i < manifestReplicas; i++) {
                PeerId at = placer.placeOne(cid, bytes, order, avoid, m.getOwner().toByteArray());
                if (at == null) {
                    break;
                }
                avoid.add(at);
                placedOn.add(at);
                added++;
                LOG.log(System.Logger.Level.INFO, "stored another copy of manifest {0} on {1}", cid, at);
            }
            told(cid, m, placedOn, List.of());
            return added;
        } finally {
            busy.remove(cid);
        }
    }

    /** Whether this node is the closest live manifest holder to the segment key. */
    private boolean actsFor(Segment seg, List<PeerId> manifestHolders) {
        List<PeerId> order = candidates.nearest(seg.getCid().toByteArray());
        for (PeerId p : order) {
            if (manifestHolders.contains(p)) {
                return p.equals(self);
            }
        }
        return false;
    }

    /** Rebuilds a segment's missing shards; {@code m} passed {@link Manifests#check}, so its sizes and counts are in range. */
    private int repairSegment(Cid object, Manifest m, Segment seg) {
        return mend(object, m, seg, false).rebuilt();
    }

    /** What repairing a segment did: shards rebuilt and placed, shards still missing (-1: not looked at). */
    private record Mended(int rebuilt, int missing) {}

    /** Segments and manifest copies being repaired on this node now (a pass and a catch-up may meet). */
    private final Set<Cid> busy = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** @param always rebuild whatever r is (a shard the chain says is lost, or one never placed) */
    private Mended mend(Cid object, Manifest m, Segment seg, boolean always) {
        Cid segCid = Cid.fromBytes(seg.getCid().toByteArray());
        if (!busy.add(segCid)) {
            return new Mended(0, -1);
        }
        try {
            return rebuild(object, m, seg, segCid, always);
        } finally {
            busy.remove(segCid);
        }
    }

    /** Whether the manifest records a shard of the segment that no node took at upload. */
    static boolean recordedMissing(Segment seg) {
        for (Shard sh : seg.getShardsList()) {
            if (sh.getHoldersCount() == 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether a holder the manifest lists for a shard of {@code seg} is suspect of it. */
    static boolean listsSuspect(Segment seg, HolderRecords records) {
        for (Shard sh : seg.getShardsList()) {
            Cid cid = Cid.fromBytes(sh.getCid().toByteArray());
            for (com.google.protobuf.ByteString h : sh.getHoldersList()) {
                if (records.suspect(PeerId.fromBytes(h.toByteArray()), cid)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether each shard of {@code seg} not healthy is on one of {@code suspects} (they answer HAS for it). */
    private boolean suspectsHoldMissing(Segment seg, boolean[] healthy, List<PeerId> suspects) {
        for (int i = 0; i < healthy.length; i++) {
            if (healthy[i]) {
                continue;
            }
            Cid cid = Cid.fromBytes(seg.getShards(i).getCid().toByteArray());
            if (suspects.stream().noneMatch(p -> probes.answersHas(p, cid))) {
                return false;
            }
        }
        return true;
    }

    private Mended rebuild(Cid object, Manifest m, Segment seg, Cid segCid, boolean always) {
        int k = m.getK();
        int n = k + m.getM();
        boolean[] healthy = new boolean[n];
        List<Set<PeerId>> holders = probes.probe(seg);
        int count = 0;
        for (int i = 0; i < n; i++) {
            healthy[i] = !holders.get(i).isEmpty();
            count += healthy[i] ? 1 : 0;
        }
        if (count == n) {
            return new Mended(0, 0);
        }
        if (count < k) {
            LOG.log(System.Logger.Level.WARNING, "segment {0}: {1} healthy shards, {2} needed: cannot repair", segCid, count, k);
            return new Mended(0, n - count);
        }
        if (count > k + r && !always && !recordedMissing(seg)) {
            return new Mended(0, n - count); // healthy enough for the threshold; a segment never whole is not
        }
        Set<PeerId> used = new HashSet<>();
        for (Set<PeerId> hs : holders) {
            used.addAll(hs);
        }
        // Where the rebuilt shards go: nodes holding none of this segment, the chain's best-standing
        // first (nearest first within a standing), and a node the chain holds suspect last.
        HolderRecords rec = records.get();
        List<PeerId> nearest = new ArrayList<>(candidates.preferred(candidates.nearest(seg.getCid().toByteArray())));
        List<PeerId> suspects = nearest.stream().filter(rec::suspectOfAny).toList();
        nearest.removeAll(suspects);
        nearest.addAll(suspects);
        // Fetching and decoding k shards is wasted while no node could take the result (the one
        // missing is down, and every other holds a shard of this segment already): ask first.
        List<PeerId> targets = nearest.stream().filter(p -> !used.contains(p)).toList();
        if (!probes.anyAnswers(targets, segCid)) {
            return new Mended(0, n - count);
        }
        if (!targets.isEmpty() && targets.stream().allMatch(rec::suspectOfAny) && suspectsHoldMissing(seg, healthy, targets)) {
            // Only nodes the chain caught are left, and they hold the missing shards already (a
            // copy this repair gave them, or never lost): rebuilding onto them again would change
            // nothing until the chain clears them, so nothing is fetched.
            return new Mended(0, n - count);
        }
        int shardSize = Manifests.shardSize(m, seg);
        byte[][] s = new byte[n][];
        boolean[] present = new boolean[n];
        int got = 0;
        for (int i = 0; i < n && got < k; i++) {
            if (!healthy[i]) {
                continue;
            }
            try {
                byte[] b = fetcher.fetch(seg.getShards(i)).get(60, TimeUnit.SECONDS);
                if (b.length != shardSize) { // it matched its CID: the manifest's sizes are wrong, nothing can be rebuilt
                    LOG.log(System.Logger.Level.WARNING, "segment {0}: shard {1} is {2} bytes where the manifest''s sizes give {3}",
                            segCid, i, b.length, shardSize);
                    return new Mended(0, n - count);
                }
                s[i] = b;
                present[i] = true;
                got++;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Mended(0, n - count);
            } catch (Exception e) {
                // counted healthy a moment ago; another one may do
            }
        }
        if (got < k) {
            return new Mended(0, n - count);
        }
        for (int i = 0; i < n; i++) {
            if (!present[i]) {
                s[i] = new byte[shardSize];
            }
        }
        codecs.of(k, m.getM()).reconstruct(s, present, 0, shardSize);
        int rebuilt = 0;
        List<PeerId> placedOn = new ArrayList<>();
        List<PeerId> lost = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (healthy[i]) {
                continue;
            }
            for (com.google.protobuf.ByteString h : seg.getShards(i).getHoldersList()) {
                PeerId listed = PeerId.fromBytes(h.toByteArray());
                if (!lost.contains(listed)) {
                    lost.add(listed);
                }
            }
            Cid cid = Cid.fromBytes(seg.getShards(i).getCid().toByteArray());
            if (!cid.verify(s[i])) {
                LOG.log(System.Logger.Level.WARNING, "rebuilt shard {0} does not match its CID", cid);
                continue;
            }
            PeerId at = placer.placeOne(cid, s[i], nearest, used, m.getOwner().toByteArray());
            if (at != null) {
                used.add(at);
                placedOn.add(at);
                rebuilt++;
                LOG.log(System.Logger.Level.INFO, "rebuilt shard {0} onto {1}", cid, at);
            }
        }
        told(object, m, placedOn, lost);
        return new Mended(rebuilt, n - count - rebuilt);
    }

    /**
     * What an object still lacks: the indexes of segments short of k + m shards, and whether
     * its manifest has fewer live copies than it should.
     */
    public record Shortfall(Set<Integer> segments, boolean manifest) {
        public static final Shortfall NONE = new Shortfall(Set.of(), false);

        public Shortfall {
            segments = Set.copyOf(segments);
        }

        public boolean none() {
            return segments.isEmpty() && !manifest;
        }
    }

    /**
     * Repairs one object stored short of full redundancy, on the node that stored it, whatever
     * its distance to the keys (it knows what is missing): adds manifest copies up to the
     * replica count and rebuilds the segments' missing shards where a node can take them.
     *
     * @param todo what was still short after the last attempt; null the first time (then: every
     *     segment that records a missing shard, and the manifest copies)
     * @return what is still short: {@link Shortfall#NONE} once whole, or when the object was
     *     deleted (unpinned here) or is not held here
     */
    public Shortfall catchUp(Cid cid, Shortfall todo) throws StoreException {
        StoredShard s = local.metadata(cid);
        if (s == null || s.pins().isEmpty()) {
            return Shortfall.NONE; // deleted: nothing to keep whole
        }
        byte[] bytes;
        Manifests.Checked checked;
        try {
            bytes = local.get(cid);
            checked = Manifests.parse(bytes);
        } catch (StoreException | ObjectException e) {
            return Shortfall.NONE; // the scrub reports corrupt blocks; an invalid manifest is never acted on
        }
        Manifest m = checked.manifest();
        Set<Integer> segments = new java.util.TreeSet<>();
        if (todo == null) {
            for (int i = 0; i < m.getSegmentsCount(); i++) {
                if (recordedMissing(m.getSegments(i))) {
                    segments.add(i);
                }
            }
        } else {
            segments.addAll(todo.segments());
        }
        boolean manifestShort = false;
        if (todo == null || todo.manifest()) {
            List<PeerId> live = liveHolders(cid);
            if (!live.contains(self)) {
                live.add(self);
            }
            int added = checked.signed() ? keepManifestCopies(cid, bytes, m, live, true) : 0; // only a signed manifest is copied
            int want = Math.min(manifestReplicas, candidates.nearest(cid.toBytes()).size());
            manifestShort = live.size() + added < want;
        }
        Set<Integer> still = new java.util.TreeSet<>();
        for (int i : segments) {
            if (i < 0 || i >= m.getSegmentsCount()) {
                continue;
            }
            try {
                if (mend(cid, m, m.getSegments(i), false).missing() != 0) {
                    still.add(i);
                }
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.WARNING, "repair of segment {0} of {1} failed ({2})", i, cid, describe(e));
                still.add(i);
            }
        }
        return new Shortfall(still, manifestShort);
    }

    /**
     * The objects held here (pinned manifests) that list, for a shard of one of their segments, a
     * holder the chain holds suspect of it: to hand to the queue over {@link #chainCatchUp}. Reads
     * only this node's store; each (holder, shard) found counts once in
     * {@code oe_repair_chain_faults_total}. A manifest that cannot be read or parsed is skipped (the
     * pass reports it).
     */
    public List<Cid> chainFaulted() throws StoreException {
        HolderRecords rec = records.get();
        List<Cid> out = new ArrayList<>();
        for (StoredShard s : local.list()) {
            if (Thread.currentThread().isInterrupted()) {
                break;
            }
            if (s.cid().codec() != ContentCodec.MANIFEST || s.pins().isEmpty()) {
                continue;
            }
            Manifest m;
            try {
                m = Manifests.parse(local.get(s.cid())).manifest();
            } catch (StoreException | ObjectException | RuntimeException e) {
                continue;
            }
            boolean found = false;
            for (Segment seg : m.getSegmentsList()) {
                for (Shard sh : seg.getShardsList()) {
                    Cid cid = Cid.fromBytes(sh.getCid().toByteArray());
                    for (com.google.protobuf.ByteString h : sh.getHoldersList()) {
                        PeerId holder = PeerId.fromBytes(h.toByteArray());
                        if (rec.suspect(holder, cid)) {
                            found = true;
                            if (chainSeen.asMap().putIfAbsent(holder + "/" + cid, Boolean.TRUE) == null) {
                                chainFaults.increment();
                            }
                        }
                    }
                }
            }
            if (found) {
                out.add(s.cid());
            }
        }
        return out;
    }

    /** The peer of the manifest's owner key, or null when the key is not an Ed25519 key. */
    private static PeerId ownerPeer(Manifest m) {
        try {
            return m.getOwner().size() == 32 ? PeerId.fromEd25519(m.getOwner().toByteArray()) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Repairs the segments of one object held here whose listed holders the chain caught
     * ({@link #chainFaulted}): each by the node closest to its key among the manifest's live
     * holders (none the chain holds suspect of it), so the several nodes holding the manifest do not
     * all rebuild the same shard; whatever r is. A segment another node acts for is left to it.
     *
     * @param todo the segments still short after the last attempt; null the first time (then every
     *     segment listing a suspect holder)
     * @return the segments still short ({@link Shortfall#NONE} once none is, or when the object is
     *     gone, unpinned or unreadable here)
     */
    public Shortfall chainCatchUp(Cid cid, Shortfall todo) throws StoreException {
        StoredShard s = local.metadata(cid);
        if (s == null || s.pins().isEmpty()) {
            return Shortfall.NONE;
        }
        Manifests.Checked checked;
        try {
            checked = Manifests.parse(local.get(cid));
        } catch (StoreException | ObjectException e) {
            return Shortfall.NONE;
        }
        Manifest m = checked.manifest();
        byte[] me = ownerKey;
        boolean mine = Arrays.equals(m.getOwner().toByteArray(), me) && s.owners().stream().anyMatch(o -> Arrays.equals(o, me));
        if (!checked.signed() && !mine) {
            return Shortfall.NONE; // as in a pass: another key's unsigned manifest is its owner's node's to repair
        }
        HolderRecords rec = records.get();
        Set<Integer> segments = new java.util.TreeSet<>();
        if (todo == null) {
            for (int i = 0; i < m.getSegmentsCount(); i++) {
                if (listsSuspect(m.getSegments(i), rec)) {
                    segments.add(i);
                }
            }
        } else {
            segments.addAll(todo.segments());
        }
        if (segments.isEmpty()) {
            return Shortfall.NONE;
        }
        try {
            download.checkReadable(m);
        } catch (ObjectException e) {
            logOnce(cid, "the segments of manifest {0} are not repaired here: {1}", e);
            return Shortfall.NONE;
        }
        List<PeerId> manifestHolders = checked.signed() ? liveHolders(cid) : new ArrayList<>();
        if (!manifestHolders.contains(self)) {
            manifestHolders.add(self);
        }
        // With paid storage (a placed listener: the payer side), the chain's faults are the owner's to
        // repair: the blocks it rebuilds carry its pin, so their new holders can sign it receipts and
        // the contract's share moves to them; a block another node rebuilt would be pinned by that
        // node's key and paid by no one (and, the segment looking whole, the owner would never move
        // the share). Whether the owner looked live from here was a race under load. An owner that
        // is gone leaves the object to the periodic repair pass of the nodes nearest its keys.
        PeerId owner = ownerPeer(m);
        boolean ownerActs = checked.signed() && placedListener != RepairListener.NONE && owner != null;
        if (ownerActs && !owner.equals(self)) {
            return new Shortfall(new java.util.TreeSet<>(), false); // its owner repairs it
        }
        Set<Integer> still = new java.util.TreeSet<>();
        for (int i : segments) {
            if (i < 0 || i >= m.getSegmentsCount()) {
                continue;
            }
            Segment seg = m.getSegments(i);
            if (checked.signed() && !ownerActs && !actsFor(seg, manifestHolders)) {
                continue; // the closest live holder of the manifest acts for this segment
            }
            try {
                Mended done = mend(cid, m, seg, true);
                chainRebuilt.increment(done.rebuilt());
                if (done.missing() != 0) {
                    still.add(i);
                }
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.WARNING, "repair of segment {0} of {1} (the chain named a holder) failed ({2})",
                        i, cid, describe(e));
                still.add(i);
            }
        }
        return new Shortfall(still, false);
    }
}
