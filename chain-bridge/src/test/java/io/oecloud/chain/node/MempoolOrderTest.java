package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.RequestPrepareProposal;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.Tx;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, "The chain": the mempool was first come, first served. Proposals now take the best
 * paying per byte first without ever putting an account's nonce n + 1 before n, and a full pool
 * drops its cheapest for a better-paying transaction instead of refusing it.
 */
@Timeout(120)
class MempoolOrderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-order";
    /** No minimum here: a transaction paying exactly what its size asks pays exactly 1,000 per byte, whatever its size. */
    private static final BigInteger MIN_FEE = BigInteger.ZERO;
    private static final BigInteger PER_BYTE = BigInteger.valueOf(1000);

    @TempDir
    Path dir;

    private final Map<String, Identity> keys = new HashMap<>();
    private final Identity alice = key("alice");
    private final Identity bob = key("bob");
    private final Identity carol = key("carol");
    private final Identity dave = key("dave");
    private final String sink = Ledger.address(Identity.generate().publicKey());
    private LedgerStore store;
    private long height;

    private Identity key(String name) {
        return keys.computeIfAbsent(name, n -> Identity.generate());
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    /** A ledger where alice, bob and carol hold 10 passes each (dave holds nothing). */
    private LedgerApp ledger() throws Exception {
        store = LedgerStore.open(dir.resolve("ledger"));
        LedgerApp app = new LedgerApp(store);
        ObjectNode state = JSON.createObjectNode().put("minFee", MIN_FEE.toString()).put("feePerByte", PER_BYTE.toString());
        ArrayNode accounts = state.putArray("accounts");
        for (Identity k : List.of(alice, bob, carol)) {
            accounts.addObject().put("address", Ledger.address(k.publicKey())).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        }
        app.handle(Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(CHAIN).setInitialHeight(1)
                .setAppStateBytes(ByteString.copyFrom(JSON.writeValueAsBytes(state)))).build());
        return app;
    }

    /**
     * A transfer of {@code amount} from {@code from} paying what its size requires plus
     * {@code extraPerByte} per byte (worked out by hand: the fee's own bytes count).
     */
    private static byte[] transfer(Identity from, long nonce, String to, BigInteger amount, long extraPerByte) {
        BigInteger perByte = PER_BYTE.add(BigInteger.valueOf(extraPerByte));
        BigInteger fee = MIN_FEE;
        TxBody.Builder b = TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(from.publicKey())).setNonce(nonce)
                .setTransfer(Transfer.newBuilder().setTo(to).setAmount(ByteString.copyFrom(Amounts.encode(amount))));
        while (true) {
            b.setFee(ByteString.copyFrom(Amounts.encode(fee)));
            int size = Tx.newBuilder().setBody(b.build().toByteString()).setSignature(ByteString.copyFrom(new byte[64])).build()
                    .getSerializedSize();
            BigInteger need = MIN_FEE.add(perByte.multiply(BigInteger.valueOf(size)));
            if (need.compareTo(fee) <= 0) {
                return Ledger.sign(from, b.build());
            }
            fee = need;
        }
    }

    private byte[] pay(Identity from, long nonce, long extraPerByte) {
        return transfer(from, nonce, sink, BigInteger.ONE, extraPerByte);
    }

    private static List<ByteString> propose(LedgerApp app) throws Exception {
        return propose(app, 1 << 20);
    }

    private static List<ByteString> propose(LedgerApp app, long maxTxBytes) throws Exception {
        return app.handle(Request.newBuilder().setPrepareProposal(RequestPrepareProposal.newBuilder().setMaxTxBytes(maxTxBytes)).build())
                .getPrepareProposal().getTxsList();
    }

    private void block(LedgerApp app, List<ByteString> txs) throws Exception {
        height++;
        app.handle(Request.newBuilder().setFinalizeBlock(RequestFinalizeBlock.newBuilder().setHeight(height).addAllTxs(txs)
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L + height))).build());
        app.handle(Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build());
    }

    private static void admit(LedgerApp app, byte[] tx) {
        LedgerApp.Admission a = app.submit(tx, true, false).admission();
        assertTrue(a.ok(), a.code() + ": " + a.log());
    }

    @Test
    void proposalsTakeTheBestPayingPerByteFirst_keepingEachAccountsNonceOrder() throws Exception {
        LedgerApp app = ledger();
        byte[] a0 = pay(alice, 0, 0);      // cheap
        byte[] a1 = pay(alice, 1, 5000);   // generous, but only after a0
        byte[] b0 = pay(bob, 0, 100);
        byte[] c0 = pay(carol, 0, 2000);
        for (byte[] tx : List.of(a0, a1, b0, c0)) { // arrival order: a0 a1 b0 c0
            admit(app, tx);
        }
        List<ByteString> order = propose(app);
        assertEquals(List.of(ByteString.copyFrom(c0), ByteString.copyFrom(b0), ByteString.copyFrom(a0), ByteString.copyFrom(a1)), order,
                "carol pays most, then bob; alice's generous nonce 1 goes right after her cheap nonce 0, never before it");
        block(app, order);
        assertEquals(0, app.pending());
        assertEquals(2, app.committed().account(Ledger.address(alice.publicKey())).nonce(), "every one of them applied");
    }

    @Test
    void aProposalNeverPutsASpendBeforeTheTransferThatFundsIt() throws Exception {
        LedgerApp app = ledger();
        String daveAddr = Ledger.address(dave.publicKey());
        admit(app, transfer(alice, 0, daveAddr, Amounts.PASS, 0));         // cheap: funds dave
        byte[] spend = transfer(dave, 0, Ledger.address(bob.publicKey()), Amounts.PASS.divide(BigInteger.TWO), 9000); // pays far more
        admit(app, spend);
        List<ByteString> order = propose(app);
        // the spend alone would fail in this order: it waits for a block after the funding one instead
        assertEquals(1, order.size(), "only the funding transfer fits this block's order");
        block(app, order);
        assertEquals(1, app.pending(), "the spend is still pending, not dropped");
        List<ByteString> next = propose(app);
        assertEquals(List.of(ByteString.copyFrom(spend)), next);
        block(app, next);
        assertEquals(1, app.committed().account(daveAddr).nonce());
    }

    @Test
    void aFullMempoolDropsItsCheapestForABetterPayingTransaction_andTellsItsWaiter() throws Exception {
        LedgerApp app = ledger();
        // alice fills the pool at the minimum, waiting on her last
        List<CompletableFuture<LedgerApp.Committed>> waits = new ArrayList<>();
        for (long n = 0; n < Mempool.MAX_PENDING_TXS; n++) {
            LedgerApp.Submission s = app.submit(pay(alice, n, 0), true, n >= Mempool.MAX_PENDING_TXS - 2);
            assertTrue(s.admission().ok(), s.admission().log());
            if (s.committed() != null) {
                waits.add(s.committed());
            }
        }
        assertEquals(Mempool.MAX_PENDING_TXS, app.pending());

        // bob pays more per byte: admitted, and alice's last (her only droppable one) makes room
        byte[] better = pay(bob, 0, 1);
        LedgerApp.Admission in = app.submit(better, true, false).admission();
        assertTrue(in.ok(), in.code() + ": " + in.log());
        assertEquals(Mempool.MAX_PENDING_TXS, app.pending());
        ExecutionException e = assertThrows(ExecutionException.class, () -> waits.get(1).get(5, TimeUnit.SECONDS));
        LedgerApp.DroppedException d = assertInstanceOf(LedgerApp.DroppedException.class, e.getCause());
        assertEquals(Ledger.Code.MEMPOOL_FULL, d.code);
        assertTrue(d.getMessage().contains("paying more per byte"), d.getMessage());
        assertTrue(!waits.get(0).isDone(), "her second-to-last is kept: dropping from the end never leaves a nonce gap");

        // carol pays exactly what the cheapest held pays: refused, and the pool is unchanged
        LedgerApp.Admission same = app.submit(pay(carol, 0, 0), true, false).admission();
        assertEquals(Ledger.Code.MEMPOOL_FULL, same.code());
        assertTrue(same.log().contains("no more per byte than the cheapest"), same.log());
        assertEquals(Mempool.MAX_PENDING_TXS, app.pending());

        // a proposal takes bob's first
        assertEquals(ByteString.copyFrom(better), propose(app).get(0));
    }

    @Test
    void aFullMempoolDropsAnAccountsLastAtThePriceOfItsCheapest_evenIfThatLastPaysWell() throws Exception {
        LedgerApp app = ledger();
        long n = 0;
        for (; n < Mempool.MAX_PENDING_TXS - 2; n++) {
            admit(app, pay(alice, n, 10));
        }
        // bob: a cheap one, then one paying very well behind it (a block takes it only after the cheap one)
        admit(app, pay(bob, 0, 0));
        byte[] bobsBest = pay(bob, 1, 100_000);
        admit(app, bobsBest);
        assertEquals(Mempool.MAX_PENDING_TXS, app.pending());

        // carol pays a little more than bob's cheap one, less than alice's: bob's account is the cheapest to drop from
        admit(app, pay(carol, 0, 5));
        assertEquals(Mempool.MAX_PENDING_TXS, app.pending());
        List<ByteString> all = propose(app, 64L << 20);
        assertTrue(!all.contains(ByteString.copyFrom(bobsBest)), "bob's last went, at the price of his cheap first");
        assertTrue(all.contains(ByteString.copyFrom(pay(bob, 0, 0))), "his first stays");
    }
}
