package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.LedgerState.StorageNode;
import io.oecloud.chain.ledger.LedgerState.StorageRoot;
import io.oecloud.chain.ledger.LedgerState.StorageWithdrawal;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.storage.NodeRoot;
import io.oecloud.proofs.storage.Windows;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A storage node leaving (UnregisterStorageNode, {@link StorageExit}) at the ledger level: the
 * committed periods still proven or penalized, the withdrawal cut by a missed window, maturity
 * paying the balance, registering again, the refusals, and a fuzz of the transaction among the
 * other storage transactions. P = 20 blocks, W = 4, withdrawPeriods = 2 (the default); the supply
 * invariant is checked by every {@link Block#end} and again here after every block.
 */
class StorageExitTest {
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

    static TxBody.Builder unregister() {
        return TxBody.newBuilder().setUnregisterStorageNode(ChainProto.UnregisterStorageNode.getDefaultInstance());
    }

    /** Empty blocks until the next block is {@code h}, the supply invariant asserted after each. */
    private static void runTo(StorageChain c, long h) {
        while (c.state.height() + 1 < h) {
            c.block();
            assertEquals(c.state.expectedSupply(), c.state.supply(), "supply at block " + c.state.height());
        }
    }

    private static Windows.BlockRange window(StorageChain c, Identity node, long period) {
        return c.windows().nodeBlocks(Storage.nodeId(addr(node)), period);
    }

    /** Answers {@code node}'s whole window of {@code period} in one transaction, in the window. */
    private static void prove(StorageChain c, Identity node, StorageChain.Shards shards, long period) {
        Windows.BlockRange w = window(c, node, period);
        runTo(c, w.first() + 1);
        assertTrue(c.state.height() + 1 <= w.last(), "still in the window");
        byte[] seed = c.state.storageSeed(period, c.windows().nodeWindow(Storage.nodeId(addr(node))));
        assertNotNull(seed);
        Ledger.Result r = c.submit(node, StorageChain.proof(period, 0, shards.answers(seed, Storage.nodeId(addr(node)), period, 0, 32,
                shards.content)));
        assertEquals(Code.OK, r.code(), r.log());
        assertEquals(StorageRoot.PROVEN, c.state.storageRoot(period, addr(node)).status());
    }

    private static void ok(List<Ledger.Result> rs) {
        for (Ledger.Result r : rs) {
            assertEquals(Code.OK, r.code(), r.log());
        }
    }

    @Test
    void leave_committedPeriodsStillProvenOrPenalized_collateralReturnsAfterDelay_registerAgain() throws Exception {
        StorageChain c = new StorageChain(31, a, b);
        StorageChain.Shards sa = new StorageChain.Shards(1, 12);
        StorageChain.Shards sb = new StorageChain.Shards(2, 12);
        runTo(c, 10);
        ok(c.block(c.tx(a, StorageChain.register(1L << 30, COLLATERAL)), c.tx(b, StorageChain.register(1L << 30, COLLATERAL))));
        ok(c.block(c.tx(a, StorageChain.commit(1, sa.tree.root(), sa.tree.count())),
                c.tx(b, StorageChain.commit(1, sb.tree.root(), sb.tree.count()))));
        runTo(c, 20);
        // block 20, in period 1: both commit period 2's root; block 21: both leave
        ok(c.block(c.tx(a, StorageChain.commit(2, sa.tree.root(), sa.tree.count())),
                c.tx(b, StorageChain.commit(2, sb.tree.root(), sb.tree.count()))));
        BigInteger balanceA = c.state.account(addr(a)).balance();
        BigInteger balanceB = c.state.account(addr(b)).balance();
        ok(c.block(c.tx(a, unregister()), c.tx(b, unregister())));
        assertEquals(balanceA.subtract(BigInteger.ONE), c.state.account(addr(a)).balance(), "only the fee of 1 is paid now");
        for (Identity id : List.of(a, b)) {
            StorageNode n = c.state.storageNode(addr(id));
            assertTrue(n.leaving());
            assertFalse(n.active(), "a leaving node is inactive: placement passes it by");
            assertEquals(BigInteger.ZERO, n.collateral());
            assertEquals(60, n.withdrawAt(), "unregistered in period 1 with a root for period 2: paid at the first block of period 3");
            StorageWithdrawal w = c.state.storageWithdrawal(addr(id));
            assertEquals(COLLATERAL, w.amount());
            assertEquals(21, w.createdHeight());
        }
        assertEquals(BigInteger.ZERO, c.state.storageCollateral());
        // what the store keeps round-trips, withdrawals and the leaving mark included
        LedgerState back = LedgerState.fromEntries(c.state.entries(), c.state.height());
        assertArrayEquals(c.state.appHash(), back.appHash());
        assertEquals(c.state.storageNode(addr(a)), back.storageNode(addr(a)));
        assertEquals(c.state.storageWithdrawal(addr(a)), back.storageWithdrawal(addr(a)));
        // no new root, no top-up, no second leave (each refused in the block that would answer nothing else)
        assertEquals(Code.LEAVING, c.block(c.tx(a, StorageChain.commit(3, sa.tree.root(), sa.tree.count())),
                c.tx(b, StorageChain.register(1L << 30, COLLATERAL))).stream().map(Ledger.Result::code).distinct()
                .reduce((x, y) -> x == y ? x : Code.MALFORMED).orElseThrow());
        assertEquals(Code.LEAVING, c.submit(a, unregister()).code());

        // period 1 and 2: a answers both windows after leaving; b answers period 1 and misses period 2
        if (window(c, a, 1).first() <= window(c, b, 1).first()) {
            prove(c, a, sa, 1);
            prove(c, b, sb, 1);
        } else {
            prove(c, b, sb, 1);
            prove(c, a, sa, 1);
        }
        BigInteger slashed = c.state.slashed();
        Windows.BlockRange wb = window(c, b, 2);
        boolean aFirst = window(c, a, 2).first() <= wb.first();
        if (aFirst) {
            prove(c, a, sa, 2);
        }
        runTo(c, wb.last());
        assertEquals(StorageRoot.OPEN, c.state.storageRoot(2, addr(b)).status(), "not missed before its window's last block ends");
        c.block();
        assertEquals(StorageRoot.MISSED, c.state.storageRoot(2, addr(b)).status());
        if (!aFirst) {
            prove(c, a, sa, 2);
        }
        BigInteger cut = COLLATERAL.divide(BigInteger.TEN);
        assertEquals(slashed.add(cut), c.state.slashed(), "the missed window cuts 10% of the withdrawal (slashed)");
        assertEquals(COLLATERAL.subtract(cut), c.state.storageWithdrawal(addr(b)).amount());
        assertEquals(cut, c.state.storageNode(addr(b)).penalties());
        assertEquals(1, c.state.storageNode(addr(b)).missed());
        assertEquals(2, c.state.storageNode(addr(a)).proven());
        assertEquals(COLLATERAL, c.state.storageWithdrawal(addr(a)).amount());

        // maturity: nothing back before block 60 ends; then the balance, and the records are gone
        runTo(c, 60);
        assertEquals(59, c.state.height());
        assertNotNull(c.state.storageWithdrawal(addr(a)));
        BigInteger beforeA = c.state.account(addr(a)).balance();
        BigInteger beforeB = c.state.account(addr(b)).balance();
        c.block();
        assertEquals(c.state.expectedSupply(), c.state.supply());
        assertEquals(beforeA.add(COLLATERAL), c.state.account(addr(a)).balance());
        assertEquals(beforeB.add(COLLATERAL.subtract(cut)), c.state.account(addr(b)).balance());
        assertEquals(balanceB.add(COLLATERAL).subtract(cut).subtract(BigInteger.TWO), c.state.account(addr(b)).balance(),
                "b got its collateral back but the cut, having paid two fees of 1 since (leave, one proof)");
        assertNull(c.state.storageNode(addr(a)));
        assertNull(c.state.storageNode(addr(b)));
        assertTrue(c.state.storageWithdrawals().isEmpty());
        assertEquals(Code.NOT_STORAGE_NODE, c.submit(a, StorageChain.commit(4, sa.tree.root(), sa.tree.count())).code());

        // registering again: a new registration (the minimum applies), roots again
        assertEquals(Code.INSUFFICIENT_STAKE, c.submit(a, StorageChain.register(1L << 30, BigInteger.ONE)).code());
        assertEquals(Code.OK, c.submit(a, StorageChain.register(1L << 30, COLLATERAL)).code());
        StorageNode again = c.state.storageNode(addr(a));
        assertTrue(again.active());
        assertFalse(again.leaving());
        assertEquals(0, again.proven(), "a new record");
        Ledger.Result r = c.submit(a, StorageChain.commit(4, sa.tree.root(), sa.tree.count()));
        assertEquals(Code.OK, r.code(), r.log());
        prove(c, a, sa, 4);
        runTo(c, 100);
    }

    @Test
    void leave_withoutRoots_maturesAfterWithdrawPeriods() throws Exception {
        StorageChain c = new StorageChain(32, a);
        assertEquals(Code.OK, c.submit(a, StorageChain.register(100, COLLATERAL)).code());
        runTo(c, 25);
        assertEquals(Code.OK, c.submit(a, unregister()).code());
        assertEquals(60, c.state.storageNode(addr(a)).withdrawAt(), "period 1 + 2 periods");
        BigInteger before = c.state.account(addr(a)).balance();
        runTo(c, 61);
        assertEquals(before.add(COLLATERAL), c.state.account(addr(a)).balance());
        assertNull(c.state.storageNode(addr(a)));
    }

    @Test
    void unregister_refusals() throws Exception {
        StorageChain c = new StorageChain(33, a, b);
        Ledger.Result r = c.submit(a, unregister());
        assertEquals(Code.NOT_STORAGE_NODE, r.code());
        assertTrue(r.log().contains("is not a registered storage node"), r.log());
        assertEquals(0, c.state.account(addr(a)).nonce(), "a refused transaction takes no nonce");
        assertEquals(Code.OK, c.submit(a, StorageChain.register(100, COLLATERAL)).code());
        assertEquals(Code.OK, c.submit(a, unregister()).code());
        r = c.submit(a, unregister());
        assertEquals(Code.LEAVING, r.code());
        assertTrue(r.log().contains("leaving already") && r.log().contains("block 40"), r.log());
        r = c.submit(a, StorageChain.commit(1, NodeRoot.emptyRoot(), 0));
        assertEquals(Code.LEAVING, r.code());
        assertTrue(r.log().contains("commits no more roots"), r.log());
        assertEquals(Code.LEAVING, c.submit(a, StorageChain.register(100, COLLATERAL)).code());
        // an unknown field inside the operation is refused before any rule
        ChainProto.UnregisterStorageNode padded = ChainProto.UnregisterStorageNode.newBuilder()
                .setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder().addField(7,
                        com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build()).build();
        r = c.submit(b, TxBody.newBuilder().setUnregisterStorageNode(padded));
        assertEquals(Code.MALFORMED, r.code());
        assertTrue(r.log().contains("unregister_storage_node has unknown field(s)"), r.log());
        // the fee is still due: a sender that cannot pay it is refused
        Identity poor = Identity.fromSeed(seed(9));
        assertEquals(Code.INSUFFICIENT_FUNDS, c.submit(poor, unregister()).code());
        assertEquals(32, Code.LEAVING.value(), "appended: the codes before it keep their values");
    }

    @Test
    void storageParams_withdrawPeriodsAtLeastTwo() {
        StorageParams d = StorageParams.DEFAULTS;
        assertEquals(2, d.withdrawPeriods());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new StorageParams(d.periodBlocks(), d.windows(),
                d.challenges(), d.minCollateral(), d.penaltyPpm(), d.faultFee(), d.commitDeadline(), d.retainPeriods(), d.auditors(),
                d.auditTargets(), d.auditDeadlineMillis(), d.auditVerdictBlocks(), d.auditStandingPeriods(), d.auditFailThreshold(), 1));
        assertEquals("2", d.toMap().get("withdrawPeriods"));
        assertEquals(d, StorageParams.fromMap(d.toMap()));
    }

    /**
     * Mutated UnregisterStorageNode bytes (seed 3131, 5,000, 1 to 4 bytes each set at random) applied
     * to a registered node's state: never a crash, every refusal says why and changes nothing, and
     * what is accepted is the genuine leave (a mutation the signature survives cannot change the body).
     */
    @Test
    void unregister_mutatedBytes_refusedWithoutACrash_orTheGenuineLeave() throws Exception {
        StorageChain c = new StorageChain(35, a);
        assertEquals(Code.OK, c.submit(a, StorageChain.register(100, COLLATERAL)).code());
        byte[] good = c.tx(a, unregister());
        byte[] before = c.state.appHash();
        LedgerState genuine = c.state.copy();
        assertEquals(Code.OK, c.ledger.apply(genuine, good).code());
        Random r = new Random(3131);
        int accepted = 0;
        for (int i = 0; i < 5_000; i++) {
            byte[] t = good.clone();
            for (int j = 0; j < 1 + r.nextInt(4); j++) {
                t[r.nextInt(t.length)] = (byte) r.nextInt(256);
            }
            LedgerState s = c.state.copy();
            Ledger.Result res = c.ledger.apply(s, t);
            if (res.ok()) {
                accepted++;
                assertArrayEquals(genuine.appHash(), s.appHash(), "an accepted mutation is the same leave");
            } else {
                assertFalse(res.log().isEmpty(), "every refusal says why");
                assertArrayEquals(before, s.appHash(), "a refused transaction changes nothing");
            }
        }
        assertTrue(accepted < 100, "mutations are refused: " + accepted + " accepted");
    }

    /**
     * Fuzz (seed 3030, 1,500 blocks, bounded): four nodes at random register, commit roots, answer
     * their windows (or not), leave and register again, with random extra bytes in unregister
     * transactions. After every block: the supply invariant; a leaving node has 0 collateral, is
     * inactive, and its withdrawal exists, matures at a period's first block after every period it
     * holds a root for, and never grows; a withdrawal always belongs to a leaving node. At the end,
     * the state round-trips with the same app hash.
     */
    @Test
    void unregister_fuzz_invariantsHoldAtEveryBlock() throws Exception {
        Identity[] ids = new Identity[4];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Identity.fromSeed(seed(40 + i));
        }
        StorageChain c = new StorageChain(34, ids);
        StorageChain.Shards[] shards = new StorageChain.Shards[ids.length];
        for (int i = 0; i < ids.length; i++) {
            shards[i] = new StorageChain.Shards(100 + i, 6);
        }
        Random r = new Random(3030);
        java.util.Map<String, BigInteger> lastWithdrawal = new java.util.HashMap<>();
        int leaves = 0;
        int matured = 0;
        for (int blk = 0; blk < 1_500; blk++) {
            List<byte[]> txs = new ArrayList<>();
            long next = c.state.height() + 1;
            long period = c.windows().period(next);
            for (int i = 0; i < ids.length; i++) {
                Identity id = ids[i];
                StorageNode n = c.state.storageNode(addr(id));
                int dice = r.nextInt(100);
                if (n == null && dice < 10) {
                    txs.add(c.tx(id, StorageChain.register(1000, COLLATERAL.add(BigInteger.valueOf(r.nextInt(1000))))));
                } else if (n != null && dice < 3) {
                    TxBody.Builder u = unregister();
                    if (r.nextInt(4) == 0) { // sometimes padded: refused as MALFORMED, changing nothing
                        u.setUnregisterStorageNode(ChainProto.UnregisterStorageNode.newBuilder().setUnknownFields(
                                com.google.protobuf.UnknownFieldSet.newBuilder().addField(1 + r.nextInt(100),
                                        com.google.protobuf.UnknownFieldSet.Field.newBuilder().addLengthDelimited(
                                                ByteString.copyFrom(new byte[r.nextInt(40)])).build()).build()));
                    }
                    txs.add(c.tx(id, u));
                } else if (n != null && dice < 30 && c.state.storageRoot(period + 1, addr(id)) == null) {
                    txs.add(c.tx(id, StorageChain.commit(period + 1, shards[i].tree.root(), shards[i].tree.count())));
                } else if (n != null && dice < 90) {
                    LedgerState.StorageRoot root = c.state.storageRoot(period, addr(id));
                    int win = c.windows().nodeWindow(Storage.nodeId(addr(id)));
                    byte[] s = c.state.storageSeed(period, win);
                    if (root != null && root.status() == StorageRoot.OPEN && s != null && r.nextInt(3) > 0) {
                        txs.add(c.tx(id, StorageChain.proof(period, 0, shards[i].answers(s, Storage.nodeId(addr(id)), period, 0, 32,
                                shards[i].content))));
                    }
                }
                if (!txs.isEmpty() && txs.size() > i + 1) {
                    txs.remove(txs.size() - 1); // at most one transaction a sender a block (nonces)
                }
            }
            java.util.Set<String> leavingBefore = new java.util.HashSet<>();
            for (Identity id : ids) {
                StorageNode n = c.state.storageNode(addr(id));
                if (n != null && n.leaving()) {
                    leavingBefore.add(addr(id));
                }
            }
            c.block(txs.toArray(new byte[0][]));
            assertEquals(c.state.expectedSupply(), c.state.supply(), "supply at block " + c.state.height());
            for (Identity id : ids) {
                String ad = addr(id);
                StorageNode n = c.state.storageNode(ad);
                if (n != null && n.leaving()) {
                    if (!leavingBefore.contains(ad)) {
                        leaves++;
                    }
                    assertEquals(BigInteger.ZERO, n.collateral());
                    assertFalse(n.active());
                    assertEquals(0, n.withdrawAt() % 20, "matures at a period's first block");
                    StorageWithdrawal w = c.state.storageWithdrawal(ad);
                    assertNotNull(w, ad);
                    for (Long p : c.state.storageRootsOf(ad).keySet()) {
                        assertTrue(n.withdrawAt() > (p + 1) * 20 - 1, "matures after period " + p + " ends");
                    }
                    BigInteger last = lastWithdrawal.get(ad);
                    assertTrue(last == null || w.amount().compareTo(last) <= 0, "a withdrawal never grows");
                    lastWithdrawal.put(ad, w.amount());
                } else {
                    if (leavingBefore.contains(ad)) {
                        matured++;
                    }
                    lastWithdrawal.remove(ad);
                }
            }
            for (StorageWithdrawal w : c.state.storageWithdrawals().values()) {
                StorageNode n = c.state.storageNode(w.node());
                assertNotNull(n, "a withdrawal's node is leaving");
                assertEquals(w.completeHeight(), n.withdrawAt());
                assertTrue(w.completeHeight() > c.state.height(), "no withdrawal is left past its maturity");
            }
        }
        assertTrue(leaves >= 5 && matured >= 5, "the fuzz left and matured often enough: " + leaves + " / " + matured);
        LedgerState back = LedgerState.fromEntries(c.state.entries(), c.state.height());
        assertArrayEquals(c.state.appHash(), back.appHash());
    }
}
