package io.oecloud.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.edge.cache.DiskTier;
import io.oecloud.edge.cache.MemoryTier;
import io.oecloud.proofs.Cid;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tiered cache over an in-memory origin: admission under a scan, the disk tier below memory, Age. */
class EdgeCacheTest {
    private final MemoryOrigin origin = new MemoryOrigin();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final EdgeMetrics metrics = new EdgeMetrics(registry);

    @TempDir
    Path dir;

    private EdgeCache cache(MemoryTier memory, DiskTier disk, long[] now, ExecutorService background) {
        return new EdgeCache(new ObjectReader(origin, 10_000, metrics), memory, disk, null, 4096, metrics, () -> now[0], background);
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aScanOfTenTimesTheMemoryTier_keepsTheHotSetsHitRatioAbove90Percent() throws Exception {
        // memory for 64 chunks of 4 KiB; 16 hot objects read over and over among 640 read once (10x the tier)
        List<Cid> hot = new ArrayList<>();
        List<Cid> scan = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            hot.add(origin.putFile(random(4096, i), "", 1 << 20, 2));
        }
        for (int i = 0; i < 640; i++) {
            scan.add(origin.putFile(random(4096, 1000 + i), "", 1 << 20, 2));
        }
        try (ExecutorService background = Executors.newVirtualThreadPerTaskExecutor()) {
            EdgeCache cache = cache(new MemoryTier(64 * (4096 + 128), Runnable::run), null, new long[] {0}, background);
            Random r = new Random(42);
            for (int warm = 0; warm < 5; warm++) {
                for (Cid c : hot) {
                    cache.chunk(cache.object(c).object(), 0);
                }
            }
            int hits = 0;
            int reads = 0;
            for (Cid s : scan) {
                cache.chunk(cache.object(s).object(), 0); // a one-time read
                Cid c = hot.get(r.nextInt(hot.size()));
                EdgeCache.Chunk got = cache.chunk(cache.object(c).object(), 0);
                reads++;
                hits += got.tier() == EdgeMetrics.Tier.MEMORY ? 1 : 0;
            }
            double ratio = (double) hits / reads;
            assertTrue(ratio >= 0.9, "hot set hit ratio " + ratio + " under a scan of 640 one-time chunks");
        }
    }

    @Test
    void chunksEvictedFromMemory_comeFromDisk_andTheAgeCountsFromTheFirstFetch() throws Exception {
        byte[] bytes = random(40 * 4096 + 100, 9);
        Cid cid = origin.putFile(bytes, "", 64 << 10, 2);
        long[] now = {1_000_000};
        try (ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
             DiskTier disk = DiskTier.open(dir.resolve("disk"), 64L << 20, registry)) {
            EdgeCache cache = cache(new MemoryTier(8 * (4096 + 128), Runnable::run), disk, now, background);
            EdgeCache.Cached o = cache.object(cid);
            for (long i = 0; i < cache.chunks(o.object()); i++) {
                assertEquals(EdgeMetrics.Tier.ORIGIN, cache.chunk(o.object(), i).tier());
            }
            int slices = origin.sliceCalls.get();
            byte[] again = new byte[bytes.length];
            int fromDisk = 0;
            for (long i = 0; i < cache.chunks(o.object()); i++) {
                EdgeCache.Chunk c = cache.chunk(o.object(), i);
                fromDisk += c.tier() == EdgeMetrics.Tier.DISK ? 1 : 0;
                System.arraycopy(c.bytes(), 0, again, (int) (i * 4096), c.bytes().length);
            }
            assertArrayEquals(bytes, again);
            assertEquals(slices, origin.sliceCalls.get(), "nothing fetched twice");
            assertTrue(fromDisk >= 30, "chunks the memory tier let go came from disk: " + fromDisk);
            now[0] += 90_000;
            assertEquals(90, cache.ageSeconds(cache.object(cid).fetchedAtMillis()));
        }
    }
}
