package io.oecloud.chain.ledger;

import static io.oecloud.chain.ledger.ContractChain.addr;
import static io.oecloud.chain.ledger.ContractChain.create;
import static io.oecloud.chain.ledger.ContractChain.id;
import static io.oecloud.chain.ledger.ContractChain.receipt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.LedgerState.StorageRoot;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.ContractAnswer;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Blake3;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.Windows;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Contract picks (chain-bridge/README.md, "Lost blocks stay in the root"), on real ledger state
 * driven block by block (P = 20, W = 4, c = 32, k = 2) with real blocks, NodeRoots and slices: a
 * node that leaves a contracted block out of its root is caught when a pick lands on it and goes
 * unpaid; picks fixed at the seed do not move; picks are uniform; the held lists follow the paid
 * periods. {@link ContractChain} checks the books and the held lists' invariant after every block.
 */
class ContractPicksTest {
    private final Identity honest = id(1);
    private final Identity cheater = id(2);
    private final Identity payer = id(10);

    /** The seed of window {@code window} of {@code period} on a chain of salt {@code salt}: the beacon seed after its first block. */
    private static byte[] windowSeed(long salt, Windows w, long period, int window) throws Exception {
        return new StorageChain(salt).beaconSeed(w.blocks(period, window).first());
    }

    /** The entries chain rule picks j = 0 .. k-1 under {@code seed} for a node with {@code blocks} blocks in the picked contract. */
    private static long[] pickedEntries(byte[] seed, String node, long period, long blocks, int k) {
        byte[] entrySeed = Blake3.hash(concat("oechain/contract-entry/v1".getBytes(StandardCharsets.US_ASCII), seed));
        long[] e = new long[k];
        for (int j = 0; j < k; j++) {
            e[j] = Challenges.one(entrySeed, Storage.nodeId(node), period, blocks, j).entry();
        }
        return e;
    }

