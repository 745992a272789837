package io.oecloud.edge.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

class DiskTierTest {
    /** A chunk of 4,000 bytes costs two blocks (8 KiB): its file's block and the per-entry one. */
    private static final int CHUNK = 4000;
    private static final long COST = DiskTier.allocated(CHUNK);

    @TempDir
    Path dir;

    private final MeterRegistry registry = new SimpleMeterRegistry();

    private static Cid object(String name) {
        return Cid.raw(("object " + name).getBytes(StandardCharsets.UTF_8));
    }

    private static ChunkKey key(String object, long index) {
        return new ChunkKey(object(object), index);
    }

    /** The bytes of a key: the same every time, so any bytes a get returns can be checked. */
    private static byte[] bytesOf(ChunkKey key, int size) {
        byte[] b = new byte[size];
        new SplittableRandom(key.hashCode() * 31L + key.index()).nextBytes(b);
        return b;
    }

    private static byte[] bytesOf(ChunkKey key) {
        return bytesOf(key, CHUNK);
    }

    private DiskTier open(long capacity) throws IOException {
        return DiskTier.open(dir, capacity, registry);
    }

    private double counter(String name) {
        return registry.get(name).counter().count();
    }

    private List<Path> chunkFiles() throws IOException {
        try (Stream<Path> s = Files.walk(dir.resolve("chunks"))) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    /** What the files on disk take, counted as the tier counts it. */
    private long bytesOnDisk() throws IOException {
        long sum = 0;
        for (Path f : chunkFiles()) {
            sum += DiskTier.allocated(Files.size(f));
        }
        return sum;
    }

    private List<byte[]> indexKeys() throws Exception {
        List<byte[]> keys = new ArrayList<>();
        try (Options o = new Options(); RocksDB db = RocksDB.open(o, dir.resolve("index").toString());
                RocksIterator it = db.newIterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                keys.add(it.key());
            }
        }
        return keys;
    }

    @Test
    void put_thenGet_returnsTheSameBytes_andCountsTheirBlocks() throws IOException {
        try (DiskTier disk = open(64 * COST)) {
            ChunkKey k = key("a", 0);
            assertNull(disk.get(k));
            disk.put(k, bytesOf(k));
            assertArrayEquals(bytesOf(k), disk.get(k));
            assertEquals(1, disk.count());
            assertEquals(COST, disk.used());
            assertEquals(COST, registry.get("oe_edge_disk_bytes").gauge().value());
            assertEquals(1, registry.get("oe_edge_disk_chunks").gauge().value());

            disk.put(k, bytesOf(k)); // already here: a no-op
            assertEquals(1, disk.count());
            assertEquals(COST, disk.used());
            assertEquals(List.of(disk.file(k)), chunkFiles());
        }
    }

    @Test
    void put_emptyChunk_roundTrips_andCostsOneBlock() throws IOException {
        try (DiskTier disk = open(64 * COST)) {
            ChunkKey k = key("empty", 0);
            disk.put(k, new byte[0]);
            assertArrayEquals(new byte[0], disk.get(k));
            assertEquals(DiskTier.PER_ENTRY_OVERHEAD, disk.used());
        }
    }

