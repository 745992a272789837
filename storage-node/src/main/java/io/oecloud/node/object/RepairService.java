package io.oecloud.node.object;

import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.dht.PeerId;
import io.oecloud.erasure.ReedSolomon;
import io.oecloud.node.pb.ManifestProto.Manifest;
import io.oecloud.node.pb.ManifestProto.Segment;
import io.oecloud.node.pb.ManifestProto.Shard;
import io.oecloud.node.store.StoreException;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Repair without a coordinator. Every node that holds a manifest looks at its segments; for each
 * segment, the node closest to the segment key among the manifest's live holders is the one that
 * acts (two acting at once only store a shard twice). It counts the shards that still have a
 * holder answering HAS (the manifest's holders, then the DHT's providers); when k <= healthy <=
 * k + r it fetches any k, rebuilds the missing shards and places each on a node that holds no
 * other shard of the segment, pinned by the object's owner key. The new holders announce the
 * shards in the DHT, which is where downloads look when a manifest's holder list is stale.
 */
public final class RepairService {
    private static final System.Logger LOG = System.getLogger(RepairService.class.getName());

    private final ObjectService objects;
    private final int r;

    /** @param r repair when healthy shards fall to k + r or fewer (1 by default) */
    public RepairService(ObjectService objects, int r) {
        if (r < 0) {
            throw new IllegalArgumentException("r must be >= 0, was " + r);
        }
        this.objects = objects;
        this.r = r;
    }

    /** What one pass did: shards rebuilt and placed, manifest copies added. */
    public record Repaired(int shards, int manifestCopies) {}

    /** One pass over the manifests this node holds. */
    public Repaired repairOnce() throws StoreException {
        int rebuilt = 0;
        int copies = 0;
        for (StoredShard s : objects.localStore().list()) {
            if (s.cid().codec() != ContentCodec.MANIFEST || s.pins().isEmpty()) {
                continue; // an unpinned manifest is a deleted object: its shards are left to the collector
            }
            Manifest m;
            try {
                m = Manifest.parseFrom(objects.localStore().get(s.cid()));
            } catch (StoreException | InvalidProtocolBufferException e) {
                continue; // the scrub reports corrupt manifests
            }
            List<PeerId> manifestHolders = liveHolders(s.cid());
            if (!manifestHolders.contains(objects.self())) {
                manifestHolders.add(objects.self());
            }
            copies += keepManifestCopies(s.cid(), m, manifestHolders);
            for (Segment seg : m.getSegmentsList()) {
                if (!actsFor(seg, manifestHolders)) {
                    continue;
                }
                try {
                    rebuilt += repairSegment(m, seg);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "repair of a segment of {0} failed: {1}", s.cid(), e.getMessage());
                }
            }
        }
        return new Repaired(rebuilt, copies);
    }

    /**
     * The DHT's providers of {@code cid} that answer HAS for it now: provider records outlive
     * wiped disks, and a holder that lost its copy must not be the one trusted to act.
     */
    private List<PeerId> liveHolders(Cid cid) {
        List<PeerId> out = java.util.Collections.synchronizedList(new ArrayList<>());
        List<java.util.concurrent.CompletableFuture<Boolean>> probes = new ArrayList<>();
        for (PeerId p : objects.providersOf(cid)) {
            probes.add(objects.holds(p, cid).thenApply(ok -> ok && out.add(p)).exceptionally(e -> false));
        }
        io.oecloud.dht.Deadlines.orTimeout(java.util.concurrent.CompletableFuture.allOf(
                probes.toArray(java.util.concurrent.CompletableFuture[]::new)), TimeUnit.SECONDS.toMillis(60))
                .exceptionally(e -> null).join();
        return new ArrayList<>(out);
    }

    /**
     * When fewer live nodes hold the manifest than the object's replica count, the closest live
     * holder to the manifest's key stores another copy on a node without one.
     */
    private int keepManifestCopies(Cid cid, Manifest m, List<PeerId> live) {
        if (live.size() >= objects.manifestReplicas()) {
            return 0;
        }
        List<PeerId> order = objects.candidates(cid.toBytes());
        PeerId acting = order.stream().filter(live::contains).findFirst().orElse(null);
        if (!objects.self().equals(acting)) {
            return 0;
        }
        byte[] bytes = m.toByteArray();
        Set<PeerId> avoid = new HashSet<>(live);
        int added = 0;
        for (int i = live.size(); i < objects.manifestReplicas(); i++) {
            PeerId at = objects.placeOne(cid, bytes, order, avoid, m.getOwner().toByteArray());
            if (at == null) {
                break;
            }
            avoid.add(at);
            added++;
            LOG.log(System.Logger.Level.INFO, "stored another copy of manifest {0} on {1}", cid, at);
        }
        return added;
    }

    /** Whether this node is the closest live manifest holder to the segment key. */
    private boolean actsFor(Segment seg, List<PeerId> manifestHolders) {
        List<PeerId> order = objects.candidates(seg.getCid().toByteArray());
        for (PeerId p : order) {
            if (manifestHolders.contains(p)) {
                return p.equals(objects.self());
            }
        }
        return false;
    }

    private int repairSegment(Manifest m, Segment seg) {
        int k = m.getK();
        int n = k + m.getM();
        boolean[] healthy = new boolean[n];
        List<Set<PeerId>> holders = objects.probe(seg);
        int count = 0;
        for (int i = 0; i < n; i++) {
            healthy[i] = !holders.get(i).isEmpty();
            count += healthy[i] ? 1 : 0;
        }
        if (count == n || count > k + r || count < k) {
            if (count < k) {
                LOG.log(System.Logger.Level.WARNING, "segment {0}: {1} healthy shards, {2} needed: cannot repair",
                        Cid.fromBytes(seg.getCid().toByteArray()), count, k);
            }
            return 0;
        }
        int shardSize = (int) ((ObjectService.codedSize(m, seg) + k - 1) / k);
        byte[][] s = new byte[n][];
        boolean[] present = new boolean[n];
        int got = 0;
        for (int i = 0; i < n && got < k; i++) {
            if (!healthy[i]) {
                continue;
            }
            try {
                s[i] = objects.fetchShard(seg.getShards(i)).get(60, TimeUnit.SECONDS);
                present[i] = true;
                got++;
            } catch (Exception e) {
                // counted healthy a moment ago; another one may do
            }
        }
        if (got < k) {
            return 0;
        }
        for (int i = 0; i < n; i++) {
            if (!present[i]) {
                s[i] = new byte[shardSize];
            }
        }
        ReedSolomon.of(k, m.getM()).reconstruct(s, present, 0, shardSize);
        Set<PeerId> used = new HashSet<>();
        for (Set<PeerId> hs : holders) {
            used.addAll(hs);
        }
        List<PeerId> candidates = objects.candidates(seg.getCid().toByteArray());
        int rebuilt = 0;
        for (int i = 0; i < n; i++) {
            if (healthy[i]) {
                continue;
            }
            Cid cid = Cid.fromBytes(seg.getShards(i).getCid().toByteArray());
            if (!cid.verify(s[i])) {
                LOG.log(System.Logger.Level.WARNING, "rebuilt shard {0} does not match its CID", cid);
                continue;
            }
            PeerId at = objects.placeOne(cid, s[i], candidates, used, m.getOwner().toByteArray());
            if (at != null) {
                used.add(at);
                rebuilt++;
                LOG.log(System.Logger.Level.INFO, "rebuilt shard {0} onto {1}", cid, at);
            }
        }
        return rebuilt;
    }

}
