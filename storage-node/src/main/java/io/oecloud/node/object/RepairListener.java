package io.oecloud.node.object;

import io.oecloud.dht.PeerId;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import java.util.List;

/**
 * Told by {@link RepairService} when this node placed rebuilt blocks of an object (shards of one
 * segment, or manifest copies) on new holders. Called on the repairing thread after the blocks are
 * placed: a listener that does network work hands it to a thread of its own. Exceptions it throws
 * are logged and do not stop the repair.
 */
@FunctionalInterface
public interface RepairListener {
    /** Does nothing. */
    RepairListener NONE = (object, manifest, added, lost) -> {};

    /**
     * @param object the object's CID (its manifest's)
     * @param manifest the object's manifest (its owner is the key the new blocks are pinned by)
     * @param added nodes that took a rebuilt block of the object
     * @param lost the holders the manifest lists for the rebuilt shards, which no longer answered for them
     */
    void placed(Cid object, Manifest manifest, List<PeerId> added, List<PeerId> lost);
}
