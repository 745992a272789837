package io.oecloud.node.object;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.InvalidProtocolBufferException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import io.oecloud.node.shard.ShardException;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Manifests as blocks: fetched by CID (this node's copy, the nearest nodes, then the DHT's
 * providers) and checked with {@link Manifests#parse} before anything acts on them; signed with
 * this node's key and stored on several nodes with a quorum. A manifest's CID is its object's.
 */
final class ManifestStore {
    private static final System.Logger LOG = System.getLogger(ManifestStore.class.getName());

    private final ShardStore local;
    private final ShardHolders holders;
    private final Candidates candidates;
    private final Providers providers;
    private final Placer placer;
    private final Troubled troubled;
    private final PinRelease release;
    private final Identity owner;
    private final int replicas;
    private final int quorum;
    private final Counter degradedUploads;
    /**
     * Manifests whose bytes passed {@link Manifests#parse}, with whether they were signed. A CID
     * names its bytes and every read checks them against it, so bytes that passed once pass
     * again: a hit skips the checks and the signature (which cost a 100,000-entry directory's
     * reader several times its plain parse, at every request).
     */
    private final Cache<Cid, Boolean> checkedManifests = Caffeine.newBuilder().maximumSize(20_000).build();
    private volatile Consumer<Cid> degraded;

    /**
     * @param replicas nodes that hold each manifest
     * @param quorum copies a store needs (all the known nodes when fewer are known)
     */
    ManifestStore(ShardStore local, ShardHolders holders, Candidates candidates, Providers providers, Placer placer,
                  Troubled troubled, PinRelease release, Identity owner, int replicas, int quorum, MeterRegistry metrics) {
        this.local = local;
        this.holders = holders;
        this.candidates = candidates;
        this.providers = providers;
        this.placer = placer;
        this.troubled = troubled;
        this.release = release;
        this.owner = owner;
        this.replicas = replicas;
        this.quorum = quorum;
        this.degradedUploads = Counter.builder("oe_uploads_degraded").description(
                "Objects stored with some shards or manifest copies missing (no node could take them), queued for repair").register(metrics);
    }

    /** The object's manifest: from this node's store, else from the nearest nodes and the DHT's providers. */
    Manifest get(Cid cid) throws ObjectException {
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
            List<PeerId> sources = new ArrayList<>(candidates.nearest(cid.toBytes()));
            try {
                for (Provider p : providers.find(cid, 10).get(30, TimeUnit.SECONDS)) {
                    if (!sources.contains(p.peer())) {
                        providers.remember(p);
                        sources.add(p.peer());
                    }
                }
            } catch (Exception e) {
                // the DHT is a second source; the nodes we know came first
            }
            sources.remove(holders.self()); // its copy was looked for above
            // stable: peers that failed us lately (wrong bytes, errors) are asked last, as for shards
            sources.sort(java.util.Comparator.comparingInt(p -> troubled.test(p) ? 1 : 0));
            for (PeerId p : sources) {
                try {
                    bytes = holders.find(p, cid).get(30, TimeUnit.SECONDS);
                    break;
                } catch (Exception e) {
                    if (!notFound(e)) {
                        troubled.failedGet(p, e); // not "I have no copy" (most nodes asked have none): wrong bytes, an error or no answer
                    }
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

    /** Whether a GET failed only because the peer has no copy. */
    private static boolean notFound(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ShardException se) {
                return se.status() == ShardResponse.Status.NOT_FOUND;
            }
        }
        return false;
    }

    /** {@link Manifests#parse} of {@code bytes}, which must have been checked against {@code cid} (every store and shard read does). */
    Manifests.Checked checked(Cid cid, byte[] bytes) throws ObjectException {
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
     * Signs {@code m} with this node's key and stores it on up to {@code replicas} nodes, this one
     * first; returns its CID (the object's). An object stored short of full redundancy (a segment
     * with a shard no node took, or fewer manifest copies) is reported to {@link #onDegraded}.
     *
     * @param pinned receives the pin of every copy placed, for an upload that fails to take back
     */
    Cid store(Manifest m, Queue<Pin> pinned) throws ObjectException {
        byte[] bytes = Manifests.sign(m, owner); // signed by this node's key (its owner), checked below as every receiver will but the signature
        if (bytes.length > ShardServer.MAX_SHARD) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "the manifest would be " + bytes.length
                    + " bytes, over the block limit of " + ShardServer.MAX_SHARD);
        }
        String problem = Manifests.problemOfOwn(bytes);
        if (problem != null) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "the nodes would refuse this object's " + problem);
        }
        Cid cid = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, bytes);
        List<PeerId> cands = new ArrayList<>(candidates.nearest(cid.toBytes()));
        cands.remove(holders.self());
        cands.add(0, holders.self()); // the uploading node keeps a copy of what it was given
        int r = Math.min(replicas, cands.size());
        List<Cid> cids = new ArrayList<>();
        List<byte[]> blocks = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            cids.add(cid);
            blocks.add(bytes);
        }
        List<PeerId> copies = placer.place("the manifest", cids, blocks, cands, Math.min(quorum, r), pinned);
        int missingShards = 0;
        for (Segment seg : m.getSegmentsList()) {
            for (Shard sh : seg.getShardsList()) {
                missingShards += sh.getHoldersCount() == 0 ? 1 : 0;
            }
        }
        int missingCopies = (int) copies.stream().filter(Objects::isNull).count();
        if (missingShards > 0 || missingCopies > 0) {
            degradedUploads.increment();
            LOG.log(System.Logger.Level.WARNING, "{0} stored short of full redundancy: {1} shards and {2} manifest copies "
                    + "could not be placed (every known node was tried); queued for repair", cid, missingShards, missingCopies);
            Consumer<Cid> l = degraded;
            if (l != null) {
                l.accept(cid);
            }
        }
        return cid;
    }

    /**
     * A manifest stored alone (a directory): its copies are taken back when it cannot reach its
     * quorum or {@code hook} throws.
     */
    Cid store(Manifest m, StoredHook hook) throws ObjectException {
        Queue<Pin> pinned = new ConcurrentLinkedQueue<>();
        boolean stored = false;
        try {
            Cid cid = store(m, pinned);
            hook.stored(cid, m, copies(cid, pinned));
            stored = true;
            return cid;
        } finally {
            if (!stored) {
                release.release(pinned, "a failed manifest");
            }
        }
    }

    /** The nodes that took a copy of manifest {@code cid}, as the pins of its store recorded them (distinct, in order). */
    static List<PeerId> copies(Cid cid, Queue<Pin> pinned) {
        return pinned.stream().filter(p -> p.cid().equals(cid)).map(Pin::peer).distinct().toList();
    }

    /** Called with each object stored short of full redundancy, for repair to catch up on it at once. */
    void onDegraded(Consumer<Cid> listener) {
        this.degraded = listener;
    }
}
