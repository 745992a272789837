package io.oecloud.edge;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.oecloud.edge.EdgeMetrics.Tier;
import io.oecloud.edge.cache.ChunkKey;
import io.oecloud.edge.cache.ChunkStore;
import io.oecloud.edge.cache.MemoryTier;
import io.oecloud.proofs.Cid;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.function.LongSupplier;

/**
 * Objects and their chunks, from memory, else disk, else the origin (through the checking
 * {@link ObjectReader}). A chunk is {@code chunkSize} bytes of an object (1 MiB by default; the
 * last one shorter), so a Range request on a video caches what is watched and not the rest.
 *
 * <p>Coalescing: any number of concurrent misses of one chunk (or one manifest) make one origin
 * fetch; the others wait for it and share its bytes or its failure. Nothing that failed its check
 * is kept anywhere. Prefetch ({@link #prefetch}) fills the next chunks in the background, a
 * bounded number at once.
 *
 * <p>Age: the edge remembers when it first fetched an object (kept with the manifest, on disk
 * too), which is what an {@code Age} header reports; content named by a CID never goes stale.
 */
public final class EdgeCache {
    /** Prefetches running at once, beyond which more are skipped (a prefetch is an optimisation). */
    static final int MAX_PREFETCHES = 8;
    /** Manifests kept parsed in memory, by their bytes. */
    static final long MANIFEST_MEMORY = 64L << 20;

    /** A chunk and where it came from. */
    public record Chunk(byte[] bytes, Tier tier) {}

    /** An object and when this edge first fetched it. */
    public record Cached(EdgeObject object, long fetchedAtMillis) {}

    private final ObjectReader reader;
    private final MemoryTier memory;
    private final ChunkStore disk;
    private final ChunkStore manifestDisk;
    private final int chunkSize;
    private final EdgeMetrics metrics;
    private final LongSupplier millis;
    private final Executor background;
    private final Semaphore prefetching = new Semaphore(MAX_PREFETCHES);
    private final Cache<Cid, Cached> objects;
    private final ConcurrentHashMap<Object, CompletableFuture<Object>> inflight = new ConcurrentHashMap<>();

    /**
     * @param disk the disk tier of chunks, or null for none
     * @param manifestDisk the disk tier of manifests, or null for none
     * @param background where prefetches run (virtual threads)
     */
    public EdgeCache(ObjectReader reader, MemoryTier memory, ChunkStore disk, ChunkStore manifestDisk, int chunkSize,
                     EdgeMetrics metrics, LongSupplier millis, Executor background) {
        if (chunkSize < 1024 || chunkSize > (16 << 20)) {
            throw new IllegalArgumentException("a chunk is 1 KiB to 16 MiB, was " + chunkSize);
        }
        this.reader = reader;
        this.memory = memory;
        this.disk = disk;
        this.manifestDisk = manifestDisk;
        this.chunkSize = chunkSize;
        this.metrics = metrics;
        this.millis = millis;
        this.background = background;
        this.objects = Caffeine.newBuilder().maximumWeight(MANIFEST_MEMORY)
                .weigher((Cid c, Cached o) -> o.object().manifestBytes() + 256).build();
    }

    public int chunkSize() {
        return chunkSize;
    }

    /** How many chunks {@code o} is cut into. */
    public long chunks(EdgeObject o) {
        return Math.max(1, Math.ceilDiv(o.size(), chunkSize));
    }

    /** The object if its manifest is in memory, else null: never blocks (the event loop's fast path). */
    public Cached memoryObject(Cid cid) {
        return objects.getIfPresent(cid);
    }

    /** The object {@code cid}: memory, disk, else the origin (coalesced), checked against its CID. */
    public Cached object(Cid cid) throws EdgeException {
        Cached c = objects.getIfPresent(cid);
        if (c != null) {
            return c;
        }
        ChunkKey key = new ChunkKey(cid, 0);
        byte[] stored = manifestDisk == null ? null : manifestDisk.get(key);
        if (stored != null && stored.length > Long.BYTES) {
            try {
                ByteBuffer b = ByteBuffer.wrap(stored);
                long at = b.getLong();
                byte[] block = new byte[b.remaining()];
                b.get(block);
                c = new Cached(EdgeObject.of(cid, block), at);
                objects.put(cid, c);
                return c;
            } catch (EdgeException e) {
                manifestDisk.purge(cid); // the disk tier checks its bytes; this is a manifest written wrong
            }
        }
        Cached fetched = (Cached) coalesced(cid, () -> {
            long t0 = System.nanoTime();
            EdgeObject o = reader.object(cid);
            metrics.originFetch(System.nanoTime() - t0);
            Cached n = new Cached(o, millis.getAsLong());
            objects.put(cid, n);
            if (manifestDisk != null) {
                byte[] block = o.manifest().toByteArray(); // checked to hash to the CID: parsed bytes re-encode to themselves
                manifestDisk.put(key, ByteBuffer.allocate(Long.BYTES + block.length).putLong(n.fetchedAtMillis()).put(block).array());
            }
            return n;
        });
        return fetched;
    }

