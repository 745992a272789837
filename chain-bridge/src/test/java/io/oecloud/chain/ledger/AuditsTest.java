package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Timed retrieval audits at the ledger level (in-memory state, no CometBFT): the committee drawn
 * from each window's seed among validators with beacon keys, AuditVerdicts accepted only from that
 * committee within the window's bound, once per (auditor, target, period), the audit records and
 * standing, and a fuzz of the verdict transaction (fixed seed).
 */
class AuditsTest {
    private static final String CHAIN = "oe-audits-test";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BigInteger COLLATERAL = BigInteger.valueOf(5_000_000);

    /** Three super-nodes (validators with beacon keys), two storage nodes, a stranger. */
    private final List<Identity> supers = List.of(id(1), id(2), id(3));
    private final Identity x = id(10);
    private final Identity y = id(11);
    private final Identity stranger = id(12);

    private Ledger ledger;
    private LedgerState state;

    private static Identity id(int i) {
        byte[] s = new byte[32];
        s[0] = (byte) i;
        s[1] = 'a';
        return Identity.fromSeed(s);
    }

    private static String addr(Identity id) {
        return Ledger.address(id.publicKey());
    }

    /** P = 20, W = 4 (5 blocks a window), A = 2, 2 targets an auditor a window, verdicts 5 blocks after the window, 2 failures in 2 periods. */
    private void genesis(int auditors) throws Exception {
        ObjectNode app = JSON.createObjectNode().put("minFee", "1").put("feePerByte", "0");
        app.putObject("storage").put("periodBlocks", 20).put("windows", 4).put("challenges", 4)
                .put("minCollateral", "1000000").put("penaltyPpm", 100_000).put("faultFee", "10")
                .put("commitDeadline", 1).put("retainPeriods", 4).put("auditors", auditors).put("auditTargets", 2)
                .put("auditDeadlineMillis", 2000).put("auditVerdictBlocks", 5).put("auditStandingPeriods", 2).put("auditFailThreshold", 2);
        ArrayNode accounts = app.putArray("accounts");
        ArrayNode candidates = app.putArray("candidates");
        for (Identity s : supers) {
            accounts.addObject().put("address", addr(s)).put("balance", Amounts.PASS.multiply(BigInteger.valueOf(100)).toString());
            byte[] vk = new byte[32];
            vk[0] = (byte) supers.indexOf(s);
            vk[1] = 'v';
            ObjectNode c = candidates.addObject().put("address", addr(s)).put("selfBond", Amounts.PASS.multiply(BigInteger.TEN).toString())
                    .put("validatorKey", Base64.getEncoder().encodeToString(Identity.fromSeed(vk).publicKey()));
            Genesis.putBeaconKey(c, s);
        }
        for (Identity n : List.of(x, y, stranger)) {
            accounts.addObject().put("address", addr(n)).put("balance", BigInteger.TEN.pow(15).toString());
        }
        Genesis g = Genesis.read(CHAIN, JSON.writeValueAsBytes(app), 1);
        ledger = new Ledger(CHAIN, g.fees());
        state = g.state();
    }

    private byte[] beaconSeed(long h) {
        return Ledger.sha256().digest(ByteBuffer.allocate(16).putLong(77).putLong(h).array());
    }

    private List<Ledger.Result> block(byte[]... txs) {
        Block b = Block.begin(state, state.height() + 1, 1_000L * (state.height() + 1), List.of(), List.of());
        b.state().beaconPrevious = b.state().beaconSeed;
        b.state().beaconSeed = beaconSeed(state.height() + 1);
        List<Ledger.Result> rs = new ArrayList<>();
        for (byte[] tx : txs) {
            rs.add(b.apply(ledger, ledger.check(tx)));
        }
        b.end();
        state = b.state();
        return rs;
    }

    private void runTo(long h) {
        while (state.height() + 1 < h) {
            block();
        }
    }

    private byte[] tx(Identity key, TxBody.Builder body) {
        body.setChainId(CHAIN).setSender(ByteString.copyFrom(key.publicKey())).setNonce(state.account(addr(key)).nonce());
        return ledger.fees().sign(key, body);
    }

    private Ledger.Result submit(Identity key, TxBody.Builder body) {
        return block(tx(key, body)).get(0);
    }

    private static TxBody.Builder verdicts(long period, int window, Object... targetOutcome) {
        ChainProto.AuditVerdicts.Builder v = ChainProto.AuditVerdicts.newBuilder().setPeriod(period).setWindow(window);
        for (int i = 0; i < targetOutcome.length; i += 2) {
            v.addVerdicts(ChainProto.AuditVerdict.newBuilder().setTarget((String) targetOutcome[i]).setOutcome((Integer) targetOutcome[i + 1]));
        }
        return TxBody.newBuilder().setAuditVerdicts(v);
    }

