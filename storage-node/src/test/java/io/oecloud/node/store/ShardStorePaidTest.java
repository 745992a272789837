package io.oecloud.node.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.storage.NodeEntry;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the store remembers for paid storage (receipts, provisional admissions) across a restart, and unpinAll. */
class ShardStorePaidTest {
    @TempDir
    Path dir;

    private final Random rnd = new Random(2531);

    private static byte[] owner(int b) {
        byte[] o = new byte[32];
        o[0] = (byte) b;
        o[31] = (byte) (b * 7);
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

    @Test
    void receiptsAndProvisionalAdmissions_surviveARestart_andAreForgottenOnce() throws Exception {
        Cid object = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, bytes(100));
        Cid other = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, bytes(100));
        List<NodeEntry> blocks = List.of(new NodeEntry(cid(bytes(10)), 10), new NodeEntry(cid(bytes(20)), 2_000_000));
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            s.recordReceipt(new ShardStore.SignedReceipt(object, owner(1), 41, blocks));
            s.recordReceipt(new ShardStore.SignedReceipt(other, owner(2), 7, blocks.subList(0, 1)));
            s.recordReceipt(new ShardStore.SignedReceipt(object, owner(1), 42, blocks)); // the later one replaces it
            assertTrue(s.recordProvisional(new ShardStore.Provisional(blocks.get(0).cid(), owner(1), 10, 1_000)));
            assertFalse(s.recordProvisional(new ShardStore.Provisional(blocks.get(0).cid(), owner(1), 10, 9_000)),
                    "an admission recorded before keeps its time");
            assertTrue(s.recordProvisional(new ShardStore.Provisional(blocks.get(0).cid(), owner(2), 10, 2_000)));
        }
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            ShardStore.SignedReceipt r = s.receipt(object, owner(1));
            assertEquals(42, r.period());
            assertEquals(blocks, r.blocks());
            assertEquals(2_000_010, r.bytes());
            assertArrayEquals(owner(1), r.payer());
            assertEquals(2, s.receipts().size());
            assertNull(s.receipt(object, owner(2)));
            List<ShardStore.Provisional> p = s.provisionals();
            assertEquals(2, p.size());
            assertEquals(1_000, p.stream().filter(x -> x.owner()[0] == 1).findFirst().orElseThrow().admittedAtMillis());
            assertTrue(s.forgetReceipt(object, owner(1)));
            assertFalse(s.forgetReceipt(object, owner(1)));
            assertTrue(s.forgetProvisional(blocks.get(0).cid(), owner(2)));
            assertFalse(s.forgetProvisional(blocks.get(0).cid(), owner(2)));
            assertEquals(1, s.receipts().size());
            assertEquals(1, s.provisionals().size());
        }
    }

    @Test
    void earlierReceiptsWithOtherBlocks_areKeptBehindTheOneInForce_atMostFour_andSurviveARestart() throws Exception {
        Cid object = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, bytes(100));
        List<NodeEntry> all = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            all.add(new NodeEntry(cid(bytes(10 + i)), 10 + i));
        }
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            s.recordReceipt(new ShardStore.SignedReceipt(object, owner(1), 1, all.subList(0, 1)));
            s.recordReceipt(new ShardStore.SignedReceipt(object, owner(1), 2, all.subList(0, 2)));
            s.recordReceipt(new ShardStore.SignedReceipt(object, owner(1), 3, all.subList(0, 2))); // the same blocks: one version
            s.recordReceipt(new ShardStore.SignedReceipt(object, owner(1), 4, all.subList(0, 3)));
            s.recordReceipt(new ShardStore.SignedReceipt(object, owner(1), 5, all.subList(0, 4)));
            s.recordReceipt(new ShardStore.SignedReceipt(object, owner(1), 6, all.subList(0, 5)));
        }
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            List<ShardStore.SignedReceipt> v = s.receiptVersions(object, owner(1));
            assertEquals(List.of(6L, 5L, 4L, 3L), v.stream().map(ShardStore.SignedReceipt::period).toList(),
                    "the one in force first, then the earlier ones with other blocks; period 2's blocks are period 3's");
            assertEquals(5, s.receipt(object, owner(1)).blocks().size());
            assertEquals(1, s.receipts().size(), "one record an object and payer");
            assertTrue(s.forgetReceipt(object, owner(1)));
            assertEquals(List.of(), s.receiptVersions(object, owner(1)), "forgotten with every version");
        }
    }

    @Test
    void unpinAll_removesEveryPinOfOneOwner_andLeavesTheOthers() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 64 << 20)) {
            byte[] d = bytes(5000);
            Cid c = cid(d);
            s.put(c, d, owner(1));
            s.put(c, d, owner(1));
            s.put(c, d, owner(2));
            assertTrue(s.unpinAll(c, owner(1)));
            assertFalse(s.metadata(c).isPinnedBy(owner(1)), "both of its pins went");
            assertTrue(s.metadata(c).isPinnedBy(owner(2)));
            assertFalse(s.unpinAll(c, owner(1)));
            assertTrue(s.unpinAll(c, owner(2)));
            assertEquals(0, s.chargedTo(owner(1)));
            assertTrue(s.chargedTo(owner(2)) > 0, "the last owner stays charged until the block is collected");
            assertEquals(1, s.collectGarbage(0));
            assertNull(s.metadata(c));
            assertEquals(0, s.chargedTo(owner(2)));
        }
    }
}