    /**
     * The held-list indices the rule picks j = 0 .. k-1 under {@code seed} for a node whose list holds
     * contracts of {@code weights} bytes: the byte r drawn of their total, found by a walk here.
     */
    private static long[] pickedContracts(byte[] seed, String node, long period, long[] weights, int k) {
        byte[] pickSeed = Blake3.hash(concat("oechain/contract-pick/v2".getBytes(StandardCharsets.US_ASCII), seed));
        long total = java.util.Arrays.stream(weights).sum();
        long[] e = new long[k];
        for (int j = 0; j < k; j++) {
            long r = Storage.pickByte(pickSeed, Storage.nodeId(node), period, total, j);
            int i = 0;
            while (r >= weights[i]) {
                r -= weights[i++];
            }
            e[j] = i;
        }
        return e;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Node {@code n}'s 32 node-root answers of period {@code p} from its store ({@code shards}), under the window's recorded seed. */
    private static StorageChain.Answers nodeAnswers(ContractChain k, Identity n, long p) {
        byte[] id = Storage.nodeId(addr(n));
        byte[] seed = k.state().storageSeed(p, k.c.windows().nodeWindow(id));
        StorageChain.Shards s = k.shards.get(n);
        return s.answers(seed, id, p, 0, 32, s.content);
    }

    /**
     * The gap this closes: the cheater holds the same 8 contracted blocks as the honest node, drops
     * one and commits its node root over the other 7, so all 32 node-root challenges pass. A pick
     * lands on the dropped block (a salt found by looping, bounded, over the chain's randomness, then
     * checked on the chain): the completing SubmitProof is refused however it answers that pick, the
     * window is missed, the cheater is penalized and period 1 is not paid to it; the honest holder of
     * the same contract is paid its share.
     */
    @Test
    void aNodeThatLeavesAContractedBlockOutOfItsRoot_isCaughtByAPickOnIt_penalizedAndNotPaid_whileTheHonestHolderIsPaid() throws Exception {
        byte[] obj = ContractChain.object("dropped");
        String u = addr(payer);
        StorageChain.Shards blocks = ContractChain.heldBlocks("replica", obj, 8); // both hold these 8 blocks: one receipt root
        int dropped = 5;
        NodeEntry lost = blocks.tree.entries().get(dropped);
        Windows w = new StorageChain(0).windows();
        int wx = w.nodeWindow(Storage.nodeId(addr(cheater)));
        long salt = -1;
        for (long s = 1; s <= 300 && salt < 0; s++) { // ~23 % a salt: one pick of two lands on entry 5 of 8
            for (long e : pickedEntries(windowSeed(s, w, 1, wx), addr(cheater), 1, 8, 2)) {
                if (e == dropped) {
                    salt = s;
                }
            }
        }
        assertTrue(salt > 0, "no salt in 1..300 picks entry " + dropped);
        ContractChain k = new ContractChain(salt, honest, cheater, payer);
        k.registerNodes(List.of(honest, cheater), new long[] {1L << 40, 1L << 40}, new BigInteger[] {ContractsTest.ASK, ContractsTest.ASK});
        Map<Cid, byte[]> kept = new HashMap<>(blocks.content);
        kept.remove(lost.cid());
        k.shards.put(honest, new StorageChain.Shards(blocks.content)); // the honest node's root names every contracted block
        k.shards.put(cheater, new StorageChain.Shards(kept)); // the cheater's names the 7 it kept
        byte[] root = blocks.tree.root();
        // period 0: the contract (paid from period 1), then both commit their roots of period 1
        k.finishPeriod(List.of(), List.of(k.c.tx(payer, create(obj, 3, List.of(receipt(honest, obj, u, 8000, 8, root, 0),
                receipt(cheater, obj, u, 8000, 8, root, 0))))));
        assertEquals(1, k.nextPeriod());
        BigInteger share = Contracts.rate(k.state(), addr(cheater));
        assertTrue(share.signum() > 0);
        // period 1: run to the cheater's seed (the honest node proves when its window comes)
        long seedBlock = w.blocks(1, wx).first();
        k.runUntil(List.of(honest), List.of(), seedBlock);
        List<Storage.ContractPick> picks = Storage.contractPicks(k.state(), 1, addr(cheater));
        assertEquals(2, picks.size());
        int hit = picks.get(0).challenge().entry() == dropped ? 0 : 1;
        assertEquals(dropped, picks.get(hit).challenge().entry(), "a pick lands on the dropped block: " + picks);
        assertArrayEquals(root, picks.get(hit).root());
        assertEquals(8, picks.get(hit).count());

        StorageChain.Answers mine = nodeAnswers(k, cheater, 1); // all 32 good: the dropped block is not in its root
        List<ContractAnswer> best = new ArrayList<>();
        for (Storage.ContractPick pick : picks) { // it still knows the entries (its receipt's), but not the dropped bytes
            best.add(StorageChain.contractAnswer(pick, blocks, kept));
        }
        assertTrue(best.get(hit).getSlice().isEmpty());
        List<ContractAnswer> forged = new ArrayList<>(best); // the slice of a block it kept, in place of the lost one
        NodeEntry other = blocks.tree.entries().get(dropped == 0 ? 1 : 0);
        forged.set(hit, best.get(hit).toBuilder().setSlice(ByteString.copyFrom(io.oecloud.proofs.slice.SliceProver.prove(
                kept.get(other.cid()), 0, 1).encode())).build());
        // without the picks (the rule before) its 32 answers would prove the period
        LedgerState before = k.state().copyForNextBlock();
        before.storageContractPicks.remove(Storage.periodKey(1) + "/" + addr(cheater));
        assertEquals(Code.OK, Storage.submitProof(before, addr(cheater), 1, 0, ByteString.copyFrom(mine.entries()), mine.answers(),
                List.of()).code());
        List<Ledger.Result> rs = k.block(List.of(k.c.tx(cheater, StorageChain.proof(1, 0, mine, List.of())),
                k.c.tx(cheater, StorageChain.proof(1, 0, mine, best)), k.c.tx(cheater, StorageChain.proof(1, 0, mine, forged))));
        assertEquals(List.of(Code.MALFORMED, Code.INVALID_PROOF, Code.INVALID_PROOF), rs.stream().map(Ledger.Result::code).toList());
        String named = "contract answer " + hit + " (" + ContractChain.objectText(obj) + "/" + u + "): ";
        assertEquals(named + "no slice for entry " + lost.cid(), rs.get(1).log());
        assertTrue(rs.get(2).log().startsWith(named), rs.get(2).log());
        assertEquals(0, k.state().storageRoot(1, addr(cheater)).answered(), "a refused transaction changes nothing");

        BigInteger collateral = k.state().storageNode(addr(cheater)).collateral();
        BigInteger honestBalance = k.state().account(addr(honest)).balance();
        BigInteger cheaterBalance = k.state().account(addr(cheater)).balance();
        k.finishPeriod(List.of(honest)); // the window ends unanswered; period 1 is settled
        StorageRoot r = k.state().storageRoot(1, addr(cheater));
        assertEquals(StorageRoot.MISSED, r.status());
        assertEquals(1, k.state().storageNode(addr(cheater)).missed());
        assertEquals(collateral.subtract(collateral.divide(BigInteger.TEN)), k.state().storageNode(addr(cheater)).collateral(),
                "penaltyPpm = 10 %");
        assertEquals(new Contracts.Payment(share, false), Contracts.payments(k.state(), addr(cheater)).getFirst().getValue());
        assertTrue(k.state().account(addr(cheater)).balance().compareTo(cheaterBalance) <= 0, "no share for the cheater");
        assertEquals(StorageRoot.PROVEN, k.state().storageRoot(1, addr(honest)).status());
        assertEquals(new Contracts.Payment(Contracts.rate(k.state(), addr(honest)), true),
                Contracts.payments(k.state(), addr(honest)).getFirst().getValue());
        assertTrue(k.state().account(addr(honest)).balance().compareTo(honestBalance) > 0, "the honest holder is paid its share");
    }

    /**
     * The honest way out for the same loss: declared before the seed, the lost block is answered
     * without a slice (its entry still proven under the receipt root), as a node-root fault is.
     */
    @Test
    void aLostContractedBlockDeclaredBeforeTheSeed_isAnsweredWithoutASlice() throws Exception {
        byte[] obj = ContractChain.object("declared");
        String u = addr(payer);
        StorageChain.Shards blocks = ContractChain.heldBlocks("declared", obj, 4);
        Windows w = new StorageChain(0).windows();
        int wx = w.nodeWindow(Storage.nodeId(addr(cheater)));
        long salt = 1;
        long entry = pickedEntries(windowSeed(salt, w, 1, wx), addr(cheater), 1, 4, 2)[0]; // the block the node lost: the first pick's
        ContractChain k = new ContractChain(salt, cheater, payer);
        k.registerNodes(List.of(cheater), new long[] {1L << 40}, null);
        NodeEntry lost = blocks.tree.entries().get((int) entry);
        Map<Cid, byte[]> kept = new HashMap<>(blocks.content);
        kept.remove(lost.cid());
        k.shards.put(cheater, new StorageChain.Shards(blocks.content)); // the lost block stays in its root, as the node software keeps it
        k.finishPeriod(List.of(), List.of(k.c.tx(payer, create(obj, 3, List.of(receipt(cheater, obj, u, 4000, 4, blocks.tree.root(), 0))))));
        k.runUntil(List.of(), List.of(), w.blocks(1, wx).first() - 2);
        assertEquals(Code.OK, k.submit(cheater, StorageChain.declare(1, List.of(lost.cid()))).code()); // the block before the seed's
        k.block();
        List<Storage.ContractPick> picks = Storage.contractPicks(k.state(), 1, addr(cheater));
        assertEquals(entry, picks.getFirst().challenge().entry());
        Map<Cid, byte[]> store = new HashMap<>(k.shards.get(cheater).content);
        store.remove(lost.cid());
        byte[] id = Storage.nodeId(addr(cheater));
        byte[] seed = k.state().storageSeed(1, wx);
        List<io.oecloud.proofs.storage.Challenge> cs = Challenges.derive(seed, id, 1, 4, 32);
        List<ChainProto.ProofAnswer> as = new ArrayList<>();
        for (io.oecloud.proofs.storage.Challenge ch : cs) { // the node-root answers: none for the declared entry
            NodeEntry e = k.shards.get(cheater).tree.entries().get((int) ch.entry());
            as.add(e.cid().equals(lost.cid()) ? ChainProto.ProofAnswer.getDefaultInstance() : ChainProto.ProofAnswer.newBuilder()
                    .setSlice(ByteString.copyFrom(io.oecloud.proofs.slice.SliceProver.prove(store.get(e.cid()), ch.chunk(e.size()), 1).encode()))
                    .build());
        }
        List<ContractAnswer> ca = new ArrayList<>();
        for (Storage.ContractPick pick : picks) {
            ca.add(StorageChain.contractAnswer(pick, blocks, kept));
        }
        assertTrue(ca.getFirst().getSlice().isEmpty());
        Ledger.Result r = k.submit(cheater, StorageChain.proof(1, 0, new StorageChain.Answers(StorageChain.entriesOf(k.shards.get(cheater).tree, cs),
                as), ca));
        assertEquals(Code.OK, r.code(), r.log());
        assertEquals(StorageRoot.PROVEN, k.state().storageRoot(1, addr(cheater)).status());
    }

    /**
     * A pick made at the seed never moves: after it, the node becomes a holder of a new contract,
     * is removed from the picked one and the other is ended; its held list changes (a pick drawn now
     * would name another contract), its picks do not, and it answers them under the roots they hold.
     */
    @Test
    void picksFixedAtTheSeed_doNotMove_whenContractsAreCreatedMovedOrEndedAfterIt() throws Exception {
        Identity n = id(3);
        Identity m = id(4);
        Identity payer2 = id(11);
        Windows w = new StorageChain(0).windows();
        int wn = w.nodeWindow(Storage.nodeId(addr(n)));
        long salt = -1;
        for (long s = 1; s <= 300 && salt < 0; s++) { // a pick of index 0: the contract the node will be removed from
            long[] idx = pickedContracts(windowSeed(s, w, 1, wn), addr(n), 1, new long[] {1000, 1000}, 2);
            if (idx[0] == 0 || idx[1] == 0) {
                salt = s;
            }
        }
        assertTrue(salt > 0);
        ContractChain k = new ContractChain(salt, n, m, payer, payer2);
        k.registerNodes(List.of(n, m), new long[] {1L << 40, 1L << 40}, new BigInteger[] {ContractsTest.ASK, ContractsTest.ASK});
        byte[] o1 = ContractChain.object("c1");
        byte[] o2 = ContractChain.object("c2");
        byte[] o3 = ContractChain.object("c3");
        String u = addr(payer);
        assertEquals(Code.OK, k.submit(payer, create(o1, 4, List.of(receipt(n, o1, u, 1000, 3, 0), receipt(m, o1, u, 1000, 3, 0)))).code());
        assertEquals(Code.OK, k.submit(payer, create(o2, 4, List.of(receipt(n, o2, u, 1000, 5, 0)))).code());
        String k1 = ContractChain.objectText(o1) + "/" + u;
        String k2 = ContractChain.objectText(o2) + "/" + u;
        assertEquals(List.of(k1, k2), List.of(Contracts.held(k.state(), addr(n), 0), Contracts.held(k.state(), addr(n), 1)));
        k.finishPeriod(List.of());
        long seedBlock = w.blocks(1, wn).first();
        k.runUntil(List.of(), List.of(), seedBlock);
        List<Storage.ContractPick> picks = Storage.contractPicks(k.state(), 1, addr(n));
        assertEquals(2, picks.size());
        assertTrue(picks.stream().anyMatch(p -> p.contract().equals(k1)), picks.toString());
        // after the seed: a new contract, the node removed from c1, c2 ended; one block each, picks checked after each
        String u2 = addr(payer2);
        long p = k.nextPeriod();
        assertEquals(1, p);
        assertEquals(Code.OK, k.submit(payer2, create(o3, 4, List.of(receipt(n, o3, u2, 1000, 2, p)))).code());
        assertEquals(picks, Storage.contractPicks(k.state(), 1, addr(n)));
        assertEquals(Code.OK, k.submit(payer, ContractChain.move(o1, List.of(addr(n)), List.of())).code());
        assertEquals(picks, Storage.contractPicks(k.state(), 1, addr(n)));
        assertEquals(Code.OK, k.submit(payer, ContractChain.end(o2)).code());
        assertEquals(picks, Storage.contractPicks(k.state(), 1, addr(n)));
        String k3 = ContractChain.objectText(o3) + "/" + u2;
        // the list is [c3, c2] now (c1's place taken by the last): a pick drawn now at index 0 would name c3
        assertEquals(List.of(k3, k2), List.of(Contracts.held(k.state(), addr(n), 0), Contracts.held(k.state(), addr(n), 1)));
        assertFalse(Contracts.contract(k.state(), ContractChain.objectText(o1), u).holders().containsKey(addr(n)));
        // the node answers the picks made at the seed, c1's under the root its receipt named
        Ledger.Result r = k.submit(n, StorageChain.proof(1, 0, nodeAnswers(k, n, 1), k.contractAnswers(n, 1)));
        assertEquals(Code.OK, r.code(), r.log());
        assertEquals(StorageRoot.PROVEN, k.state().storageRoot(1, addr(n)).status());
        // at period 1's settlement c2 (paid through 1) leaves the list; period 2's picks name c3 only
        k.finishPeriod(List.of(n, m));
        assertEquals(1, Contracts.heldCount(k.state(), addr(n)));
        assertEquals(k3, Contracts.held(k.state(), addr(n), 0));
        k.runUntil(List.of(n, m), List.of(), w.blocks(2, wn).first());
        List<Storage.ContractPick> next = Storage.contractPicks(k.state(), 2, addr(n));
        assertEquals(2, next.size());
        assertTrue(next.stream().allMatch(x -> x.contract().equals(k3)), next.toString());
    }

    /**
     * The held list follows the periods that pay the node: a holder joins when a contract is made or
     * a move adds it, leaves at once when a move removes it, and a contract leaves every holder's
     * list at the settlement of its last paid period (an ended one: of the current period). Dense:
     * a removal moves the last entry into the hole.
     */
    @Test
    void heldList_joinsWithTheHolding_leavesOnRemovalOrAtTheLastPaidPeriodsSettlement() throws Exception {
        Identity n = id(5);
        Identity m = id(6);
        ContractChain k = new ContractChain(9, n, m, payer);
        k.registerNodes(List.of(n, m), new long[] {1L << 40, 1L << 40}, null);
        String u = addr(payer);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            byte[] o = ContractChain.object("h" + i);
            assertEquals(Code.OK, k.submit(payer, create(o, 1 + i, List.of(receipt(n, o, u, 100, 2, 0)))).code());
            keys.add(ContractChain.objectText(o) + "/" + u);
        }
        assertEquals(3, Contracts.heldCount(k.state(), addr(n)));
        byte[] o0 = ContractChain.object("h0");
        assertEquals(Code.OK, k.submit(payer, ContractChain.move(o0, List.of(), List.of(receipt(m, o0, u, 100, 2, 0)))).code());
        assertEquals(1, Contracts.heldCount(k.state(), addr(m)), "a move adds m at once");
        byte[] o1 = ContractChain.object("h1");
        assertEquals(Code.OK, k.submit(payer, ContractChain.move(o1, List.of(addr(n)), List.of(receipt(m, o1, u, 100, 2, 0)))).code());
        assertEquals(List.of(keys.get(0), keys.get(2)), List.of(Contracts.held(k.state(), addr(n), 0), Contracts.held(k.state(), addr(n), 1)),
                "n left h1 at once; h2, the last, took its place");
        // h0 pays period 1 only (end 2): it leaves both lists at period 1's settlement, not before
        k.finishPeriod(List.of());
        k.finishPeriodUntilLast(List.of());
        assertEquals(2, Contracts.heldCount(k.state(), addr(n)));
        k.block();
        assertEquals(1, Contracts.heldCount(k.state(), addr(n)));
        assertEquals(keys.get(2), Contracts.held(k.state(), addr(n), 0));
        assertEquals(1, Contracts.heldCount(k.state(), addr(m)), "m keeps h1");
        // an end in period 2 makes 2 the last paid period: h2 leaves at its settlement (as h1, which ends then)
        assertEquals(Code.OK, k.submit(payer, ContractChain.end(ContractChain.object("h2"))).code());
        assertEquals(1, Contracts.heldCount(k.state(), addr(n)));
        // the maps are state: entries, entry(), fromEntries round-trip them
        Map<String, byte[]> entries = k.state().entries();
        assertTrue(entries.keySet().stream().anyMatch(x -> x.startsWith("held-list/")) && entries.containsKey("held-count/" + addr(m))
                && entries.containsKey("held-index/" + addr(m) + "/" + keys.get(1))
                && entries.containsKey("held-weight/" + Contracts.heldWeightKey(addr(m), Contracts.MAX_HELD)));
        assertArrayEquals(entries.get("held-weight/" + Contracts.heldWeightKey(addr(m), 1)),
                k.state().entry("held-weight/" + Contracts.heldWeightKey(addr(m), 1)));
        assertArrayEquals(entries.get("held-count/" + addr(m)), k.state().entry("held-count/" + addr(m)));
        Map<String, byte[]> again = LedgerState.fromEntries(entries, k.state().height()).entries();
        assertEquals(entries.keySet(), again.keySet());
        entries.forEach((key, v) -> assertArrayEquals(v, again.get(key), key));
        k.finishPeriod(List.of());
        assertEquals(0, Contracts.heldCount(k.state(), addr(n)));
        assertEquals(0, Contracts.heldCount(k.state(), addr(m)));
        assertTrue(k.state().heldList.isEmpty() && k.state().heldIndex.isEmpty() && k.state().heldCount.isEmpty()
                && k.state().heldWeight.isEmpty());
    }