    /** Registers x and y (block 1, 2) and commits a root of 3 entries for period 1 (x) and an empty one (y). */
    private void storageNodes() {
        for (Identity n : List.of(x, y)) {
            Ledger.Result r = submit(n, TxBody.newBuilder().setRegisterStorageNode(ChainProto.RegisterStorageNode.newBuilder()
                    .setCapacity(1L << 30).setCollateral(ByteString.copyFrom(Amounts.encode(COLLATERAL)))));
            assertEquals(Code.OK, r.code(), r.log());
        }
        byte[] root = new byte[32];
        root[0] = 1;
        Ledger.Result r = submit(x, TxBody.newBuilder().setCommitRoot(ChainProto.CommitRoot.newBuilder().setPeriod(1)
                .setRoot(ByteString.copyFrom(root)).setCount(3)));
        assertEquals(Code.OK, r.code(), r.log());
        r = submit(y, TxBody.newBuilder().setCommitRoot(ChainProto.CommitRoot.newBuilder().setPeriod(1)
                .setRoot(ByteString.copyFrom(io.oecloud.proofs.storage.NodeRoot.emptyRoot())).setCount(0)));
        assertEquals(Code.OK, r.code(), r.log());
    }

    private Identity member(List<String> committee, boolean in) {
        for (Identity s : supers) {
            if (committee.contains(addr(s)) == in) {
                return s;
            }
        }
        throw new AssertionError("no super-node " + (in ? "on" : "off") + " the committee " + committee);
    }

    @Test
    void theCommitteeIsDrawnAtEachWindowsFirstBlockFromItsSeed() throws Exception {
        genesis(2);
        List<String> eligible = Audits.eligible(state);
        assertEquals(supers.stream().map(AuditsTest::addr).sorted().toList(), eligible, "validators with beacon keys, in address order");
        Set<List<String>> seen = new HashSet<>();
        for (long h = 5; h <= 60; h += 5) {
            runTo(h);
            assertNull(Audits.committee(state, h / 20, (int) (h % 20 / 5)), "not before the window's first block");
            block();
            List<String> c = Audits.committee(state, h / 20, (int) (h % 20 / 5));
            assertNotNull(c);
            assertEquals(2, c.size());
            assertNotEquals(c.get(0), c.get(1));
            byte[] seed = state.storageSeed(h / 20, (int) (h % 20 / 5));
            assertArrayEquals(beaconSeed(h), seed);
            assertEquals(Audits.draw(seed, h / 20, (int) (h % 20 / 5), eligible, 2), c, "the draw from the window's seed");
            seen.add(List.copyOf(new java.util.TreeSet<>(c)));
        }
        assertTrue(seen.size() > 1, "the committee changes with the seed: " + seen);
        // all serve when there are no more than A; the draw is a pure function
        byte[] s = new byte[32];
        assertEquals(eligible, Audits.draw(s, 3, 1, eligible, 3));
        assertEquals(eligible, Audits.draw(s, 3, 1, eligible.reversed(), 5));
        assertEquals(Audits.draw(s, 3, 1, eligible, 2), Audits.draw(s, 3, 1, eligible.reversed(), 2), "the order given does not matter");
    }

    @Test
    void auditsOffDrawNoCommitteeAndRefuseVerdicts() throws Exception {
        genesis(0);
        storageNodes();
        runTo(22);
        assertNull(Audits.committee(state, 1, 0));
        Ledger.Result r = submit(supers.get(0), verdicts(1, 0, addr(x), 1));
        assertEquals(Code.NOT_AUDITOR, r.code(), r.log());
    }