    /** Counts {@code n} bytes served whole from the HTTP front's hot answers (the memory tier's bytes, kept whole). */
    public void servedHot(int n) {
        metrics.served(Tier.MEMORY, n);
    }

    /** Chunk {@code index} of {@code o} if it is in memory, else null: never blocks. */
    public byte[] memoryChunk(EdgeObject o, long index) {
        return memory.get(new ChunkKey(o.cid(), index));
    }

    /** Chunk {@code index} of the public file {@code o}: memory, disk (then kept in memory), else the origin. */
    public Chunk chunk(EdgeObject o, long index) throws EdgeException {
        ChunkKey key = new ChunkKey(o.cid(), index);
        byte[] b = memory.get(key);
        if (b != null) {
            metrics.served(Tier.MEMORY, b.length);
            return new Chunk(b, Tier.MEMORY);
        }
        b = disk == null ? null : disk.get(key);
        if (b != null && b.length == chunkLength(o, index)) {
            memory.put(key, b);
            metrics.served(Tier.DISK, b.length);
            return new Chunk(b, Tier.DISK);
        }
        byte[] fetched = (byte[]) coalesced(key, () -> load(o, key));
        metrics.served(Tier.ORIGIN, fetched.length);
        return new Chunk(fetched, Tier.ORIGIN);
    }

    private byte[] load(EdgeObject o, ChunkKey key) throws EdgeException {
        long from = key.index() * chunkSize;
        long t0 = System.nanoTime();
        byte[] bytes = reader.read(o, from, Math.min(o.size(), from + chunkSize));
        metrics.originFetch(System.nanoTime() - t0);
        memory.put(key, bytes);
        if (disk != null) {
            disk.put(key, bytes);
        }
        return bytes;
    }

    private long chunkLength(EdgeObject o, long index) {
        return Math.min(chunkSize, o.size() - index * chunkSize);
    }

    /**
     * Fetches chunks {@code [from, from + count)} of {@code o} in the background when they are in
     * no tier, at most {@link #MAX_PREFETCHES} at once across the edge (others are skipped).
     */
    public void prefetch(EdgeObject o, long from, int count) {
        long end = Math.min(chunks(o), from + count);
        for (long i = Math.max(0, from); i < end; i++) {
            ChunkKey key = new ChunkKey(o.cid(), i);
            if (memory.get(key) != null || inflight.containsKey(key) || !prefetching.tryAcquire()) {
                continue;
            }
            background.execute(() -> {
                try {
                    if (disk == null || disk.get(key) == null) {
                        coalesced(key, () -> load(o, key));
                        metrics.prefetched();
                    }
                } catch (EdgeException | RuntimeException e) {
                    // a prefetch that fails costs nothing: a request for the chunk fetches (and reports) it again
                } finally {
                    prefetching.release();
                }
            });
        }
    }

    /** Drops {@code cid}'s manifest and chunks from every tier; returns the chunks dropped. */
    public int purge(Cid cid) {
        objects.invalidate(cid);
        int n = memory.purge(cid);
        if (disk != null) {
            n = Math.max(n, disk.purge(cid));
        }
        if (manifestDisk != null) {
            manifestDisk.purge(cid);
        }
        return n;
    }

    @FunctionalInterface
    private interface Load {
        Object load() throws EdgeException;
    }

    /**
     * Runs {@code load} for {@code key} unless a fetch of it is under way, in which case this waits
     * for that one and shares its result or failure.
     */
    private Object coalesced(Object key, Load load) throws EdgeException {
        CompletableFuture<Object> mine = new CompletableFuture<>();
        CompletableFuture<Object> running = inflight.putIfAbsent(key, mine);
        if (running != null) {
            metrics.coalesced();
            try {
                return running.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EdgeException(EdgeException.Kind.UNAVAILABLE, "interrupted while waiting for " + key);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof EdgeException ee) {
                    throw new EdgeException(ee.kind(), ee.getMessage(), ee);
                }
                throw new EdgeException(EdgeException.Kind.UNAVAILABLE, "fetching " + key + " failed: " + e.getCause(), e.getCause());
            }
        }
        try {
            Object v = load.load();
            mine.complete(v);
            return v;
        } catch (EdgeException | RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inflight.remove(key, mine);
        }
    }

    /** How long ago the edge first fetched an object fetched at {@code fetchedAtMillis}, in seconds. */
    public long ageSeconds(long fetchedAtMillis) {
        return Math.max(0, Duration.ofMillis(millis.getAsLong() - fetchedAtMillis).toSeconds());
    }
}
