package io.oecloud.node.proving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Prover} on a real store on disk: commitments, answers checked by the proofs module's verifiers, faults, restarts, holds. */
class ProverTest {
    @TempDir
    Path dir;

    private final Random rnd = new Random(24);
    private static final byte[] OWNER = new byte[32];
    private static final byte[] NODE = "node-24".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private byte[] seed() {
        return bytes(32);
    }

    private static Cid cid(byte[] b) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
    }

    /** Puts {@code n} pinned shards of 0 to {@code maxSize} bytes; returns their bytes by CID. */
    private Map<Cid, byte[]> fill(ShardStore s, int n, int maxSize) throws Exception {
        Map<Cid, byte[]> out = new HashMap<>();
        for (int i = 0; i < n; i++) {
            byte[] d = bytes(rnd.nextInt(maxSize + 1));
            s.put(cid(d), d, OWNER);
            out.put(cid(d), d);
        }
        return out;
    }

    private ShardStore open() throws Exception {
        return ShardStore.open(dir, 1L << 30, false);
    }

    /**
     * Checks an answer as the chain will: from the bytes, against the commitment (root, count) and
     * the challenges derived anew, and that each slice carries the shard's true bytes.
     */
    private static void verifyAnswer(Answer a, Commitment c, byte[] seed, long period, int challenges, Map<Cid, byte[]> data) {
        assertEquals(challenges, a.challenges());
        assertEquals(c.count() == 0 ? 0 : challenges, a.proofs().size(), "one answer a challenge");
        if (c.count() == 0) {
            assertEquals(0, a.entries().length);
            return;
        }
        long[] picked = Challenges.derive(seed, NODE, period, c.count(), challenges).stream().mapToLong(Challenge::entry).toArray();
        EntriesProof ep = EntriesProof.decode(a.entries(), a.entries().length, challenges);
        ep.verify(c.root(), c.count(), picked);
        for (int j = 0; j < a.proofs().size(); j++) {
            Answer.Proof p = a.proofs().get(j);
            assertEquals(j, p.j(), "in challenge order");
            Challenge ch = Challenges.one(seed, NODE, period, c.count(), p.j());
            NodeEntry e = ep.entry(ch.entry());
            assertEquals(e, p.entry());
            assertEquals(ch.entry(), p.index());
            assertEquals(!a.faults().contains(e.cid()), p.proven(), "no slice exactly for a fault");
            if (!p.proven()) {
                continue;
            }
            SliceProof sp = SliceProof.decode(p.slice(), 1 << 16);
            sp.verify(e.cid(), e.size());
            long chunk = ch.chunk(e.size());
            assertEquals(chunk, sp.firstChunk());
            assertEquals(1, sp.chunkCount());
            byte[] d = data.get(e.cid());
            assertArrayEquals(Arrays.copyOfRange(d, (int) chunk * 1024, (int) Math.min(d.length, chunk * 1024 + 1024)), sp.chunks());
        }
    }

    @Test
    void emptyStore_commitsTheEmptyRoot_andAnswersNothing() throws Exception {
        try (ShardStore s = open()) {
            Prover p = new Prover(s);
            Commitment c = p.commit(0);
            assertEquals(0, c.count());
            assertArrayEquals(NodeRoot.emptyRoot(), c.root());
            Answer a = p.answer(0, seed(), NODE, 32);
            assertEquals(List.of(), a.proofs());
            assertEquals(List.of(), a.faults());
            assertTrue(a.complete());
        }
    }

    @Test
    void oneShard_everyChallengeAnswered_andVerified() throws Exception {
        try (ShardStore s = open()) {
            byte[] d = bytes(100_000);
            s.put(cid(d), d, OWNER);
            Map<Cid, byte[]> data = Map.of(cid(d), d);
            Prover p = new Prover(s);
            Commitment c = p.commit(3);
            assertEquals(1, c.count());
            byte[] seed = seed();
            Answer a = p.answer(3, seed, NODE, 32);
            assertEquals(32, a.proofs().size());
            assertTrue(a.complete());
            verifyAnswer(a, c, seed, 3, 32, data);
        }
    }

    @Test
    void thousandShards_answersVerifyAgainstTheCommittedRoot_forSeveralSeeds() throws Exception {
        try (ShardStore s = open()) {
            Map<Cid, byte[]> data = fill(s, 1000, 40_000);
            Prover p = new Prover(s);
            Commitment c = p.commit(9);
            assertEquals(1000, c.count());
            List<NodeEntry> expected = new ArrayList<>();
            s.forEachEntry(expected::add);
            assertArrayEquals(NodeRoot.build(expected).root(), c.root(), "the root over the store's entries");
            for (int round = 0; round < 5; round++) {
                byte[] seed = seed();
                Answer a = p.answer(9, seed, NODE, 64);
                assertTrue(a.complete(), "all answered");
                verifyAnswer(a, c, seed, 9, 64, data);
                assertTrue(a.proofBytes() < 64 * 2000, "under 2 KB a challenge, was " + a.proofBytes() / 64);
                // a transaction of some of the answers carries the entries proof of its own challenges
                assertArrayEquals(a.entries(), p.entries(a, 0, 64));
                for (int[] r : new int[][] {{0, 16}, {16, 64}, {63, 64}, {5, 6}}) {
                    long[] sub = Challenges.derive(seed, NODE, 9, c.count(), 64).subList(r[0], r[1]).stream()
                            .mapToLong(Challenge::entry).toArray();
                    byte[] e = p.entries(a, r[0], r[1]);
                    EntriesProof.decode(e, e.length, sub.length).verify(c.root(), c.count(), sub);
                }
                assertThrows(IllegalArgumentException.class, () -> p.entries(a, 3, 3));
                assertThrows(IllegalArgumentException.class, () -> p.entries(a, 0, 65));
            }
        }
    }

    @Test
    void deletedShardFile_isReportedAsAFault_theRestAnswered() throws Exception {
        try (ShardStore s = open()) {
            Map<Cid, byte[]> data = fill(s, 10, 20_000);
            Prover p = new Prover(s);
            Commitment c = p.commit(1);
            List<Cid> cids = new ArrayList<>(data.keySet());
            Cid lost = cids.get(0);
            deleteShardFile(lost);
            byte[] seed = seed();
            Answer a = p.answer(1, seed, NODE, 256); // 256 draws over 10 entries: every one is challenged
            assertEquals(List.of(lost), a.faults());
            assertFalse(a.complete());
            verifyAnswer(a, c, seed, 1, 256, data);
            List<NodeEntry> committed = p.entries(1);
            long lostChallenges = Challenges.derive(seed, NODE, 1, c.count(), 256).stream()
                    .filter(ch -> committed.get((int) ch.entry()).cid().equals(lost)).count();
            assertEquals(256 - lostChallenges, a.proofs().stream().filter(Answer.Proof::proven).count(),
                    "every other challenge answered with its chunk");
            assertTrue(lostChallenges > 0);
            assertEquals(List.of(lost), p.scrubFaults(), "the drop is a fault to declare");
            assertEquals(List.of(), p.scrubFaults(), "once");
            Answer again = p.answer(1, seed, NODE, 256);
            assertEquals(List.of(lost), again.faults(), "still a fault once dropped from the index");
        }
    }

    @Test
    void owedBlockTheStoreLost_staysInTheRoot_isNamedAbsent_andItsChallengesAreFaults() throws Exception {
        try (ShardStore s = open()) {
            Map<Cid, byte[]> data = fill(s, 6, 20_000);
            List<NodeEntry> all = new ArrayList<>();
            for (Map.Entry<Cid, byte[]> e : data.entrySet()) {
                all.add(new NodeEntry(e.getKey(), e.getValue().length));
            }
            all.sort(java.util.Comparator.comparing(NodeEntry::cid));
            Cid lost = all.get(2).cid();
            deleteShardFile(lost);
            assertFalse(s.has(lost), "a read finds the file gone");
            assertNull(s.metadata(lost), "and the store drops it");
            Cid unpaid = all.get(4).cid(); // held, but no contract pays for it: not committed
            java.util.function.Predicate<Cid> covers = c -> !c.equals(unpaid);

            // without what contracts owe, the root quietly loses the block: 4 entries, nothing to declare
            Prover before = new Prover(s, covers);
            assertEquals(4, before.commit(1).count());
            assertEquals(List.of(), before.absent(1));

            // with it, the block stays in the root (its size as the contract names it), and is named to be declared
            List<NodeEntry> owed = all.stream().filter(e -> !e.cid().equals(unpaid)).toList();
            Prover p = new Prover(s, covers, period -> period == 2 ? owed : List.of());
            Commitment c = p.commit(2);
            assertEquals(5, c.count());
            assertEquals(owed, p.entries(2));
            assertEquals(List.of(lost), p.absent(2));
            byte[] seed = seed();
            Answer a = p.answer(2, seed, NODE, 256); // 256 draws over 5 entries: every one is challenged
            assertEquals(List.of(lost), a.faults(), "its challenges cannot be answered: declared, they are accepted without a slice");
            verifyAnswer(a, c, seed, 2, 256, data);
            assertEquals(List.of(), p.absent(1), "a period not committed by this prover's rule is not its business");
        }
        try (ShardStore s = open()) {
            Prover restarted = new Prover(s, c -> true, period -> List.of());
            assertEquals(5, restarted.commitment(2).count(), "the hold keeps the lost entry across a restart");
            assertEquals(1, restarted.absent(2).size());
        }
    }

    private void deleteShardFile(Cid cid) throws Exception {
        try (Stream<Path> files = Files.walk(dir.resolve("shards"))) {
            Path f = files.filter(x -> x.getFileName().toString().equals(cid.toString())).findFirst().orElseThrow();
            Files.delete(f);
        }
    }

    @Test
    void corruptShard_foundByScrub_isAScrubFault_onlyWhenACommittedPeriodHoldsIt() throws Exception {
        try (ShardStore s = open()) {
            Map<Cid, byte[]> data = fill(s, 4, 5000);
            Prover p = new Prover(s);
            p.commit(2);
            byte[] late = bytes(3000);
            s.put(cid(late), late, OWNER); // not in period 2's root
            List<Cid> cids = new ArrayList<>(data.keySet());
            deleteShardFile(cids.get(1));
            deleteShardFile(cid(late));
            assertEquals(2, s.scrub().size());
            assertEquals(List.of(cids.get(1)), p.scrubFaults());
        }
    }

    @Test
    void restartBetweenCommitAndAnswer_answersFromTheSameRoot() throws Exception {
        Commitment before;
        Map<Cid, byte[]> data;
        try (ShardStore s = open()) {
            data = new HashMap<>(fill(s, 200, 10_000));
            before = new Prover(s).commit(11);
        }
        try (ShardStore s = open()) {
            data.putAll(fill(s, 5, 1000)); // taken in after the commitment: not in period 11
            Prover p = new Prover(s);
            assertEquals(List.of(11L), p.committedPeriods());
            assertEquals(before, p.commitment(11));
            assertEquals(before, p.commit(11), "committing again gives the commitment made");
            byte[] seed = seed();
            Answer a = p.answer(11, seed, NODE, 32);
            assertEquals(before, a.commitment());
            assertTrue(a.complete());
            verifyAnswer(a, before, seed, 11, 32, data);
            assertTrue(p.release(11));
            assertNull(p.commitment(11));
            ProvingException e = assertThrows(ProvingException.class, () -> p.answer(11, seed, NODE, 32));
            assertEquals(ProvingException.Code.NOT_COMMITTED, e.code());
        }
    }

    @Test
    void holdAcrossGc_aCommittedShardUnpinnedMeanwhile_isStillProven_thenCollectedAfterRelease() throws Exception {
        try (ShardStore s = open()) {
            Map<Cid, byte[]> data = fill(s, 3, 30_000);
            Prover p = new Prover(s);
            Commitment c = p.commit(4);
            for (Cid cid : data.keySet()) {
                assertTrue(s.unpin(cid, OWNER));
            }
            assertEquals(0, s.collectGarbage(0), "period 4 holds all three");
            byte[] seed = seed();
            Answer a = p.answer(4, seed, NODE, 32);
            assertTrue(a.complete());
            verifyAnswer(a, c, seed, 4, 32, data);
            assertEquals(0, p.commit(5).count(), "unpinned shards are not offered to the next period");
            p.release(4);
            assertEquals(3, s.collectGarbage(0));
            assertEquals(0, s.count());
            p.release(5);
            assertEquals(List.of(), p.committedPeriods(), "no hold leaks");
        }
    }

    @Test
    void proofBytes_ofAnEightMiBShard_areAtMost1448ForTheSlice() throws Exception {
        try (ShardStore s = open()) {
            byte[] big = bytes(8 << 20);
            s.put(cid(big), big, OWNER);
            Map<Cid, byte[]> data = Map.of(cid(big), big);
            Prover p = new Prover(s);
            Commitment c = p.commit(0);
            byte[] seed = seed();
            Answer a = p.answer(0, seed, NODE, 32);
            verifyAnswer(a, c, seed, 0, 32, data);
            int entries = 1 + 1 + 1 + cid(big).toBytes().length + 4 + 1; // one entry, index 0, size 2^23, no siblings
            assertEquals(entries, a.entries().length);
            for (Answer.Proof pr : a.proofs()) {
                assertTrue(pr.proven());
                assertTrue(pr.slice().length <= 8 + 13 * 32 + 1024, "header ≤ 8, 13 siblings, one chunk: " + pr.slice().length);
            }
            assertEquals(entries + a.proofs().stream().mapToLong(Answer.Proof::bytes).sum(), a.proofBytes());
        }
    }

    @Test
    void answer_refusesBadArguments_namingThem() throws Exception {
        try (ShardStore s = open()) {
            fill(s, 2, 100);
            Prover p = new Prover(s);
            p.commit(0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.answer(0, seed(), NODE, 0));
            assertTrue(e.getMessage().contains("challenge count 0"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.answer(0, seed(), NODE, Challenges.MAX_PER_PERIOD + 1));
            assertThrows(IllegalArgumentException.class, () -> p.answer(0, new byte[31], NODE, 1));
            assertThrows(IllegalArgumentException.class, () -> p.answer(0, seed(), new byte[0], 1));
            assertEquals(ProvingException.Code.NOT_COMMITTED,
                    assertThrows(ProvingException.class, () -> p.answer(1, seed(), NODE, 1)).code());
            assertEquals(Challenges.MAX_PER_PERIOD, p.answer(0, seed(), NODE, Challenges.MAX_PER_PERIOD).proofs().size());
        }
    }

    /**
     * Cheating strategy 1 on a real store: a node that lost a fraction f of its shard files is
     * caught (at least one fault) in a fraction 1 - (1 - f)^c of periods. 400 periods with fresh
     * seeds against one committed root (-Doe.bench.periods=10000 for the count); the
     * dropped shards are exactly f of the entries.
     */
    @Test
    void catchRate_ofDroppedShardFiles_matchesOneMinusOneMinusFToTheC() throws Exception {
        try (ShardStore s = open()) {
            Map<Cid, byte[]> data = fill(s, 500, 4096);
            Prover p = new Prover(s);
            Commitment c = p.commit(1);
            List<Cid> cids = new ArrayList<>(data.keySet());
            int lost = 10; // f = 2 %
            for (int i = 0; i < lost; i++) {
                deleteShardFile(cids.get(i));
            }
            double f = lost / (double) c.count();
            int challenges = 32;
            int periods = Integer.getInteger("oe.bench.periods", 400); // 10,000: the count, ~15 s
            int caught = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < periods; i++) {
                Answer a = p.answer(1, seed(), NODE, challenges);
                if (!a.faults().isEmpty()) {
                    caught++;
                }
                assertEquals(a.proofs().stream().allMatch(Answer.Proof::proven), a.faults().isEmpty());
            }
            double rate = caught / (double) periods;
            double expected = 1 - Math.pow(1 - f, challenges);
            double sigma = Math.sqrt(expected * (1 - expected) / periods);
            System.out.printf("catch rate: %d of %d periods (%.3f), expected %.3f ± %.3f (σ); %d answers in %d ms%n",
                    caught, periods, rate, expected, sigma, periods, (System.nanoTime() - t0) / 1_000_000);
            assertEquals(expected, rate, 4 * sigma, "within 4 σ");
        }
    }
}
