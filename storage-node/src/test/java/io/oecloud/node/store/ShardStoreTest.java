package io.oecloud.node.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.testkit.ManualClock;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shard store on a real RocksDB in a temporary directory. */
class ShardStoreTest {
    @TempDir
    Path dir;

    private final Random rnd = new Random(1);

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static Cid cid(byte[] b) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
    }

    @Test
    void put_get_range_has_list_delete() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 10 << 20)) {
            byte[] a = bytes(300_000);
            byte[] b = bytes(5000);
            StoredShard sa = store.put(cid(a), a);
            store.put(cid(b), b);
            assertEquals(300_000, sa.size());
            assertTrue(sa.holding() instanceof Holding.Raw);
            assertArrayEquals(a, store.get(cid(a)));
            assertArrayEquals(java.util.Arrays.copyOfRange(a, 1000, 1100), store.get(cid(a), 1000, 100));
            assertTrue(store.has(cid(b)));
            assertEquals(2, store.list().size());
            assertEquals(ShardStore.allocated(300_000) + ShardStore.allocated(5000), store.used());
            assertTrue(store.delete(cid(b)));
            assertFalse(store.delete(cid(b)));
            assertFalse(store.has(cid(b)));
            assertEquals(ShardStore.allocated(300_000), store.used());
            assertEquals(StoreException.Code.NOT_FOUND, assertThrows(StoreException.class, () -> store.get(cid(b))).code());
        }
    }

    @Test
    void put_bytesThatDoNotMatchTheCid_areRefused() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 1 << 20)) {
            byte[] a = bytes(1000);
            byte[] other = bytes(1000);
            StoreException e = assertThrows(StoreException.class, () -> store.put(cid(a), other));
            assertEquals(StoreException.Code.CID_MISMATCH, e.code());
            assertTrue(e.getMessage().contains(cid(a).toString()));
            assertEquals(0, store.used());
        }
    }

    @Test
    void putFromAReceiveBuffer_storesItsBytes_andRefusesBytesThatDoNotMatch() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 10 << 20)) {
            byte[] a = bytes(2 * (1 << 20) + 3);
            ByteBuffer in = store.receiveBuffer(a.length);
            in.put(a).flip();
            store.put(cid(a), in, null);
            store.recycle(in);
            assertArrayEquals(a, store.get(cid(a)));

            byte[] other = bytes(1000);
            ByteBuffer bad = store.receiveBuffer(other.length);
            bad.put(other).flip();
            StoreException e = assertThrows(StoreException.class, () -> store.put(cid(bytes(1000)), bad, null));
            assertEquals(StoreException.Code.CID_MISMATCH, e.code());
            store.recycle(bad);
            assertEquals(ShardStore.allocated(a.length), store.used());
            assertEquals(1, store.list().size());
        }
    }

    @Test
    void putComputed_storesWithoutHashingAgain_andAWrongCidIsStillCaughtWhenRead() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 10 << 20)) {
            byte[] a = bytes(70_000);
            store.putComputed(cid(a), a, null);
            assertArrayEquals(a, store.get(cid(a)));
            byte[] other = bytes(5000);
            Cid claimed = cid(bytes(5000)); // a caller that broke the contract
            store.putComputed(claimed, other, null);
            StoreException e = assertThrows(StoreException.class, () -> store.get(claimed));
            assertEquals(StoreException.Code.CORRUPT, e.code(), "never served: every read checks the CID");
            assertFalse(store.has(claimed));
        }
    }

    @Test
    void put_beyondCapacity_isRefused_andRepeatingAPutIsFree() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 20_000)) {
            byte[] a = bytes(6000);
            store.put(cid(a), a);
            store.put(cid(a), a); // already held: no double counting
            assertEquals(12_288, store.used(), "two 4 KiB blocks and one for the inode and index entry");
            byte[] b = bytes(6000);
            StoreException e = assertThrows(StoreException.class, () -> store.put(cid(b), b));
            assertEquals(StoreException.Code.FULL, e.code());
            assertTrue(e.getMessage().contains("12288 of 20000"), e.getMessage());
        }
    }

    @Test
    void acknowledgedShards_surviveReopen() throws Exception {
        List<byte[]> data = new ArrayList<>();
        try (ShardStore store = ShardStore.open(dir, 100 << 20)) {
            for (int i = 0; i < 20; i++) {
                byte[] d = bytes(10_000 + i * 1000);
                data.add(d);
                store.put(cid(d), d);
            }
        } // no flush: the synced WAL carries them
        try (ShardStore store = ShardStore.open(dir, 100 << 20)) {
            for (byte[] d : data) {
                assertArrayEquals(d, store.get(cid(d)));
            }
            assertEquals(data.stream().mapToLong(d -> ShardStore.allocated(d.length)).sum(), store.used());
        }
    }

    private void flipByte(Path f, long at) throws Exception {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.seek(at);
            int x = r.read();
            r.seek(at);
            r.write(x ^ 0xff);
        }
    }

    @Test
    void has_reusesARecentFullCheck_onlyWhileTheFileIsTheOneChecked_andGetAlwaysHashes() throws Exception {
        byte[] a = bytes(100_000);
        byte[] b = bytes(100_000);
        try (ShardStore store = ShardStore.open(dir, 10 << 20)) {
            store.put(cid(a), a);
            store.put(cid(b), b);
            assertTrue(store.has(cid(a))); // a full check
            assertTrue(store.has(cid(b)));
            // bit rot: the bytes change, the file's attributes do not; HAS trusts the recent check,
            // GET (and the scrub) hash again
            Path fa = store.file(cid(a));
            FileTime was = Files.getLastModifiedTime(fa);
            flipByte(fa, 7);
            Files.setLastModifiedTime(fa, was);
            assertTrue(store.has(cid(a)));
            assertEquals(StoreException.Code.CORRUPT, assertThrows(StoreException.class, () -> store.get(cid(a))).code());
            assertFalse(store.has(cid(a)));
            assertNull(store.metadata(cid(a)));
            // a rewritten file is not the one checked: HAS hashes it and drops it
            Path fb = store.file(cid(b));
            FileTime before = Files.getLastModifiedTime(fb);
            flipByte(fb, 7);
            Files.setLastModifiedTime(fb, FileTime.fromMillis(before.toMillis() + 1000));
            assertFalse(store.has(cid(b)));
            assertNull(store.metadata(cid(b)));
        }
    }

    @Test
    void shardCorruptedOnDisk_isNeverServed_droppedAndReported() throws Exception {
        byte[] a = bytes(200_000);
        try (ShardStore store = ShardStore.open(dir, 10 << 20)) {
            store.put(cid(a), a);
            flipByte(store.file(cid(a)), 100_000);
            List<Cid> reported = new ArrayList<>();
            store.onCorrupt(reported::add);
            StoreException e = assertThrows(StoreException.class, () -> store.get(cid(a)));
            assertEquals(StoreException.Code.CORRUPT, e.code());
            assertEquals(List.of(cid(a)), reported);
            assertFalse(store.has(cid(a)));
            assertEquals(0, store.list().size());
            assertEquals(0, store.used());
            assertFalse(Files.exists(store.file(cid(a))));
        }
    }

    @Test
    void scrub_findsCorruptAndMissingShards_andKeepsGoodOnes() throws Exception {
        byte[] good = bytes(50_000);
        byte[] bad = bytes(50_000);
        byte[] gone = bytes(50_000);
        try (ShardStore store = ShardStore.open(dir, 10 << 20)) {
            store.put(cid(good), good);
            store.put(cid(bad), bad);
            store.put(cid(gone), gone);
            flipByte(store.file(cid(bad)), 7);
            Files.delete(store.file(cid(gone)));
            List<Cid> corrupt = store.scrub();
            assertEquals(java.util.Set.of(cid(bad), cid(gone)), java.util.Set.copyOf(corrupt));
            assertArrayEquals(good, store.get(cid(good)));
            assertNotNull(store.metadata(cid(good)));
            assertEquals(ShardStore.allocated(50_000), store.used());
        }
    }

    @Test
    void unacknowledgedFiles_areRemovedAtOpen() throws Exception {
        byte[] a = bytes(1000);
        Path stray;
        try (ShardStore store = ShardStore.open(dir, 1 << 20)) {
            store.put(cid(a), a);
            stray = store.file(cid(a)).resolveSibling("bafkr4istray.tmp");
            Files.write(stray, new byte[10]); // a put that crashed before its index entry
        }
        try (ShardStore store = ShardStore.open(dir, 1 << 20)) {
            assertFalse(Files.exists(stray));
            assertArrayEquals(a, store.get(cid(a)));
        }
    }

    @Test
    void rangeOutsideTheShard_isRefused() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 1 << 20)) {
            byte[] a = bytes(100);
            store.put(cid(a), a);
            assertEquals(StoreException.Code.BAD_RANGE, assertThrows(StoreException.class, () -> store.get(cid(a), 90, 20)).code());
            assertEquals(StoreException.Code.BAD_RANGE, assertThrows(StoreException.class, () -> store.get(cid(a), -1, 2)).code());
        }
        assertThrows(IllegalArgumentException.class, () -> ShardStore.open(dir, 0));
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void pinsAreCounted_aShardTwoObjectsShare_survivesUnpinningOne() throws Exception {
        byte[] owner = new byte[32];
        owner[0] = 7;
        byte[] data = bytes(10_000);
        Cid c = cid(data);
        try (ShardStore s = ShardStore.open(dir, 1 << 20)) {
            s.put(c, data, owner); // object A
            s.put(c, data, owner); // object B shares the shard
            assertTrue(s.unpin(c, owner)); // A deleted
            assertEquals(0, s.collectGarbage(0));
            assertTrue(s.has(c), "B still needs it");
            assertTrue(s.unpin(c, owner)); // B deleted
            assertFalse(s.unpin(c, owner), "no pin left to remove");
            assertEquals(1, s.collectGarbage(0));
            assertFalse(s.has(c));
        }
    }

    @Test
    void collectGarbage_keepsAnUnpinnedShardForTheGrace_byTheStoresClock() throws Exception {
        long hour = 3_600_000;
        byte[] owner = new byte[32];
        owner[0] = 3;
        byte[] data = bytes(10_000);
        Cid c = cid(data);
        ManualClock clock = new ManualClock();
        try (ShardStore s = ShardStore.open(dir, 1 << 20, Quotas.unlimited(), clock)) {
            s.put(c, data, owner);
            clock.advance(Duration.ofHours(5));
            assertEquals(0, s.collectGarbage(hour), "pinned: time alone collects nothing");
            assertTrue(s.unpin(c, owner));
            assertEquals(clock.millis(), s.metadata(c).unpinnedAtMillis());
            clock.advance(Duration.ofMillis(hour - 1));
            assertEquals(0, s.collectGarbage(hour), "within the grace");
            assertTrue(s.has(c));
            clock.advance(Duration.ofMillis(1));
            assertEquals(1, s.collectGarbage(hour), "the grace is over");
            assertFalse(s.has(c));
        }
    }

    @Test
    void storedAndVerifiedTimes_comeFromTheStoresClock() throws Exception {
        byte[] data = bytes(1000);
        ManualClock clock = new ManualClock();
        try (ShardStore s = ShardStore.open(dir, 1 << 20, Quotas.unlimited(), clock)) {
            long stored = clock.millis();
            s.put(cid(data), data);
            clock.advance(Duration.ofMinutes(90));
            assertEquals(List.of(), s.scrub());
            StoredShard m = s.metadata(cid(data));
            assertEquals(stored, m.storedAtMillis());
            assertEquals(stored + 90 * 60_000, m.verifiedAtMillis());
        }
    }

    @Test
    void metadataWrittenBeforePinsWereCounted_readsAsOnePinEach() {
        byte[] owner = new byte[32];
        owner[5] = 9;
        java.nio.ByteBuffer old = java.nio.ByteBuffer.allocate(1 + 32 + 2 + 32);
        old.put((byte) 0).putLong(123).putLong(1).putLong(2).putLong(0).putShort((short) 1).put(owner);
        StoredShard s = StoredShard.decode(cid(new byte[] {1}), old.array());
        assertEquals(1, s.pins().size());
        assertEquals(1, s.pins().get(0).count());
        assertArrayEquals(owner, s.pins().get(0).owner());
        StoredShard twice = StoredShard.decode(s.cid(), s.withOwner(owner).encode());
        assertEquals(2, twice.pins().get(0).count());
    }

    @Test
    void closeWhileScrubsAndPutsRun_waitsForThem_andLaterCallsFailAsClosed() throws Exception {
        // RocksJava frees the database on close: a call racing it used to crash the whole JVM
        ShardStore store = ShardStore.open(dir, 100 << 20);
        for (int i = 0; i < 20; i++) {
            byte[] d = bytes(2000);
            store.put(cid(d), d);
        }
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(2);
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> unexpected = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicInteger closedSeen = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int me = w;
            workers.add(Thread.ofPlatform().start(() -> {
                java.util.Random r = new java.util.Random(me);
                running.countDown();
                for (int i = 0; i < 100_000; i++) { // until the store is closed under it
                    try {
                        if (me == 0) {
                            store.scrub();
                        } else {
                            byte[] d = new byte[1000];
                            r.nextBytes(d);
                            store.put(cid(d), d);
                            store.metadata(cid(d));
                        }
                    } catch (StoreException e) {
                        if (e.code() == StoreException.Code.CLOSED) {
                            closedSeen.incrementAndGet();
                            return;
                        }
                        unexpected.add(e);
                        return;
                    } catch (Throwable e) {
                        unexpected.add(e);
                        return;
                    }
                }
            }));
        }
        running.await();
        store.close();
        for (Thread t : workers) {
            t.join(30_000);
            assertFalse(t.isAlive(), "a worker still runs after close");
        }
        assertTrue(unexpected.isEmpty(), () -> "unexpected failures: " + unexpected);
        assertEquals(2, closedSeen.get(), "both workers were told the store is closed");
        byte[] d = bytes(100);
        assertEquals(StoreException.Code.CLOSED, assertThrows(StoreException.class, () -> store.put(cid(d), d)).code());
        assertEquals(StoreException.Code.CLOSED, assertThrows(StoreException.class, store::list).code());
        store.close(); // twice is harmless
        try (ShardStore again = ShardStore.open(dir, 100 << 20)) {
            assertTrue(again.count() >= 20, "acknowledged shards survive the close");
        }
    }

    @Test
    void concurrentPuts_ofDifferentAndOfTheSameShard_allLand_countOnce_andStayWithinCapacity() throws Exception {
        int threads = 8;
        int each = 12;
        byte[] common = new byte[4096];
        new java.util.Random(1).nextBytes(common);
        Cid commonCid = cid(common);
        try (ShardStore store = ShardStore.open(dir, 100 << 20)) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            List<java.util.concurrent.Future<List<Cid>>> futures = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                futures.add(pool.submit(() -> {
                    List<Cid> mine = new java.util.ArrayList<>();
                    java.util.Random rnd = new java.util.Random(100 + me);
                    for (int i = 0; i < each; i++) {
                        byte[] d = new byte[1000 + rnd.nextInt(5000)];
                        rnd.nextBytes(d);
                        mine.add(store.put(cid(d), d).cid());
                        byte[] owner = new byte[32];
                        owner[0] = (byte) me;
                        owner[1] = (byte) i;
                        store.put(commonCid, common, owner); // everyone pins the same shard too
                    }
                    return mine;
                }));
            }
            List<Cid> all = new java.util.ArrayList<>();
            for (var f : futures) {
                all.addAll(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            pool.shutdown();
            assertEquals(threads * each + 1, store.count());
            assertEquals(threads * each, store.metadata(commonCid).pins().size(), "one pin per owner, the file written once");
            long sizes = ShardStore.allocated(common.length);
            for (Cid c : all) {
                sizes += ShardStore.allocated(store.metadata(c).size());
                assertTrue(store.has(c));
            }
            assertEquals(sizes, store.used());
        }
        try (ShardStore store = ShardStore.open(dir, 100 << 20)) { // nothing acknowledged is lost, no stray files
            assertEquals(threads * each + 1, store.count());
            try (var files = java.nio.file.Files.walk(dir.resolve("shards"))) {
                assertEquals(threads * each + 1, files.filter(java.nio.file.Files::isRegularFile).count());
            }
        }
        // capacity for exactly 10 shards of 1,000 bytes, 40 put at once: 10 land, the rest are FULL
        Path small = dir.resolve("small");
        try (ShardStore store = ShardStore.open(small, 10 * ShardStore.allocated(1000))) {
            java.util.concurrent.atomic.AtomicInteger stored = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger full = new java.util.concurrent.atomic.AtomicInteger();
            List<Thread> ts = new java.util.ArrayList<>();
            for (int t = 0; t < 40; t++) {
                byte[] d = new byte[1000];
                new java.util.Random(500 + t).nextBytes(d);
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        store.put(cid(d), d);
                        stored.incrementAndGet();
                    } catch (StoreException e) {
                        if (e.code() == StoreException.Code.FULL) {
                            full.incrementAndGet();
                        }
                    }
                }));
            }
            for (Thread t : ts) {
                t.join(30_000);
            }
            assertTrue(stored.get() <= 10 && stored.get() + full.get() == 40, stored + " stored, " + full + " full");
            assertTrue(store.used() <= 10 * ShardStore.allocated(1000));
        }
    }

    @Test
    void collectGarbage_aShardPinnedAgainDuringThePass_isKept() throws Exception {
        // The pass read the index, found the shard unpinned, then deleted it although an upload had
        // pinned it again (and been acknowledged) meanwhile: HAS said OK, then NOT_FOUND.
        byte[] owner = new byte[32];
        owner[0] = 3;
        byte[] data = bytes(10_000);
        Cid c = cid(data);
        try (ShardStore s = ShardStore.open(dir, 1 << 20)) {
            s.put(c, data, owner);
            assertTrue(s.unpin(c, owner));
            java.util.concurrent.atomic.AtomicInteger repins = new java.util.concurrent.atomic.AtomicInteger();
            s.beforeGarbageDelete = () -> {
                try {
                    s.put(c, data, owner); // an upload acknowledged between the snapshot and the delete
                    repins.incrementAndGet();
                } catch (StoreException e) {
                    throw new AssertionError(e);
                }
            };
            assertEquals(0, s.collectGarbage(0), "nothing is collected");
            assertEquals(1, repins.get());
            assertTrue(s.has(c), "the acknowledged shard is still here");
            assertArrayEquals(owner, s.metadata(c).pins().get(0).owner());
            s.beforeGarbageDelete = () -> { };
            assertTrue(s.unpin(c, owner));
            assertEquals(1, s.collectGarbage(0), "and garbage is still collected");
        }
    }

    @Test
    void scrub_aPinAddedWhileTheShardIsChecked_isKept() throws Exception {
        // The scrub wrote back the entry it read before hashing the shard, dropping pins added meanwhile.
        byte[] owner = new byte[32];
        owner[0] = 4;
        byte[] data = bytes(20_000);
        Cid c = cid(data);
        try (ShardStore s = ShardStore.open(dir, 1 << 20)) {
            s.put(c, data); // held, no pin yet
            s.beforeScrubRecord = () -> {
                try {
                    s.put(c, data, owner);
                } catch (StoreException e) {
                    throw new AssertionError(e);
                }
            };
            long before = s.metadata(c).verifiedAtMillis();
            assertEquals(List.of(), s.scrub());
            StoredShard after = s.metadata(c);
            assertEquals(1, after.pins().size(), "the pin added during the scrub is kept");
            assertTrue(after.verifiedAtMillis() >= before);
            assertEquals(0, s.collectGarbage(0), "so it is not garbage");
        }
        try (ShardStore s = ShardStore.open(dir, 1 << 20)) {
            assertEquals(1, s.metadata(c).pins().size(), "and it is durable");
        }
    }

    @Test
    void put_theFirstShardOfANewSubdirectory_forcesTheShardsDirectory_beforeItIsAcknowledged() throws Exception {
        // shards/XY/ appeared in shards/ only in the page cache: a power loss could take the
        // directory, and the indexed shard in it, away.
        try (ShardStore s = ShardStore.open(dir, 1 << 20)) {
            List<Path> forced = java.util.Collections.synchronizedList(new ArrayList<>());
            s.directoryForced = forced::add;
            byte[] a = bytes(1000);
            Path sub = s.file(cid(a)).getParent();
            assertFalse(Files.exists(sub));
            s.put(cid(a), a);
            assertEquals(List.of(dir.resolve("shards"), sub), forced, "the new directory's parent, then the rename in it");
            forced.clear();
            byte[] b;
            do {
                b = bytes(1000);
            } while (!s.file(cid(b)).getParent().equals(sub));
            s.put(cid(b), b);
            assertEquals(List.of(sub), forced, "a directory already made durable is not forced again");
        }
        try (ShardStore s = ShardStore.open(dir, 1 << 20)) {
            assertEquals(2, s.count());
        }
    }

    @Test
    void capacity_isCountedInAllocatedBlocks_soTinyShardsCostWhatTheyTake() throws Exception {
        // 64-byte shards take a 4 KiB block and an inode each; counted as 64 bytes, a node admitted
        // 64 times more of them than its disk holds.
        assertEquals(8192, ShardStore.allocated(64));
        assertEquals(4096, ShardStore.allocated(0));
        assertEquals(8192, ShardStore.allocated(4096));
        assertEquals(12_288, ShardStore.allocated(4097));
        try (ShardStore s = ShardStore.open(dir, 10 * 8192)) {
            int stored = 0;
            for (int i = 0; i < 20; i++) {
                byte[] d = bytes(64);
                try {
                    s.put(cid(d), d);
                    stored++;
                } catch (StoreException e) {
                    assertEquals(StoreException.Code.FULL, e.code());
                }
            }
            assertEquals(10, stored);
            assertEquals(10 * 8192, s.used());
        }
    }
}
