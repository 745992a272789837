package io.oecloud.chain.ledger;

import static io.oecloud.chain.ledger.ContractChain.addr;
import static io.oecloud.chain.ledger.ContractChain.create;
import static io.oecloud.chain.ledger.ContractChain.id;
import static io.oecloud.chain.ledger.ContractChain.receipt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Paid storage at the ledger level ({@link Contracts}), on real state driven block by block
 * (P = 20 blocks, W = 4, proofs over real shards): escrow, settlement to the holders that proved,
 * misses, renewals at a new price, early ends, moves, expiry, the receipts' refusals, the price
 * median, self-dealing. {@link ContractChain} checks the supply, the escrow pool against the
 * contracts and (after each settlement) the rates against the contracts after every block.
 */
class ContractsTest {
    /** 7 base units per byte per period: cost = 7 x bytes. */
    static final BigInteger ASK = BigInteger.valueOf(7).shiftLeft(30);

    private final Identity a = id(1);
    private final Identity b = id(2);
    private final Identity cNode = id(3);
    private final Identity d = id(4);
    private final Identity payer = id(10);

    private ContractChain chain() throws Exception {
        return new ContractChain(1, a, b, cNode, d, payer);
    }

    /** Nodes a, b, c, d registered in period 0 with ASK; runs to the start of period 1 (roots of period 1 committed). */
    private ContractChain started() throws Exception {
        ContractChain k = chain();
        k.registerNodes(List.of(a, b, cNode, d), new long[] {1L << 40, 1L << 40, 1L << 40, 1L << 40},
                new BigInteger[] {ASK, ASK, ASK, ASK});
        k.finishPeriod(List.of());
        assertEquals(1, k.nextPeriod());
        return k;
    }

    private static BigInteger balance(ContractChain k, Identity id) {
        return k.state().account(addr(id)).balance();
    }

    @Test
    void create_movesExactlyTheEscrow_andProvenHoldersArePaidTheirShares() throws Exception {
        ContractChain k = started();
        byte[] obj = ContractChain.object("one");
        String u = addr(payer);
        List<ChainProto.Receipt> rs = List.of(receipt(a, obj, u, 1000, 2, 1), receipt(b, obj, u, 2000, 2, 1), receipt(cNode, obj, u, 3001, 3, 1));
        BigInteger before = balance(k, payer);
        BigInteger pool = k.state().escrowPool();
        Ledger.Result r = k.submit(payer, create(obj, 3, rs));
        assertEquals(Code.OK, r.code(), r.log());
        assertEquals(ASK, Contracts.currentPrice(k.state()).value());
        assertFalse(Contracts.currentPrice(k.state()).isDefault());
        BigInteger cost = BigInteger.valueOf(7 * 6001);
        BigInteger escrow = cost.multiply(BigInteger.valueOf(3));
        assertEquals(before.subtract(escrow).subtract(BigInteger.ONE), balance(k, payer), "escrow + the fee of 1");
        assertEquals(pool.add(escrow), k.state().escrowPool());
        Contracts.Contract ct = Contracts.contract(k.state(), ContractChain.objectText(obj), u);
        assertEquals(2, ct.start());
        assertEquals(5, ct.end());
        assertEquals(6001, ct.bytes());
        SortedMap<String, BigInteger> shares = ct.shares(cost);
        assertEquals(cost, shares.values().stream().reduce(BigInteger.ZERO, BigInteger::add), "shares sum to the cost");
        assertEquals(BigInteger.valueOf(7 * 1000 * 6001 / 6001), shares.get(addr(a)));
        // the remainder to the largest holder
        BigInteger fa = cost.multiply(BigInteger.valueOf(1000)).divide(BigInteger.valueOf(6001));
        BigInteger fb = cost.multiply(BigInteger.valueOf(2000)).divide(BigInteger.valueOf(6001));
        assertEquals(cost.subtract(fa).subtract(fb), shares.get(addr(cNode)));

        k.finishPeriod(List.of(a, b, cNode, d)); // period 1: proofs, nothing paid yet (paid periods start at 2)
        assertTrue(Contracts.payments(k.state(), addr(a)).isEmpty());
        assertEquals(shares.get(addr(a)), Contracts.rate(k.state(), addr(a)), "the rate from period 2");
        assertEquals(escrow, k.state().escrowPool(), "nothing settled from it yet");
        k.finishPeriod(List.of(a, b, cNode, d)); // period 2: every holder proves
        assertEquals(escrow.subtract(cost), k.state().escrowPool());
        for (Identity h : List.of(a, b, cNode)) {
            assertEquals(new Contracts.Payment(shares.get(addr(h)), true), Contracts.payments(k.state(), addr(h)).getFirst().getValue());
            assertEquals(shares.get(addr(h)), Contracts.earned(k.state(), addr(h)), "the total earned so far: one period");
        }
        k.finishPeriod(List.of(a, b, cNode, d)); // period 3: paid again, and the totals add up
        for (Identity h : List.of(a, b, cNode)) {
            assertEquals(shares.get(addr(h)).shiftLeft(1), Contracts.earned(k.state(), addr(h)));
        }
    }

