package io.oecloud.node.proving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.ledger.Storage.ContractPick;
import io.oecloud.chain.pb.ChainProto.ContractAnswer;
import io.oecloud.dht.Identity;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.EntriesProof;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The answers to the chain's contract challenges, from a real store on disk: the picked entry of
 * the receipt the contract keeps (the one in force or an earlier one), proven under its root, and
 * the picked chunk's slice, checked here as the chain checks them; a lost block is answerable only
 * when it was declared, and a receipt the node never recorded cannot be answered at all.
 */
class ContractAnswersTest {
    private static final byte[] NODE = "node-1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    /** Checks {@code a} as the chain does for {@code pick}: the entry under the root, then the chunk's slice (none when declared). */
    private static void checkAsTheChain(ContractAnswer a, ContractPick pick, Set<String> declared) {
        EntriesProof ep = EntriesProof.decode(a.getEntries().toByteArray(), EntriesProof.maxEncodedBytes(1), 1);
        ep.verify(pick.root(), pick.count(), new long[] {pick.challenge().entry()});
        NodeEntry e = ep.entry(pick.challenge().entry());
        if (declared.contains(e.cid().toString())) {
            assertEquals(0, a.getSlice().size(), "a declared block goes without its slice");
            return;
        }
        SliceProof sp = SliceProof.decode(a.getSlice().toByteArray(), a.getSlice().size());
        assertEquals(pick.challenge().chunk(e.size()), sp.firstChunk());
        assertEquals(1, sp.chunkCount());
        sp.verify(e.cid(), e.size());
    }

    @Test
    void picksOfTheReceiptInForce_orAnEarlierOne_areAnswered_lostBlocksOnlyWhenDeclared() throws Exception {
        Random rnd = new Random(2509);
        Identity payer = Identity.generate();
        Cid object = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, new byte[] {1, 2, 3});
        try (ShardStore store = ShardStore.open(dir, 1L << 30, false)) {
            List<NodeEntry> blocks = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                byte[] d = new byte[1 + rnd.nextInt(9_000)];
                rnd.nextBytes(d);
                Cid c = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, d);
                store.put(c, d, payer.publicKey());
                blocks.add(new NodeEntry(c, d.length));
            }
            ShardStore.SignedReceipt earlier = new ShardStore.SignedReceipt(object, payer.publicKey(), 3, blocks.subList(0, 7));
            ShardStore.SignedReceipt inForce = new ShardStore.SignedReceipt(object, payer.publicKey(), 4, blocks);
            store.recordReceipt(earlier);
            store.recordReceipt(inForce);
            byte[] seed = new byte[32];
            rnd.nextBytes(seed);
            List<ContractPick> picks = new ArrayList<>();
            for (int j = 0; j < 16; j++) {
                NodeRoot tree = (j % 2 == 0 ? inForce : earlier).tree();
                picks.add(new ContractPick(object.toString(), payer.peerId().toString(), tree.root(), tree.count(),
                        Challenges.one(seed, NODE, 9, tree.count(), j)));
            }
            List<ContractAnswer> answers = ContractAnswers.build(store, picks, 9, Set.of());
            assertEquals(picks.size(), answers.size());
            for (int j = 0; j < picks.size(); j++) {
                checkAsTheChain(answers.get(j), picks.get(j), Set.of());
            }

            // a lost block: not answerable unless declared before the seed
            NodeRoot tree = inForce.tree();
            int lostAt = 5;
            NodeEntry lost = tree.entries().get(lostAt);
            assertTrue(store.unpinAll(lost.cid(), payer.publicKey()));
            store.collectGarbage(0);
            ContractPick onLost = new ContractPick(object.toString(), payer.peerId().toString(), tree.root(), tree.count(),
                    new Challenge(0, lostAt, rnd.nextLong(), rnd.nextLong()));
            IOException e = assertThrows(IOException.class, () -> ContractAnswers.build(store, List.of(onLost), 9, Set.of()));
            assertTrue(e.getMessage().contains(lost.cid().toString()) && e.getMessage().contains("window will be missed"), e.getMessage());
            Set<String> declared = Set.of(lost.cid().toString());
            checkAsTheChain(ContractAnswers.build(store, List.of(onLost), 9, declared).getFirst(), onLost, declared);

            // a root the node never signed for
            NodeRoot other = NodeRoot.build(List.of(blocks.get(0)));
            ContractPick foreign = new ContractPick(object.toString(), payer.peerId().toString(), other.root(), 1,
                    new Challenge(0, 0, 1, 2));
            IOException none = assertThrows(IOException.class, () -> ContractAnswers.build(store, List.of(foreign), 9, Set.of()));
            assertTrue(none.getMessage().contains("none of the 2 receipts"), none.getMessage());
        }
    }
}
