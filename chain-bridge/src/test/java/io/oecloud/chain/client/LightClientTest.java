package io.oecloud.chain.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.ledger.StateTree;
import io.oecloud.chain.node.LedgerApp;
import io.oecloud.chain.pb.ChainProto.StateProof;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.testnet.LocalTestnet;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The light client against four real CometBFT validators: a proven balance checks out against a
 * header signed by more than 2/3 of the power; a tampered value, a header with too few
 * signatures, a forged signature, a tampered header and a substituted validator set are refused.
 */
@Timeout(300)
class LightClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-light";
    /** 1,000 base units a transaction plus 1,000 per byte of it, as the genesis says. */
    private static final Fees FEES = new Fees(BigInteger.valueOf(1000), Fees.DEFAULT_PER_BYTE);

    @TempDir
    static Path dir;

    private static LocalTestnet net;
    private static final Identity alice = Identity.generate();
    private static final String bob = Ledger.address(Identity.generate().publicKey());

    @BeforeAll
    static void start() throws Exception {
        ObjectNode app = JSON.createObjectNode().put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString());
        ArrayNode accounts = app.putArray("accounts");
        accounts.addObject().put("address", Ledger.address(alice.publicKey())).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        net = new LocalTestnet(LocalTestnet.cometbft(), dir.resolve("net"), 4, 0, CHAIN, app, false, new long[] {100, 100, 100, 100});
        net.startAll();
        for (int i = 0; i < 4; i++) {
            net.awaitHeight(i, 2, 90);
        }
        String tx = HexFormat.of().formatHex(FEES.sign(alice, TxBody.newBuilder().setChainId(CHAIN)
                .setSender(ByteString.copyFrom(alice.publicKey())).setNonce(0)
                .setTransfer(ChainProto.Transfer.newBuilder().setTo(bob).setAmount(ByteString.copyFrom(Amounts.encode(Amounts.PASS))))));
        assertEquals(0, net.submit(0, HexFormat.of().parseHex(tx), true).path("code").asInt(-1));
    }

    @AfterAll
    static void stop() {
        if (net != null) {
            net.close();
        }
    }

    /** Node i as a light client's source, with {@code tamper} applied to every /commit answer. */
    private static LightClient.Source source(int i, UnaryOperator<JsonNode> tamper, UnaryOperator<JsonNode> tamperValidators) {
        return new LightClient.Source() {
            @Override
            public JsonNode commit(long height) throws Exception {
                net.awaitHeight(i, height + 1, 30);
                return tamper.apply(net.rpc(i, "/commit?height=" + height).path("result").deepCopy());
            }

            @Override
            public JsonNode validators(long height) throws Exception {
                return tamperValidators.apply(net.rpc(i, "/validators?height=" + height + "&per_page=100").path("result").deepCopy());
            }
        };
    }

    private static StateProof proofOf(int node, String path, String data) throws Exception {
        String hex = HexFormat.of().formatHex(data.getBytes(StandardCharsets.UTF_8));
        JsonNode r = net.rpc(node, "/abci_query?path=%22" + path + "%22&data=0x" + hex + "&prove=true").at("/result/response");
        JsonNode op = r.at("/proofOps/ops/0");
        assertEquals(StateTree.PROOF_TYPE, op.path("type").asText(), r.toString());
        return StateProof.parseFrom(Base64.getDecoder().decode(op.path("data").asText()));
    }

    private static LightClient client(String name, LightClient.Source s) {
        return new LightClient(s, dir.resolve(name + ".json"), CHAIN, null);
    }

    @Test
    void aProvenBalance_verifiesAgainstASignedHeader_andAnAbsentAccountIsProvenAbsent() throws Exception {
        LightClient lc = client("good", source(1, c -> c, v -> v));
        StateProof p = proofOf(1, "/account", bob);
        LightClient.Proven proven = lc.verifyEntry(p, "account/" + bob);
        LedgerState.Account a = LedgerState.Account.decode(proven.value());
        assertEquals(Amounts.PASS, a.balance());
        LightClient.Verified h = proven.header();
        assertEquals(p.getHeight() + 1, h.height());
        assertTrue(3 * h.signedPower() > 2 * h.totalPower());
        String nobody = Ledger.address(Identity.generate().publicKey());
        assertNull(lc.verifyEntry(proofOf(2, "/account", nobody), "account/" + nobody).value(), "absence is proven, not assumed");
        // a later height goes forward from the trusted header; an earlier one back through the hash links
        net.awaitHeight(1, p.getHeight() + 6, 30);
        assertEquals(p.getHeight() + 5, lc.verify(p.getHeight() + 5).height());
        assertEquals(p.getHeight(), lc.verify(p.getHeight()).height());
    }

    @Test
    void aTamperedValue_isRefused() throws Exception {
        LightClient lc = client("value", source(0, c -> c, v -> v));
        StateProof p = proofOf(0, "/account", bob);
        byte[] richer = new LedgerState.Account(Amounts.PASS.multiply(BigInteger.valueOf(1000)), 0).encode();
        StateProof forged = p.toBuilder().setEntries(0, p.getEntries(0).toBuilder().setValue(ByteString.copyFrom(richer))).build();
        Exception e = assertThrows(LightClient.VerificationException.class, () -> lc.verifyEntry(forged, "account/" + bob));
        assertTrue(e.getMessage().contains("does not lead to the app hash"), e.getMessage());
    }

    @Test
    void aHeaderWithLessThanTwoThirdsOfTheSignatures_isRefused() throws Exception {
        LightClient lc = client("few", source(0, c -> {
            ArrayNode sigs = (ArrayNode) c.at("/signed_header/commit/signatures");
            for (int i = 0; i < 2; i++) { // two of four validators' signatures gone: half the power
                ((ObjectNode) sigs.get(i)).put("block_id_flag", 1).put("signature", (String) null);
            }
            return c;
        }, v -> v));
        Exception e = assertThrows(LightClient.VerificationException.class, () -> lc.verify(net.height(0) - 1));
        assertTrue(e.getMessage().contains("not more than 2/3"), e.getMessage());
    }

    @Test
    void aForgedSignature_aTamperedHeader_andASubstitutedValidatorSet_areRefused() throws Exception {
        LightClient forgedSig = client("sig", source(0, c -> {
            ObjectNode s = (ObjectNode) c.at("/signed_header/commit/signatures").get(0);
            byte[] b = Base64.getDecoder().decode(s.path("signature").asText());
            b[5] ^= 1;
            s.put("signature", Base64.getEncoder().encodeToString(b));
            return c;
        }, v -> v));
        assertThrows(LightClient.VerificationException.class, () -> forgedSig.verify(net.height(0) - 1));

        LightClient forgedHash = client("apphash", source(0, c -> {
            ((ObjectNode) c.at("/signed_header/header")).put("app_hash", "00".repeat(32));
            return c;
        }, v -> v));
        Exception e = assertThrows(LightClient.VerificationException.class, () -> forgedHash.verify(net.height(0) - 1));
        assertTrue(e.getMessage().contains("does not hash to the block its commit signs"), e.getMessage());

        Identity impostor = Identity.generate();
        LightClient forgedSet = client("set", source(0, c -> c, v -> {
            ((ObjectNode) v.path("validators").get(0).path("pub_key")).put("value", Base64.getEncoder().encodeToString(impostor.publicKey()));
            return v;
        }));
        e = assertThrows(LightClient.VerificationException.class, () -> forgedSet.verify(net.height(0) - 1));
        assertTrue(e.getMessage().contains("not the one its header names"), e.getMessage());
    }

    @Test
    void aTrustedHeaderOlderThanTheTrustingPeriod_isNotSkippedFrom_butAPinnedRecentOneIs() throws Exception {
        LightClient.Source src = source(3, c -> c, v -> v);
        long h = net.height(3) - 1;
        // a clock two weeks and a day ahead: the header trusted first (height 1) is too old to vouch
        java.util.function.Supplier<java.time.Instant> later = () -> java.time.Instant.now().plus(java.time.Duration.ofDays(15));
        LightClient stale = new LightClient(src, dir.resolve("stale.json"), CHAIN, 1, null, LightClient.DEFAULT_TRUSTING_PERIOD, later);
        Exception e = assertThrows(LightClient.VerificationException.class, () -> stale.verify(h));
        assertTrue(e.getMessage().contains("older than the trusting period"), e.getMessage());
        // pinned at a recent height by its hash (checked elsewhere): verifies
        byte[] recentHash = LightClient.headerHash(net.rpc(0, "/commit?height=" + (h - 1)).at("/result/signed_header/header"));
        LightClient pinned = new LightClient(src, dir.resolve("pinned.json"), CHAIN, h - 1, recentHash,
                LightClient.DEFAULT_TRUSTING_PERIOD, java.time.Instant::now);
        assertEquals(h, pinned.verify(h).height());
        byte[] wrong = recentHash.clone();
        wrong[0] ^= 1;
        LightClient mispinned = new LightClient(src, dir.resolve("mispinned.json"), CHAIN, h - 1, wrong,
                LightClient.DEFAULT_TRUSTING_PERIOD, java.time.Instant::now);
        e = assertThrows(LightClient.VerificationException.class, () -> mispinned.verify(h));
        assertTrue(e.getMessage().contains("not the pinned"), e.getMessage());
    }
}