    @Test
    void aCommitteeMemberRecordsVerdictsOncePerTargetAndPeriod() throws Exception {
        genesis(2);
        storageNodes();
        runTo(21); // period 1, window 0 is blocks 20..24; its committee was drawn at block 20
        List<String> committee = Audits.committee(state, 1, 0);
        Identity auditor = member(committee, true);
        Identity outsider = member(committee, false);
        BigInteger before = state.account(addr(auditor)).balance();

        Ledger.Result r = submit(outsider, verdicts(1, 0, addr(x), 0));
        assertEquals(Code.NOT_AUDITOR, r.code(), r.log());
        r = submit(stranger, verdicts(1, 0, addr(x), 0));
        assertEquals(Code.NOT_AUDITOR, r.code(), r.log());
        r = submit(auditor, verdicts(1, 1, addr(x), 0));
        assertEquals(Code.TOO_SOON, r.code(), "window 1 has not begun: " + r.log());

        r = submit(auditor, verdicts(1, 0, addr(x), 1));
        assertEquals(Code.OK, r.code(), r.log());
        assertEquals(before.subtract(BigInteger.ONE), state.account(addr(auditor)).balance(), "the fee, nothing else");
        assertEquals(new Audits.Verdict(0, Audits.Outcome.TIMEOUT), Audits.verdict(state, 1, addr(auditor), addr(x)));
        Audits.Record rec = Audits.record(state, addr(x));
        assertEquals(1, rec.timeouts());
        assertEquals(0, rec.passed());
        assertFalse(Audits.poorStanding(state, addr(x)), "one failure, the threshold is 2");

        r = submit(auditor, verdicts(1, 0, addr(x), 0));
        assertEquals(Code.VERDICT_EXISTS, r.code(), r.log());
        // the other member may judge the same target
        Identity second = supers.stream().filter(s -> committee.contains(addr(s)) && s != auditor).findFirst().orElseThrow();
        r = submit(second, verdicts(1, 0, addr(x), 2));
        assertEquals(Code.OK, r.code(), r.log());
        rec = Audits.record(state, addr(x));
        assertEquals(1, rec.timeouts());
        assertEquals(1, rec.bad());
        assertEquals(2, rec.failed());
        assertTrue(Audits.poorStanding(state, addr(x)), "two failures in the last 2 periods");

        // standing recovers once the failures are older than auditStandingPeriods
        runTo(60);
        assertTrue(Audits.poorStanding(state, addr(x)), "period 2: period 1's failures still count");
        block();
        assertFalse(Audits.poorStanding(state, addr(x)), "period 3: they no longer do");
        assertEquals(2, Audits.record(state, addr(x)).failed(), "the totals stay");
    }

    @Test
    void verdictsAreRefusedOutsideTheirBoundOrMalformed() throws Exception {
        genesis(2);
        storageNodes();
        runTo(21);
        Identity auditor = member(Audits.committee(state, 1, 0), true);
        String xa = addr(x);
        Object[][] bad = {
                {verdicts(1, 0, xa, 3), Code.MALFORMED},               // no such outcome
                {verdicts(1, 0, addr(auditor), 0), Code.MALFORMED},    // itself
                {verdicts(1, 0, xa, 0, xa, 1), Code.MALFORMED},        // twice
                {verdicts(1, 0, xa, 0, addr(y), 0, addr(stranger), 0), Code.MALFORMED}, // more than auditTargets
                {verdicts(1, 0), Code.MALFORMED},                      // none
                {verdicts(1, 4, xa, 0), Code.MALFORMED},               // window 4 of 4
                {verdicts(-1, 0, xa, 0), Code.MALFORMED},              // period 2^64-1
                {verdicts(1, -1, xa, 0), Code.MALFORMED},              // window 2^32-1
                {verdicts(1, 0, "not-an-address", 0), Code.BAD_ADDRESS},
                {verdicts(1, 0, addr(stranger), 0), Code.NOT_STORAGE_NODE},
                {verdicts(1, 0, addr(y), 0), Code.NO_ROOT},            // an empty root: nothing to audit
                {verdicts(2, 0, xa, 0), Code.TOO_SOON},
        };
        for (Object[] c : bad) {
            LedgerState scratch = state.copyForNextBlock();
            Ledger.Result r = ledger.apply(scratch, tx(auditor, (TxBody.Builder) c[0]));
            assertEquals(c[1], r.code(), r.log());
            assertArrayEquals(state.copyForNextBlock().appHash(), scratch.appHash(), "a refused verdict changes nothing: " + r.log());
        }
        assertEquals(Code.OK, submit(auditor, verdicts(1, 0, xa, 0)).code()); // block 21
        assertEquals(1, Audits.record(state, xa).passed());
        Identity second = supers.stream().filter(s -> Audits.committee(state, 1, 0).contains(addr(s)) && s != auditor).findFirst()
                .orElseThrow();
        runTo(30); // window 0 ends at block 24; its verdicts are taken until 24 + 5 = 29
        LedgerState late = state.copyForNextBlock();
        late = late.copyAt(30, 0);
        Ledger.Result r = ledger.apply(late, tx(second, verdicts(1, 0, xa, 0)));
        assertEquals(Code.TOO_LATE, r.code(), r.log());
        r = ledger.apply(state.copyAt(29, 0), tx(second, verdicts(1, 0, xa, 0)));
        assertEquals(Code.OK, r.code(), "block 29 is the last for window 0's verdicts: " + r.log());
    }

