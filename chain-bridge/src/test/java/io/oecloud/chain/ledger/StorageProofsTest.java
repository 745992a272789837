package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.LedgerState.StorageRoot;
import io.oecloud.chain.pb.ChainProto.ProofAnswer;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.EntriesProof;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import io.oecloud.proofs.storage.Windows;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Proofs of storage at the ledger level (in-memory state, no CometBFT): registration, roots,
 * answers verified in the block, declared faults, missed windows penalized, and the cheating
 * strategies of issue 24 as named tests. Fixed seeds; the supply invariant is checked by every
 * {@link Block#end}.
 */
class StorageProofsTest {
    private static final BigInteger COLLATERAL = BigInteger.valueOf(5_000_000);

    private final Identity a = Identity.fromSeed(seed(1));
    private final Identity b = Identity.fromSeed(seed(2));

    private static byte[] seed(int i) {
        byte[] s = new byte[32];
        s[0] = (byte) i;
        return s;
    }

    private static String addr(Identity id) {
        return StorageChain.addr(id);
    }

    /** Registers {@code node} at the next block; commits {@code shards}' root for period 1. */
    private static void registerAndCommit(StorageChain c, Identity node, StorageChain.Shards shards, long period) {
        if (c.state.storageNode(addr(node)) == null) {
            assertEquals(Code.OK, c.submit(node, StorageChain.register(1L << 40, COLLATERAL)).code());
        }
        Ledger.Result r = c.submit(node, StorageChain.commit(period, shards.tree.root(), shards.tree.count()));
        assertEquals(Code.OK, r.code(), r.log());
    }

    private static Windows.BlockRange window(StorageChain c, Identity node, long period) {
        return c.windows().nodeBlocks(Storage.nodeId(addr(node)), period);
    }

    /** Runs to the block after the window's first and returns the window's seed. */
    private static byte[] toAnswering(StorageChain c, Identity node, long period) {
        Windows.BlockRange w = window(c, node, period);
        c.runTo(w.first() + 1);
        byte[] seed = c.state.storageSeed(period, c.windows().nodeWindow(Storage.nodeId(addr(node))));
        assertNotNull(seed);
        assertArrayEquals(c.beaconSeed(w.first()), seed, "the window's seed is the beacon's after its first block");
        return seed;
    }

    @Test
    void registerBondsCollateralIntoThePoolAndTopsUp() throws Exception {
        StorageChain c = new StorageChain(1, a, b);
        BigInteger before = c.state.account(addr(a)).balance();
        assertEquals(Code.INSUFFICIENT_STAKE, c.submit(a, StorageChain.register(100, StorageChain.MIN_COLLATERAL.subtract(BigInteger.ONE))).code());
        assertEquals(Code.OK, c.submit(a, StorageChain.register(100, StorageChain.MIN_COLLATERAL)).code());
        assertEquals(Code.OK, c.submit(a, StorageChain.register(200, BigInteger.valueOf(7))).code());
        LedgerState.StorageNode n = c.state.storageNode(addr(a));
        assertEquals(200, n.capacity());
        assertEquals(StorageChain.MIN_COLLATERAL.add(BigInteger.valueOf(7)), n.collateral());
        assertTrue(n.active());
        assertEquals(before.subtract(n.collateral()).subtract(BigInteger.valueOf(2)), c.state.account(addr(a)).balance(), "collateral + two fees of 1");
        assertEquals(n.collateral(), c.state.storageCollateral());
        assertEquals(c.state.expectedSupply(), c.state.supply());
        assertEquals(Code.NOT_STORAGE_NODE, c.submit(b, StorageChain.commit(1, NodeRoot.emptyRoot(), 0)).code());
        // the state round-trips through its entries (what the store keeps) with the same app hash
        LedgerState back = LedgerState.fromEntries(c.state.entries(), c.state.height());
        assertArrayEquals(c.state.appHash(), back.appHash());
        assertEquals(n, back.storageNode(addr(a)));
    }

    @Test
    void honestNodeProvesEveryPeriod() throws Exception {
        StorageChain c = new StorageChain(2, a);
        StorageChain.Shards shards = new StorageChain.Shards(2424, 40);
        byte[] id = Storage.nodeId(addr(a));
        long verifyNanos = 0;
        int verified = 0;
        for (long p = 1; p <= 3; p++) {
            c.runTo(p * 20 - 10);
            registerAndCommit(c, a, shards, p);
            byte[] seed = toAnswering(c, a, p);
            StorageChain.Answers all = shards.answers(seed, id, p, 0, 32, shards.content);
            if (p == 2) { // in two transactions of 16 answers, each with the entries proof of its own challenges
                StorageChain.Answers firstHalf = shards.answers(seed, id, p, 0, 16, shards.content);
                assertEquals(Code.INVALID_PROOF, c.submit(a, StorageChain.proof(p, 0, all.entries(), firstHalf.answers())).code(),
                        "the whole window's entries proof is not the first half's");
                assertEquals(Code.OK, c.submit(a, StorageChain.proof(p, 0, firstHalf)).code());
                assertEquals(StorageRoot.OPEN, c.state.storageRoot(p, addr(a)).status());
                Ledger.Result r = c.submit(a, StorageChain.proof(p, 16, shards.answers(seed, id, p, 16, 32, shards.content)));
                assertEquals(Code.OK, r.code(), r.log());
            } else {
                Ledger.Result r = c.submit(a, StorageChain.proof(p, 0, all));
                assertEquals(Code.OK, r.code(), r.log());
            }
            assertEquals(StorageRoot.PROVEN, c.state.storageRoot(p, addr(a)).status());
            assertEquals(Code.ALREADY_PROVEN, c.submit(a, StorageChain.proof(p, 0, all)).code());
            c.runTo(window(c, a, p).end() + 1);
            // the verify time of a period's proof (the entries proof and 32 slices), after the first period's warm-up
            if (p > 1) {
                for (int rep = 0; rep < 20; rep++) {
                    long t = System.nanoTime();
                    long[] picked = new long[32];
                    List<Challenge> cs = new ArrayList<>();
                    for (int j = 0; j < 32; j++) {
                        cs.add(Challenges.one(seed, id, p, shards.tree.count(), j));
                        picked[j] = cs.get(j).entry();
                    }
                    EntriesProof ep = EntriesProof.decode(all.entries(), Storage.maxEntriesBytes(32), 32);
                    ep.verify(shards.tree.root(), shards.tree.count(), picked);
                    for (int j = 0; j < 32; j++) {
                        assertNull(Storage.verifySlice(all.answers().get(j), cs.get(j), ep.entry(picked[j]), null));
                    }
                    verifyNanos += System.nanoTime() - t;
                    verified += 32;
                }
            }
        }
        LedgerState.StorageNode n = c.state.storageNode(addr(a));
        assertEquals(3, n.proven());
        assertEquals(0, n.missed());
        assertEquals(COLLATERAL, n.collateral());
        assertTrue(c.state.storageFaultsOf(addr(a)).isEmpty());
        assertEquals(3, c.state.storageRootsOf(addr(a)).size());
        System.out.printf("storage proofs: a period's proof verifies in %.1f µs a challenge (mean of %d, the entries proof shared)%n",
                verifyNanos / 1e3 / verified, verified);
    }

    @Test
    void emptyRootNeedsNoProof() throws Exception {
        StorageChain c = new StorageChain(3, a);
        c.runTo(5);
        assertEquals(Code.OK, c.submit(a, StorageChain.register(0, COLLATERAL)).code());
        assertEquals(Code.MALFORMED, c.submit(a, StorageChain.commit(1, new byte[32], 0)).code());
        assertEquals(Code.OK, c.submit(a, StorageChain.commit(1, NodeRoot.emptyRoot(), 0)).code());
        c.runTo(41);
        assertEquals(0, c.state.storageNode(addr(a)).missed());
        assertEquals(StorageRoot.PROVEN, c.state.storageRoot(1, addr(a)).status());
    }

    @Test
    void strategy2_oneFlippedByteInAShardIsRefused() throws Exception {
        StorageChain c = new StorageChain(4, a);
        StorageChain.Shards shards = new StorageChain.Shards(2, 20);
        byte[] id = Storage.nodeId(addr(a));
        c.runTo(10);
        registerAndCommit(c, a, shards, 1);
        byte[] seed = toAnswering(c, a, 1);
        // one byte flipped inside the chunk the first challenge asks for
        Challenge ch = Challenges.one(seed, id, 1, shards.tree.count(), 0);
        NodeEntry e = shards.tree.entries().get((int) ch.entry());
        Map<Cid, byte[]> rotten = new HashMap<>(shards.content);
        byte[] bytes = shards.content.get(e.cid()).clone();
        if (bytes.length > 0) {
            bytes[(int) Math.min(bytes.length - 1, ch.chunk(e.size()) * 1024 + 7)] ^= 1;
            rotten.put(e.cid(), bytes);
            Ledger.Result r = c.submit(a, StorageChain.proof(1, 0, shards.answers(seed, id, 1, 0, 32, rotten)));
            assertEquals(Code.INVALID_PROOF, r.code(), r.log());
            assertTrue(r.log().contains("challenge 0"), r.log());
        }
        assertEquals(0, c.state.storageRoot(1, addr(a)).answered());
        // the window can still be answered correctly until it ends
        assertEquals(Code.OK, c.submit(a, StorageChain.proof(1, 0, shards.answers(seed, id, 1, 0, 32, shards.content))).code());
    }

    @Test
    void strategy3_fabricatedRootIsRefused() throws Exception {
        StorageChain c = new StorageChain(5, a);
        StorageChain.Shards real = new StorageChain.Shards(3, 16);
        byte[] id = Storage.nodeId(addr(a));
        // fake entries: CIDs of data the node never held, sizes made up
        List<NodeEntry> fake = new ArrayList<>(real.tree.entries());
        Random rnd = new Random(3);
        for (int i = 0; i < 16; i++) {
            byte[] d = new byte[32];
            rnd.nextBytes(d);
            fake.add(new NodeEntry(Cid.of(ContentCodec.RAW, HashFunction.BLAKE3, d), 8192));
        }
        fake.sort(Comparator.comparing(NodeEntry::cid));
        NodeRoot fakeTree = NodeRoot.build(fake);
        c.runTo(10);
        assertEquals(Code.OK, c.submit(a, StorageChain.register(1, COLLATERAL)).code());
        // wrong count: the root binds its count, so every inclusion proof fails
        assertEquals(Code.OK, c.submit(a, StorageChain.commit(1, real.tree.root(), real.tree.count() + 1)).code());
        byte[] seed = toAnswering(c, a, 1);
        Map<Cid, byte[]> junk = new HashMap<>(real.content);
        for (NodeEntry e : fake) {
            junk.putIfAbsent(e.cid(), new byte[(int) e.size()]);
        }
        for (long count : new long[] {real.tree.count() + 1}) {
            List<Challenge> clamped = new ArrayList<>();
            for (int j = 0; j < 32; j++) {
                Challenge ch = Challenges.one(seed, id, 1, count, j);
                clamped.add(new Challenge(j, Math.min(ch.entry(), real.tree.count() - 1), ch.chunkHigh(), ch.chunkLow()));
            }
            Ledger.Result r = c.submit(a, StorageChain.proof(1, 0, real.answers(clamped, real.content)));
            assertEquals(Code.INVALID_PROOF, r.code(), r.log());
            assertTrue(r.log().contains("entries proof"), r.log());
        }
        c.runTo(61);
        assertEquals(1, c.state.storageNode(addr(a)).missed(), "the wrong count's window was missed");
        // fake entries: a root over them verifies, the chunks of the fake entries do not
        StorageChain c2 = new StorageChain(6, a);
        c2.runTo(10);
        assertEquals(Code.OK, c2.submit(a, StorageChain.register(1, COLLATERAL)).code());
        assertEquals(Code.OK, c2.submit(a, StorageChain.commit(1, fakeTree.root(), fakeTree.count())).code());
        byte[] seed2 = toAnswering(c2, a, 1);
        List<ProofAnswer> answers = new ArrayList<>();
        List<Challenge> cs = new ArrayList<>();
        for (int j = 0; j < 32; j++) {
            Challenge ch = Challenges.one(seed2, id, 1, fakeTree.count(), j);
            cs.add(ch);
            NodeEntry e = fakeTree.entries().get((int) ch.entry());
            byte[] slice = io.oecloud.proofs.slice.SliceProver.prove(junk.get(e.cid()), ch.chunk(e.size()), 1).encode();
            answers.add(ProofAnswer.newBuilder().setSlice(ByteString.copyFrom(slice)).build());
        }
        Ledger.Result fakeResult = c2.submit(a, StorageChain.proof(1, 0, StorageChain.entriesOf(fakeTree, cs), answers));
        assertEquals(Code.INVALID_PROOF, fakeResult.code());
        assertTrue(fakeResult.log().contains("answer to challenge"), "the entries verify, a fake entry's slice does not: " + fakeResult.log());
        // omission or duplicate: an entry the node has substituted for the challenged one (another index) is refused
        List<ProofAnswer> substituted = new ArrayList<>();
        long[] others = new long[32];
        for (int j = 0; j < 32; j++) {
            Challenge ch = Challenges.one(seed2, id, 1, fakeTree.count(), j);
            others[j] = (ch.entry() + 1) % fakeTree.count();
            NodeEntry e = fakeTree.entries().get((int) others[j]);
            byte[] slice = io.oecloud.proofs.slice.SliceProver.prove(junk.get(e.cid()), 0, 1).encode();
            substituted.add(ProofAnswer.newBuilder().setSlice(ByteString.copyFrom(slice)).build());
        }
        Ledger.Result r = c2.submit(a, StorageChain.proof(1, 0, fakeTree.proveEntries(others).encode(), substituted));
        assertEquals(Code.INVALID_PROOF, r.code());
        assertTrue(r.log().contains("WRONG") || r.log().contains("entry"), r.log());
    }

    @Test
    void strategy4_replayedProofIsRefused() throws Exception {
        StorageChain c = new StorageChain(7, a, b);
        StorageChain.Shards shards = new StorageChain.Shards(4, 24);
        byte[] idA = Storage.nodeId(addr(a));
        c.runTo(5);
        registerAndCommit(c, a, shards, 1);
        registerAndCommit(c, b, shards, 1); // b claims the same root: its challenges are its own
        byte[] seedA = toAnswering(c, a, 1);
        StorageChain.Answers aProof = shards.answers(seedA, idA, 1, 0, 32, shards.content);
        assertEquals(Code.OK, c.submit(a, StorageChain.proof(1, 0, aProof)).code());
        // another node's proof
        toAnswering(c, b, 1);
        assertEquals(Code.INVALID_PROOF, c.submit(b, StorageChain.proof(1, 0, aProof)).code());
        // another seed (a chain with other randomness), same node, same period
        byte[] otherSeed = new StorageChain(8, a).beaconSeed(window(c, b, 1).first());
        assertEquals(Code.INVALID_PROOF, c.submit(b, StorageChain.proof(1, 0,
                shards.answers(otherSeed, Storage.nodeId(addr(b)), 1, 0, 32, shards.content))).code());
        // an old period's proof for the next period
        c.runTo(25);
        assertEquals(Code.OK, c.submit(a, StorageChain.commit(2, shards.tree.root(), shards.tree.count())).code());
        toAnswering(c, a, 2);
        assertEquals(Code.INVALID_PROOF, c.submit(a, StorageChain.proof(2, 0, aProof)).code());
    }

    @Test
    void strategy5_lateProofIsRefusedAndPenalized() throws Exception {
        StorageChain c = new StorageChain(9, a);
        StorageChain.Shards shards = new StorageChain.Shards(5, 12);
        c.runTo(10);
        registerAndCommit(c, a, shards, 1);
        Windows.BlockRange w = window(c, a, 1);
        byte[] seed = toAnswering(c, a, 1);
        // in the window's first block, before the seed exists: too soon
        c.runTo(w.end());
        BigInteger slashedBefore = c.state.slashed();
        LedgerState.StorageNode n = c.state.storageNode(addr(a));
        assertEquals(1, n.missed());
        BigInteger cut = COLLATERAL.divide(BigInteger.TEN);
        assertEquals(COLLATERAL.subtract(cut), n.collateral());
        assertEquals(cut, n.penalties());
        assertEquals(cut, slashedBefore, "the penalty is slashed");
        assertTrue(n.active(), "4.5 M of collateral is above the 1 M minimum");
        assertEquals(StorageRoot.MISSED, c.state.storageRoot(1, addr(a)).status());
        LedgerState.FaultList f = c.state.storageFaultsOf(addr(a)).get(1L);
        assertTrue(f.missed(), "the whole root is faulty");
        Ledger.Result late = c.submit(a, StorageChain.proof(1, 0, shards.answers(seed, Storage.nodeId(addr(a)), 1, 0, 32, shards.content)));
        assertEquals(Code.ALREADY_PROVEN, late.code(), late.log()); // the window is closed: missed
        assertEquals(1, c.state.storageNode(addr(a)).missed());
        assertEquals(c.state.expectedSupply(), c.state.supply());
    }

    @Test
    void proofInTheSeedBlockIsTooSoonAndAfterTheWindowTooLate() throws Exception {
        StorageChain c = new StorageChain(10, a);
        StorageChain.Shards shards = new StorageChain.Shards(6, 12);
        c.runTo(10);
        registerAndCommit(c, a, shards, 1);
        Windows.BlockRange w = window(c, a, 1);
        c.runTo(w.first());
        StorageChain.Answers guess = shards.answers(c.beaconSeed(w.first()), Storage.nodeId(addr(a)), 1, 0, 32, shards.content);
        assertEquals(Code.TOO_SOON, c.submit(a, StorageChain.proof(1, 0, guess)).code());
    }

    @Test
    void minimumCollateralMarksTheNodeInactive() throws Exception {
        StorageChain c = new StorageChain(11, a);
        StorageChain.Shards shards = new StorageChain.Shards(7, 8);
        c.runTo(5);
        assertEquals(Code.OK, c.submit(a, StorageChain.register(1, StorageChain.MIN_COLLATERAL)).code());
        assertEquals(Code.OK, c.submit(a, StorageChain.commit(1, shards.tree.root(), shards.tree.count())).code());
        c.runTo(41);
        LedgerState.StorageNode n = c.state.storageNode(addr(a));
        assertEquals(1, n.missed());
        assertFalse(n.active());
        assertEquals(Code.NOT_STORAGE_NODE, c.submit(a, StorageChain.commit(3, shards.tree.root(), shards.tree.count())).code());
        assertEquals(Code.OK, c.submit(a, StorageChain.register(1, BigInteger.valueOf(200_000))).code());
        assertTrue(c.state.storageNode(addr(a)).active());
    }

    @Test
    void strategy6_faultDeclaredAfterTheSeedIsRefused() throws Exception {
        StorageChain c = new StorageChain(12, a);
        StorageChain.Shards shards = new StorageChain.Shards(8, 6);
        byte[] id = Storage.nodeId(addr(a));
        c.runTo(5);
        registerAndCommit(c, a, shards, 1);
        Windows.BlockRange w = window(c, a, 1);
        // every entry declared lost before the window: the answers need no slice
        List<Cid> all = shards.tree.entries().stream().map(NodeEntry::cid).toList();
        BigInteger pool = c.state.feePool();
        Ledger.Result r = c.submit(a, StorageChain.declare(1, all.subList(0, 3)));
        assertEquals(Code.OK, r.code(), r.log());
        assertEquals(pool.add(BigInteger.valueOf(3 * 10 + 1)), c.state.feePool(), "10 a CID and the fee of 1, into the fee pool");
        assertEquals(3, c.state.storageNode(addr(a)).faultsDeclared());
        assertEquals(Code.MALFORMED, c.submit(a, StorageChain.declare(1, all.subList(0, 3))).code(), "declared already");
        c.runTo(w.first());
        assertEquals(Code.TOO_LATE, c.submit(a, StorageChain.declare(1, all.subList(3, 6))).code());
        c.runTo(w.first() + 1);
        assertEquals(Code.TOO_LATE, c.submit(a, StorageChain.declare(1, all.subList(3, 6))).code());
        byte[] seed = c.state.storageSeed(1, c.windows().nodeWindow(id));
        List<ProofAnswer> answers = new ArrayList<>();
        List<Challenge> cs = new ArrayList<>();
        Map<Cid, byte[]> kept = new HashMap<>(shards.content);
        for (Cid lost : all.subList(0, 3)) {
            kept.remove(lost);
        }
        for (int j = 0; j < 32; j++) {
            Challenge ch = Challenges.one(seed, id, 1, shards.tree.count(), j);
            cs.add(ch);
            NodeEntry e = shards.tree.entries().get((int) ch.entry());
            answers.add(kept.containsKey(e.cid()) ? shards.answer(ch, kept) : ProofAnswer.getDefaultInstance()); // a declared fault: no slice
        }
        r = c.submit(a, StorageChain.proof(1, 0, StorageChain.entriesOf(shards.tree, cs), answers));
        assertEquals(Code.OK, r.code(), r.log());
        assertEquals(List.copyOf(new java.util.TreeSet<>(all.subList(0, 3).stream().map(Cid::toString).toList())),
                List.copyOf(c.state.storageFaultsOf(addr(a)).get(1L).cids()), "the fault list names the CIDs");
    }

    @Test
    void strategy7_rootChangedAfterTheSeedIsRefused() throws Exception {
        StorageChain c = new StorageChain(13, a);
        StorageChain.Shards shards = new StorageChain.Shards(9, 6);
        StorageChain.Shards other = new StorageChain.Shards(10, 7);
        c.runTo(5);
        registerAndCommit(c, a, shards, 1);
        assertEquals(Code.ROOT_EXISTS, c.submit(a, StorageChain.commit(1, other.tree.root(), other.tree.count())).code());
        assertEquals(Code.TOO_SOON, c.submit(a, StorageChain.commit(2, other.tree.root(), other.tree.count())).code(), "a period ahead at most");
        c.runTo(20);
        assertEquals(Code.TOO_LATE, c.submit(a, StorageChain.commit(1, other.tree.root(), other.tree.count())).code());
        c.runTo(40);
        assertEquals(Code.TOO_LATE, c.submit(a, StorageChain.commit(2, other.tree.root(), other.tree.count())).code(),
                "block 40 is past period 2's deadline (40 - 1)");
        assertArrayEquals(shards.tree.root(), c.state.storageRoot(1, addr(a)).root());
    }

    @Test
    void strategy15_twoLedgersApplyingABlockWithAnInvalidProofAgree() throws Exception {
        StorageChain c1 = new StorageChain(14, a);
        StorageChain c2 = new StorageChain(14, a);
        StorageChain.Shards shards = new StorageChain.Shards(11, 10);
        byte[] id = Storage.nodeId(addr(a));
        List<byte[]> blocks = new ArrayList<>();
        c1.runTo(5);
        c2.runTo(5);
        for (StorageChain.Shards s : List.of(shards)) {
            byte[] reg = c1.tx(a, StorageChain.register(1, COLLATERAL));
            assertEquals(Code.OK, c1.block(reg).get(0).code());
            assertEquals(Code.OK, c2.block(reg).get(0).code());
            byte[] com = c1.tx(a, StorageChain.commit(1, s.tree.root(), s.tree.count()));
            assertEquals(Code.OK, c1.block(com).get(0).code());
            assertEquals(Code.OK, c2.block(com).get(0).code());
        }
        byte[] seed = toAnswering(c1, a, 1);
        c2.runTo(c1.state.height() + 1);
        StorageChain.Answers good = shards.answers(seed, id, 1, 0, 32, shards.content);
        byte[] slice = good.answers().get(31).getSlice().toByteArray();
        slice[slice.length - 1] ^= (byte) 0x80;
        StorageChain.Answers bad = good.with(31, good.answers().get(31).toBuilder().setSlice(ByteString.copyFrom(slice)).build());
        byte[] invalid = c1.tx(a, StorageChain.proof(1, 0, bad));
        // a proposer put the invalid proof in its block: both ledgers refuse it and agree on the state
        List<Ledger.Result> r1 = c1.block(invalid);
        List<Ledger.Result> r2 = c2.block(invalid);
        assertEquals(Code.INVALID_PROOF, r1.get(0).code());
        assertEquals(r1, r2);
        assertArrayEquals(c1.state.appHash(), c2.state.appHash());
        byte[] valid = c1.tx(a, StorageChain.proof(1, 0, good));
        assertEquals(Code.OK, c1.block(valid).get(0).code());
        assertEquals(Code.OK, c2.block(valid).get(0).code());
        c1.runTo(81);
        c2.runTo(81);
        assertArrayEquals(c1.state.appHash(), c2.state.appHash());
        assertArrayEquals(c1.state.appHash(), LedgerState.fromEntries(c1.state.entries(), c1.state.height()).appHash());
        assertTrue(c1.state.storageRootsOf(addr(a)).isEmpty() || c1.state.storageRootsOf(addr(a)).firstKey() >= 1);
    }

    @Test
    void recordsOlderThanRetainPeriodsArePruned() throws Exception {
        StorageChain c = new StorageChain(15, a);
        StorageChain.Shards shards = new StorageChain.Shards(12, 4);
        c.runTo(5);
        registerAndCommit(c, a, shards, 1);
        c.runTo(40);
        assertNotNull(c.state.storageRoot(1, addr(a)));
        assertNotNull(c.state.storageSeed(1, 0));
        c.runTo(20 * 6 + 1); // period 5 ends at block 119: period 1 = 5 - retainPeriods (4) is pruned
        assertNull(c.state.storageRoot(1, addr(a)));
        assertNull(c.state.storageSeed(1, 0));
        assertTrue(c.state.storageFaultsOf(addr(a)).isEmpty());
        assertEquals(1, c.state.storageNode(addr(a)).missed(), "the record stays");
    }
}
