package io.oecloud.edge.cache;

import io.oecloud.proofs.Cid;

/**
 * A tier of the edge's cache below memory: bytes by {@link ChunkKey}, bounded by its own size,
 * never failing a request (an I/O error is a miss). What it gives back must be the bytes put,
 * checked on the way out.
 */
public interface ChunkStore {
    /** The bytes put under {@code key}, or null (absent, evicted, or failed their check). */
    byte[] get(ChunkKey key);

    /** Keeps {@code bytes} under {@code key} if the tier admits them; a failure only logs. */
    void put(ChunkKey key, byte[] bytes);

    /** Drops every key of {@code object}; returns how many. */
    int purge(Cid object);
}
