package io.oecloud.chain.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.math.BigInteger;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The paid-storage transactions as {@code oe chain tx} and the account histories show them: objects as CIDs, receipts as objects. */
class ContractTxViewTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode view(Identity key, TxBody.Builder body) throws Exception {
        body.setChainId("c").setSender(ByteString.copyFrom(key.publicKey())).setNonce(3);
        byte[] tx = new Fees(BigInteger.ONE, BigInteger.ZERO).sign(key, body);
        return JSON.valueToTree(TxView.describe(tx));
    }

    @Test
    void createMoveRenewEndAndAsk_readable() throws Exception {
        Identity payer = Identity.generate();
        Identity holder = Identity.generate();
        Cid cid = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, new byte[] {1, 2, 3});
        String u = Ledger.address(payer.publicKey());
        byte[] root = io.oecloud.proofs.Blake3.hash(new byte[] {9});
        ChainProto.Receipt r = ChainClient.receipt(holder, "c", cid.toBytes(), u, 4096, 2, root, 7);
        JsonNode create = view(payer, ChainClient.createContractTx(cid.toBytes(), 30, List.of(r), BigInteger.valueOf(1000)));
        assertEquals("create_contract", create.path("kind").asText());
        assertEquals(cid.toString(), create.path("object").asText());
        assertEquals(30, create.path("periods").asInt());
        assertEquals("1000", create.path("maxPrice").asText());
        JsonNode rv = create.path("receipts").get(0);
        assertEquals(Ledger.address(holder.publicKey()), rv.path("holder").asText());
        assertEquals(4096, rv.path("bytes").asLong());
        assertEquals(2, rv.path("blocks").asInt());
        assertEquals(7, rv.path("period").asLong());
        assertEquals(java.util.HexFormat.of().formatHex(root), rv.path("entriesRoot").asText(), "the entries root in hex");
        assertEquals(Base64.getEncoder().encodeToString(r.getSignature().toByteArray()), rv.path("signature").asText());
        JsonNode move = view(payer, ChainClient.moveSharesTx(cid.toBytes(), List.of(Ledger.address(holder.publicKey())), List.of()));
        assertEquals(Ledger.address(holder.publicKey()), move.path("remove").get(0).asText());
        assertEquals(cid.toString(), view(payer, ChainClient.endContractTx(cid.toBytes())).path("object").asText());
        assertEquals(5, view(payer, ChainClient.renewContractTx(cid.toBytes(), 5, null)).path("periods").asInt());
        JsonNode ask = view(holder, ChainClient.registerStorageNodeTx(1L << 30, BigInteger.ZERO, BigInteger.valueOf(123)));
        assertEquals("123", ask.path("ask").asText());
    }
}