    /**
     * Picks weighted by bytes (chi-square, fixed seed, bounded): 5,000 window seeds × k = 2 picks of a
     * node with 8 contracts of 100 · 2^i bytes (i = 0 .. 7), 8 blocks each; the contracts drawn are
     * within the 0.1 % critical value of chi-square (7 degrees of freedom) against their shares of
     * the node's bytes, and the entries drawn in them against uniform (7 dof). The picks are stored
     * as state entries that round-trip.
     */
    @Test
    void contractsEnding_leaveTheHeldListsAfterSettlement_aBoundedNumberAtATime_notInsideIt() throws Exception {
        Identity n = id(5);
        Identity m = id(6);
        ContractChain k = new ContractChain(9, n, m, payer);
        k.registerNodes(List.of(n, m), new long[] {1L << 40, 1L << 40}, null);
        String u = addr(payer);
        for (int i = 0; i < 5; i++) { // each pays period 1 only, held by both nodes
            byte[] o = ContractChain.object("e" + i);
            assertEquals(Code.OK, k.submit(payer, create(o, 1, List.of(receipt(n, o, u, 100, 2, 0), receipt(m, o, u, 50, 1, 0)))).code());
        }
        k.finishPeriod(List.of());
        k.finishPeriodUntilLast(List.of()); // the next block settles period 1
        LedgerState copy = LedgerState.fromEntries(k.state().entries(), k.state().height());
        Contracts.settle(copy, 1);
        assertEquals(5, Contracts.heldCount(copy, addr(n)), "settlement itself takes no contract out of a list");
        int[] left = new int[4];
        for (int round = 0; round < 4; round++) {
            Contracts.leaveEnded(copy, 2, 3); // three holders a round: a contract's two go together, so two contracts
            left[round] = (int) Contracts.heldCount(copy, addr(n));
        }
        assertArrayEquals(new int[] {3, 1, 0, 0}, left, "two contracts a round, from the cursor on, until none is left");
        assertEquals(0, Contracts.heldCount(copy, addr(m)));
        assertEquals(0, Contracts.heldBytes(copy, addr(n)), "their weights went with them");
        k.block(); // the real block: settlement, then the bounded removal (256 holders a block) takes all ten
        assertEquals(0, Contracts.heldCount(k.state(), addr(n)));
        assertEquals(0, Contracts.heldCount(k.state(), addr(m)));
    }

