package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.beacon.Beacon;
import io.oecloud.chain.beacon.Bls;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Beacon keys in the ledger: registered with a proof of possession (genesis and RegisterCandidate),
 * kept in the state and the app hash; and the seed chain as blocks run it (no CometBFT).
 */
class BeaconKeysTest {
    private static final String CHAIN = "oe-beacon-keys";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BigInteger FEE = BigInteger.valueOf(1000);

    private final List<Identity> operators = new ArrayList<>();
    private final List<Identity> validatorKeys = new ArrayList<>();

    /** A genesis of four candidates (10 passes each), each with its beacon key when {@code keys}, and a funded fifth account. */
    private Genesis genesis(boolean keys) throws IOException {
        return Genesis.read(CHAIN, JSON.writeValueAsBytes(appState(keys)), 1);
    }

    private ObjectNode appState(boolean keys) {
        ObjectNode app = JSON.createObjectNode().put("minFee", FEE.toString()).put("feePerByte", "0");
        ArrayNode accounts = app.putArray("accounts");
        ArrayNode candidates = app.putArray("candidates");
        for (int i = 0; i < 5; i++) {
            if (operators.size() <= i) {
                operators.add(Identity.fromSeed(seed(i)));
                validatorKeys.add(Identity.fromSeed(seed(100 + i)));
            }
            accounts.addObject().put("address", addr(i)).put("balance", Amounts.PASS.multiply(BigInteger.valueOf(100)).toString());
            if (i < 4) {
                ObjectNode c = candidates.addObject().put("address", addr(i)).put("selfBond", Amounts.PASS.multiply(BigInteger.TEN).toString())
                        .put("validatorKey", Base64.getEncoder().encodeToString(validatorKeys.get(i).publicKey()));
                if (keys) {
                    Genesis.putBeaconKey(c, operators.get(i));
                }
            }
        }
        return app;
    }

    private static byte[] seed(int i) {
        byte[] s = new byte[32];
        Arrays.fill(s, (byte) i);
        return s;
    }

    private String addr(int i) {
        return Ledger.address(operators.get(i).publicKey());
    }