    @Test
    void settlement_paysProvenHolders_andMissesGoToTheFeePool() throws Exception {
        ContractChain k = started();
        byte[] obj = ContractChain.object("two");
        String u = addr(payer);
        List<ChainProto.Receipt> rs = List.of(receipt(a, obj, u, 1000, 2, 1), receipt(b, obj, u, 2000, 2, 1), receipt(cNode, obj, u, 3001, 3, 1));
        k.finishPeriod(List.of(a, b, cNode, d), List.of(k.c.tx(payer, create(obj, 3, rs))));
        Contracts.Contract ct = Contracts.contract(k.state(), ContractChain.objectText(obj), u);
        SortedMap<String, BigInteger> shares = ct.shares(BigInteger.valueOf(7 * 6001));
        // period 2: a and b prove, c misses its window
        long pb = k.state().storageParams().periodBlocks();
        k.finishPeriodUntilLast(List.of(a, b, d));
        assertEquals(3 * pb - 2, k.state().height());
        BigInteger ba = balance(k, a);
        BigInteger bb = balance(k, b);
        BigInteger bc = balance(k, cNode);
        BigInteger fees = k.state().feePool();
        BigInteger pool = k.state().escrowPool();
        BigInteger collateralC = k.state().storageNode(addr(cNode)).collateral();
        k.block(); // the last block of period 2: settlement
        assertEquals(ba.add(shares.get(addr(a))), balance(k, a), "a proved: paid its share");
        assertEquals(bb.add(shares.get(addr(b))), balance(k, b), "b proved: paid its share");
        assertEquals(bc, balance(k, cNode), "c missed: nothing");
        assertEquals(fees.add(shares.get(addr(cNode))), k.state().feePool(), "c's share to the fee pool");
        assertEquals(pool.subtract(BigInteger.valueOf(7 * 6001)), k.state().escrowPool(), "one period's cost left the escrow");
        assertTrue(k.state().storageNode(addr(cNode)).collateral().compareTo(collateralC) <= 0, "c is penalized as before");
        assertEquals(1, k.state().storageNode(addr(cNode)).missed());
        List<Map.Entry<Long, Contracts.Payment>> pa = Contracts.payments(k.state(), addr(a));
        assertEquals(2L, pa.getFirst().getKey());
        assertTrue(pa.getFirst().getValue().paid());
        assertFalse(Contracts.payments(k.state(), addr(cNode)).getFirst().getValue().paid());
    }

    @Test
    void renew_atAChangedPrice_addsATermPaidFromTheOldEnd() throws Exception {
        ContractChain k = started();
        byte[] obj = ContractChain.object("renew");
        String u = addr(payer);
        k.finishPeriod(List.of(a, b, cNode, d), List.of(k.c.tx(payer, create(obj, 3, List.of(receipt(a, obj, u, 1 << 20, 1, 1))))));
        // period 2: every node asks twice as much from period 3 on (only the ask changes: accepted)
        BigInteger ask2 = ASK.shiftLeft(1);
        List<byte[]> asks = new ArrayList<>();
        for (Identity n : List.of(a, b, cNode, d)) {
            asks.add(k.c.tx(n, ContractChain.register(1L << 40, BigInteger.ZERO, ask2)));
        }
        k.finishPeriod(List.of(a, b, cNode, d), asks);
        assertEquals(3, k.nextPeriod());
        BigInteger before = balance(k, payer);
        BigInteger pool = k.state().escrowPool();
        k.finishPeriod(List.of(a, b, cNode, d), List.of(k.c.tx(payer, ContractChain.renew(obj, 4))));
        assertEquals(ask2, k.state().price);
        Contracts.Contract ct = Contracts.contract(k.state(), ContractChain.objectText(obj), u);
        BigInteger oldCost = BigInteger.valueOf(7L << 20);
        BigInteger newCost = BigInteger.valueOf(14L << 20);
        assertEquals(List.of(new Contracts.Term(2, 5, oldCost), new Contracts.Term(5, 9, newCost)), ct.terms());
        assertEquals(before.subtract(newCost.multiply(BigInteger.valueOf(4))).subtract(BigInteger.ONE), balance(k, payer));
        // period 3 settled at the old cost; period 4 is still the old term's
        assertEquals(pool.add(newCost.multiply(BigInteger.valueOf(4))).subtract(oldCost), k.state().escrowPool());
        assertEquals(oldCost, Contracts.rate(k.state(), addr(a)));
        k.finishPeriod(List.of(a, b, cNode, d)); // period 4
        assertEquals(newCost, Contracts.rate(k.state(), addr(a)), "the new term's cost from period 5");
        BigInteger ba = balance(k, a);
        k.finishPeriod(List.of(a, b, cNode, d)); // period 5
        BigInteger fees = BigInteger.ONE.add(BigInteger.ONE); // a's proof and its next root
        assertEquals(ba.add(newCost).subtract(fees), balance(k, a), "period 5 paid at the new cost");
        // the same price again merges into the last term
        k.finishPeriod(List.of(a, b, cNode, d), List.of(k.c.tx(payer, ContractChain.renew(obj, 1))));
        assertEquals(2, Contracts.contract(k.state(), ContractChain.objectText(obj), u).terms().size());
        assertEquals(10, Contracts.contract(k.state(), ContractChain.objectText(obj), u).end());
    }