    @Test
    void picks_areWeightedByTheNodesBytesInEachContract_andUniformOverTheirBlocks() throws Exception {
        Identity n = id(7);
        ContractChain k = new ContractChain(17, n, payer);
        k.registerNodes(List.of(n), new long[] {1L << 40}, null);
        String u = addr(payer);
        Map<String, Long> bytes = new HashMap<>();
        long total = 0;
        for (int i = 0; i < 8; i++) {
            byte[] o = ContractChain.object("u" + i);
            long b = 100L << i;
            assertEquals(Code.OK, k.submit(payer, create(o, 5, List.of(receipt(n, o, u, b, 8, 0)))).code());
            bytes.put(ContractChain.objectText(o) + "/" + u, b);
            total += b;
        }
        assertEquals(total, Contracts.heldBytes(k.state(), addr(n)));
        k.finishPeriod(List.of());
        int wn = k.c.windows().nodeWindow(Storage.nodeId(addr(n)));
        k.runUntil(List.of(), List.of(), k.c.windows().blocks(1, wn).first());
        String key = Storage.periodKey(1) + "/" + addr(n);
        byte[] stored = k.state().entry("storage-picks/" + key);
        assertEquals(Storage.contractPicks(k.state(), 1, addr(n)), Storage.decodePicks(stored), "the stored picks round-trip");
        LedgerState s = k.state().copy();
        TreeMap<String, Integer> byContract = new TreeMap<>();
        int[] byEntry = new int[8];
        Random r = new Random(2525);
        int draws = 5_000;
        for (int i = 0; i < draws; i++) {
            byte[] seed = new byte[32];
            r.nextBytes(seed);
            Storage.pickContracts(s, 1, wn, seed);
            for (Storage.ContractPick p : Storage.contractPicks(s, 1, addr(n))) {
                byContract.merge(p.contract(), 1, Integer::sum);
                byEntry[(int) p.challenge().entry()]++;
            }
        }
        assertEquals(8, byContract.size());
        double chiContracts = 0;
        for (Map.Entry<String, Integer> e : byContract.entrySet()) {
            double expected = 2.0 * draws * bytes.get(e.getKey()) / total;
            chiContracts += (e.getValue() - expected) * (e.getValue() - expected) / expected;
        }
        double chiEntries = chiSquare(byEntry, 2.0 * draws / 8);
        System.out.printf("contract picks: chi-square %.2f over 8 contracts of 100 · 2^i bytes (7 dof, 0.1 %% critical 24.32), %.2f over"
                + " 8 entries (7 dof, 24.32)%n", chiContracts, chiEntries);
        assertTrue(chiContracts < 24.32, "contracts " + byContract);
        assertTrue(chiEntries < 24.32, "entries " + java.util.Arrays.toString(byEntry));
    }

