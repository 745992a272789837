package io.oecloud.node.object;

import com.google.protobuf.ByteString;
import io.oecloud.dht.PeerId;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The objects this node's key owns: listed from the manifests it pinned and signed, and unpinned
 * everywhere (a DELETE). A node also holds copies of others' manifests (repair places them), and a
 * pin names a key without proving anything: only the owner's signature does.
 */
final class OwnedObjects {
    /** Providers of a manifest asked about when it is unpinned. */
    static final int PROVIDERS = 20;

    private final ManifestStore manifests;
    private final ShardStore local;
    private final ShardHolders holders;
    private final Candidates candidates;
    private final Providers providers;
    private final byte[] key;

    /** @param key this node's public key: the owner of what it uploads */
    OwnedObjects(ManifestStore manifests, ShardStore local, ShardHolders holders, Candidates candidates, Providers providers,
                 byte[] key) {
        this.manifests = manifests;
        this.local = local;
        this.holders = holders;
        this.candidates = candidates;
        this.providers = providers;
        this.key = key.clone();
    }

    /**
     * Removes this node's pins from every shard of the object and from its manifest copies; the
     * holders collect them after their grace period.
     *
     * @return how many pins were removed
     * @throws ObjectException NOT_FOUND for an unknown object, or one unpinned here already;
     *     NOT_OWNER when this node's key is not the object's owner
     */
    int unpin(Cid cid) throws ObjectException {
        Manifest m = manifests.get(cid);
        if (!Arrays.equals(m.getOwner().toByteArray(), key)) {
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
                if (!local.unpin(cid, key)) {
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
                    all.add(holders.unpin(PeerId.fromBytes(h.toByteArray()), c));
                }
            }
        }
        Set<PeerId> manifestHolders = new LinkedHashSet<>(candidates.nearest(cid.toBytes()));
        manifestHolders.addAll(providers.known(cid, PROVIDERS));
        manifestHolders.remove(holders.self()); // its copy was unpinned above
        for (PeerId p : manifestHolders) {
            all.add(holders.unpin(p, cid));
        }
        for (CompletableFuture<Boolean> f : all) {
            // a holder that cannot be reached keeps its pin (garbage that is kept, never data lost):
            // the object is deleted here all the same, and the answer counts the pins removed
            n += f.handle((ok, e) -> e == null && Boolean.TRUE.equals(ok)).join() ? 1 : 0;
        }
        return n;
    }

    /**
     * The objects uploaded through this node, newest first: manifests here pinned by its key whose
     * owner signature verifies with its key. Unsigned manifests (written before signatures) are
     * not listed.
     */
    List<ObjectStore.ObjectInfo> list() throws StoreException {
        List<ObjectStore.ObjectInfo> out = new ArrayList<>();
        for (StoredShard s : local.list()) {
            if (s.cid().codec() != ContentCodec.MANIFEST || s.owners().stream().noneMatch(o -> Arrays.equals(o, key))) {
                continue;
            }
            try {
                Manifests.Checked c = manifests.checked(s.cid(), local.get(s.cid()));
                Manifest m = c.manifest();
                if (c.signed() && Arrays.equals(m.getOwner().toByteArray(), key)) {
                    out.add(new ObjectStore.ObjectInfo(s.cid(), m.getSize(), m.getContentType(), m.getKind() == Kind.DIRECTORY,
                            m.hasEncryption(), s.storedAtMillis()));
                }
            } catch (StoreException | ObjectException e) {
                // corrupt, invalid or just collected: not listed; the scrubber and repair deal with it
            }
        }
        out.sort(Comparator.comparingLong(ObjectStore.ObjectInfo::storedAtMillis).reversed().thenComparing(i -> i.cid().toString()));
        return out;
    }
}