    @Test
    void end_refundsEveryLaterPeriodExactly() throws Exception {
        ContractChain k = started();
        byte[] obj = ContractChain.object("end");
        String u = addr(payer);
        k.finishPeriod(List.of(a, b), List.of(k.c.tx(payer, create(obj, 10, List.of(receipt(a, obj, u, 1000, 1, 1),
                receipt(b, obj, u, 500, 1, 1))))));
        k.finishPeriod(List.of(a, b)); // period 2 paid
        assertEquals(3, k.nextPeriod());
        BigInteger before = balance(k, payer);
        BigInteger pool = k.state().escrowPool();
        BigInteger cost = BigInteger.valueOf(7 * 1500);
        Ledger.Result r = k.submit(payer, ContractChain.end(obj));
        assertEquals(Code.OK, r.code(), r.log());
        // paid through period 3 (the current one): periods 4..11 refunded
        BigInteger refund = cost.multiply(BigInteger.valueOf(8));
        assertEquals(before.add(refund).subtract(BigInteger.ONE), balance(k, payer));
        assertEquals(pool.subtract(refund), k.state().escrowPool());
        Contracts.Contract ct = Contracts.contract(k.state(), ContractChain.objectText(obj), u);
        assertEquals(4, ct.end());
        BigInteger ba = balance(k, a);
        k.finishPeriod(List.of(a, b)); // period 3 still paid
        assertTrue(balance(k, a).compareTo(ba) > 0);
        assertEquals(BigInteger.ZERO, Contracts.rate(k.state(), addr(a)), "nothing due after the end");
        assertEquals(BigInteger.ZERO, k.state().escrowPool());
        assertEquals(Code.CONTRACT_ENDED, k.submit(payer, ContractChain.end(obj)).code());
        assertEquals(Code.CONTRACT_ENDED, k.submit(payer, ContractChain.renew(obj, 1)).code());
    }

    @Test
    void move_fromAFailedHolder_paysTheNewOneFromTheNextPeriod() throws Exception {
        ContractChain k = started();
        byte[] obj = ContractChain.object("move");
        String u = addr(payer);
        k.finishPeriod(List.of(a, b, cNode, d), List.of(k.c.tx(payer, create(obj, 6, List.of(receipt(a, obj, u, 1000, 1, 1),
                receipt(cNode, obj, u, 1000, 1, 1))))));
        k.finishPeriod(List.of(a, b, d)); // period 2: c misses
        assertFalse(Contracts.payments(k.state(), addr(cNode)).getFirst().getValue().paid());
        long p = k.nextPeriod();
        Ledger.Result r = k.submit(payer, ContractChain.move(obj, List.of(addr(cNode)), List.of(receipt(d, obj, u, 1000, 1, p))));
        assertEquals(Code.OK, r.code(), r.log());
        Contracts.Contract ct = Contracts.contract(k.state(), ContractChain.objectText(obj), u);
        assertEquals(java.util.Set.of(addr(a), addr(d)), ct.holders().keySet());
        assertEquals(BigInteger.valueOf(7 * 2000), ct.terms().getFirst().cost(), "the cost is unchanged");
        BigInteger bc = balance(k, cNode);
        BigInteger bd = balance(k, d);
        k.finishPeriod(List.of(a, b, cNode, d)); // period 3: c still due (moved from 4), c proves now and is paid its old share
        assertEquals(BigInteger.valueOf(7000), Contracts.payments(k.state(), addr(cNode)).getFirst().getValue().amount());
        assertEquals(BigInteger.ZERO, Contracts.rate(k.state(), addr(cNode)));
        assertEquals(BigInteger.valueOf(7000), Contracts.rate(k.state(), addr(d)));
        assertTrue(Contracts.payments(k.state(), addr(d)).isEmpty(), "d is not paid for period 3");
        k.finishPeriod(List.of(a, b, cNode, d)); // period 4: d paid, c not
        assertEquals(new Contracts.Payment(BigInteger.valueOf(7000), true), Contracts.payments(k.state(), addr(d)).getFirst().getValue());
        assertEquals(3L, Contracts.payments(k.state(), addr(cNode)).getFirst().getKey(), "c's last payment is for period 3");
        assertTrue(balance(k, d).compareTo(bd) > 0);
        assertTrue(k.state().contractHolders.containsKey(addr(d) + "/" + ContractChain.objectText(obj) + "/" + u));
        assertFalse(k.state().contractHolders.containsKey(addr(cNode) + "/" + ContractChain.objectText(obj) + "/" + u));
        assertNotNull(bc);
        // at least one holder remains
        assertEquals(Code.MALFORMED, k.submit(payer, ContractChain.move(obj, List.of(addr(a), addr(d)), List.of())).code());
    }