    /**
     * The outsized-contract attack the uniform picks allowed (README, "Lost blocks stay in the
     * root"): a node holds one contract of 1,000× the bytes of each of 100 small ones (the small ones
     * it could buy from itself). Picks weighted by bytes land on the big one with its share,
     * 1000/1100 = 90.9 % (2,000 seeds × k = 2: within ±3 points), where a uniform pick over the 101
     * contracts, the rule before, landed on it 1/101 ≈ 1 % of the time (drawn here for the same seeds).
     */
    @Test
    void anOutsizedContractAmongManySmallOnes_isPickedWithItsShareOfTheBytes_notOneInAHundredAndOne() throws Exception {
        Identity n = id(8);
        List<Identity> payers = new ArrayList<>();
        for (int i = 0; i < 101; i++) {
            payers.add(id(100 + i));
        }
        List<Identity> funded = new ArrayList<>(payers);
        funded.add(n);
        ContractChain k = new ContractChain(23, funded.toArray(new Identity[0]));
        k.registerNodes(List.of(n), new long[] {1L << 40}, null);
        byte[] big = ContractChain.object("big");
        List<byte[]> txs = new ArrayList<>();
        txs.add(k.c.tx(payers.get(0), create(big, 5, List.of(receipt(n, big, addr(payers.get(0)), 1_000_000, 8, 0)))));
        for (int i = 1; i <= 100; i++) { // 100 small contracts of 1,000 bytes, each from its own payer
            byte[] o = ContractChain.object("small" + i);
            txs.add(k.c.tx(payers.get(i), create(o, 5, List.of(receipt(n, o, addr(payers.get(i)), 1_000, 8, 0)))));
        }
        ContractChain.ok(k.block(txs));
        assertEquals(101, Contracts.heldCount(k.state(), addr(n)));
        assertEquals(1_100_000, Contracts.heldBytes(k.state(), addr(n)));
        String bigKey = ContractChain.objectText(big) + "/" + addr(payers.get(0));
        k.finishPeriod(List.of());
        int wn = k.c.windows().nodeWindow(Storage.nodeId(addr(n)));
        k.runUntil(List.of(), List.of(), k.c.windows().blocks(1, wn).first());
        LedgerState s = k.state().copy();
        long bigIndex = s.heldIndex.get(addr(n) + "/" + bigKey);
        Random r = new Random(1100);
        int draws = 2_000;
        int onBig = 0;
        int onBigUniform = 0;
        for (int i = 0; i < draws; i++) {
            byte[] seed = new byte[32];
            r.nextBytes(seed);
            Storage.pickContracts(s, 1, wn, seed);
            for (Storage.ContractPick p : Storage.contractPicks(s, 1, addr(n))) {
                onBig += p.contract().equals(bigKey) ? 1 : 0;
            }
            byte[] uniformSeed = Blake3.hash(concat("oechain/contract-pick/v1".getBytes(StandardCharsets.US_ASCII), seed));
            for (int j = 0; j < 2; j++) {
                onBigUniform += Challenges.one(uniformSeed, Storage.nodeId(addr(n)), 1, 101, j).entry() == bigIndex ? 1 : 0;
            }
        }
        double weighted = onBig / (2.0 * draws);
        double uniform = onBigUniform / (2.0 * draws);
        System.out.printf("outsized contract: picked %.4f of the time weighted by bytes (share 1000/1100 = 0.9091), %.4f uniformly (1/101 ="
                + " 0.0099)%n", weighted, uniform);
        assertEquals(1000.0 / 1100, weighted, 0.03);
        assertEquals(1.0 / 101, uniform, 0.01);
    }

