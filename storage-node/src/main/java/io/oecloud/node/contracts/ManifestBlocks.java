package io.oecloud.node.contracts;

import io.oecloud.dht.PeerId;
import io.oecloud.node.object.Manifests;
import io.oecloud.node.object.ObjectException;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.node.shard.Receipts;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An object's blocks from its manifest, for receipts: this node's copy when it holds one (the
 * store checks it against its CID), else the asker's (the payer, which uploaded the object),
 * fetched with a GET that is checked against the CID; either way parsed and checked with
 * {@link Manifests#parse} before a CID of it is believed. Blocks: the manifest itself, then every
 * segment's shards in order.
 */
public final class ManifestBlocks implements Receipts.ObjectBlocks {
    private final ShardStore local;
    private final ShardClient shards;
    private final long fetchMillis;

    /**
     * @param shards fetches a manifest this node lacks from the asker (null: only local copies)
     * @param fetchMillis how long such a fetch may take
     */
    public ManifestBlocks(ShardStore local, ShardClient shards, long fetchMillis) {
        this.local = local;
        this.shards = shards;
        this.fetchMillis = fetchMillis;
    }

    @Override
    public List<Cid> blocks(Cid object, PeerId asker) throws IOException {
        if (object.codec() != ContentCodec.MANIFEST) {
            throw new IOException(object + " is not an object CID (codec " + object.codec().label() + ")");
        }
        byte[] bytes = null;
        try {
            if (local.metadata(object) != null) {
                bytes = local.get(object);
            }
        } catch (StoreException e) {
            bytes = null; // corrupt or gone: the asker's copy below
        }
        if (bytes == null) {
            if (shards == null) {
                throw new IOException("no copy of the manifest of " + object + " here");
            }
            try {
                bytes = shards.get(asker, object).get(fetchMillis, TimeUnit.MILLISECONDS); // checked against the CID
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while fetching the manifest of " + object, e);
            } catch (ExecutionException | TimeoutException e) {
                Throwable c = e.getCause() != null ? e.getCause() : e;
                throw new IOException("no copy of the manifest of " + object + " here, and the asker's could not be had ("
                        + (c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage()) + ")");
            }
        }
        Manifest m;
        try {
            m = Manifests.parse(bytes).manifest();
        } catch (ObjectException e) {
            throw new IOException("the manifest of " + object + " is refused: " + e.getMessage());
        }
        return blocksOf(object, m);
    }

    /** The manifest's CID, then each segment's shards (data, then parity). */
    static List<Cid> blocksOf(Cid object, Manifest m) {
        List<Cid> out = new ArrayList<>();
        out.add(object);
        for (Segment s : m.getSegmentsList()) {
            for (Shard sh : s.getShardsList()) {
                out.add(Cid.fromBytes(sh.getCid().toByteArray()));
            }
        }
        return out;
    }
}