    @Test
    void expiry_prunesTheRecordAfterTheGrace() throws Exception {
        ContractChain k = started();
        byte[] obj = ContractChain.object("expire");
        String u = addr(payer);
        String key = ContractChain.objectText(obj) + "/" + u;
        k.finishPeriod(List.of(a), List.of(k.c.tx(payer, create(obj, 1, List.of(receipt(a, obj, u, 10, 1, 1))))));
        k.finishPeriod(List.of(a)); // period 2: the only paid period
        assertEquals(3, Contracts.contract(k.state(), ContractChain.objectText(obj), u).end());
        k.finishPeriod(List.of(a)); // period 3: expired, grace
        assertNotNull(Contracts.contract(k.state(), ContractChain.objectText(obj), u));
        k.finishPeriod(List.of(a)); // period 4: grace ends (contractGracePeriods = 2): removed at its last block
        assertNull(Contracts.contract(k.state(), ContractChain.objectText(obj), u));
        assertFalse(k.state().contractHolders.containsKey(addr(a) + "/" + key));
        assertFalse(k.state().contractsByPayer.containsKey(u + "/" + ContractChain.objectText(obj)));
        assertTrue(k.state().contractEnds.isEmpty());
        assertTrue(k.state().rateChanges.isEmpty());
        // the object can be bought again
        long p = k.nextPeriod();
        assertEquals(Code.OK, k.submit(payer, create(obj, 1, List.of(receipt(a, obj, u, 10, 1, p)))).code());
    }