    @Test
    void committeesAndVerdictsArePrunedAndSurviveTheStore() throws Exception {
        genesis(2);
        storageNodes();
        runTo(21);
        Identity auditor = member(Audits.committee(state, 1, 0), true);
        assertEquals(Code.OK, submit(auditor, verdicts(1, 0, addr(x), 1)).code());
        LedgerState copy = LedgerState.fromEntries(state.entries(), state.height());
        assertEquals(state.entries().keySet(), copy.entries().keySet());
        assertArrayEquals(state.appHash(), copy.appHash());
        assertEquals(Audits.committee(state, 1, 0), Audits.committee(copy, 1, 0));
        assertEquals(Audits.record(state, addr(x)), Audits.record(copy, addr(x)));
        for (String k : List.of("audit-committee/" + Storage.seedKey(1, 0), "audit-verdict/" + Storage.periodKey(1) + "/" + addr(auditor) + "/"
                + addr(x), "audit-record/" + addr(x))) {
            assertArrayEquals(state.entries().get(k), state.entry(k), k);
        }
        runTo(5 * 20 + 19); // period 5 ends at block 119: period 1 (= 5 - retainPeriods) is pruned then
        assertNotNull(Audits.committee(state, 1, 0));
        block();
        assertNull(Audits.committee(state, 1, 0));
        assertNull(Audits.verdict(state, 1, addr(auditor), addr(x)));
        assertEquals(1, Audits.record(state, addr(x)).timeouts(), "records stay");
        assertTrue(state.entries().keySet().stream().noneMatch(k -> k.startsWith("audit-verdict/" + Storage.periodKey(1))));
    }

    /** Strategy 14's rule for this transaction: malformed verdicts, fuzzed, are refused with a code and never throw or change the state. */
    @Test
    void fuzzedVerdictTransactionsAreRefusedCleanly() throws Exception {
        genesis(2);
        storageNodes();
        runTo(21);
        Identity auditor = member(Audits.committee(state, 1, 0), true);
        byte[] good = tx(auditor, verdicts(1, 0, addr(x), 1));
        Random rnd = new Random(24_9);
        byte[] unchanged = state.copyForNextBlock().appHash();
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] t;
            if (i % 2 == 0) { // the body's fields, any values, signed properly
                ChainProto.AuditVerdicts.Builder v = ChainProto.AuditVerdicts.newBuilder().setPeriod(rnd.nextInt(4) == 0 ? rnd.nextLong() : rnd.nextInt(3))
                        .setWindow(rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextInt(5));
                for (int n = rnd.nextInt(4); n > 0; n--) {
                    String target = switch (rnd.nextInt(4)) {
                        case 0 -> addr(x);
                        case 1 -> addr(y);
                        case 2 -> addr(supers.get(rnd.nextInt(3)));
                        default -> "x".repeat(rnd.nextInt(70));
                    };
                    v.addVerdicts(ChainProto.AuditVerdict.newBuilder().setTarget(target).setOutcome(rnd.nextInt(3) == 0 ? rnd.nextInt() : rnd.nextInt(3)));
                }
                t = tx(rnd.nextBoolean() ? auditor : supers.get(rnd.nextInt(3)), TxBody.newBuilder().setAuditVerdicts(v));
            } else { // the signed bytes, mutated
                t = good.clone();
                for (int n = 1 + rnd.nextInt(4); n > 0; n--) {
                    t[rnd.nextInt(t.length)] = (byte) rnd.nextInt(256);
                }
                if (rnd.nextInt(8) == 0) {
                    t = java.util.Arrays.copyOf(t, rnd.nextInt(t.length + 8));
                }
            }
            LedgerState scratch = state.copyForNextBlock();
            Ledger.Result r = ledger.apply(scratch, t);
            assertNotNull(r.code());
            if (r.ok()) {
                accepted++;
            } else {
                assertArrayEquals(unchanged, scratch.appHash(), "refused (" + r.code() + ") yet changed: " + r.log());
            }
        }
        assertTrue(accepted > 0, "some well-formed verdicts from the committee are accepted");
    }

    @Test
    void recordsKeepOnlyTheLatestPeriodsOfFailures() {
        Audits.Record r = Audits.Record.EMPTY;
        for (long p = 1; p <= 6; p++) {
            r = r.add(p, Audits.Outcome.TIMEOUT, 2).add(p, Audits.Outcome.PASS, 2);
        }
        assertEquals(List.of(5L, 6L), List.copyOf(r.recentFailures().keySet()));
        assertEquals(6, r.timeouts());
        assertEquals(6, r.passed());
        assertEquals(2, r.failuresSince(6, 2));
        assertEquals(1, r.failuresSince(6, 1));
        assertEquals(0, r.failuresSince(9, 2));
        assertEquals(r, Audits.Record.decode(r.encode()));
    }
}
