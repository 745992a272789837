package io.oecloud.chain.ledger;

import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.Ledger.Result;
import io.oecloud.chain.pb.ChainProto.AuditVerdict;
import io.oecloud.proofs.storage.Windows;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Timed retrieval audits (chain-bridge/README.md, "Timed retrieval audits"): the committee the
 * chain draws for each window, the verdicts its members record, and each storage node's audit
 * record and standing. The audits themselves happen off chain, over {@code /oe/proof/1.0.0}
 * (storage-node's {@code audit} package): a timeout cannot be proven to the chain, so verdicts
 * take no collateral; they lower the node's standing, which placement reads.
 *
 * <p>The committee of (period, window), drawn at the window's first block once its seed is
 * recorded: the eligible super-nodes are the validators (power above 0) with a beacon key, in
 * address order; when there are at most {@code auditors} of them, all serve; otherwise member
 * {@code i} (0 ≤ i < auditors) is taken out of the remaining list at index
 * {@code u64be(SHA-256("oe/audit-committee/v1" || seed || u64be period || u32be window || u32be i)[0..8)) mod remaining}
 * (the modulo's bias is below remaining / 2^64). The committee is kept in the state
 * ({@code audit-committee/PERIOD/WINDOW}), so validator changes during the window do not change
 * who may record its verdicts.
 *
 * <p>Deterministic and bounded: at most {@code auditTargets} verdicts per transaction and per
 * auditor and window; the checks walk at most the auditor's verdicts of one period.
 */
public final class Audits {
    static final byte[] COMMITTEE_DOMAIN = "oe/audit-committee/v1".getBytes(StandardCharsets.US_ASCII);

    private Audits() {}

    /** What an auditor found. */
    public enum Outcome {
        /** The node answered with a slice that verified against its committed root, within the deadline. */
        PASS,
        /** No verified answer by the deadline (late, no answer, or the stream failed). */
        TIMEOUT,
        /** An answer that did not verify against the committed root or the entry's CID. */
        BAD;

        /** The outcome of the wire value (AuditVerdict.outcome), or null for any other. */
        public static Outcome of(int wire) {
            return wire >= 0 && wire < values().length ? values()[wire] : null;
        }

        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One recorded verdict ({@code audit-verdict/PERIOD/AUDITOR/TARGET}): the window and the outcome. Encoded: u32 window, u8 outcome. */
    public record Verdict(int window, Outcome outcome) {
        byte[] encode() {
            return ByteBuffer.allocate(5).putInt(window).put((byte) outcome.ordinal()).array();
        }

        static Verdict decode(byte[] b) {
            ByteBuffer in = ByteBuffer.wrap(b);
            return new Verdict(in.getInt(), Outcome.values()[in.get()]);
        }
    }

    /**
     * A storage node's audit record ({@code audit-record/ADDR}): verdicts by outcome since it was
     * first audited, and its failures (TIMEOUT or BAD) in the latest periods that had any (at most
     * {@code auditStandingPeriods} of them). Encoded: u64 passed, u64 timeouts, u64 bad, u16 n,
     * n × (u64 period, u32 failures), ascending.
     */
    public record Record(long passed, long timeouts, long bad, SortedMap<Long, Integer> recentFailures) {
        public Record {
            recentFailures = Collections.unmodifiableSortedMap(new TreeMap<>(recentFailures));
        }

        static final Record EMPTY = new Record(0, 0, 0, new TreeMap<>());

        public long failed() {
            return timeouts + bad;
        }

        Record add(long period, Outcome o, int keepPeriods) {
            if (o == Outcome.PASS) {
                return new Record(passed + 1, timeouts, bad, recentFailures);
            }
            TreeMap<Long, Integer> r = new TreeMap<>(recentFailures);
            r.merge(period, 1, Integer::sum);
            long newest = r.lastKey();
            r.headMap(newest - keepPeriods + 1).clear();
            return new Record(passed, timeouts + (o == Outcome.TIMEOUT ? 1 : 0), bad + (o == Outcome.BAD ? 1 : 0), r);
        }

        /** Failures in periods {@code (current - periods, current]}. */
        public long failuresSince(long current, int periods) {
            long n = 0;
            for (Map.Entry<Long, Integer> e : recentFailures.entrySet()) {
                if (e.getKey() > current - periods && e.getKey() <= current) {
                    n += e.getValue();
                }
            }
            return n;
        }

        byte[] encode() {
            ByteBuffer out = ByteBuffer.allocate(24 + 2 + 12 * recentFailures.size()).putLong(passed).putLong(timeouts).putLong(bad)
                    .putShort((short) recentFailures.size());
            recentFailures.forEach((p, n) -> out.putLong(p).putInt(n));
            return out.array();
        }

        static Record decode(byte[] b) {
            ByteBuffer in = ByteBuffer.wrap(b);
            long passed = in.getLong();
            long timeouts = in.getLong();
            long bad = in.getLong();
            int n = in.getShort() & 0xffff;
            TreeMap<Long, Integer> r = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                r.put(in.getLong(), in.getInt());
            }
            return new Record(passed, timeouts, bad, r);
        }
    }

    /** The validators that may audit: power above 0 and a beacon key, in address order. */
    public static List<String> eligible(LedgerState s) {
        List<String> l = new ArrayList<>();
        for (Map.Entry<String, Long> e : s.validators.entrySet()) {
            if (e.getValue() > 0 && s.beaconKeys.containsKey(e.getKey())) {
                l.add(e.getKey());
            }
        }
        return l;
    }

    /** The committee drawn from {@code eligible} (in address order) for (period, window) by the window's {@code seed}: see the class comment. */
    public static List<String> draw(byte[] seed, long period, int window, List<String> eligible, int size) {
        List<String> pool = new ArrayList<>(eligible);
        Collections.sort(pool);
        if (pool.size() <= size) {
            return List.copyOf(pool);
        }
        List<String> out = new ArrayList<>(size);
        MessageDigest d = LedgerState.sha256();
        for (int i = 0; i < size; i++) {
            d.reset();
            d.update(COMMITTEE_DOMAIN);
            d.update(seed);
            d.update(ByteBuffer.allocate(16).putLong(period).putInt(window).putInt(i).array());
            long v = ByteBuffer.wrap(d.digest()).getLong();
            out.add(pool.remove((int) Long.remainderUnsigned(v, pool.size())));
        }
        return List.copyOf(out);
    }

    /** The committee recorded for (period, window), or null (not drawn yet, pruned, or no one was eligible). */
    public static List<String> committee(LedgerState s, long period, int window) {
        return s.auditCommittees.get(Storage.seedKey(period, window));
    }

    /** The audit record of {@code address}, or null when it was never audited. */
    public static Record record(LedgerState s, String address) {
        return s.auditRecords.get(address);
    }

    /** The verdict {@code auditor} recorded on {@code target} in {@code period}, or null. */
    public static Verdict verdict(LedgerState s, long period, String auditor, String target) {
        return s.auditVerdicts.get(Storage.periodKey(period) + "/" + auditor + "/" + target);
    }

    /**
     * Whether {@code address} is in poor standing at the state's height: at least
     * {@code auditFailThreshold} failed audits in the last {@code auditStandingPeriods} periods.
     */
    public static boolean poorStanding(LedgerState s, String address) {
        Record r = s.auditRecords.get(address);
        if (r == null || s.height < 0) {
            return false;
        }
        StorageParams p = s.storageParams;
        return r.failuresSince(p.windowing().period(s.height), p.auditStandingPeriods()) >= p.auditFailThreshold();
    }

    /** AuditVerdicts from {@code from}: checked whole, then recorded (a refused transaction changes nothing). */
    static Result submit(LedgerState s, String from, long period, int window, List<AuditVerdict> verdicts) {
        StorageParams p = s.storageParams;
        if (p.auditors() == 0) {
            return new Result(Code.NOT_AUDITOR, "audits are off on this chain (storage.auditors = 0)");
        }
        if (window < 0 || window >= p.windows() || period < 0 || period > Long.MAX_VALUE / p.periodBlocks() - 2) {
            return new Result(Code.MALFORMED, "window " + Integer.toUnsignedString(window) + " of period " + Long.toUnsignedString(period)
                    + " does not exist (" + p.windows() + " windows a period)");
        }
        if (verdicts.isEmpty() || verdicts.size() > p.auditTargets()) {
            return new Result(Code.MALFORMED, "a transaction carries 1 to " + p.auditTargets() + " verdicts, not " + verdicts.size());
        }
        Windows.BlockRange range = p.windowing().blocks(period, window);
        if (s.height <= range.first()) {
            return new Result(Code.TOO_SOON, "verdicts of window " + window + " of period " + period + " are accepted from block "
                    + (range.first() + 1) + ", this is block " + s.height);
        }
        if (s.height > range.last() + p.auditVerdictBlocks()) {
            return new Result(Code.TOO_LATE, "verdicts of window " + window + " of period " + period + " were due by block "
                    + (range.last() + p.auditVerdictBlocks()) + ", this is block " + s.height);
        }
        List<String> committee = committee(s, period, window);
        if (committee == null || !committee.contains(from)) {
            return new Result(Code.NOT_AUDITOR, from + " is not on the audit committee of window " + window + " of period " + period
                    + (committee == null ? " (none was drawn)" : " " + committee));
        }
        String prefix = Storage.periodKey(period) + "/" + from + "/";
        int already = 0;
        for (Verdict v : s.auditVerdicts.subMap(prefix, Storage.periodKey(period) + "/" + from + "0").values()) {
            if (v.window() == window) {
                already++;
            }
        }
        if (already + verdicts.size() > p.auditTargets()) {
            return new Result(Code.MALFORMED, from + " recorded " + already + " verdicts in window " + window + " of period " + period
                    + "; " + verdicts.size() + " more would pass the " + p.auditTargets() + " an auditor may record a window");
        }
        Set<String> seen = new HashSet<>();
        for (AuditVerdict v : verdicts) {
            String t = v.getTarget();
            try {
                Ledger.checkAddress(t);
            } catch (IllegalArgumentException e) {
                return new Result(Code.BAD_ADDRESS, "target '" + t + "' is not an address: " + e.getMessage());
            }
            if (Outcome.of(v.getOutcome()) == null) {
                return new Result(Code.MALFORMED, "outcome " + Integer.toUnsignedString(v.getOutcome()) + " for " + t
                        + " is none of 0 pass, 1 timeout, 2 bad");
            }
            if (t.equals(from)) {
                return new Result(Code.MALFORMED, "an auditor does not judge itself");
            }
            if (!seen.add(t)) {
                return new Result(Code.MALFORMED, t + " is judged twice in one transaction");
            }
            if (s.storageNodes.get(t) == null) {
                return new Result(Code.NOT_STORAGE_NODE, t + " is not a registered storage node");
            }
            LedgerState.StorageRoot r = s.storageRoot(period, t);
            if (r == null || r.count() == 0) {
                return new Result(Code.NO_ROOT, t + " committed no root with entries for period " + period + ": nothing to audit");
            }
            if (s.auditVerdicts.containsKey(prefix + t)) {
                return new Result(Code.VERDICT_EXISTS, from + " recorded its verdict on " + t + " for period " + period + " already");
            }
        }
        for (AuditVerdict v : verdicts) {
            Outcome o = Outcome.of(v.getOutcome());
            s.auditVerdicts.put(prefix + v.getTarget(), new Verdict(window, o));
            Record old = s.auditRecords.getOrDefault(v.getTarget(), Record.EMPTY);
            s.auditRecords.put(v.getTarget(), old.add(period, o, p.auditStandingPeriods()));
        }
        return Result.OK;
    }

    /**
     * The end of block {@code s.height} (after {@link Storage#endBlock}, which records the window's
     * seed): at a window's first block its committee is drawn; at a period's last block the
     * committees and verdicts of period {@code p - retainPeriods} are pruned (records stay).
     */
    static void endBlock(LedgerState s) {
        StorageParams p = s.storageParams;
        long h = s.height;
        if (h < 0) {
            return;
        }
        Windows w = p.windowing();
        long period = w.period(h);
        int window = w.window(h);
        long inWindow = h % w.windowBlocks();
        if (inWindow == 0 && p.auditors() > 0) {
            byte[] seed = s.storageSeeds.get(Storage.seedKey(period, window));
            if (seed != null) {
                List<String> c = draw(seed, period, window, eligible(s), p.auditors());
                if (!c.isEmpty()) {
                    s.auditCommittees.put(Storage.seedKey(period, window), c);
                }
            }
        }
        if (inWindow == w.windowBlocks() - 1 && window == p.windows() - 1 && period >= p.retainPeriods()) {
            String from = Storage.periodKey(period - p.retainPeriods()) + "/";
            String to = Storage.periodKey(period - p.retainPeriods()) + "0";
            for (LedgerState.Tracked<?> m : List.of(s.auditCommittees, s.auditVerdicts)) {
                for (String k : new ArrayList<>(m.subMap(from, to).keySet())) {
                    m.remove(k);
                }
            }
        }
    }

    /** A committee's entry value: u8 n, n × (u8 length, ASCII address). */
    static byte[] encodeCommittee(List<String> c) {
        int n = 1;
        for (String a : c) {
            n += 1 + a.length();
        }
        ByteBuffer out = ByteBuffer.allocate(n).put((byte) c.size());
        for (String a : c) {
            out.put((byte) a.length()).put(a.getBytes(StandardCharsets.US_ASCII));
        }
        return out.array();
    }

    static List<String> decodeCommittee(byte[] b) {
        ByteBuffer in = ByteBuffer.wrap(b);
        int n = in.get() & 0xff;
        List<String> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] a = new byte[in.get() & 0xff];
            in.get(a);
            l.add(new String(a, StandardCharsets.US_ASCII));
        }
        return List.copyOf(l);
    }

    /** Adds the audit entries of {@code s} to {@code m} (LedgerState.entries). */
    static void entries(LedgerState s, Map<String, byte[]> m) {
        s.auditCommittees.forEach((k, v) -> m.put("audit-committee/" + k, encodeCommittee(v)));
        s.auditVerdicts.forEach((k, v) -> m.put("audit-verdict/" + k, v.encode()));
        s.auditRecords.forEach((k, v) -> m.put("audit-record/" + k, v.encode()));
    }
}
