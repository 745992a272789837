package io.oecloud.node.proving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.pb.ChainProto;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.EntriesProof;
import io.oecloud.proofs.storage.NodeEntry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How {@link ProvingRole} packs a window's answers into SubmitProofs: one transaction when it fits,
 * split into the longest runs that fit only when it does not, each with the entries proof of its
 * own challenges, checked as the chain checks them (chain-bridge's {@code Storage.submitProof}).
 */
class ProvingRoleTransactionsTest {
    @TempDir
    Path dir;

    private static final byte[] OWNER = new byte[32];
    private static final byte[] NODE = "node-24c1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Checks {@code txs} cover answers {@code first..} of {@code a} in order, each verifying like the chain's rule. */
    private static void checkAsTheChain(Prover prover, List<ChainProto.SubmitProof> txs, Answer a, byte[] seed, long period, int first,
            Set<String> declared, int maxBytes) throws ProvingException {
        int next = first;
        for (int t = 0; t < txs.size(); t++) {
            ChainProto.SubmitProof tx = txs.get(t);
            int n = tx.getAnswersCount();
            assertEquals(period, tx.getPeriod());
            assertEquals(next, tx.getFirst(), "transactions continue where the last stopped");
            assertTrue(n >= 1);
            assertTrue(tx.getSerializedSize() <= maxBytes || n == 1, "transaction " + t + ": " + tx.getSerializedSize() + " B");
            long[] picked = new long[n];
            List<Challenge> cs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                cs.add(Challenges.one(seed, NODE, period, a.commitment().count(), next + i));
                picked[i] = cs.get(i).entry();
            }
            EntriesProof ep = EntriesProof.decode(tx.getEntries().toByteArray(), EntriesProof.maxEncodedBytes(n), n);
            ep.verify(a.commitment().root(), a.commitment().count(), picked);
            for (int i = 0; i < n; i++) {
                NodeEntry e = ep.entry(picked[i]);
                byte[] slice = tx.getAnswers(i).getSlice().toByteArray();
                if (declared.contains(e.cid().toString())) {
                    assertEquals(0, slice.length, "a declared fault goes without its slice");
                    continue;
                }
                SliceProof sp = SliceProof.decode(slice, slice.length);
                assertEquals(cs.get(i).chunk(e.size()), sp.firstChunk());
                assertEquals(1, sp.chunkCount());
                sp.verify(e.cid(), e.size());
            }
            if (t + 1 < txs.size() && n > 1) { // the longest run that fits: one more answer would not
                int size = ProvingRole.submitProof(prover, period, a, next, n + 1, declared, List.of()).getSerializedSize();
                assertTrue(size > maxBytes, "transaction " + t + " stopped at " + n + " answers; " + (n + 1) + " take " + size + " B");
            }
            next += n;
        }
        assertEquals(a.proofs().size(), next, "every answer sent");
    }

    @Test
    void eightMiBShards_thirtyTwoAnswersInOneTransaction_sixtyFourSplit_smallLimitsSplitMore() throws Exception {
        Random rnd = new Random(2401);
        try (ShardStore s = ShardStore.open(dir, 1L << 30, false)) {
            List<Cid> cids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                byte[] d = new byte[8 << 20];
                rnd.nextBytes(d);
                Cid cid = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, d);
                s.put(cid, d, OWNER);
                cids.add(cid);
            }
            for (int i = 0; i < 40; i++) { // and small shards, so the entries proof has siblings
                byte[] d = new byte[1 + rnd.nextInt(5000)];
                rnd.nextBytes(d);
                s.put(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, d), d, OWNER);
            }
            Prover p = new Prover(s);
            p.commit(5);
            byte[] seed = new byte[32];
            rnd.nextBytes(seed);
            int max = ProvingRole.MAX_SUBMIT_PROOF_BYTES;

            Answer a32 = p.answer(5, seed, NODE, 32);
            List<ChainProto.SubmitProof> one = ProvingRole.transactions(p, 5, a32, 0, Set.of(), List.of(), max);
            assertEquals(1, one.size(), "c = 32 goes in one transaction");
            assertArrayEquals(a32.entries(), one.get(0).getEntries().toByteArray(), "the window's entries proof");
            checkAsTheChain(p, one, a32, seed, 5, 0, Set.of(), max);
            List<ChainProto.SubmitProof> rest = ProvingRole.transactions(p, 5, a32, 20, Set.of(), List.of(), max);
            assertEquals(1, rest.size());
            checkAsTheChain(p, rest, a32, seed, 5, 20, Set.of(), max);

            Answer a128 = p.answer(5, seed, NODE, 128); // about 3 KB x 128 of slices at most: more than one transaction
            List<ChainProto.SubmitProof> split = ProvingRole.transactions(p, 5, a128, 0, Set.of(), List.of(), max);
            assertTrue(split.size() >= 2, split.size() + " transactions");
            checkAsTheChain(p, split, a128, seed, 5, 0, Set.of(), max);

            for (int limit : new int[] {4000, 9000, 20_000}) {
                List<ChainProto.SubmitProof> many = ProvingRole.transactions(p, 5, a32, 0, Set.of(), List.of(), limit);
                assertTrue(many.size() > 1, "limit " + limit);
                checkAsTheChain(p, many, a32, seed, 5, 0, Set.of(), limit);
            }

            List<ChainProto.ContractAnswer> contract = List.of(
                    ChainProto.ContractAnswer.newBuilder().setEntries(com.google.protobuf.ByteString.copyFrom(new byte[300])).build(),
                    ChainProto.ContractAnswer.newBuilder().setEntries(com.google.protobuf.ByteString.copyFrom(new byte[200])).build());
            for (int limit : new int[] {max, 9000}) {
                List<ChainProto.SubmitProof> withContracts = ProvingRole.transactions(p, 5, a32, 0, Set.of(), contract, limit);
                for (int t = 0; t < withContracts.size(); t++) {
                    assertEquals(t == withContracts.size() - 1 ? contract : List.of(), withContracts.get(t).getContractAnswersList(),
                            "only the transaction that completes the window carries the contract answers (limit " + limit + ")");
                    assertTrue(withContracts.get(t).getSerializedSize() <= limit, "transaction " + t + " fits with them");
                }
            }

            Set<String> declared = Set.of(cids.get(0).toString(), cids.get(1).toString());
            List<ChainProto.SubmitProof> faulty = ProvingRole.transactions(p, 5, a32, 0, declared, List.of(), max);
            assertEquals(1, faulty.size());
            checkAsTheChain(p, faulty, a32, seed, 5, 0, declared, max);
        }
    }
}
