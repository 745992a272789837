package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.StorageChain;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The paid-storage queries ({@code /price}, {@code /contract}, {@code /contracts-paid},
 * {@code /contracts-held}, {@code /payments}) in the shapes the storage node parses, on a ledger
 * driven with the transactions {@link ChainClient} builds (receipts signed by its helper), and
 * their paging over 1,001 contracts.
 */
class ContractQueriesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The holders' entries root in these receipts (no pick is answered here). */
    private static final byte[] ROOT = io.oecloud.proofs.Blake3.hash(new byte[] {7});

    private static Identity id(int i) {
        byte[] s = new byte[32];
        s[0] = (byte) i;
        s[5] = 42;
        return Identity.fromSeed(s);
    }

    private static byte[] object(String name) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, name.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toBytes();
    }

    @Test
    void queries_showPriceContractsAndRates_inTheirShapes_andPageThrough() throws Exception {
        Identity a = id(1);
        Identity b = id(2);
        Identity payer = id(3);
        StorageChain c = new StorageChain(41, a, b, payer);
        String u = StorageChain.addr(payer);
        String addrA = StorageChain.addr(a);
        BigInteger ask = BigInteger.valueOf(3).shiftLeft(30);
        assertEquals(Ledger.Code.OK, c.submit(a, ChainClient.registerStorageNodeTx(1L << 40, BigInteger.valueOf(5_000_000), ask)).code());
        assertEquals(Ledger.Code.OK, c.submit(b, ChainClient.registerStorageNodeTx(1L << 40, BigInteger.valueOf(5_000_000), ask)).code());

        JsonNode price = JSON.valueToTree(Queries.price(c.state));
        assertEquals(0, price.path("period").asLong());
        assertEquals("1000000000000000", price.path("price").asText(), "period 0's price was fixed at its first block: no ask then");
        assertTrue(price.path("default").asBoolean());
        assertEquals(2, price.path("asks").size());
        c.runTo(21); // block 20 fixed period 1's price from the asks
        price = JSON.valueToTree(Queries.price(c.state));
        assertEquals(1, price.path("period").asLong());
        assertEquals(ask.toString(), price.path("price").asText());
        assertFalse(price.path("default").asBoolean());

        byte[] obj = object("q");
        List<ChainProto.Receipt> rs = List.of(ChainClient.receipt(a, StorageChain.CHAIN, obj, u, 100, 2, ROOT, 1),
                ChainClient.receipt(b, StorageChain.CHAIN, obj, u, 50, 1, ROOT, 1));
        Ledger.Result r = c.submit(payer, ChainClient.createContractTx(obj, 4, rs, ask));
        assertEquals(Ledger.Code.OK, r.code(), r.log());
        String cid = Cid.fromBytes(obj).toString();
        JsonNode k = JSON.valueToTree(Queries.contract(c.state, cid + "/" + u));
        assertEquals(cid, k.path("object").asText());
        assertEquals(u, k.path("payer").asText());
        assertEquals(150, k.path("bytes").asLong());
        assertEquals(2, k.path("start").asLong());
        assertEquals(6, k.path("end").asLong());
        assertEquals("450", k.path("costPerPeriod").asText());
        assertEquals("1800", k.path("escrow").asText());
        assertEquals(2, k.path("holders").size());
        BigInteger sum = BigInteger.ZERO;
        for (JsonNode h : k.path("holders")) {
            sum = sum.add(new BigInteger(h.path("share").asText()));
        }
        assertEquals(BigInteger.valueOf(450), sum);
        assertEquals(1, k.path("terms").size());
        assertEquals("450", k.path("terms").get(0).path("cost").asText());
        assertNull(Queries.contract(c.state, cid + "/" + addrA));
        assertNull(Queries.contract(c.state, "nonsense"));

        c.runTo(40); // period 1 settled: the rates of period 2 applied
        JsonNode pay = JSON.valueToTree(Queries.payments(c.state, addrA));
        assertEquals(addrA, pay.path("node").asText());
        assertEquals("300", pay.path("rate").asText());
        assertEquals(0, pay.path("payments").size());
        c.runTo(60); // period 2 settled: a committed no root, so its 300 went to the fee pool
        pay = JSON.valueToTree(Queries.payments(c.state, addrA));
        assertEquals(2, pay.path("payments").get(0).path("period").asLong());
        assertEquals("300", pay.path("payments").get(0).path("amount").asText());
        assertFalse(pay.path("payments").get(0).path("paid").asBoolean());
        assertEquals("0", pay.path("earned").asText(), "an unpaid period earns nothing");
        assertEquals("1350", JSON.valueToTree(Queries.contract(c.state, cid + "/" + u)).path("escrow").asText());
        assertEquals("1350", JSON.valueToTree(Queries.params(c.state, null)).path("escrowPool").asText());
        JsonNode supply = JSON.valueToTree(Queries.supply(c.state));
        assertEquals(supply.path("expected").asText(), supply.path("supply").asText());
        assertEquals("1350", supply.path("parts").path("escrow").asText());
        BigInteger parts = BigInteger.ZERO;
        for (JsonNode v : supply.path("parts")) {
            parts = parts.add(new BigInteger(v.asText()));
        }
        assertEquals(supply.path("supply").asText(), parts.toString(), "the parts add up to the supply");
        assertEquals(new BigInteger(supply.path("genesis").asText()).add(new BigInteger(supply.path("minted").asText()))
                .subtract(new BigInteger(supply.path("slashed").asText())).toString(), supply.path("expected").asText());

        // 1,000 more contracts by the same payer, held by a: two pages each way
        long nonce = c.state.account(u).nonce();
        long period = c.windows().period(c.state.height() + 1);
        List<byte[]> txs = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            byte[] o = object("page-" + i);
            TxBody.Builder body = ChainClient.createContractTx(o, 1, List.of(ChainClient.receipt(a, StorageChain.CHAIN, o, u, 10, 1, ROOT, period)), null);
            body.setChainId(StorageChain.CHAIN).setSender(ByteString.copyFrom(payer.publicKey())).setNonce(nonce + i);
            txs.add(c.ledger.fees().sign(payer, body));
        }
        for (Ledger.Result x : c.block(txs.toArray(new byte[0][]))) {
            assertEquals(Ledger.Code.OK, x.code(), x.log());
        }
        for (boolean paid : List.of(true, false)) {
            String who = paid ? u : addrA;
            JsonNode first = JSON.valueToTree(Queries.contractsPage(c.state, who, paid));
            assertEquals(1000, first.path("contracts").size());
            String next = first.path("next").asText();
            assertFalse(next.isEmpty());
            JsonNode second = JSON.valueToTree(Queries.contractsPage(c.state, who + "/" + next, paid));
            assertEquals(1, second.path("contracts").size());
            assertEquals("", second.path("next").asText());
            Set<String> seen = new HashSet<>();
            for (JsonNode x : first.path("contracts")) {
                seen.add(x.path("object").asText());
            }
            seen.add(second.path("contracts").get(0).path("object").asText());
            assertEquals(1001, seen.size(), "every contract once");
        }
        JsonNode heldB = JSON.valueToTree(Queries.contractsPage(c.state, StorageChain.addr(b), false));
        assertEquals(1, heldB.path("contracts").size());
        assertTrue(heldB.path("next").asText().isEmpty());
    }
}