    private byte[] register(int i, byte[] beaconKey, byte[] pop) {
        ChainProto.RegisterCandidate.Builder rc = ChainProto.RegisterCandidate.newBuilder()
                .setValidatorKey(ByteString.copyFrom(validatorKeys.get(i).publicKey()));
        if (beaconKey != null) {
            rc.setBeaconKey(ByteString.copyFrom(beaconKey));
        }
        if (pop != null) {
            rc.setBeaconPop(ByteString.copyFrom(pop));
        }
        return Ledger.sign(operators.get(i), TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(operators.get(i).publicKey()))
                .setNonce(0).setFee(ByteString.copyFrom(Amounts.encode(FEE))).setRegisterCandidate(rc).build());
    }

    @Test
    void genesis_registersBeaconKeys_inStateAndAppHash() throws Exception {
        LedgerState s = genesis(true).state();
        for (int i = 0; i < 4; i++) {
            LedgerState.BeaconKey k = s.beaconKey(addr(i));
            assertNotNull(k, "candidate " + i);
            assertArrayEquals(Bls.SecretKey.fromIdentity(operators.get(i)).publicKey(), k.publicKey());
            assertEquals(0, k.sinceHeight());
        }
        assertArrayEquals(Beacon.seed0(CHAIN), s.beaconSeed(), "seed_0 = BLAKE3(chain ID)");
        Map<String, byte[]> entries = s.entries();
        assertEquals(56, entries.get("beacon-key/" + addr(0)).length, "48-byte key + 8-byte height");
        assertArrayEquals(Beacon.seed0(CHAIN), entries.get("beacon/seed"));
        LedgerState reloaded = LedgerState.fromEntries(entries, s.height());
        assertArrayEquals(s.appHash(), reloaded.appHash(), "the store's entries give the same state back");
        assertArrayEquals(s.beaconKey(addr(2)).publicKey(), reloaded.beaconKey(addr(2)).publicKey());
        assertFalse(Arrays.equals(s.appHash(), genesis(false).state().appHash()), "the keys are in the app hash");
    }

    @Test
    void genesis_wrongPop_refusedWhole() {
        ObjectNode app = appState(true);
        ObjectNode c0 = (ObjectNode) app.get("candidates").get(0);
        c0.put("beaconPop", app.get("candidates").get(1).get("beaconPop").asText()); // another operator's proof
        IOException e = assertThrows(IOException.class, () -> Genesis.read(CHAIN, JSON.writeValueAsBytes(app), 1));
        assertTrue(e.getMessage().contains("proof of possession does not verify for " + addr(0)), e.getMessage());
        c0.remove("beaconPop");
        e = assertThrows(IOException.class, () -> Genesis.read(CHAIN, JSON.writeValueAsBytes(app), 1));
        assertTrue(e.getMessage().contains("both or neither"), e.getMessage());
    }

    @Test
    void registerCandidate_checksKeyAndPop_andKeepsTheKey() throws Exception {
        LedgerState s = genesis(true).state().copyAt(5, 0);
        Ledger ledger = new Ledger(CHAIN, new Fees(FEE, BigInteger.ZERO));
        Bls.SecretKey k4 = Bls.SecretKey.fromIdentity(operators.get(4));
        Bls.SecretKey k0 = Bls.SecretKey.fromIdentity(operators.get(0));
        Map<String, byte[]> bad = new java.util.LinkedHashMap<>();
        bad.put("proof of possession does not verify", register(4, k4.publicKey(), k4.pop(addr(3))));
        bad.put("both or neither", register(4, k4.publicKey(), null));
        bad.put("48-byte compressed BLS12-381 G1 point", register(4, new byte[48], k4.pop(addr(4))));
        for (Map.Entry<String, byte[]> c : bad.entrySet()) {
            Ledger.Checked checked = ledger.check(c.getValue());
            assertNotNull(checked.refusal(), c.getKey());
            assertEquals(Ledger.Code.BAD_KEY, checked.refusal().code());
            assertTrue(checked.refusal().log().contains(c.getKey()), checked.refusal().log());
        }
        byte[] before = s.appHash();
        // someone else's key, with a proof made for this operator by its holder: the key is taken
        Ledger.Result taken = ledger.apply(s, register(4, k0.publicKey(), k0.pop(addr(4))));
        assertEquals(Ledger.Code.KEY_TAKEN, taken.code(), taken.log());
        assertTrue(taken.log().contains("beacon key belongs to candidate " + addr(0)), taken.log());
        assertArrayEquals(before, s.appHash(), "refusals change nothing");
        Ledger.Result ok = ledger.apply(s, register(4, k4.publicKey(), k4.pop(addr(4))));
        assertTrue(ok.ok(), ok.log());
        assertArrayEquals(k4.publicKey(), s.beaconKey(addr(4)).publicKey());
        assertEquals(5, s.beaconKey(addr(4)).sinceHeight());
        LedgerState noKey = genesis(true).state().copyAt(5, 0);
        assertTrue(ledger.apply(noKey, register(4, null, null)).ok(), "a candidate without a beacon key (it cannot contribute)");
        assertNull(noKey.beaconKey(addr(4)));
    }

    /** Block h's beacon aggregates the extensions of h-1, signed over the seed before h-1. */
    @Test
    void blocks_advanceTheSeed_deterministically_andRequireTheBeacon() throws Exception {
        LedgerState committed = genesis(true).state();
        List<Block.Vote> votes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            votes.add(new Block.Vote(LedgerState.consensusAddress(validatorKeys.get(i).publicKey()), 10, true, false));
        }
        List<byte[]> seeds = new ArrayList<>();
        for (long h = 1; h <= 4; h++) {
            List<Block.Vote> lastCommit = h == 1 ? List.of() : votes;
            byte[] entry = null;
            if (h > 1) {
                // the votes of h-1 were extended on the state after h-2, whose seed is now beaconPreviousSeed
                byte[] msg = Beacon.message(CHAIN, h - 1, committed.beaconPreviousSeed());
                List<byte[]> ext = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    ext.add(Bls.SecretKey.fromIdentity(operators.get(i)).sign(msg));
                }
                entry = Beacon.encode(Beacon.build(committed.beaconVoters(votes, h), ext, msg));
                LedgerState c = committed;
                long height = h;
                Beacon.BeaconException missing = assertThrows(Beacon.BeaconException.class,
                        () -> Block.begin(c, height, 0, votes, List.of()).beacon(CHAIN, c, votes, null));
                assertTrue(missing.getMessage().contains("carries no beacon"), missing.getMessage());
                byte[] forged = entry.clone();
                forged[forged.length - 5] ^= 1;
                assertThrows(Beacon.BeaconException.class, () -> Block.begin(c, height, 0, votes, List.of()).beacon(CHAIN, c, votes, forged));
            }
            Block b = Block.begin(committed, h, 0, lastCommit, List.of());
            Beacon.Entry e = b.beacon(CHAIN, committed, lastCommit, entry);
            b.end();
            assertEquals(h > 1, e != null);
            assertArrayEquals(committed.beaconSeed(), b.state().beaconPreviousSeed());
            if (h == 1) {
                assertArrayEquals(committed.beaconSeed(), b.state().beaconSeed(), "no beacon: the seed is kept");
            } else {
                assertArrayEquals(Beacon.nextSeed(committed.beaconSeed(), e), b.state().beaconSeed());
                assertEquals(h, b.state().beaconHeight());
            }
            committed = b.state();
            seeds.add(committed.beaconSeed());
        }
        assertArrayEquals(Beacon.seed0(CHAIN), seeds.get(0), "block 1 keeps seed_0");
        assertEquals(4, seeds.stream().map(Arrays::toString).distinct().count(), "then each block advances it");
    }
}
