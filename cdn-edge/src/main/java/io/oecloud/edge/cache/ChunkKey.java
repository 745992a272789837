package io.oecloud.edge.cache;

import io.oecloud.proofs.Cid;

/**
 * One cached piece of an object: chunk {@code index} of the object {@code object}, that is its
 * bytes {@code [index × chunkSize, min(size, (index + 1) × chunkSize))}. Content named by a CID
 * never changes, so a key's bytes never change either: a cached chunk is never stale.
 */
public record ChunkKey(Cid object, long index) {
    public ChunkKey {
        if (object == null) {
            throw new IllegalArgumentException("a chunk key needs an object CID");
        }
        if (index < 0) {
            throw new IllegalArgumentException("a chunk index is never negative, was " + index);
        }
    }

    @Override
    public String toString() {
        return object + "#" + index;
    }
}
