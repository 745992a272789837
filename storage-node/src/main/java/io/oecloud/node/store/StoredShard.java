package io.oecloud.node.store;

import io.oecloud.proofs.Cid;

/**
 * What the store knows of one shard it holds.
 *
 * @param cid the shard's name (and, through its digest, its data commitment)
 * @param size bytes
 * @param holding how this node holds it (raw today; sealed later)
 * @param storedAtMillis when it was stored
 * @param verifiedAtMillis when its bytes last matched the CID (store or scrub)
 */
public record StoredShard(Cid cid, long size, Holding holding, long storedAtMillis, long verifiedAtMillis) {
    byte[] encode() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 + 8 + 8 + 8);
        b.put(holding.tag()).putLong(size).putLong(storedAtMillis).putLong(verifiedAtMillis);
        return b.array();
    }

    static StoredShard decode(Cid cid, byte[] bytes) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
        byte tag = b.get();
        if (tag != 0) {
            throw new IllegalStateException("unknown holding kind " + tag + " for " + cid);
        }
        return new StoredShard(cid, b.getLong(), new Holding.Raw(), b.getLong(), b.getLong());
    }
}
