package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.Event;
import io.oecloud.chain.abci.AbciTypesProto.EventAttribute;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.ResponseFinalizeBlock;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A period's settlement shows in FinalizeBlock as one {@code oe-payment} event per node due
 * (node, period, amount, paid; indexed for CometBFT's block_search), through {@link LedgerApp}
 * on RocksDB: a holder that committed no root is due its share and not paid.
 */
class PaymentEventsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-payments";

    @TempDir
    Path dir;

    private long height;

    private ResponseFinalizeBlock block(LedgerApp app, byte[]... txs) throws Exception {
        height++;
        RequestFinalizeBlock.Builder b = RequestFinalizeBlock.newBuilder().setHeight(height)
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L + height));
        for (byte[] t : txs) {
            b.addTxs(ByteString.copyFrom(t));
        }
        ResponseFinalizeBlock r = app.handle(Request.newBuilder().setFinalizeBlock(b).build()).getFinalizeBlock();
        app.handle(Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build());
        return r;
    }

    private static byte[] tx(Fees fees, Identity key, long nonce, TxBody.Builder body) {
        return fees.sign(key, body.setChainId(CHAIN).setSender(ByteString.copyFrom(key.publicKey())).setNonce(nonce));
    }

    @Test
    void settlement_emitsOnePaymentEventPerNodeDue() throws Exception {
        Identity node = Identity.generate();
        Identity payer = Identity.generate();
        Fees fees = new Fees(BigInteger.ONE, BigInteger.ZERO);
        ObjectNode app = JSON.createObjectNode().put("minFee", "1").put("feePerByte", "0");
        app.putObject("storage").put("periodBlocks", 8).put("windows", 4).put("minCollateral", "10");
        for (Identity id : List.of(node, payer)) {
            app.withArray("accounts").addObject().put("address", Ledger.address(id.publicKey())).put("balance", "1000000000000");
        }
        try (LedgerStore store = LedgerStore.open(dir.resolve("ledger"))) {
            LedgerApp ledger = new LedgerApp(store);
            ledger.handle(Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(CHAIN).setInitialHeight(1)
                    .setAppStateBytes(ByteString.copyFrom(JSON.writeValueAsBytes(app)))).build());
            BigInteger ask = BigInteger.valueOf(2).shiftLeft(30);
            block(ledger, tx(fees, node, 0, ChainClient.registerStorageNodeTx(1L << 30, BigInteger.TEN, ask)));
            byte[] obj = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, new byte[] {4}).toBytes();
            String u = Ledger.address(payer.publicKey());
            ResponseFinalizeBlock created = block(ledger, tx(fees, payer, 0, ChainClient.createContractTx(obj, 3,
                    List.of(ChainClient.receipt(node, CHAIN, obj, u, 1000, 1, new byte[32], 0)), null)));
            assertEquals(0, created.getTxResults(0).getCode(), created.getTxResults(0).getLog());
            ResponseFinalizeBlock last = null;
            while (height < 15) { // period 1 = blocks 8..15: settled at 15
                last = block(ledger);
                if (height < 15) {
                    assertTrue(last.getEventsList().stream().noneMatch(e -> e.getType().equals("oe-payment")), "block " + height);
                }
            }
            List<Event> payments = last.getEventsList().stream().filter(e -> e.getType().equals("oe-payment")).toList();
            assertEquals(1, payments.size());
            Map<String, String> attrs = payments.getFirst().getAttributesList().stream()
                    .collect(Collectors.toMap(EventAttribute::getKey, EventAttribute::getValue));
            assertEquals(Ledger.address(node.publicKey()), attrs.get("node"));
            assertEquals("1", attrs.get("period"));
            // period 0's price was the default (10^15 per GiB): ceil(1000 x 10^15 / 2^30)
            BigInteger cost = BigInteger.valueOf(1000).multiply(BigInteger.TEN.pow(15)).add(BigInteger.ONE.shiftLeft(30).subtract(BigInteger.ONE))
                    .shiftRight(30);
            assertEquals(cost.toString(), attrs.get("amount"));
            assertEquals("false", attrs.get("paid"), "no root committed: not paid");
        }
    }
}
