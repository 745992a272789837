package io.oecloud.edge.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.oecloud.proofs.Cid;
import java.util.concurrent.Executor;

/**
 * The memory tier: Caffeine weighted by bytes. Its W-TinyLFU admission keeps a frequency sketch
 * of every key asked for and admits a new chunk only over a victim that was asked for less, so
 * a scan of one-time reads does not flush a hot set (tested: {@code EdgeCacheTest}).
 */
public final class MemoryTier implements ChunkStore {
    /** A chunk's weight beyond its bytes: the key, the array header, the map entry. */
    private static final int OVERHEAD = 128;

    private final Cache<ChunkKey, byte[]> cache;

    /**
     * @param maxBytes weight bound (bytes of chunks plus a small overhead each)
     * @param maintenance where Caffeine runs evictions ({@code Runnable::run} in tests, for exact figures)
     */
    public MemoryTier(long maxBytes, Executor maintenance) {
        this.cache = Caffeine.newBuilder().maximumWeight(maxBytes).executor(maintenance)
                .weigher((ChunkKey k, byte[] v) -> v.length + OVERHEAD).build();
    }

    @Override
    public byte[] get(ChunkKey key) {
        return cache.getIfPresent(key);
    }

    @Override
    public void put(ChunkKey key, byte[] bytes) {
        cache.put(key, bytes);
    }

    @Override
    public int purge(Cid object) {
        int[] n = {0};
        cache.asMap().keySet().removeIf(k -> {
            boolean match = k.object().equals(object);
            n[0] += match ? 1 : 0;
            return match;
        });
        return n[0];
    }

    /** Bytes held (with overheads), after pending maintenance. */
    public long weight() {
        cache.cleanUp();
        return cache.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
    }
}
