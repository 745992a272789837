package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.beacon.Beacon;
import io.oecloud.chain.beacon.Bls;
import io.oecloud.chain.client.LightClient;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.testnet.LocalTestnet;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DPOS on real CometBFT: four validators and a fifth node that follows the chain. Its operator
 * registers it as a candidate and bonds, a holder votes for it with a delegation, and at the next
 * epoch boundary the ledger's ValidatorUpdates make it a validator (CometBFT's /validators lists
 * it, and it signs blocks) while the weakest validator leaves, without any restart.
 */
@Timeout(300)
class DposNetworkTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-dpos";
    /** 1,000 base units a transaction plus 1,000 per byte of it, as the genesis says. */
    private static final Fees FEES = new Fees(BigInteger.valueOf(1000), Fees.DEFAULT_PER_BYTE);
    private static final int EPOCH = 15;
    private static Path cometbft;

    @TempDir
    Path dir;

    private LocalTestnet net;

    @BeforeAll
    static void install() throws Exception {
        cometbft = LocalTestnet.cometbft();
    }

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    private static String hexTx(Identity from, long nonce, UnaryOperator<TxBody.Builder> kind) {
        return HexFormat.of().formatHex(FEES.sign(from, kind.apply(TxBody.newBuilder().setChainId(CHAIN)
                .setSender(ByteString.copyFrom(from.publicKey())).setNonce(nonce))));
    }

    private static ByteString passes(long n) {
        return ByteString.copyFrom(Amounts.encode(Amounts.PASS.multiply(BigInteger.valueOf(n))));
    }

    private JsonNode commitTx(int node, String hex) throws Exception {
        JsonNode r = net.submit(node, HexFormat.of().parseHex(hex), true);
        assertEquals(0, r.path("code").asInt(-1), r.toString());
        assertTrue(r.path("height").asLong() > 0, r.toString());
        return r;
    }

    private List<String> validatorsAt(int node, long height) throws Exception {
        List<String> l = new ArrayList<>();
        for (JsonNode v : net.rpc(node, "/validators?height=" + height).at("/result/validators")) {
            l.add(v.path("address").asText());
        }
        return l;
    }

    private JsonNode query(int node, String path, String data) throws Exception {
        String hex = HexFormat.of().formatHex(data.getBytes(StandardCharsets.UTF_8));
        JsonNode r = net.rpc(node, "/abci_query?path=%22" + path + "%22&data=0x" + hex).at("/result/response");
        return JSON.readTree(Base64.getDecoder().decode(r.path("value").asText()));
    }

    @Test
    void aFifthCandidateWithMoreVotes_becomesAValidatorAtTheEpoch_andSigns_whileTheWeakestLeaves() throws Exception {
        Identity voter = Identity.generate();
        ObjectNode app = JSON.createObjectNode().put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString())
                .put("reserve", Amounts.PASS.multiply(BigInteger.valueOf(1_000)).toString());
        app.putObject("params").put("epochBlocks", EPOCH).put("maxValidators", 4).put("unbondingBlocks", 10)
                .put("blockReward", Amounts.PASS.toString());
        app.putArray("accounts").addObject().put("address", Ledger.address(voter.publicKey()))
                .put("balance", Amounts.PASS.multiply(BigInteger.valueOf(1_000)).toString());
        net = new LocalTestnet(cometbft, dir.resolve("net"), 4, 1, CHAIN, app, false, new long[] {100, 110, 120, 130});
        net.startAll();
        for (int i = 0; i < 5; i++) {
            net.awaitHeight(i, 2, 90);
        }
        String weakest = net.validatorAddress(0);
        String fifth = net.validatorAddress(4);
        assertEquals(4, validatorsAt(1, net.height(1)).size());
        assertTrue(validatorsAt(1, net.height(1)).contains(weakest));

        Identity op = net.operator(4);
        byte[] key = net.validatorKey(4);
        Bls.SecretKey beaconKey = Bls.SecretKey.fromIdentity(op); // what node 4's ledger signs its vote extensions with
        commitTx(1, hexTx(op, 0, b -> b.setRegisterCandidate(ChainProto.RegisterCandidate.newBuilder()
                .setValidatorKey(ByteString.copyFrom(key)).setCommissionPpm(50_000).setSelfBond(passes(90))
                .setMoniker("node4").setBeaconKey(ByteString.copyFrom(beaconKey.publicKey()))
                .setBeaconPop(ByteString.copyFrom(beaconKey.pop(Ledger.address(op.publicKey())))))));
        JsonNode voted = commitTx(2, hexTx(voter, 0, b -> b.setDelegate(ChainProto.Delegate.newBuilder()
                .setCandidate(Ledger.address(op.publicKey())).setAmount(passes(60)))));
        long votedAt = voted.path("height").asLong();
        long epoch = (votedAt / EPOCH + 1) * EPOCH;
        assertFalse(validatorsAt(1, votedAt).contains(fifth), "not a validator before the epoch");

        // updates returned at height E take effect at E + 2; the commit of E + 2 is in block E + 3
        net.awaitHeight(1, epoch + 4, 120);
        List<String> after = validatorsAt(1, epoch + 2);
        assertTrue(after.contains(fifth), "the fifth node is a validator: " + after);
        assertFalse(after.contains(weakest), "the weakest left: " + after);
        assertEquals(4, after.size());
        assertTrue(validatorsAt(1, epoch + 1).contains(weakest), "the set changes exactly two blocks after the epoch");

        boolean signed = false;
        int position = -1;
        for (JsonNode sig : net.rpc(1, "/commit?height=" + (epoch + 3)).at("/result/signed_header/commit/signatures")) {
            position++;
            if (sig.path("validator_address").asText().equals(fifth) && sig.path("block_id_flag").asInt() == 2) {
                signed = true;
                break;
            }
        }
        assertTrue(signed, "the fifth node signed block " + (epoch + 3));
        // and its extension of that vote is in the next block's beacon (bit = its place in the commit)
        byte[] first = java.util.Base64.getDecoder().decode(net.rpc(1, "/block?height=" + (epoch + 4)).at("/result/block/data/txs/0").asText());
        assertTrue(Beacon.isBeacon(first), "block " + (epoch + 4) + " starts with a beacon");
        byte[] signers = ChainProto.BlockBeacon.parseFrom(java.util.Arrays.copyOfRange(first, Beacon.PREFIX.length, first.length))
                .getSigners().toByteArray();
        assertTrue(Beacon.bit(signers, position), "the fifth node's beacon key contributed to block " + (epoch + 4));

        JsonNode candidates = query(3, "/candidates", "");
        JsonNode top = candidates.get(0);
        assertEquals(Ledger.address(op.publicKey()), top.path("address").asText(), "the largest stake comes first");
        assertEquals(Amounts.PASS.multiply(BigInteger.valueOf(150)).toString(), top.path("stake").asText());
        assertEquals(150, top.path("power").asLong(), "power is the stake in whole passes (under a third here: no cap)");
        assertTrue(new BigInteger(query(0, "/params", "").path("minted").asText()).signum() > 0, "block rewards are minted");
        // a light client trusting only height 1 follows the set change (more than 1/3 of the old power signs the new headers)
        LightClient lc = new LightClient(new LightClient.Source() {
            @Override
            public JsonNode commit(long height) throws Exception {
                return net.rpc(2, "/commit?height=" + height).path("result");
            }

            @Override
            public JsonNode validators(long height) throws Exception {
                return net.rpc(2, "/validators?height=" + height + "&per_page=100").path("result");
            }
        }, dir.resolve("light.json"), CHAIN, null);
        LightClient.Verified v = lc.verify(epoch + 3);
        assertTrue(v.validators().stream().anyMatch(x -> x.address().equals(fifth)), "verified with the new set");
        // the node that left still follows the chain and agrees on the state
        net.awaitHeight(0, epoch + 4, 60);
        assertEquals(net.appHashAfter(1, epoch + 3), net.appHashAfter(0, epoch + 3));
        assertEquals(net.appHashAfter(1, epoch + 3), net.appHashAfter(4, epoch + 3));
    }
}
