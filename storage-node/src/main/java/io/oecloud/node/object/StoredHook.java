package io.oecloud.node.object;

import io.oecloud.dht.PeerId;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import java.util.List;

/**
 * Called once an object's blocks and its manifest are stored and before the upload (or directory)
 * is acknowledged: the last step of a store, on the uploading thread. When it throws, the store
 * fails as any other step would: every pin the upload placed is taken back ({@link PinRelease})
 * and the caller gets the exception, so nothing is acknowledged that the hook refused (the payer
 * side buys the object's storage contract here: {@code io.oecloud.node.paying.ContractBuyer}).
 */
@FunctionalInterface
public interface StoredHook {
    /** Does nothing. */
    StoredHook NONE = (object, manifest, copies) -> {};

    /**
     * @param object the object's CID (its manifest's)
     * @param manifest the manifest as stored (its shards' holders as placed)
     * @param manifestCopies the nodes that took a copy of the manifest (this node first when it kept one)
     * @throws ObjectException to fail the store; its code reaches the client
     */
    void stored(Cid object, Manifest manifest, List<PeerId> manifestCopies) throws ObjectException;
}
