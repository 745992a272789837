package io.oecloud.node.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.storage.NodeEntry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's proving hooks: {@link ShardStore#forEachEntry} and the commitment holds, on a real store on disk. */
class ShardStoreHoldTest {
    @TempDir
    Path dir;

    private final Random rnd = new Random(2424);
    private static final byte[] OWNER = owner(1);

    private static byte[] owner(int b) {
        byte[] o = new byte[32];
        o[0] = (byte) b;
        return o;
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static Cid cid(byte[] b) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
    }

    private Cid putPinned(ShardStore s, int size) throws StoreException {
        byte[] d = bytes(size);
        s.put(cid(d), d, OWNER);
        return cid(d);
    }

    private static List<NodeEntry> entries(ShardStore s) throws StoreException {
        List<NodeEntry> out = new ArrayList<>();
        s.forEachEntry(out::add);
        return out;
    }

    @Test
    void forEachEntry_offersPinnedBlake3Shards_inCidOrder_andCountsTheRest() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            List<NodeEntry> want = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                int size = rnd.nextInt(5000);
                Cid c = putPinned(s, size);
                want.add(new NodeEntry(c, size));
            }
            byte[] sha = bytes(3000);
            s.put(Cid.compute(ContentCodec.RAW, HashFunction.SHA2_256, sha), sha, OWNER); // pinned, not provable
            byte[] staged = bytes(2000);
            s.put(cid(staged), staged); // no owner: never pinned
            Cid unpinned = putPinned(s, 100);
            assertTrue(s.unpin(unpinned, OWNER)); // garbage awaiting collection

            List<NodeEntry> got = new ArrayList<>();
            ShardStore.Listing l = s.forEachEntry(got::add);
            want.sort(Comparator.comparing(NodeEntry::cid));
            assertEquals(want, got, "pinned BLAKE3 raw shards, sorted by CID bytes");
            assertEquals(new ShardStore.Listing(50, 1, 2), l);
        }
    }

    @Test
    void hold_commitUnpinGc_keeps_release_gcRemoves() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            Cid a = putPinned(s, 4000);
            Cid b = putPinned(s, 5000);
            ShardStore.Held h = s.hold(7);
            assertTrue(h.created());
            assertEquals(2, h.entries().size());
            assertTrue(s.isHeld(a) && s.isHeld(b));

            assertTrue(s.unpin(a, OWNER));
            assertEquals(0, s.collectGarbage(0), "period 7 holds it");
            assertTrue(s.has(a));
            assertEquals(List.of(7L), s.heldPeriods());

            assertEquals(2, s.release(7));
            assertFalse(s.isHeld(a));
            assertEquals(List.of(), s.heldPeriods());
            assertEquals(1, s.collectGarbage(0), "released: collected");
            assertFalse(s.has(a));
            assertTrue(s.has(b), "still pinned");
            assertEquals(-1, s.release(7), "nothing left to release");
        }
    }

    @Test
    void hold_twoPeriods_aShardStaysUntilBothAreReleased() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            Cid a = putPinned(s, 3000);
            s.hold(1);
            s.hold(2);
            assertTrue(s.unpin(a, OWNER));
            assertEquals(List.of(1L, 2L), s.heldBy(a));
            s.release(1);
            assertEquals(List.of(2L), s.heldBy(a));
            assertEquals(0, s.collectGarbage(0), "period 2 still holds it");
            assertTrue(s.isHeld(a));
            s.release(2);
            assertEquals(1, s.collectGarbage(0));
        }
    }

    @Test
    void hold_isDurable_andIdempotent_acrossARestart() throws Exception {
        Cid a;
        List<NodeEntry> held;
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            a = putPinned(s, 3000);
            putPinned(s, 0);
            putPinned(s, 70_000);
            held = s.hold(5).entries();
            assertEquals(entries(s), held);
            assertTrue(s.unpin(a, OWNER));
        }
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            assertEquals(List.of(5L), s.heldPeriods());
            assertEquals(0, s.collectGarbage(0), "the hold survived the restart");
            putPinned(s, 1234); // taken in after the commitment
            ShardStore.Held again = s.hold(5);
            assertFalse(again.created());
            assertEquals(held, again.entries(), "a period's hold does not change");
            assertEquals(held, s.held(5).entries());
            assertNull(s.held(6));
            assertEquals(3, s.release(5));
            assertEquals(1, s.collectGarbage(0));
        }
    }

    @Test
    void hold_inManyPages_readsBack_findsEveryShard_andReleasesAll() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            s.holdPageEntries = 3;
            List<Cid> cids = new ArrayList<>();
            for (int i = 0; i < 20; i++) { // 7 pages, the last one short
                cids.add(putPinned(s, 1 + rnd.nextInt(3000)));
            }
            byte[] other = bytes(500);
            s.put(cid(other), other, OWNER);
            s.delete(cid(other)); // a CID no hold names
            List<NodeEntry> listed = entries(s);
            assertEquals(listed, s.hold(3).entries());
            s.holdPageEntries = 4096;
            assertEquals(listed, s.held(3).entries(), "pages read back in order");
            for (Cid c : cids) {
                assertTrue(s.isHeld(c), c + " is in a page");
                assertTrue(s.unpin(c, OWNER));
            }
            assertFalse(s.isHeld(cid(other)));
            for (int i = 0; i < 50; i++) { // CIDs before, between and after the pages
                assertFalse(s.isHeld(cid(bytes(10))));
            }
            assertEquals(0, s.collectGarbage(0));
            assertEquals(20, s.release(3));
            assertEquals(20, s.collectGarbage(0));
        }
    }

    @Test
    void damagedHoldPage_isAnIoErrorToRead_andGcKeepsWhatItMayName() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            Cid a = putPinned(s, 3000);
            List<NodeEntry> held = s.hold(1).entries();
            assertTrue(s.unpin(a, OWNER));
            Cid first = held.get(0).cid();
            s.setHoldPage(1, first, new byte[] {(byte) first.toBytes().length, 1, 2}); // cut short
            StoreException e = assertThrows(StoreException.class, () -> s.held(1));
            assertEquals(StoreException.Code.IO, e.code());
            assertTrue(e.getMessage().contains("damaged page"), e.getMessage());
            assertEquals(0, s.collectGarbage(0), "kept: the page may name it");
            assertEquals(1, s.release(1), "release still removes the hold (the count is the marker's)");
            assertEquals(1, s.collectGarbage(0));
        }
    }

    @Test
    void hold_anUnpinAndCollectionDuringTheHold_waitForIt_andTheShardIsKept() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            Cid a = putPinned(s, 3000);
            java.util.concurrent.atomic.AtomicInteger collected = new java.util.concurrent.atomic.AtomicInteger(-1);
            Thread[] other = new Thread[1];
            s.beforeHoldWrite = () -> {
                // listed, not yet written: an unpin and a collection now must wait for the hold
                other[0] = Thread.ofPlatform().start(() -> {
                    try {
                        s.unpin(a, OWNER);
                        collected.set(s.collectGarbage(0));
                    } catch (StoreException e) {
                        throw new IllegalStateException(e);
                    }
                });
                // no sleep: the unpin is seen parked on the store's lock (10 s at most), then nothing may have been collected
                long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
                Thread.State st;
                while ((st = other[0].getState()) != Thread.State.BLOCKED && st != Thread.State.WAITING) {
                    assertTrue(System.nanoTime() < end, "the unpin never waited for the hold: " + st);
                    Thread.onSpinWait();
                }
                assertEquals(-1, collected.get(), "nothing collected while the hold is being made");
            };
            assertEquals(1, s.hold(1).entries().size());
            other[0].join(10_000);
            assertEquals(0, collected.get(), "collected after the hold: kept");
            assertTrue(s.has(a));
            assertTrue(s.metadata(a).pins().isEmpty(), "the unpin went through");
        }
    }

    @Test
    void hold_ofAnEmptyStore_isRecorded_withNoEntries() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            assertEquals(List.of(), s.hold(0).entries());
            assertEquals(List.of(), s.held(0).entries());
            assertEquals(List.of(0L), s.heldPeriods());
            assertEquals(0, s.release(0));
            assertNull(s.held(0));
        }
    }

    @Test
    void heldPeriods_listsEachOnce_inOrder_evenAtTheExtremes() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            putPinned(s, 100);
            putPinned(s, 200);
            for (long p : new long[] {Long.MAX_VALUE, 3, 0, 256, 255}) {
                s.hold(p);
            }
            assertEquals(List.of(0L, 3L, 255L, 256L, Long.MAX_VALUE), s.heldPeriods());
            assertThrows(IllegalArgumentException.class, () -> s.hold(-1));
        }
    }

    @Test
    void delete_ofACorruptOrExplicitlyDeletedShard_isNotHeldBack_butTheHoldStillListsIt() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            Cid a = putPinned(s, 3000);
            s.hold(1);
            assertTrue(s.delete(a));
            assertFalse(s.has(a));
            assertEquals(a, s.held(1).entries().get(0).cid(), "the committed set is what was committed");
        }
    }
}
