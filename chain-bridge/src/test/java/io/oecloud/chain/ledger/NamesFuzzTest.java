package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * RegisterName and UpdateName bodies drawn at random (fixed seed, bounded: 120 blocks of 20
 * transactions): names from a small pool (so they collide) and random strings of any characters,
 * roots valid, empty, truncated or random; senders rich and poor. Each result is checked against
 * a reference model written apart from {@link Names} (a regular expression for the name rule, a
 * map of owners and roots, the balances), and after every block the supply invariant
 * ({@link Block#end}) and the store's round trip. A second run signs bodies whose operation bytes
 * were mutated at random: each is answered with a code, and a refused one changes nothing.
 */
class NamesFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-names-fuzz";
    private static final BigInteger MIN_FEE = BigInteger.valueOf(1000);
    private static final BigInteger REGISTER_FEE = Amounts.PASS.divide(BigInteger.valueOf(100));
    /** The name rule as the model states it: one label of 3..63 characters, a-z 0-9 and inner '-'. */
    private static final Pattern RULE = Pattern.compile("[a-z0-9][a-z0-9-]{1,61}[a-z0-9]");
    private static final String[] POOL = {"site", "blog", "my-site", "a-b", "x1y", "shop", "0-0", "zzz"};

    private record Model(String owner, Cid root) {}

    private final Ledger ledger = new Ledger(CHAIN, new Fees(MIN_FEE, BigInteger.ZERO));
    private final List<Identity> senders = new ArrayList<>();

    private LedgerState genesis(Random rnd) throws Exception {
        ObjectNode app = JSON.createObjectNode().put("minFee", MIN_FEE.toString()).put("feePerByte", "0");
        app.putObject("names").put("registerFee", REGISTER_FEE.toString());
        var accounts = app.putArray("accounts");
        for (int i = 0; i < 4; i++) {
            byte[] seed = new byte[32];
            rnd.nextBytes(seed);
            Identity k = Identity.fromSeed(seed);
            senders.add(k);
            // the last one can pay fees but only a couple of registrations
            BigInteger balance = i == 3 ? REGISTER_FEE.multiply(BigInteger.TWO).add(MIN_FEE.multiply(BigInteger.valueOf(1000)))
                    : Amounts.PASS.multiply(BigInteger.valueOf(1000));
            accounts.addObject().put("address", Ledger.address(k.publicKey())).put("balance", balance.toString());
        }
        return Genesis.read(CHAIN, JSON.writeValueAsBytes(app), 1).state();
    }

    private static String randomName(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0, 1, 2 -> POOL[rnd.nextInt(POOL.length)];
            case 3 -> { // from the name alphabet, any length around the limits
                String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
                StringBuilder b = new StringBuilder();
                int n = rnd.nextInt(70);
                for (int i = 0; i < n; i++) {
                    b.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
                }
                yield b.toString();
            }
            case 4 -> { // anything: uppercase, dots, controls, non-ASCII
                StringBuilder b = new StringBuilder();
                int n = rnd.nextInt(12);
                for (int i = 0; i < n; i++) {
                    b.append((char) (rnd.nextBoolean() ? 0x20 + rnd.nextInt(0x60) : rnd.nextInt(0x3000)));
                }
                yield b.toString();
            }
            default -> POOL[rnd.nextInt(POOL.length)] + (rnd.nextBoolean() ? "." : "-") + (rnd.nextBoolean() ? "x" : "");
        };
    }

    /** A root and whether it is a CIDv1. */
    private record Root(byte[] bytes, Cid cid) {}

    private static Root randomRoot(Random rnd) {
        byte[] data = new byte[8];
        rnd.nextBytes(data);
        Cid c = Cid.raw(data);
        return switch (rnd.nextInt(6)) {
            case 0 -> new Root(new byte[0], null);
            case 1 -> new Root(java.util.Arrays.copyOf(c.toBytes(), c.toBytes().length - 1 - rnd.nextInt(5)), null);
            case 2 -> {
                byte[] junk = new byte[1 + rnd.nextInt(40)];
                rnd.nextBytes(junk);
                junk[0] = 0x12; // a CIDv0's first byte, never version 1
                yield new Root(junk, null);
            }
            default -> new Root(c.toBytes(), c);
        };
    }

    @Test
    void randomBodies_agreeWithTheModel_andKeepTheSupplyAtEveryBlock() throws Exception {
        Random rnd = new Random(30);
        LedgerState s = genesis(rnd);
        Map<String, Model> model = new HashMap<>();
        Map<Ledger.Code, Integer> seen = new EnumMap<>(Ledger.Code.class);
        for (int height = 1; height <= 120; height++) {
            Block b = Block.begin(s, height, 1_700_000_000_000L + height * 1000L, List.of(), List.of());
            for (int t = 0; t < 20; t++) {
                Identity k = senders.get(rnd.nextInt(senders.size()));
                String from = Ledger.address(k.publicKey());
                LedgerState w = b.state();
                String name = randomName(rnd);
                Root root = randomRoot(rnd);
                boolean register = rnd.nextInt(3) != 0;
                TxBody.Builder body = TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(k.publicKey()))
                        .setNonce(w.account(from).nonce()).setFee(ByteString.copyFrom(Amounts.encode(MIN_FEE)));
                if (register) {
                    body.setRegisterName(ChainProto.RegisterName.newBuilder().setName(name).setRoot(ByteString.copyFrom(root.bytes())));
                } else {
                    body.setUpdateName(ChainProto.UpdateName.newBuilder().setName(name).setRoot(ByteString.copyFrom(root.bytes())));
                }
                BigInteger balance = w.account(from).balance();
                BigInteger pool = w.feePool();
                Ledger.Result r = b.apply(ledger, ledger.check(Ledger.sign(k, body.build())));
                Model held = model.get(name);
                Ledger.Code expected;
                if (!RULE.matcher(name).matches()) {
                    expected = Ledger.Code.BAD_NAME;
                } else if (root.cid() == null) {
                    expected = Ledger.Code.BAD_CID;
                } else if (register && held != null) {
                    expected = Ledger.Code.NAME_TAKEN;
                } else if (!register && held == null) {
                    expected = Ledger.Code.UNKNOWN_NAME;
                } else if (!register && !held.owner().equals(from)) {
                    expected = Ledger.Code.NOT_OWNER;
                } else if (register && balance.compareTo(MIN_FEE.add(REGISTER_FEE)) < 0) {
                    expected = Ledger.Code.INSUFFICIENT_FUNDS;
                } else {
                    expected = Ledger.Code.OK;
                }
                assertEquals(expected, r.code(), "'" + name + "' at height " + height + ": " + r.log());
                assertTrue(r.ok() || !r.log().isEmpty(), "every refusal says why");
                seen.merge(r.code(), 1, Integer::sum);
                BigInteger paid = !r.ok() ? BigInteger.ZERO : register ? MIN_FEE.add(REGISTER_FEE) : MIN_FEE;
                assertEquals(balance.subtract(paid), w.account(from).balance());
                assertEquals(pool.add(paid), w.feePool());
                if (r.ok()) {
                    model.put(name, new Model(from, root.cid()));
                }
                Names.Record rec = w.name(name);
                Model m = model.get(name);
                assertEquals(m == null ? null : m.owner(), rec == null ? null : rec.owner());
                assertEquals(m == null ? null : m.root(), rec == null ? null : rec.root());
            }
            b.end(); // throws when the supply invariant is broken
            s = b.state();
            if (height % 20 == 0) {
                LedgerState back = LedgerState.fromEntries(s.entries(), s.height());
                assertArrayEquals(s.appHash(), back.appHash(), "the store keeps the registry");
            }
        }
        assertEquals(model.size(), s.entries().keySet().stream().filter(key -> key.startsWith("name/")).count());
        for (Ledger.Code c : List.of(Ledger.Code.OK, Ledger.Code.BAD_NAME, Ledger.Code.BAD_CID, Ledger.Code.NAME_TAKEN,
                Ledger.Code.UNKNOWN_NAME, Ledger.Code.NOT_OWNER, Ledger.Code.INSUFFICIENT_FUNDS)) {
            assertTrue(seen.getOrDefault(c, 0) > 0, "the run reached " + c + " (seen: " + seen + ")");
        }
    }

    @Test
    void mutatedOperationBytes_areAnsweredWithACode_andARefusedOneChangesNothing() throws Exception {
        Random rnd = new Random(31);
        LedgerState s = genesis(rnd);
        Identity k = senders.get(0);
        String from = Ledger.address(k.publicKey());
        int ok = 0;
        for (int i = 0; i < 1500; i++) {
            Cid c = Cid.raw(("root " + i).getBytes(StandardCharsets.UTF_8));
            ChainProto.RegisterName op = ChainProto.RegisterName.newBuilder().setName(POOL[rnd.nextInt(POOL.length)] + i)
                    .setRoot(ByteString.copyFrom(c.toBytes())).build();
            byte[] opBytes = op.toByteArray();
            int flips = 1 + rnd.nextInt(3);
            for (int f = 0; f < flips; f++) {
                opBytes[rnd.nextInt(opBytes.length)] ^= (byte) (1 << rnd.nextInt(8));
            }
            // the mutated operation in field 30 of a well-formed, correctly signed body
            byte[] head = TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(k.publicKey()))
                    .setNonce(s.account(from).nonce()).setFee(ByteString.copyFrom(Amounts.encode(MIN_FEE))).build().toByteArray();
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            out.write(head);
            com.google.protobuf.CodedOutputStream cos = com.google.protobuf.CodedOutputStream.newInstance(out);
            cos.writeByteArray(30, opBytes);
            cos.flush();
            byte[] bodyBytes = out.toByteArray();
            byte[] msg = new byte[Ledger.SIGN_DOMAIN.length + bodyBytes.length];
            System.arraycopy(Ledger.SIGN_DOMAIN, 0, msg, 0, Ledger.SIGN_DOMAIN.length);
            System.arraycopy(bodyBytes, 0, msg, Ledger.SIGN_DOMAIN.length, bodyBytes.length);
            byte[] tx = ChainProto.Tx.newBuilder().setBody(ByteString.copyFrom(bodyBytes)).setSignature(ByteString.copyFrom(k.sign(msg)))
                    .build().toByteArray();
            Map<String, byte[]> before = s.entries();
            Ledger.Result r = ledger.apply(s, tx);
            assertNotEquals(null, r.code());
            if (r.ok()) {
                ok++;
                assertEquals(before.size() + 1, s.entries().size(), "a registration adds its one entry");
            } else {
                assertTrue(!r.log().isEmpty(), "a refusal says why");
                Map<String, byte[]> after = s.entries();
                assertEquals(before.keySet(), after.keySet(), "refused: " + r.code() + " " + r.log());
                for (Map.Entry<String, byte[]> e : before.entrySet()) {
                    assertArrayEquals(e.getValue(), after.get(e.getKey()), e.getKey());
                }
            }
            assertEquals(s.expectedSupply(), s.supply());
        }
        assertTrue(ok > 0 && ok < 1500, "some mutations still register a name, most do not: " + ok);
    }
}
