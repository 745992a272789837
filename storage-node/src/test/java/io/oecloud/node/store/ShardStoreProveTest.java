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
import io.oecloud.proofs.slice.Outboard;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProver;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ShardStore#prove} and the outboards behind it, on a real store in a temporary directory. */
class ShardStoreProveTest {
    @TempDir
    Path dir;

    private final Random rnd = new Random(24);

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static Cid cid(byte[] b) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
    }

    private static long chunks(int size) {
        return Math.max(1, Math.ceilDiv(size, 1024));
    }

    /** The store's proof verifies, carries the right bytes, and equals the proof made from the whole content. */
    private static void assertProves(ShardStore store, byte[] data, long first, int count) throws Exception {
        Cid c = cid(data);
        SliceProof p = store.prove(c, first, count);
        p.verify(c, data.length);
        assertEquals(first, p.firstChunk());
        assertEquals(count, p.chunkCount());
        int from = (int) (first * 1024);
        assertArrayEquals(Arrays.copyOfRange(data, from, (int) Math.min(data.length, (first + count) * 1024)), p.chunks());
        assertEquals(SliceProver.prove(data, first, count), p, "chunks [" + first + ", " + (first + count) + ") of " + data.length);
    }

    @Test
    void prove_rightAfterPut_verifies_forEveryRangeShape_onSeveralSizes() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 64 << 20)) {
            for (int size : new int[] {0, 1, 1024, 1025, 16 * 1024, 16 * 1024 + 1, 40_000}) {
                byte[] d = bytes(size);
                store.put(cid(d), d);
                assertNotNull(store.outboardBytes(cid(d)), "stored with its outboard");
                long n = chunks(size);
                for (long first = 0; first < n; first++) {
                    for (int count = 1; count <= n - first; count++) {
                        assertProves(store, d, first, count);
                    }
                }
            }
            byte[] big = bytes(2 << 20); // 2,048 chunks, 128 groups
            store.put(cid(big), big);
            assertEquals(2 + Outboard.sizeOf(big.length, 16), store.outboardBytes(cid(big)).length);
            for (int count : new int[] {1, 2, 15, 16, 17, 33, 1023, 1024}) {
                for (long first : new long[] {0, 1, 15, 16, 17, 1000, 1024, 2048 - count}) {
                    if (first + count <= 2048) {
                        assertProves(store, big, first, count);
                    }
                }
            }
        }
    }

    @Test
    void prove_afterRestart_usesTheStoredOutboard_andVerifies() throws Exception {
        byte[] d = bytes(300_000);
        byte[] stored;
        try (ShardStore store = ShardStore.open(dir, 8 << 20)) {
            store.put(cid(d), d);
            stored = store.outboardBytes(cid(d));
        }
        try (ShardStore store = ShardStore.open(dir, 8 << 20)) {
            assertArrayEquals(stored, store.outboardBytes(cid(d)));
            assertProves(store, d, 150, 7);
            assertProves(store, d, chunks(d.length) - 1, 1);
        }
    }

    @Test
    void prove_outboardDeletedOrDamaged_isRebuiltFromTheCheckedShard_andStillVerifies() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 8 << 20)) {
            byte[] d = bytes(1 << 20);
            Cid c = cid(d);
            store.put(c, d);
            byte[] good = store.outboardBytes(c);
            List<byte[]> damaged = new ArrayList<>();
            damaged.add(null); // gone
            damaged.add(new byte[0]); // no header
            byte[] version = good.clone();
            version[0] = 9;
            damaged.add(version);
            damaged.add(Arrays.copyOf(good, good.length - 1)); // wrong size
            byte[] top = good.clone();
            top[2] ^= 1; // the root's pair: the CID check catches it at once
            damaged.add(top);
            byte[] deep = good.clone();
            deep[good.length - 5] ^= 1; // group 63's CV, in the last pair: only a proof's verification catches it
            damaged.add(deep);
            for (byte[] bad : damaged) {
                store.setOutboardBytes(c, bad);
                assertProves(store, d, 1000, 1); // group 62: group 63's CV is its sibling
                assertArrayEquals(good, store.outboardBytes(c), "rebuilt");
            }
            assertTrue(store.has(c));
        }
    }

    @Test
    void prove_shardCorruptedInTheRange_isRefusedAsCorrupt_droppedAndReported() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 8 << 20)) {
            List<Cid> reported = new ArrayList<>();
            store.onCorrupt(reported::add);
            byte[] d = bytes(100_000);
            Cid c = cid(d);
            store.put(c, d);
            try (RandomAccessFile r = new RandomAccessFile(store.file(c).toFile(), "rw")) {
                r.seek(50_000);
                int x = r.read();
                r.seek(50_000);
                r.write(x ^ 0xff);
            }
            assertProves(store, d, 0, 16); // a group the damage is not in: its proof is right
            StoreException e = assertThrows(StoreException.class, () -> store.prove(c, 48, 1));
            assertEquals(StoreException.Code.CORRUPT, e.code(), e.getMessage());
            assertEquals(List.of(c), reported);
            assertNull(store.metadata(c));
            assertNull(store.outboardBytes(c), "the outboard went with the shard");
        }
    }

    @Test
    void prove_shardFileTruncatedOrGone_isRefusedAsCorrupt_andDropped() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 8 << 20)) {
            byte[] a = bytes(70_000);
            byte[] b = bytes(70_000);
            store.put(cid(a), a);
            store.put(cid(b), b);
            try (RandomAccessFile r = new RandomAccessFile(store.file(cid(a)).toFile(), "rw")) {
                r.setLength(60_000);
            }
            java.nio.file.Files.delete(store.file(cid(b)));
            assertEquals(StoreException.Code.CORRUPT, assertThrows(StoreException.class, () -> store.prove(cid(a), 68, 1)).code());
            assertEquals(StoreException.Code.CORRUPT, assertThrows(StoreException.class, () -> store.prove(cid(b), 0, 1)).code());
            assertEquals(0, store.count());
        }
    }

    @Test
    void prove_badRangesAndCounts_areRefused_namingTheValues() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 8 << 20)) {
            byte[] d = bytes(5000); // 5 chunks
            Cid c = cid(d);
            store.put(c, d);
            StoreException e = assertThrows(StoreException.class, () -> store.prove(c, 5, 1));
            assertEquals(StoreException.Code.BAD_RANGE, e.code());
            assertTrue(e.getMessage().contains("[5, 6)") && e.getMessage().contains("5000 bytes (5 chunks)"), e.getMessage());
            assertEquals(StoreException.Code.BAD_RANGE, assertThrows(StoreException.class, () -> store.prove(c, 3, 3)).code());
            assertEquals(StoreException.Code.BAD_RANGE, assertThrows(StoreException.class, () -> store.prove(c, -1, 1)).code());
            e = assertThrows(StoreException.class, () -> store.prove(c, 0, 0));
            assertTrue(e.getMessage().contains("1 to 1024 chunks, 0 were asked"), e.getMessage());
            byte[] big = bytes(2 << 20);
            store.put(cid(big), big);
            e = assertThrows(StoreException.class, () -> store.prove(cid(big), 0, 1025));
            assertEquals(StoreException.Code.BAD_RANGE, e.code());
            assertTrue(e.getMessage().contains("1025"), e.getMessage());
            assertEquals(StoreException.Code.NOT_FOUND, assertThrows(StoreException.class, () -> store.prove(cid(bytes(10)), 0, 1)).code());
            Cid sha = Cid.compute(ContentCodec.RAW, HashFunction.SHA2_256, d);
            store.put(sha, d);
            e = assertThrows(StoreException.class, () -> store.prove(sha, 0, 1));
            assertEquals(StoreException.Code.BAD_RANGE, e.code());
            assertTrue(e.getMessage().contains("BLAKE3 CIDs only"), e.getMessage());
            assertNull(store.outboardBytes(sha));
            // a manifest copy (a BLAKE3 CID of another codec) is proven as a shard is
            Cid manifest = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, big);
            store.put(manifest, big);
            store.prove(manifest, 3, 2).verify(manifest, big.length);
        }
    }

    @Test
    void putComputed_storesNoOutboard_theFirstProveBuildsIt() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 8 << 20)) {
            byte[] d = bytes(200_000);
            store.putComputed(cid(d), d, null);
            assertNull(store.outboardBytes(cid(d)));
            assertProves(store, d, 100, 50);
            assertArrayEquals(ShardStore.encodeOutboard(Outboard.build(d)), store.outboardBytes(cid(d)));
        }
    }

    @Test
    void scrub_rebuildsMissingAndDamagedOutboards_andLeavesGoodOnes() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 8 << 20)) {
            byte[] a = bytes(100_000);
            byte[] b = bytes(100_000);
            byte[] c = bytes(100_000);
            store.putComputed(cid(a), a, null); // none
            store.put(cid(b), b);
            store.put(cid(c), c);
            byte[] bad = store.outboardBytes(cid(b));
            bad[40] ^= 1;
            store.setOutboardBytes(cid(b), bad);
            assertEquals(List.of(), store.scrub());
            assertEquals(2, store.outboardsRebuilt());
            for (byte[] d : List.of(a, b, c)) {
                assertArrayEquals(ShardStore.encodeOutboard(Outboard.build(d)), store.outboardBytes(cid(d)));
            }
            assertEquals(List.of(), store.scrub());
            assertEquals(2, store.outboardsRebuilt(), "nothing left to rebuild");
        }
    }

    @Test
    void deleteAndGarbageCollection_removeTheOutboardWithTheShard() throws Exception {
        try (ShardStore store = ShardStore.open(dir, 8 << 20)) {
            byte[] a = bytes(50_000);
            byte[] b = bytes(50_000);
            byte[] owner = bytes(32);
            store.put(cid(a), a);
            store.put(cid(b), b, owner);
            assertTrue(store.delete(cid(a)));
            assertNull(store.outboardBytes(cid(a)));
            assertTrue(store.unpin(cid(b), owner));
            assertEquals(1, store.collectGarbage(0));
            assertNull(store.outboardBytes(cid(b)));
            assertFalse(store.has(cid(b)));
        }
    }
}
