package io.oecloud.node.paying;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto.Receipt;
import io.oecloud.dht.Identity;
import io.oecloud.node.contracts.ManifestBlocks;
import io.oecloud.node.object.Manifests;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.node.shard.Receipts;
import io.oecloud.node.shard.TestObjects;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.storage.NodeEntry;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The payer takes a receipt only when the blocks its map names are the object's own, at the
 * manifest's sizes, and give the receipt's count, bytes and entries root: the root the chain then
 * challenges the holder under. A real holder's store signs here; the forgeries are what a holder
 * could send to be paid for bytes it need not keep.
 */
class ReceiptBlocksTest {
    @TempDir
    Path dir;

    @Test
    void anHonestReceipt_passes_andEveryMismatchOfMapCountBytesOrRoot_isNamed() throws Exception {
        Random rnd = new Random(2507);
        Identity payer = Identity.generate();
        Identity holder = Identity.generate();
        TestObjects.Made o = TestObjects.make(payer, 3, rnd); // 1 manifest + 9 shards: a map of 2 bytes
        try (ShardStore store = ShardStore.open(dir, 1L << 30, false)) {
            store.put(o.cid(), o.manifest(), payer.publicKey());
            for (int i : new int[] {0, 4, 8}) {
                store.put(o.shards().get(i), o.shardBytes().get(i), payer.publicKey());
            }
            Receipts receipts = new Receipts(store, holder, "chain", new ManifestBlocks(store, null, 1_000));
            Receipts.Signed signed = receipts.signBlocks(o.cid(), payer.publicKey(), 4, payer.peerId());
            Manifest m = Manifest.parseFrom(o.manifest());
            ReceiptBlocks check = new ReceiptBlocks(o.cid(), m);
            assertNull(check.problem(signed), "the honest receipt");
            assertEquals(0b0010_0011, signed.blocks()[0] & 0xff, "the manifest (0), shard 0 (1) and shard 4 (5)");
            assertEquals(0b0000_0010, signed.blocks()[1] & 0xff, "shard 8 (9)");
            assertNull(new ReceiptBlocks(o.cid(), m.toBuilder().clearSignature().build()).problem(signed),
                    "an upload's hook hands over the manifest unsigned: its signed size is the block's");

            Receipt r = signed.receipt();
            byte[] map = signed.blocks();
            byte[] other = map.clone();
            other[0] ^= 0b0000_0110; // shard 0 out, shard 1 in: the same count and bytes, another root
            byte[] more = map.clone();
            more[0] |= 0b0000_0100;
            byte[] past = map.clone();
            past[1] |= (byte) 0b1000_0000; // block 15 of 10
            List<String> problems = List.of(
                    check.problem(new Receipts.Signed(r, other)),
                    check.problem(new Receipts.Signed(r, more)),
                    check.problem(new Receipts.Signed(r.toBuilder().setBytes(r.getBytes() + 1).build(), map)),
                    check.problem(new Receipts.Signed(r.toBuilder().setEntriesRoot(ByteString.copyFrom(new byte[32])).build(), map)),
                    check.problem(new Receipts.Signed(r, new byte[] {map[0]})),
                    check.problem(new Receipts.Signed(r, past)));
            assertTrue(problems.get(0).contains("entries root"), problems.get(0));
            assertTrue(problems.get(1).contains("counts 4 blocks, its map names 5"), problems.get(1));
            assertTrue(problems.get(2).contains("bytes"), problems.get(2));
            assertTrue(problems.get(3).contains("entries root"), problems.get(3));
            assertTrue(problems.get(4).contains("block map of 1 bytes for an object of 10 blocks"), problems.get(4));
            assertTrue(problems.get(5).contains("past the object's 10"), problems.get(5));
        }
    }

    @Test
    void blockEntries_areTheManifestAtItsSignedSize_thenTheShards_repeatsSkipped() {
        Random rnd = new Random(2508);
        Identity owner = Identity.generate();
        TestObjects.Made o = TestObjects.make(owner, 2, rnd);
        Manifest m;
        try {
            m = Manifest.parseFrom(o.manifest());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
        assertEquals(o.manifest().length, Manifests.signedSize(m));
        assertEquals(o.manifest().length, Manifests.signedSize(m.toBuilder().clearSignature().build()));
        List<NodeEntry> e = Manifests.blockEntries(o.cid(), m);
        assertEquals(1 + 6, e.size());
        assertEquals(new NodeEntry(o.cid(), o.manifest().length), e.get(0));
        for (int i = 0; i < 6; i++) {
            assertEquals(new NodeEntry(o.shards().get(i), TestObjects.SHARD), e.get(1 + i));
        }
        Manifest twice = m.toBuilder().addSegments(m.getSegments(0)).build(); // a repeated segment's shards count once
        assertEquals(7, Manifests.blockEntries(o.cid(), twice).size());
    }
}