    /**
     * What a payer's node acts on (storage-node's ContractBuyer): a holder that turned inactive (a
     * missed window cut its collateral below the minimum) or is leaving gets the whole contract
     * refused with NOT_STORAGE_NODE or LEAVING, and the same contract without its receipt goes through.
     */
    @Test
    void aReceiptOfAHolderThatTurnedInactiveOrIsLeaving_refusesTheWholeContract_withoutItTheContractGoesThrough() throws Exception {
        ContractChain k = started();
        Identity e = id(5);
        byte[] obj = ContractChain.object("turned inactive");
        String u = addr(payer);
        assertEquals(Code.OK, k.submit(payer, TxBody.newBuilder().setTransfer(ChainProto.Transfer.newBuilder().setTo(addr(e))
                .setAmount(com.google.protobuf.ByteString.copyFrom(Amounts.encode(StorageChain.MIN_COLLATERAL.shiftLeft(1)))))).code());
        // e registers with exactly the minimum collateral and commits a root for the next period that it will not prove
        assertEquals(Code.OK, k.submit(e, ContractChain.register(1L << 40, StorageChain.MIN_COLLATERAL, ASK)).code());
        long p = k.nextPeriod();
        Ledger.Result commit = k.submit(e, StorageChain.commit(p + 1, new byte[32], 1));
        assertEquals(Code.OK, commit.code(), commit.log());
        assertEquals(Code.OK, k.submit(payer, create(ContractChain.object("before"), 1, List.of(receipt(e, ContractChain.object("before"), u,
                100, 1, p)))).code(), "active: it can be paid");
        k.finishPeriod(List.of(a, b, cNode, d));
        k.finishPeriod(List.of(a, b, cNode, d)); // e misses its window
        assertFalse(k.state().storageNode(addr(e)).active(), "below the minimum after its miss");

        long q = k.nextPeriod();
        LedgerState copy = k.state().copyForNextBlock();
        Ledger.Result r = k.c.ledger.apply(copy, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 100, 1, q),
                receipt(e, obj, u, 100, 1, q)))));
        assertEquals(Code.NOT_STORAGE_NODE, r.code(), r.log());
        assertTrue(r.log().contains(addr(e)) && r.log().contains("inactive"), r.log());
        refused(k, Code.NOT_STORAGE_NODE, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 100, 1, q), receipt(e, obj, u, 100, 1, q)))));
        assertEquals(Code.OK, k.submit(b, StorageExitTest.unregister()).code());
        refused(k, Code.LEAVING, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 100, 1, q), receipt(b, obj, u, 100, 1, q)))));
        assertEquals(Code.OK, k.submit(payer, create(obj, 2, List.of(receipt(a, obj, u, 100, 1, q)))).code(), "without them");
    }

    /** Applies {@code tx} to a copy of the state as the next block would; asserts the code and that nothing changed. */
    private static void refused(ContractChain k, Code code, byte[] tx) {
        LedgerState copy = k.state().copyForNextBlock();
        Ledger.Result r = k.c.ledger.apply(copy, tx);
        assertEquals(code, r.code(), r.log());
        assertFalse(r.log().isEmpty());
        Map<String, byte[]> before = k.state().entries();
        Map<String, byte[]> after = copy.entries();
        assertEquals(before.keySet(), after.keySet());
        before.forEach((key, v) -> assertArrayEquals(v, after.get(key), key));
    }

    @Test
    void receipts_eachBadOneIsRefusedByName_andChangesNothing() throws Exception {
        ContractChain k = started();
        byte[] obj = ContractChain.object("receipts");
        byte[] other = ContractChain.object("other");
        String u = addr(payer);
        long p = k.nextPeriod();
        Identity stranger = id(77);
        // a bad signature: signed by another key
        ChainProto.Receipt good = receipt(a, obj, u, 100, 1, p);
        ChainProto.Receipt forged = good.toBuilder().setSignature(receipt(b, obj, u, 100, 1, p).getSignature()).build();
        refused(k, Code.RECEIPT_SIGNATURE, k.c.tx(payer, create(obj, 2, List.of(forged))));
        // signed for another object, another payer, another period, other bytes
        refused(k, Code.RECEIPT_SIGNATURE, k.c.tx(payer, create(obj, 2, List.of(receipt(a, other, u, 100, 1, p)))));
        refused(k, Code.RECEIPT_SIGNATURE, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, addr(b), 100, 1, p)))));
        refused(k, Code.RECEIPT_SIGNATURE, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 100, 1, p - 1).toBuilder()
                .setPeriod(p).build()))));
        refused(k, Code.RECEIPT_SIGNATURE, k.c.tx(payer, create(obj, 2, List.of(good.toBuilder().setBytes(101).build()))));
        // a stale period (signed correctly two periods ago), and one from the future
        k.finishPeriod(List.of());
        long q = k.nextPeriod();
        refused(k, Code.STALE_RECEIPT, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 100, 1, q - 2)))));
        refused(k, Code.STALE_RECEIPT, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 100, 1, q + 1)))));
        // an unregistered holder
        refused(k, Code.NOT_STORAGE_NODE, k.c.tx(payer, create(obj, 2, List.of(receipt(stranger, obj, u, 100, 1, q)))));
        // the same holder twice
        refused(k, Code.DUPLICATE_HOLDER, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 100, 1, q), receipt(a, obj, u, 50, 1, q)))));
        // too many
        List<ChainProto.Receipt> many = new ArrayList<>();
        for (int i = 0; i < Contracts.MAX_RECEIPTS + 1; i++) {
            many.add(receipt(a, obj, u, 1, 1, q));
        }
        refused(k, Code.TOO_LARGE, k.c.tx(payer, create(obj, 2, many)));
        // bytes 0, blocks 0
        refused(k, Code.BAD_RECEIPT, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 0, 1, q)))));
        refused(k, Code.BAD_RECEIPT, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 10, 0, q)))));
        // no receipt, a bad object, periods out of range, a max price below the price, too little money
        refused(k, Code.MALFORMED, k.c.tx(payer, create(obj, 2, List.of())));
        refused(k, Code.BAD_CID, k.c.tx(payer, create(new byte[] {1, 2, 3}, 2, List.of(receipt(a, new byte[] {1, 2, 3}, u, 10, 1, q)))));
        refused(k, Code.MALFORMED, k.c.tx(payer, create(obj, 0, List.of(receipt(a, obj, u, 10, 1, q)))));
        TxBody.Builder cheap = create(obj, 2, List.of(receipt(a, obj, u, 10, 1, q)));
        cheap.getCreateContractBuilder().setMaxPrice(com.google.protobuf.ByteString.copyFrom(Amounts.encode(ASK.subtract(BigInteger.ONE))));
        refused(k, Code.PRICE_ABOVE_MAX, k.c.tx(payer, cheap));
        refused(k, Code.INSUFFICIENT_FUNDS, k.c.tx(payer, create(obj, 2, List.of(receipt(a, obj, u, 1L << 50, 1, q)))));
        // a contract exists already; renew/end/move of a contract that does not exist
        assertEquals(Code.OK, k.submit(payer, create(obj, 2, List.of(receipt(a, obj, u, 10, 1, q)))).code());
        refused(k, Code.CONTRACT_EXISTS, k.c.tx(payer, create(obj, 2, List.of(receipt(b, obj, u, 10, 1, q)))));
        refused(k, Code.NO_CONTRACT, k.c.tx(payer, ContractChain.renew(other, 2)));
        refused(k, Code.NO_CONTRACT, k.c.tx(payer, ContractChain.end(other)));
        refused(k, Code.NO_CONTRACT, k.c.tx(b, ContractChain.end(obj)));
        refused(k, Code.DUPLICATE_HOLDER, k.c.tx(payer, ContractChain.move(obj, List.of(addr(a)), List.of(receipt(a, obj, u, 10, 1, q)))));
        refused(k, Code.MALFORMED, k.c.tx(payer, ContractChain.move(obj, List.of(addr(b)), List.of())));
    }

    @Test
    void receipts_withoutA32ByteEntriesRoot_orSignedOverAnotherRoot_areRefused_andChangeNothing() throws Exception {
        ContractChain k = started();
        byte[] obj = ContractChain.object("roots");
        String u = addr(payer);
        long p = k.nextPeriod();
        ChainProto.Receipt good = receipt(a, obj, u, 100, 3, p);
        byte[] otherRoot = ContractChain.heldBlocks("someone else", obj, 3).tree.root();
        for (int len : new int[] {0, 31, 33}) {
            ChainProto.Receipt r = good.toBuilder().setEntriesRoot(com.google.protobuf.ByteString.copyFrom(new byte[len])).build();
            LedgerState copy = k.state().copyForNextBlock();
            Ledger.Result res = k.c.ledger.apply(copy, k.c.tx(payer, create(obj, 2, List.of(r))));
            assertEquals(Code.BAD_RECEIPT, res.code(), res.log());
            assertEquals("receipt 0 of " + addr(a) + ": an entries root is 32 bytes, not " + len, res.log());
            refused(k, Code.BAD_RECEIPT, k.c.tx(payer, ContractChain.move(ContractChain.object("none"), List.of(), List.of(r))));
        }
        // the signature covers the root: the same receipt naming another root does not verify, in a create or a move
        ChainProto.Receipt swapped = good.toBuilder().setEntriesRoot(com.google.protobuf.ByteString.copyFrom(otherRoot)).build();
        refused(k, Code.RECEIPT_SIGNATURE, k.c.tx(payer, create(obj, 2, List.of(swapped))));
        assertEquals(Code.OK, k.submit(payer, create(obj, 2, List.of(receipt(b, obj, u, 100, 3, p)))).code());
        refused(k, Code.RECEIPT_SIGNATURE, k.c.tx(payer, ContractChain.move(obj, List.of(), List.of(swapped))));
        // the good one is taken, and the contract keeps its root for the holder
        assertEquals(Code.OK, k.submit(payer, ContractChain.move(obj, List.of(), List.of(good))).code());
        Contracts.Holding h = Contracts.contract(k.state(), ContractChain.objectText(obj), u).holders().get(addr(a));
        assertArrayEquals(good.getEntriesRoot().toByteArray(), h.root());
        assertEquals(new Contracts.Holding(100, 3, good.getEntriesRoot().toByteArray()), h, "a holding equals by its root's contents");
    }

    @Test
    void receiptMessage_isTheV2LayoutWithTheEntriesRoot() {
        byte[] root = new byte[32];
        java.util.Arrays.fill(root, (byte) 0xab);
        byte[] m = Contracts.receiptMessage("ch", new byte[] {1, 2}, "P", "H", 7, 3, root, 9);
        java.nio.ByteBuffer want = java.nio.ByteBuffer.allocate(18 + 4 + 4 + 3 + 3 + 8 + 4 + 32 + 8);
        want.put("oechain/receipt/v2".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putShort((short) 2).put("ch".getBytes())
                .putShort((short) 2).put(new byte[] {1, 2}).putShort((short) 1).put((byte) 'P').putShort((short) 1).put((byte) 'H')
                .putLong(7).putInt(3).put(root).putLong(9);
        assertArrayEquals(want.array(), m);
        for (byte[] bad : new byte[][] {new byte[0], new byte[31], new byte[33], null}) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> Contracts.receiptMessage("ch", new byte[] {1, 2}, "P", "H", 7, 3, bad, 9));
        }
    }

    @Test
    void garbageReceipts_areRefusedWithACode_neverThrow() throws Exception {
        ContractChain k = started();
        java.util.Random rnd = new java.util.Random(7);
        String u = addr(payer);
        String[] holders = {"", "b", "bafz", "x".repeat(129), "12D3KooW", addr(a), addr(a).substring(1), "1", "Qm" + "1".repeat(44),
            "baaaa" + "a".repeat(50), "\u00e9\u0000/", addr(a).replace('1', '0')};
        int ok = 0;
        for (int i = 0; i < 400; i++) {
            byte[] obj = new byte[rnd.nextInt(4) == 0 ? rnd.nextInt(80) : 0];
            rnd.nextBytes(obj);
            if (obj.length == 0) {
                obj = ContractChain.object("g" + i);
            }
            List<ChainProto.Receipt> rs = new ArrayList<>();
            for (int j = rnd.nextInt(4); j >= 0; j--) {
                ChainProto.Receipt r = rnd.nextBoolean() ? receipt(a, obj, u, rnd.nextInt(3), rnd.nextInt(3), rnd.nextInt(3))
                        : ChainProto.Receipt.newBuilder().setHolder(holders[rnd.nextInt(holders.length)]).setBytes(rnd.nextLong())
                                .setBlocks(rnd.nextInt()).setPeriod(rnd.nextLong())
                                .setSignature(com.google.protobuf.ByteString.copyFrom(new byte[rnd.nextInt(3) * 32])).build();
                rs.add(r);
            }
            TxBody.Builder body = rnd.nextBoolean() ? create(obj, rnd.nextInt(4), rs)
                    : ContractChain.move(obj, List.of(holders[rnd.nextInt(holders.length)]), rs);
            LedgerState copy = k.state().copyForNextBlock();
            Ledger.Result r = k.c.ledger.apply(copy, k.c.tx(payer, body));
            assertNotNull(r.code());
            assertFalse(!r.ok() && r.log().isEmpty(), "a refusal says why: " + r.code());
            assertEquals(copy.expectedSupply(), copy.supply());
            ok += r.ok() ? 1 : 0;
        }
        assertTrue(ok < 400);
    }

    @Test
    void registering_onlyANewAsk_isAccepted_theSameAskIsNot() throws Exception {
        ContractChain k = started();
        BigInteger ask = ASK.add(BigInteger.ONE);
        Ledger.Result r = k.submit(a, ContractChain.register(1L << 40, BigInteger.ZERO, ask));
        assertEquals(Code.OK, r.code(), r.log());
        assertEquals(ask, Contracts.ask(k.state(), addr(a)));
        assertEquals(Code.BAD_AMOUNT, k.submit(a, ContractChain.register(1L << 40, BigInteger.ZERO, ask)).code());
        assertEquals(Code.BAD_AMOUNT, k.submit(a, ContractChain.register(1L << 40, BigInteger.ZERO, null)).code());
        assertEquals(ask, Contracts.ask(k.state(), addr(a)), "an empty ask keeps it");
    }

    @Test
    void price_isTheCapacityWeightedMedian_andOneNodeMovesItAtMostToItsNeighbours() throws Exception {
        List<Identity> nodes = List.of(id(21), id(22), id(23), id(24), id(25));
        ContractChain k = new ContractChain(2, nodes.toArray(new Identity[0]));
        assertTrue(Contracts.currentPrice(k.state()).isDefault(), "no ask: the genesis default");
        assertEquals(StorageParams.DEFAULT_PRICE, Contracts.currentPrice(k.state()).value());
        long[] caps = {10, 20, 30, 25, 15}; // the largest (30) is below half of 100
        BigInteger[] asks = {BigInteger.valueOf(100), BigInteger.valueOf(200), BigInteger.valueOf(300), BigInteger.valueOf(400),
                BigInteger.valueOf(500)};
        k.registerNodes(nodes, caps, asks);
        // sorted by ask: 100 (10), 200 (20), 300 (30) reaches 60 >= 50
        assertEquals(BigInteger.valueOf(300), Contracts.computePrice(k.state(), 0).value());
        Identity largest = nodes.get(2);
        for (BigInteger extreme : List.of(BigInteger.ONE, Amounts.LIMIT.subtract(BigInteger.ONE))) {
            assertEquals(Code.OK, k.submit(largest, ContractChain.register(30, BigInteger.ZERO, extreme)).code());
            BigInteger price = Contracts.computePrice(k.state(), 0).value();
            assertTrue(price.compareTo(BigInteger.valueOf(200)) >= 0 && price.compareTo(BigInteger.valueOf(400)) <= 0,
                    "ask " + extreme + " of the largest node moved the price to " + price + ", beyond its neighbours' 200 and 400");
        }
        // the price of a period is fixed at its first block, and stored
        k.finishPeriod(List.of());
        k.block();
        assertEquals(1, k.state().pricePeriod);
        assertEquals(Contracts.computePrice(k.state(), 1).value(), k.state().price);
        // ties: the lower ask
        ContractChain t = new ContractChain(3, id(31), id(32));
        t.registerNodes(List.of(id(31), id(32)), new long[] {50, 50}, new BigInteger[] {BigInteger.TEN, BigInteger.valueOf(20)});
        assertEquals(BigInteger.TEN, Contracts.computePrice(t.state(), 0).value());
    }

    @Test
    void selfDealing_aNodeBuyingFromItselfEndsWithLess() throws Exception {
        ContractChain k = started();
        byte[] obj = ContractChain.object("self");
        String self = addr(a);
        long p = k.nextPeriod();
        BigInteger start = balance(k, a).add(k.state().storageNode(self).collateral());
        BigInteger feesBefore = k.state().feePool();
        k.finishPeriod(List.of(a, b, cNode, d), List.of(k.c.tx(a, create(obj, 4, List.of(receipt(a, obj, self, 1L << 30, 100, p))))));
        for (int i = 0; i < 6; i++) {
            k.finishPeriod(List.of(a, b, cNode, d));
            BigInteger now = balance(k, a).add(k.state().storageNode(self).collateral());
            assertTrue(now.compareTo(start) < 0, "period " + (p + 1 + i) + ": " + now + " >= " + start);
        }
        // the whole escrow came back, the fees did not
        BigInteger end = balance(k, a).add(k.state().storageNode(self).collateral());
        assertTrue(k.state().feePool().compareTo(feesBefore) > 0);
        assertEquals(BigInteger.ZERO, k.state().escrowPool());
        assertTrue(start.subtract(end).compareTo(BigInteger.valueOf(100)) < 0, "it lost only fees: " + start.subtract(end));
    }

    @Test
    void aContractOfSixHolders_onChainBytes_payForThemselves() throws Exception {
        List<Identity> nodes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            nodes.add(id(40 + i));
        }
        List<Identity> all = new ArrayList<>(nodes);
        all.add(payer);
        ContractChain k = new ContractChain(4, all.toArray(new Identity[0]));
        k.registerNodes(nodes, new long[] {1L << 40, 1L << 40, 1L << 40, 1L << 40, 1L << 40, 1L << 40}, null);
        byte[] obj = ContractChain.object("six");
        List<ChainProto.Receipt> rs = new ArrayList<>();
        for (Identity n : nodes) {
            rs.add(receipt(n, obj, addr(payer), 1L << 24, 8, 0));
        }
        byte[] tx = k.c.tx(payer, create(obj, 5, rs));
        System.out.println("CreateContract with 6 receipts: " + tx.length + " bytes signed");
        assertTrue(tx.length < 1200, tx.length + " bytes");
        Ledger.Result r = k.block(tx).getFirst();
        assertEquals(Code.OK, r.code(), r.log());
        byte[] rec = k.state().entry("contract/" + ContractChain.objectText(obj) + "/" + addr(payer));
        System.out.println("its contract record: " + rec.length + " bytes, with 6 holder index entries and a payer and end index entry");
        assertTrue(rec.length < 700); // 6 × 32 bytes of entries roots since receipts name their blocks
        // the state writes of one more such contract (the holders' lists hold 1 contract each now), by key prefix:
        // the held-weight trees (implicit size 2^24) take the path from index n + 1 to 2^24, 24 writes a holder at n = 1
        byte[] obj2 = ContractChain.object("six2");
        List<ChainProto.Receipt> rs2 = new ArrayList<>();
        for (Identity n : nodes) {
            rs2.add(receipt(n, obj2, addr(payer), 1L << 24, 8, 0));
        }
        LedgerState s = k.state().copy();
        java.util.Set<String> changed = s.track();
        assertEquals(Code.OK, Contracts.create(s, addr(payer), s.account(addr(payer)).balance(),
                create(obj2, 5, rs2).getCreateContract()).code());
        TreeMap<String, Integer> byPrefix = new TreeMap<>();
        for (String key : changed) {
            byPrefix.merge(key.substring(0, key.indexOf('/') + 1), 1, Integer::sum);
        }
        System.out.println("state writes of a CreateContract of 6 holders (lists of 1 before): " + changed.size() + " " + byPrefix);
        assertEquals(6 * 24, byPrefix.get("held-weight/"));
    }
}