    @Test
    void open_tooSmallCapacity_throwsNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> open(100));
        assertTrue(e.getMessage().contains("100"), e.getMessage());
    }

    @Test
    void put_chunkLargerThanAnEighthOfTheCapacity_isNotAdmitted() throws IOException {
        try (DiskTier disk = open(64 * COST)) {
            ChunkKey big = key("big", 0);
            disk.put(big, bytesOf(big, (int) (64 * COST / 8) + 1));
            assertNull(disk.get(big));
            assertEquals(0, disk.used());
            assertEquals(List.of(), chunkFiles());

            ChunkKey fits = key("big", 1);
            disk.put(fits, bytesOf(fits, (int) (64 * COST / 8)));
            assertNotNull(disk.get(fits));
        }
    }

    @Test
    void closeAndReopen_keepsChunksReadable_andUsedTheSame() throws IOException {
        long used;
        try (DiskTier disk = open(64 * COST)) {
            for (int i = 0; i < 20; i++) {
                ChunkKey k = key("restart", i);
                disk.put(k, bytesOf(k, 1000 + 700 * i)); // sizes across block boundaries
            }
            used = disk.used();
            assertEquals(20, disk.count());
        }
        try (DiskTier disk = open(64 * COST)) {
            assertEquals(used, disk.used());
            assertEquals(20, disk.count());
            for (int i = 0; i < 20; i++) {
                ChunkKey k = key("restart", i);
                assertArrayEquals(bytesOf(k, 1000 + 700 * i), disk.get(k), "chunk " + i);
            }
            assertEquals(0, counter("oe_edge_disk_corrupt"));
        }
    }

    @Test
    void put_tenTimesTheCapacity_neverExceedsIt_andUsedMatchesTheDisk() throws IOException {
        long capacity = 32 * COST;
        try (DiskTier disk = open(capacity)) {
            Random sizes = new Random(7);
            for (int i = 0; i < 320; i++) {
                ChunkKey k = key("fill", i);
                disk.put(k, bytesOf(k, 1 + sizes.nextInt(CHUNK * 2)));
                assertTrue(disk.used() <= capacity, "after put " + i + ": " + disk.used() + " > " + capacity);
                long onDisk = bytesOnDisk();
                assertEquals(disk.used(), onDisk, "after put " + i);
                assertEquals(disk.count(), chunkFiles().size(), "after put " + i);
            }
            assertTrue(counter("oe_edge_disk_evictions") > 0);
            assertTrue(disk.used() > capacity / 2, "the tier should fill up, used " + disk.used());
        }
    }

    /**
     * The case W-TinyLFU is for: 16 chunks read again and again while 640 distinct chunks (10x the
     * capacity) pass through once each; a plain LRU would keep only the scan.
     */
    @Test
    void hotSet_survivesAScanOfTenTimesTheCapacity() throws IOException {
        try (DiskTier disk = open(64 * COST)) {
            Random random = new Random(42);
            int hotReads = 0;
            int hotHits = 0;
            for (int i = 0; i < 640; i++) {
                readThrough(disk, key("scan", i));
                for (int r = 0; r < 3; r++) {
                    boolean hit = readThrough(disk, key("hot", random.nextInt(16)));
                    if (i >= 64) { // after warm-up: the first 64 steps fill the tier
                        hotReads++;
                        hotHits += hit ? 1 : 0;
                    }
                }
                assertTrue(disk.used() <= disk.capacity());
            }
            double ratio = (double) hotHits / hotReads;
            assertTrue(ratio >= 0.9, "hot hit ratio " + ratio + " (" + hotHits + " of " + hotReads + ")");
        }
    }

    /** A cache-aside read: a miss puts the chunk, as the edge does after fetching it. */
    private static boolean readThrough(DiskTier disk, ChunkKey k) {
        byte[] b = disk.get(k);
        if (b != null) {
            assertArrayEquals(bytesOf(k), b);
            return true;
        }
        disk.put(k, bytesOf(k));
        return false;
    }

    @Test
    void get_fileWithAFlippedByte_missesDropsTheEntryAndCountsIt() throws IOException {
        try (DiskTier disk = open(64 * COST)) {
            ChunkKey k = key("flip", 0);
            ChunkKey other = key("flip", 1);
            disk.put(k, bytesOf(k));
            disk.put(other, bytesOf(other));
            Path f = disk.file(k);
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.seek(1234);
                int b = raf.read();
                raf.seek(1234);
                raf.write(b ^ 0x01);
            }
            assertNull(disk.get(k));
            assertEquals(1, counter("oe_edge_disk_corrupt"));
            assertFalse(Files.exists(f), "the corrupt file is deleted");
            assertEquals(1, disk.count());
            assertEquals(COST, disk.used());
            assertNull(disk.get(k)); // a plain miss now: counted once
            assertEquals(1, counter("oe_edge_disk_corrupt"));
            assertArrayEquals(bytesOf(other), disk.get(other));

            disk.put(k, bytesOf(k)); // the edge fetches it again
            assertArrayEquals(bytesOf(k), disk.get(k));
        }
    }

    @Test
    void get_truncatedFile_missesDropsTheEntryAndCountsIt() throws IOException {
        try (DiskTier disk = open(64 * COST)) {
            ChunkKey k = key("cut", 0);
            disk.put(k, bytesOf(k));
            Path f = disk.file(k);
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(CHUNK / 2);
            }
            assertNull(disk.get(k));
            assertEquals(1, counter("oe_edge_disk_corrupt"));
            assertEquals(0, disk.count());
            assertEquals(0, disk.used());
            assertEquals(List.of(), chunkFiles());
        }
    }

    @Test
    void get_fileDeletedBehindTheTiersBack_missesAndDropsTheEntry() throws IOException {
        try (DiskTier disk = open(64 * COST)) {
            ChunkKey k = key("gone", 0);
            disk.put(k, bytesOf(k));
            Files.delete(disk.file(k));
            assertNull(disk.get(k));
            assertEquals(0, disk.count());
            assertEquals(0, disk.used());
        }
    }

    @Test
    void open_deletesStrayFilesAndIndexEntriesWithoutAUsableFile() throws Exception {
        ChunkKey kept = key("stray", 0);
        ChunkKey lost = key("stray", 1);
        ChunkKey cut = key("stray", 2);
        try (DiskTier disk = open(64 * COST)) {
            for (ChunkKey k : List.of(kept, lost, cut)) {
                disk.put(k, bytesOf(k));
            }
            Files.delete(disk.file(lost)); // an index entry whose file vanished
            try (RandomAccessFile raf = new RandomAccessFile(disk.file(cut).toFile(), "rw")) {
                raf.setLength(10); // and one whose file was cut short
            }
        }
        try (Options o = new Options(); RocksDB db = RocksDB.open(o, dir.resolve("index").toString())) {
            db.put("not a chunk key".getBytes(StandardCharsets.UTF_8), new byte[3]); // an entry no tier wrote
        }
        Path strayDir = Files.createDirectories(dir.resolve("chunks").resolve("zz"));
        Path stray = Files.write(strayDir.resolve("stray-file"), new byte[100]);
        Path tmp = Files.write(strayDir.resolve("abc.17.tmp"), new byte[100]); // a put that crashed

        try (DiskTier disk = open(64 * COST)) {
            assertEquals(1, disk.count());
            assertEquals(COST, disk.used());
            assertArrayEquals(bytesOf(kept), disk.get(kept));
            assertNull(disk.get(lost));
            assertNull(disk.get(cut));
            assertFalse(Files.exists(stray));
            assertFalse(Files.exists(tmp));
            assertEquals(List.of(disk.file(kept)), chunkFiles());
        }
        assertEquals(1, indexKeys().size());
    }

    @Test
    void purge_dropsExactlyOneObjectsChunks() throws Exception {
        try (DiskTier disk = open(64 * COST)) {
            for (int i = 0; i < 5; i++) {
                for (String o : List.of("purged", "kept")) {
                    disk.put(key(o, i), bytesOf(key(o, i)));
                }
            }
            assertEquals(5, disk.purge(object("purged")));
            assertEquals(5, disk.count());
            assertEquals(5 * COST, disk.used());
            for (int i = 0; i < 5; i++) {
                assertNull(disk.get(key("purged", i)));
                assertArrayEquals(bytesOf(key("kept", i)), disk.get(key("kept", i)));
            }
            assertEquals(5, chunkFiles().size());
            assertEquals(0, disk.purge(object("purged")));
            assertEquals(0, disk.purge(object("never cached")));
            assertEquals(0, counter("oe_edge_disk_evictions"), "a purge is no eviction");
        }
        assertEquals(5, indexKeys().size());
        try (DiskTier disk = open(64 * COST)) {
            assertEquals(5, disk.count());
            assertNull(disk.get(key("purged", 0)));
        }
    }

    @Test
    void reopen_withALowerCapacity_evictsDownToIt() throws Exception {
        try (DiskTier disk = open(64 * COST)) {
            for (int i = 0; i < 40; i++) {
                disk.put(key("shrink", i), bytesOf(key("shrink", i)));
            }
            assertEquals(40, disk.count());
        }
        long lower = 16 * COST;
        try (DiskTier disk = open(lower)) {
            assertTrue(disk.used() <= lower, disk.used() + " > " + lower);
            assertEquals(16, disk.count());
            assertEquals(disk.used(), bytesOnDisk());
            assertEquals(disk.count(), chunkFiles().size());
            int readable = 0;
            for (int i = 0; i < 40; i++) {
                byte[] b = disk.get(key("shrink", i));
                if (b != null) {
                    assertArrayEquals(bytesOf(key("shrink", i)), b);
                    readable++;
                }
            }
            assertEquals(16, readable);
            assertEquals(24, counter("oe_edge_disk_evictions"));
        }
        assertEquals(16, indexKeys().size());
    }

    @Test
    void close_thenGetAndPut_missAndDoNothing() throws IOException {
        DiskTier disk = open(64 * COST);
        ChunkKey k = key("closed", 0);
        disk.put(k, bytesOf(k));
        disk.close();
        assertNull(disk.get(k));
        disk.put(key("closed", 1), bytesOf(key("closed", 1)));
        assertEquals(0, disk.purge(object("closed")));
        disk.close(); // twice is fine
        assertTrue(registry.find("oe_edge_disk_bytes").meters().isEmpty(), "meters removed on close");
    }

    /**
     * 16 virtual threads get, put and now and then purge over 300 keys for a bounded number of
     * operations (and at most 30 s); every chunk's bytes follow from its key, so a wrong or partial
     * answer is caught. Afterwards the accounting must match the files exactly, and a reopen too.
     */
    @Test
    void concurrentGetsAndPuts_keepUsedExact_andNeverReturnWrongBytes() throws Exception {
        long capacity = 48 * COST;
        int threads = 16;
        int opsPerThread = 1000;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger overCapacity = new AtomicInteger();
        AtomicLong hits = new AtomicLong();
        long used;
        try (DiskTier disk = open(capacity)) {
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long seed = 1000 + t;
                    done.add(pool.submit(() -> {
                        Random random = new Random(seed);
                        for (int op = 0; op < opsPerThread && System.nanoTime() < deadline; op++) {
                            // a skewed key choice: some keys are hot, most are cold
                            int n = random.nextInt(4) == 0 ? random.nextInt(300) : random.nextInt(24);
                            ChunkKey k = key(n % 2 == 0 ? "even" : "odd", n);
                            int size = sizeOf(n);
                            int what = random.nextInt(100);
                            if (what < 60) {
                                byte[] b = disk.get(k);
                                if (b != null) {
                                    hits.incrementAndGet();
                                    if (!java.util.Arrays.equals(bytesOf(k, size), b)) {
                                        wrong.incrementAndGet();
                                    }
                                }
                            } else if (what < 99) {
                                disk.put(k, bytesOf(k, size));
                            } else {
                                disk.purge(k.object());
                            }
                            if (disk.used() > capacity) {
                                overCapacity.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            }
            assertEquals(0, wrong.get(), "wrong bytes served");
            assertEquals(0, overCapacity.get(), "used() above the capacity");
            assertTrue(hits.get() > 0, "the run should hit sometimes");
            assertEquals(bytesOnDisk(), disk.used());
            assertEquals(chunkFiles().size(), disk.count());
            assertEquals(0, counter("oe_edge_disk_corrupt"));
            assertEquals(0, counter("oe_edge_disk_io_errors"));
            used = disk.used();
            for (int n = 0; n < 300; n++) { // whatever is held reads back intact
                ChunkKey k = key(n % 2 == 0 ? "even" : "odd", n);
                byte[] b = disk.get(k);
                if (b != null) {
                    assertArrayEquals(bytesOf(k, sizeOf(n)), b);
                }
            }
        }
        assertEquals(chunkFiles().size(), indexKeys().size());
        try (DiskTier disk = open(capacity)) {
            assertEquals(used, disk.used());
        }
    }

    private static int sizeOf(int n) {
        return 1 + (n * 977) % (2 * CHUNK);
    }
}