    /**
     * The limits of a node's held list: a CreateContract or MoveShares that would make one node's
     * list hold more than 2^24 contracts, or its listed bytes more than 2^62, is refused TOO_LARGE by
     * name and changes nothing (the counts set here on a copy of the state: no test makes 2^24 contracts).
     */
    @Test
    void aHeldListBeyond2To24Contracts_orANodeBeyond2To62Bytes_isRefusedTooLarge() throws Exception {
        Identity n = id(9);
        ContractChain k = new ContractChain(29, n, payer);
        k.registerNodes(List.of(n), new long[] {1L << 40}, null);
        String u = addr(payer);
        byte[] o1 = ContractChain.object("full1");
        assertEquals(Code.OK, k.submit(payer, create(o1, 5, List.of(receipt(n, o1, u, 1000, 2, 0)))).code());
        byte[] o2 = ContractChain.object("full2");
        ChainProto.CreateContract tx = create(o2, 5, List.of(receipt(n, o2, u, 1000, 2, 0))).getCreateContract();
        BigInteger spendable = k.state().account(u).balance();
        // the count at the limit
        LedgerState full = k.state().copy();
        full.heldCount.put(addr(n), Contracts.MAX_HELD);
        Map<String, byte[]> before = full.entries();
        Ledger.Result r = Contracts.create(full, u, spendable, tx);
        assertEquals(Code.TOO_LARGE, r.code());
        assertTrue(r.log().contains("held list") && r.log().contains("2^24"), r.log());
        assertEquals(before.keySet(), full.entries().keySet(), "a refusal changes nothing");
        // one below: accepted
        LedgerState room = k.state().copy();
        room.heldCount.put(addr(n), Contracts.MAX_HELD - 1); // o1 at index 0, the new one joins at the last index, 2^24 - 1
        assertEquals(Code.OK, Contracts.create(room, u, spendable, tx).code());
        assertEquals(Contracts.MAX_HELD, Contracts.heldCount(room, addr(n)));
        assertEquals(2000, Contracts.heldBytes(room, addr(n)));
        assertEquals(1000, Contracts.weightAt(room, addr(n), Contracts.MAX_HELD - 1));
        // the bytes: a node at 2^62 - 999 listed bytes takes no receipt of 1,000 more, by create or by a move
        LedgerState heavy = k.state().copy();
        heavy.heldWeight.put(Contracts.heldWeightKey(addr(n), Contracts.MAX_HELD), Contracts.MAX_HELD_BYTES - 999);
        r = Contracts.create(heavy, u, spendable, tx);
        assertEquals(Code.TOO_LARGE, r.code());
        assertTrue(r.log().contains("2^62"), r.log());
        ChainProto.MoveShares grow = ContractChain.move(o1, List.of(), List.of(receipt(n, o1, u, 2000, 2, 0))).getMoveShares();
        r = Contracts.move(heavy, u, grow);
        assertEquals(Code.TOO_LARGE, r.code(), r.log());
        // on the chain's own state the same move is accepted: its weight goes from 1,000 to 2,000 in place, no new list entry
        assertEquals(Code.OK, k.submit(payer, ContractChain.move(o1, List.of(), List.of(receipt(n, o1, u, 2000, 2, 0)))).code());
        assertEquals(1, Contracts.heldCount(k.state(), addr(n)));
        assertEquals(2000, Contracts.heldBytes(k.state(), addr(n)));
    }

