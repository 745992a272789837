package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.RequestQuery;
import io.oecloud.chain.node.LedgerApp;
import io.oecloud.chain.node.LedgerStore;
import io.oecloud.chain.pb.ChainProto.RegisterCid;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.Tx;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, "The chain": a transaction pays by its size (minFee + feePerByte x signed bytes, both
 * genesis parameters), padding rides along neither free nor at all, and a transfer of nothing
 * is refused (it created a permanent account entry for the price of a fee). Through the ledger's
 * own admission, as a client's transaction arrives.
 */
@Timeout(60)
class FeeRulesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-fees";
    private static final BigInteger MIN_FEE = BigInteger.valueOf(1000);
    private static final BigInteger PER_BYTE = BigInteger.valueOf(1000);

    @TempDir
    Path dir;

    private final Identity alice = Identity.generate();
    private final Identity bob = Identity.generate();
    private LedgerStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private LedgerApp ledger(ObjectNode state) throws Exception {
        store = LedgerStore.open(dir.resolve("ledger"));
        LedgerApp app = new LedgerApp(store);
        state.putArray("accounts").addObject().put("address", Ledger.address(alice.publicKey()))
                .put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        app.handle(Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(CHAIN).setInitialHeight(1)
                .setAppStateBytes(ByteString.copyFrom(JSON.writeValueAsBytes(state)))).build());
        return app;
    }

    private LedgerApp ledger() throws Exception {
        return ledger(JSON.createObjectNode().put("minFee", MIN_FEE.toString()).put("feePerByte", PER_BYTE.toString()));
    }

    private static TxBody.Builder body(Identity from, long nonce, BigInteger fee) {
        return TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(from.publicKey())).setNonce(nonce)
                .setFee(ByteString.copyFrom(Amounts.encode(fee)));
    }

    private TxBody.Builder transfer(long nonce, BigInteger fee, String to, BigInteger amount) {
        return body(alice, nonce, fee).setTransfer(Transfer.newBuilder().setTo(to).setAmount(ByteString.copyFrom(Amounts.encode(amount))));
    }

    /** minFee + feePerByte x the signed size, worked out here by hand (the fee's own bytes count). */
    private static BigInteger required(TxBody.Builder b) {
        BigInteger fee = MIN_FEE;
        while (true) {
            b.setFee(ByteString.copyFrom(Amounts.encode(fee)));
            int size = Tx.newBuilder().setBody(b.build().toByteString()).setSignature(ByteString.copyFrom(new byte[64])).build()
                    .getSerializedSize();
            BigInteger need = MIN_FEE.add(PER_BYTE.multiply(BigInteger.valueOf(size)));
            if (need.compareTo(fee) <= 0) {
                return need;
            }
            fee = need;
        }
    }

    private static Ledger.Code submit(LedgerApp app, Identity key, TxBody.Builder b) {
        LedgerApp.Admission a = app.submit(Ledger.sign(key, b.build()), true, false).admission();
        return a.code();
    }

    @Test
    void aTransactionPaysTheMinimumPlusItsSizeTimesTheFeePerByte_oneBaseUnitLessIsRefused() throws Exception {
        LedgerApp app = ledger();
        TxBody.Builder cid = body(alice, 0, MIN_FEE).setRegisterCid(RegisterCid.newBuilder()
                .setCid(ByteString.copyFrom(io.oecloud.proofs.Cid.raw("a work".getBytes()).toBytes()))
                .setTitle("t".repeat(256)).setLicense("l".repeat(128)));
        BigInteger need = required(cid);
        TxBody.Builder small = transfer(0, MIN_FEE, Ledger.address(bob.publicKey()), BigInteger.ONE);
        BigInteger needSmall = required(small);
        assertTrue(need.compareTo(needSmall.add(PER_BYTE.multiply(BigInteger.valueOf(300)))) > 0,
                "a larger transaction pays more: " + need + " against " + needSmall);

        LedgerApp.Admission low = app.submit(Ledger.sign(alice, cid.setFee(ByteString.copyFrom(Amounts.encode(need.subtract(BigInteger.ONE))))
                .build()), true, false).admission();
        assertEquals(Ledger.Code.FEE_TOO_LOW, low.code(), low.log());
        assertTrue(low.log().contains(need.toString()), "the refusal names what it must pay: " + low.log());
        assertEquals(Ledger.Code.OK, submit(app, alice, cid.setFee(ByteString.copyFrom(Amounts.encode(need)))));
        assertEquals(Ledger.Code.FEE_TOO_LOW, submit(app, alice, transfer(1, MIN_FEE, Ledger.address(bob.publicKey()), BigInteger.ONE)),
                "the minimum alone no longer pays for a transaction");
    }

    @Test
    void aSixtyKilobyteTransactionOfPadding_payingWhatAHundredByteOneDoes_isRefused() throws Exception {
        LedgerApp app = ledger();
        TxBody.Builder padded = transfer(0, MIN_FEE, Ledger.address(bob.publicKey()), BigInteger.ONE);
        BigInteger plain = required(padded.clone());
        padded.setUnknownFields(UnknownFieldSet.newBuilder().addField(99, UnknownFieldSet.Field.newBuilder()
                .addLengthDelimited(ByteString.copyFrom(new byte[60_000])).build()).build());
        padded.setFee(ByteString.copyFrom(Amounts.encode(plain)));
        byte[] tx = Ledger.sign(alice, padded.build());
        assertTrue(tx.length > 60_000);
        LedgerApp.Admission a = app.submit(tx, true, false).admission();
        assertFalse(a.ok(), "60 KB of padding at a small transaction's fee: " + a.log());
        assertEquals(0, app.pending());
    }

    @Test
    void fieldsTheLedgerDoesNotKnow_areRefusedWherever() throws Exception {
        LedgerApp app = ledger();
        UnknownFieldSet junk = UnknownFieldSet.newBuilder().addField(77, UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build();
        // in the body's operation
        TxBody.Builder inOp = transfer(0, BigInteger.ZERO, Ledger.address(bob.publicKey()), BigInteger.ONE);
        inOp.setTransfer(inOp.getTransfer().toBuilder().setUnknownFields(junk));
        inOp.setFee(ByteString.copyFrom(Amounts.encode(required(inOp.clone()).add(BigInteger.valueOf(1_000_000)))));
        LedgerApp.Admission a = app.submit(Ledger.sign(alice, inOp.build()), true, false).admission();
        assertEquals(Ledger.Code.MALFORMED, a.code(), a.log());
        assertTrue(a.log().contains("77"), a.log());
        // around the signature: not covered by it, so anyone could change a transaction's bytes and hash
        TxBody.Builder ok = transfer(0, BigInteger.ZERO, Ledger.address(bob.publicKey()), BigInteger.ONE);
        ok.setFee(ByteString.copyFrom(Amounts.encode(required(ok))));
        byte[] signed = Ledger.sign(alice, ok.build());
        byte[] outside = Tx.parseFrom(signed).toBuilder().setUnknownFields(junk).build().toByteArray();
        assertEquals(Ledger.Code.MALFORMED, app.submit(outside, true, false).admission().code());
        assertEquals(Ledger.Code.OK, app.submit(signed, true, false).admission().code(), "the untouched one is admitted");
    }

    @Test
    void aTransferOfZeroToAFreshAddress_isRefused_andCreatesNoAccount() throws Exception {
        LedgerApp app = ledger();
        String fresh = Ledger.address(Identity.generate().publicKey());
        TxBody.Builder zero = transfer(0, BigInteger.ZERO, fresh, BigInteger.ZERO);
        zero.setFee(ByteString.copyFrom(Amounts.encode(required(zero))));
        byte[] tx = Ledger.sign(alice, zero.build());
        LedgerApp.Admission a = app.submit(tx, true, false).admission();
        assertEquals(Ledger.Code.BAD_AMOUNT, a.code(), a.log());
        assertTrue(a.log().contains("at least 1 base unit"), a.log());

        // a proposer that puts it in a block anyway: refused there too, and no account entry appears
        app.handle(Request.newBuilder().setFinalizeBlock(RequestFinalizeBlock.newBuilder().setHeight(1).addTxs(ByteString.copyFrom(tx))
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L))).build());
        app.handle(Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build());
        assertFalse(app.committed().entries().containsKey("account/" + fresh));
        assertEquals(0, app.committed().account(Ledger.address(alice.publicKey())).nonce(), "refused: no fee, no nonce");
    }

    @Test
    void theParamsQueryNamesTheFees_andAGenesisWithoutFeePerByteGetsTheDefault() throws Exception {
        LedgerApp app = ledger(JSON.createObjectNode().put("minFee", "7"));
        JsonNode p = JSON.readTree(app.handle(Request.newBuilder().setQuery(RequestQuery.newBuilder().setPath("/params")).build())
                .getQuery().getValue().toByteArray());
        assertEquals("7", p.path("minFee").asText(), p.toString());
        assertEquals(Fees.DEFAULT_PER_BYTE.toString(), p.path("feePerByte").asText(), p.toString());

        // the same after a restart (the parameters are kept with the ledger)
        store.close();
        store = LedgerStore.open(dir.resolve("ledger"));
        LedgerApp again = new LedgerApp(store);
        assertEquals(new Fees(BigInteger.valueOf(7), Fees.DEFAULT_PER_BYTE), again.fees());
    }

    @Test
    void feesSign_paysExactlyWhatTheSignedSizeRequires_orMoreWhenAsked() throws Exception {
        Fees fees = new Fees(MIN_FEE, PER_BYTE);
        for (int title : List.of(0, 1, 100, 200, 256)) { // sizes around the fee's own byte-width steps
            TxBody.Builder b = body(alice, 0, BigInteger.ZERO).setRegisterCid(RegisterCid.newBuilder()
                    .setCid(ByteString.copyFrom(io.oecloud.proofs.Cid.raw("w".getBytes()).toBytes())).setTitle("t".repeat(title)));
            byte[] tx = fees.sign(alice, b);
            BigInteger paid = new BigInteger(1, TxBody.parseFrom(Tx.parseFrom(tx).getBody()).getFee().toByteArray());
            assertEquals(fees.required(tx.length), paid, "title of " + title);
        }
        byte[] generous = fees.sign(alice, transfer(0, Amounts.PASS, Ledger.address(bob.publicKey()), BigInteger.ONE));
        assertEquals(Amounts.PASS, new BigInteger(1, TxBody.parseFrom(Tx.parseFrom(generous).getBody()).getFee().toByteArray()));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new Fees(BigInteger.ONE.negate(), PER_BYTE));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new Fees(MIN_FEE, BigInteger.ONE.shiftLeft(64)));
    }
}
