package io.oecloud.chain.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.testnet.LocalTestnet;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paid storage through a real chain (one CometBFT validator with its ledger in this JVM) with
 * {@link ChainClient}'s builders, senders and readers: two storage nodes register with asks, a
 * payer buys a contract with their receipts, reads it back as records (by object, by payer, by
 * holder), renews, moves a share and ends it, and the escrow pool follows; a refusal says why.
 */
@Timeout(300)
class ChainClientContractsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-contracts";

    @TempDir
    static Path dir;

    private static LocalTestnet net;
    private static final Identity payer = Identity.generate();
    private static final Identity a = Identity.generate();
    private static final Identity b = Identity.generate();

    @BeforeAll
    static void start() throws Exception {
        ObjectNode app = JSON.createObjectNode().put("minFee", "1000").put("feePerByte", "10");
        app.putObject("storage").put("periodBlocks", 1000).put("windows", 4).put("minCollateral", "1000");
        ArrayNode accounts = app.putArray("accounts");
        for (Identity id : List.of(payer, a, b)) {
            accounts.addObject().put("address", Ledger.address(id.publicKey())).put("balance", Amounts.PASS.toString());
        }
        net = new LocalTestnet(LocalTestnet.cometbft(), dir.resolve("net"), 1, CHAIN, app, false);
        net.startAll();
        net.awaitHeight(0, 2, 90);
    }

    @AfterAll
    static void stop() {
        if (net != null) {
            net.close();
        }
    }

    private static LightClient.Source lightSource() {
        return new LightClient.Source() {
            @Override
            public com.fasterxml.jackson.databind.JsonNode commit(long height) throws Exception {
                net.awaitHeight(0, height + 1, 30);
                return net.rpc(0, "/commit?height=" + height).path("result").deepCopy();
            }

            @Override
            public com.fasterxml.jackson.databind.JsonNode validators(long height) throws Exception {
                return net.rpc(0, "/validators?height=" + height + "&per_page=100").path("result").deepCopy();
            }
        };
    }

    private static ChainProto.StateProof proofOf(String path, String data) throws Exception {
        String hex = java.util.HexFormat.of().formatHex(data.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        com.fasterxml.jackson.databind.JsonNode r = net.rpc(0, "/abci_query?path=%22" + path + "%22&data=0x" + hex + "&prove=true")
                .at("/result/response");
        return ChainProto.StateProof.parseFrom(java.util.Base64.getDecoder().decode(r.at("/proofOps/ops/0/data").asText()));
    }

    private static ChainClient client(Identity key) {
        InetSocketAddress rpc = new InetSocketAddress("127.0.0.1", net.rpc[0]);
        InetSocketAddress tx = new InetSocketAddress("127.0.0.1", net.tx[0]);
        return new ChainClient(new ChainClient.Endpoints(List.of(rpc), List.of(tx)), key, 10_000);
    }

    private static ChainProto.TxBody.Builder transfer(Identity to, long amount) {
        return ChainProto.TxBody.newBuilder().setTransfer(ChainProto.Transfer.newBuilder().setTo(Ledger.address(to.publicKey()))
                .setAmount(com.google.protobuf.ByteString.copyFrom(Amounts.encode(BigInteger.valueOf(amount)))));
    }

    @Test
    void transactionsAnsweredAtAdmission_takeConsecutiveNonces_andAllCommit_thenOneWaitingForItsBlockFollows() throws Exception {
        Identity sender = a; // its own account: the other test's contracts use the payer's
        Identity to = Identity.generate();
        try (ChainClient c = client(sender)) {
            long first = c.account().nonce();
            for (int i = 0; i < 3; i++) { // no block between them: each nonce taken from what the mempool admitted before
                String hash = c.submitAdmitted(transfer(to, 1 + i)).path("hash").asText();
                assertEquals(64, hash.length(), "answered with the transaction's hash");
            }
            com.fasterxml.jackson.databind.JsonNode waited = c.submit(transfer(to, 10)); // after the three, in a block
            assertTrue(waited.path("height").asLong() > 0, waited.toString());
            assertEquals(first + 4, c.account().nonce(), "all four committed, in order");
        }
        try (ChainClient receiver = client(to)) {
            assertEquals(BigInteger.valueOf(1 + 2 + 3 + 10), receiver.account().balance());
        }
    }

    @Test
    void contracts_boughtRenewedMovedAndEnded_readAsRecords() throws Exception {
        BigInteger ask = BigInteger.valueOf(5).shiftLeft(30);
        try (ChainClient u = client(payer); ChainClient ca = client(a); ChainClient cb = client(b)) {
            ca.registerStorageNode(1L << 40, BigInteger.valueOf(1000), ask);
            cb.registerStorageNode(1L << 40, BigInteger.valueOf(1000), ask.multiply(BigInteger.TWO));
            ChainClient.Price price = u.price();
            assertTrue(price.isDefault(), "period 0's price was fixed before any ask: " + price);
            long p = price.period();
            byte[] obj = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, new byte[] {9, 9}).toBytes();
            String cid = Cid.fromBytes(obj).toString();
            List<ChainProto.Receipt> rs = List.of(ChainClient.receipt(a, CHAIN, obj, u.address(), 1L << 20, 2, io.oecloud.proofs.Blake3.hash(new byte[] {1}), p),
                    ChainClient.receipt(b, CHAIN, obj, u.address(), 1L << 19, 1, io.oecloud.proofs.Blake3.hash(new byte[] {2}), p));
            ChainClient.Refused tooCheap = assertThrows(ChainClient.Refused.class,
                    () -> u.createContract(obj, 10, rs, BigInteger.ONE));
            assertTrue(tooCheap.getMessage().contains("max_price"), tooCheap.getMessage());
            BigInteger before = u.account().balance();
            u.createContract(obj, 10, rs, null);
            ChainClient.Contract k = u.contract(cid, u.address());
            BigInteger cost = price.price().multiply(BigInteger.valueOf(3L << 19)).add(BigInteger.ONE.shiftLeft(30).subtract(BigInteger.ONE))
                    .shiftRight(30);
            assertEquals(cost, k.costPerPeriod());
            assertEquals(cost.multiply(BigInteger.TEN), k.escrow());
            assertEquals(k.escrow(), u.escrowPool());
            assertTrue(u.account().balance().compareTo(before.subtract(k.escrow())) < 0, "escrow and the fee");
            assertEquals(p + 1, k.start());
            assertEquals(p + 11, k.end());
            assertEquals(3L << 19, k.bytes());
            assertEquals(cost, k.holders().stream().map(ChainClient.Holder::share).reduce(BigInteger.ZERO, BigInteger::add));
            assertEquals(List.of(new ChainClient.Term(p + 1, p + 11, cost)), k.terms());
            assertEquals(List.of(cid), u.contractsPaid(u.address(), "").contracts().stream().map(ChainClient.Contract::object).toList());
            assertEquals("", u.contractsPaid(u.address(), "").next());
            assertEquals(1, u.contractsHeld(ca.address(), "").contracts().size());
            assertNull(u.contract(cid, ca.address()));
            assertEquals(BigInteger.ZERO, u.payments(ca.address()).rate(), "nothing due before the first paid period");
            // the answers are proven: the contract, the escrow pool and the price against a signed header's app hash
            LightClient lc = new LightClient(lightSource(), dir.resolve("light.json"), CHAIN, null);
            LightClient.Proven proven = lc.verifyEntry(proofOf("/contract", cid + "/" + u.address()), "contract/" + cid + "/" + u.address());
            io.oecloud.chain.ledger.Contracts.Contract entry = io.oecloud.chain.ledger.Contracts.Contract.decode(cid + "/" + u.address(),
                    proven.value());
            assertEquals(k.end(), entry.end());
            assertEquals(cost, entry.terms().getFirst().cost());
            assertEquals(k.escrow(), new BigInteger(1, lc.verifyEntry(proofOf("/escrow", ""), "pool/escrow").value()));
            assertEquals(price.price(), new BigInteger(1, lc.verifyEntry(proofOf("/price", ""), "price/value").value()));
            assertNull(lc.verifyEntry(proofOf("/contract", cid + "/" + ca.address()), "contract/" + cid + "/" + ca.address()).value(),
                    "absence is proven");

            u.renewContract(obj, 5, null);
            assertEquals(p + 16, u.contract(cid, u.address()).end());
            u.moveShares(obj, List.of(cb.address()), List.of());
            assertEquals(List.of(ca.address()), u.contract(cid, u.address()).holders().stream().map(ChainClient.Holder::holder).toList());
            assertEquals(0, u.contractsHeld(cb.address(), "").contracts().size());
            BigInteger beforeEnd = u.account().balance();
            BigInteger escrow = u.escrowPool();
            u.endContract(obj);
            assertEquals(BigInteger.ZERO, u.escrowPool(), "every paid period was after this one: all refunded");
            assertTrue(u.account().balance().compareTo(beforeEnd.add(escrow).subtract(BigInteger.valueOf(100_000))) > 0);
            ChainClient.Refused again = assertThrows(ChainClient.Refused.class, () -> u.endContract(obj));
            assertTrue(again.getMessage().contains("no paid period after"), again.getMessage());
        }
    }
}