    /**
     * The weight tree against a plain list (random joins, weight changes and leaves with
     * swap-with-last on one node of a bare state, seeded): every index's weight, every prefix, and
     * the descent's index for the first and last byte of every contract's interval.
     */
    @Test
    void weightTree_followsJoinsWeightChangesAndLeaves_andItsDescentFindsEachBytesContract() {
        LedgerState s = new LedgerState();
        String node = "node";
        List<String> list = new ArrayList<>();
        Map<String, Long> weight = new HashMap<>();
        Random r = new Random(77);
        int next = 0;
        for (int step = 0; step < 3000; step++) {
            int op = r.nextInt(10);
            if (list.isEmpty() || op < 5) {
                String key = "c" + next++;
                long w = 1 + (r.nextInt(4) == 0 ? (long) r.nextInt(1 << 30) << 20 : r.nextInt(5000));
                Contracts.joinHeld(s, node, key, w);
                list.add(key);
                weight.put(key, w);
            } else if (op < 7) {
                String key = list.get(r.nextInt(list.size()));
                long w = 1 + r.nextInt(100_000);
                Contracts.joinHeld(s, node, key, w); // listed: its weight set in place
                weight.put(key, w);
            } else {
                int i = r.nextInt(list.size());
                String key = list.get(i);
                Contracts.leaveHeld(s, node, key);
                String last = list.removeLast();
                if (i < list.size()) {
                    list.set(i, last);
                }
                weight.remove(key);
            }
            if (step % 100 == 99 || step < 50) {
                long sum = 0;
                for (int i = 0; i < list.size(); i++) {
                    assertEquals(list.get(i), Contracts.held(s, node, i));
                    long w = weight.get(list.get(i));
                    assertEquals(w, Contracts.weightAt(s, node, i));
                    assertEquals(sum, Contracts.heldPrefix(s, node, i));
                    assertEquals(i, Contracts.heldAt(s, node, sum), "first byte of " + i);
                    assertEquals(i, Contracts.heldAt(s, node, sum + w - 1), "last byte of " + i);
                    sum += w;
                }
                assertEquals(sum, Contracts.heldBytes(s, node));
            }
        }
        while (!list.isEmpty()) {
            Contracts.leaveHeld(s, node, list.removeLast());
        }
        assertTrue(s.heldWeight.isEmpty() && s.heldList.isEmpty() && s.heldCount.isEmpty(), "nothing stays: " + s.heldWeight);
    }

    private static double chiSquare(int[] observed, double expected) {
        double x = 0;
        for (int o : observed) {
            x += (o - expected) * (o - expected) / expected;
        }
        return x;
    }

    @Test
    void contractChallenges_defaultsTo2_isAtMost16_andAnOutOfRangeValueIsNamed() {
        ObjectMapper json = new ObjectMapper();
        assertEquals(2, StorageParams.DEFAULTS.contractChallenges());
        assertEquals(2, StorageParams.fromJson(json.createObjectNode()).contractChallenges());
        assertEquals(0, StorageParams.fromJson(json.createObjectNode().put("contractChallenges", 0)).contractChallenges());
        assertEquals(16, StorageParams.fromJson(json.createObjectNode().put("contractChallenges", 16)).contractChallenges());
        assertEquals("2", StorageParams.DEFAULTS.toMap().get("contractChallenges"));
        for (int bad : new int[] {-1, 17}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> StorageParams.fromJson(json.createObjectNode().put("contractChallenges", bad)));
            assertTrue(e.getMessage().contains("contractChallenges"), e.getMessage());
        }
        StorageParams off = StorageParams.fromJson(json.createObjectNode().put("contractChallenges", 0));
        assertEquals(off, StorageParams.fromMap(off.toMap()));
        assertNotEquals(StorageParams.DEFAULTS, off);
    }
}
