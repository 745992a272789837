package io.oecloud.chain.ledger;

import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.Ledger.Result;
import io.oecloud.chain.ledger.LedgerState.FaultList;
import io.oecloud.chain.ledger.LedgerState.StorageNode;
import io.oecloud.chain.ledger.LedgerState.StorageRoot;
import io.oecloud.chain.pb.ChainProto.ProofAnswer;
import io.oecloud.chain.pb.ChainProto.SubmitProof;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.EntriesProof;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import io.oecloud.proofs.storage.Windows;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The proof-of-storage rules (chain-bridge/README.md, "Storage nodes and proofs"): registration
 * with collateral, roots committed before their period, answers to the challenges of the node's
 * window verified here with proofs' {@link EntriesProof}, {@link Challenges} and
 * {@link SliceProof} (the consensus rules for roots, challenges and chunks), declared faults, and
 * the end of each window (seeds recorded, missed windows penalized); leaving is {@link StorageExit}. Deterministic: integer
 * arithmetic, sorted maps, no clock.
 *
 * <p>A node's ID in the challenge and window derivations is the ASCII bytes of its account
 * address (its peer ID in base58).
 */
public final class Storage {
    /** The most CIDs one DeclareFaults names, and the most one period's fault list holds. */
    public static final int MAX_DECLARED_PER_TX = 1024;
    public static final int MAX_DECLARED_PER_PERIOD = 4096;
    /**
     * The largest slice an answer may carry: one 1 KiB chunk, at most 38 sibling CVs (a 2^48-byte
     * shard) and a header of 4 varints; anything larger is refused before it is parsed.
     */
    public static final int MAX_SLICE_BYTES = 1024 + 38 * 32 + 4 * 10;

    private Storage() {}

    /** A period as the state keys spell it: 20 decimal digits, so that keys sort by period. */
    public static String periodKey(long period) {
        return String.format("%020d", period);
    }

    static String seedKey(long period, int window) {
        return periodKey(period) + "/" + String.format("%05d", window);
    }

    /** The node ID the challenge and window derivations use: the address's ASCII bytes. */
    public static byte[] nodeId(String address) {
        return address.getBytes(StandardCharsets.US_ASCII);
    }

    /** Registers {@code from} or tops its collateral up: {@code spendable} is its balance after the fee. */
    static Result register(LedgerState s, String from, BigInteger spendable, long capacity, BigInteger collateral, BigInteger ask) {
        StorageNode n = s.storageNodes.get(from);
        StorageParams p = s.storageParams;
        if (n != null && n.leaving()) {
            return new Result(Code.LEAVING, from + " is leaving: it may register again once its collateral returns at block " + n.withdrawAt());
        }
        if (n == null && collateral.compareTo(p.minCollateral()) < 0) {
            return new Result(Code.INSUFFICIENT_STAKE, "a storage node bonds at least " + p.minCollateral() + " base units, not " + collateral);
        }
        if (n != null && collateral.signum() == 0 && capacity == n.capacity() && (ask == null || ask.equals(s.storageAsks.get(from)))) {
            return new Result(Code.BAD_AMOUNT, from + " is registered: registering again adds collateral or changes the capacity or the ask");
        }
        if (spendable.compareTo(collateral) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " can spend " + spendable + " after the fee, the collateral is " + collateral);
        }
        BigInteger total = n == null ? collateral : n.collateral().add(collateral);
        if (total.compareTo(Amounts.LIMIT) >= 0) {
            return new Result(Code.BAD_AMOUNT, "collateral would reach 2^128");
        }
        LedgerState.Account a = s.account(from);
        s.accounts.put(from, new LedgerState.Account(a.balance().subtract(collateral), a.nonce()));
        boolean active = total.compareTo(p.minCollateral()) >= 0;
        if (ask != null) { // the price of the next period counts it (Contracts.computePrice)
            s.storageAsks.put(from, ask);
        }
        s.storageNodes.put(from, n == null
                ? new StorageNode(capacity, total, s.height, active, 0, 0, 0, BigInteger.ZERO, 0)
                : new StorageNode(capacity, total, n.registeredHeight(), active, n.proven(), n.missed(), n.faultsDeclared(), n.penalties(), 0));
        return Result.OK;
    }

    /** CommitRoot: in blocks [(period-1)·P, period·P - commitDeadline], once per node and period, by an active node. */
    static Result commitRoot(LedgerState s, String from, long period, byte[] root, long count) {
        StorageNode n = s.storageNodes.get(from);
        if (n == null) {
            return new Result(Code.NOT_STORAGE_NODE, from + " is not a registered storage node");
        }
        if (n.leaving()) {
            return new Result(Code.LEAVING, from + " unregistered: it commits no more roots (its collateral returns at block "
                    + n.withdrawAt() + ")");
        }
        if (!n.active()) {
            return new Result(Code.NOT_STORAGE_NODE, from + " is inactive: its collateral is below the minimum, register again to top it up");
        }
        StorageParams p = s.storageParams;
        if (root.length != 32 || count < 0 || count > NodeRoot.MAX_COUNT) {
            return new Result(Code.MALFORMED, "a root is 32 bytes and a count at most 2^32");
        }
        if (count == 0 && !java.util.Arrays.equals(root, NodeRoot.emptyRoot())) {
            return new Result(Code.MALFORMED, "a root of 0 entries is NodeRoot.emptyRoot()");
        }
        if (period < 1 || period > Long.MAX_VALUE / p.periodBlocks() - 1) {
            return new Result(Code.MALFORMED, "period " + Long.toUnsignedString(period) + " is out of range");
        }
        long start = period * p.periodBlocks();
        if (s.height > start - p.commitDeadline()) {
            return new Result(Code.TOO_LATE, "the root of period " + period + " is due by block " + (start - p.commitDeadline())
                    + " (the period's seeds follow), this is block " + s.height);
        }
        if (s.height < start - p.periodBlocks()) {
            return new Result(Code.TOO_SOON, "the root of period " + period + " is accepted from block " + (start - p.periodBlocks()));
        }
        String key = periodKey(period) + "/" + from;
        if (s.storageRoots.containsKey(key)) {
            return new Result(Code.ROOT_EXISTS, from + " committed its root for period " + period + " already; a root is never replaced");
        }
        int window = p.windowing().nodeWindow(nodeId(from));
        s.storageRoots.put(key, new StorageRoot(root, count, s.height, window, 0, count == 0 ? StorageRoot.PROVEN : StorageRoot.OPEN));
        return Result.OK;
    }

    /** DeclareFaults: before the first block of the node's window (its seed), {@code faultFee} a CID from {@code spendable}. */
    static Result declareFaults(LedgerState s, String from, BigInteger spendable, long period, List<byte[]> cidBytes) {
        StorageNode n = s.storageNodes.get(from);
        if (n == null) {
            return new Result(Code.NOT_STORAGE_NODE, from + " is not a registered storage node");
        }
        if (cidBytes.isEmpty() || cidBytes.size() > MAX_DECLARED_PER_TX) {
            return new Result(Code.MALFORMED, "a declaration names 1 to " + MAX_DECLARED_PER_TX + " CIDs");
        }
        String key = periodKey(period) + "/" + from;
        StorageRoot r = s.storageRoots.get(key);
        if (r == null) {
            return new Result(Code.NO_ROOT, from + " committed no root for period " + period);
        }
        Windows w = s.storageParams.windowing();
        long first = w.blocks(period, r.window()).first();
        if (s.height >= first) {
            return new Result(Code.TOO_LATE, "faults of period " + period + " are declared before block " + first
                    + " (the window's seed), this is block " + s.height);
        }
        FaultList old = s.storageFaults.get(key);
        TreeSet<String> cids = new TreeSet<>(old == null ? java.util.Set.of() : old.cids());
        int added = 0;
        for (byte[] b : cidBytes) {
            String c;
            try {
                if (b.length > NodeEntry.MAX_CID_BYTES) {
                    throw new IllegalArgumentException(b.length + " bytes");
                }
                c = Cid.fromBytes(b).toString();
            } catch (IllegalArgumentException e) {
                return new Result(Code.BAD_CID, "not a CID: " + e.getMessage());
            }
            if (cids.add(c)) {
                added++;
            }
        }
        if (added == 0) {
            return new Result(Code.MALFORMED, "every CID named is declared already");
        }
        if (cids.size() > MAX_DECLARED_PER_PERIOD) {
            return new Result(Code.MALFORMED, "a period's fault list holds at most " + MAX_DECLARED_PER_PERIOD + " CIDs");
        }
        BigInteger cost = s.storageParams.faultFee().multiply(BigInteger.valueOf(added));
        if (spendable.compareTo(cost) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " can spend " + spendable + " after the fee, " + added + " faults cost " + cost);
        }
        LedgerState.Account a = s.account(from);
        s.accounts.put(from, new LedgerState.Account(a.balance().subtract(cost), a.nonce()));
        s.feePool = s.feePool.add(cost);
        s.storageFaults.put(key, new FaultList(old != null && old.missed(), cids));
        s.storageNodes.put(from, new StorageNode(n.capacity(), n.collateral(), n.registeredHeight(), n.active(), n.proven(), n.missed(),
                n.faultsDeclared() + added, n.penalties(), n.withdrawAt()));
        return Result.OK;
    }

    /**
     * SubmitProof as the transaction carries it: see {@link #submitProof(LedgerState, String, long, int, ByteString, List)}.
     */
    static Result submitProof(LedgerState s, String from, SubmitProof tx) {
        return submitProof(s, from, tx.getPeriod(), tx.getFirst(), tx.getEntries(), tx.getAnswersList());
    }

    /**
     * The largest entries proof a SubmitProof of {@code answers} answers may carry (a bound of any
     * valid one, and never above the transaction limit), checked before it is parsed.
     */
    public static int maxEntriesBytes(int answers) {
        return Math.min(Ledger.MAX_TX_BYTES, EntriesProof.maxEncodedBytes(Math.max(1, answers)));
    }

    /**
     * SubmitProof: answers {@code first ..} of the node's challenges for {@code period}, in the
     * blocks after its window's first block and up to its last. Sizes are checked first (the
     * entries proof against {@link #maxEntriesBytes}, each slice against {@link #MAX_SLICE_BYTES});
     * then {@code entries} must be one {@link EntriesProof} of exactly the distinct entries that
     * challenges {@code first .. first+n-1} pick, under the committed (root, count); then each
     * answer's slice is checked against its challenge's entry ({@link #verifySlice}). Any failure
     * refuses the transaction whole (INVALID_PROOF, naming the entries proof or the challenge) and
     * changes nothing: the window can still be answered correctly until it ends. Cost: at most c
     * challenge hashes, one multiproof of at most c entries (about k·log2(count) node hashes) and c
     * slice verifications.
     */
    static Result submitProof(LedgerState s, String from, long period, int first, ByteString entries, List<ProofAnswer> answers) {
        StorageNode n = s.storageNodes.get(from);
        if (n == null) {
            return new Result(Code.NOT_STORAGE_NODE, from + " is not a registered storage node");
        }
        String key = periodKey(period) + "/" + from;
        StorageRoot r = s.storageRoots.get(key);
        if (r == null) {
            return new Result(Code.NO_ROOT, from + " committed no root for period " + period);
        }
        if (r.status() != StorageRoot.OPEN) {
            return new Result(Code.ALREADY_PROVEN, "period " + period + " of " + from + " is "
                    + (r.status() == StorageRoot.PROVEN ? "proven" : "missed") + " already");
        }
        StorageParams p = s.storageParams;
        Windows.BlockRange range = p.windowing().blocks(period, r.window());
        if (s.height <= range.first()) {
            return new Result(Code.TOO_SOON, "the window of " + from + " in period " + period + " takes answers in blocks "
                    + (range.first() + 1) + " to " + range.last() + ", this is block " + s.height);
        }
        if (s.height > range.last()) {
            return new Result(Code.TOO_LATE, "the window of " + from + " in period " + period + " ended at block " + range.last());
        }
        byte[] seed = s.storageSeeds.get(seedKey(period, r.window()));
        if (seed == null) {
            return new Result(Code.TOO_SOON, "no seed for the window yet");
        }
        int c = p.challenges();
        if (first != r.answered() || answers.isEmpty() || answers.size() > c - first) {
            return new Result(Code.MALFORMED, "answers continue at challenge " + r.answered() + " of " + c + "; this one starts at "
                    + Integer.toUnsignedString(first) + " with " + answers.size());
        }
        int limit = maxEntriesBytes(answers.size());
        if (entries.size() > limit) {
            return new Result(Code.INVALID_PROOF, "the entries proof of " + entries.size() + " bytes is over the " + limit
                    + " that " + answers.size() + " answers may carry");
        }
        for (int i = 0; i < answers.size(); i++) {
            if (answers.get(i).getSlice().size() > MAX_SLICE_BYTES) {
                return new Result(Code.INVALID_PROOF, "answer to challenge " + (first + i) + ": a slice of "
                        + answers.get(i).getSlice().size() + " bytes (at most " + MAX_SLICE_BYTES + ")");
            }
        }
        FaultList faults = s.storageFaults.get(key);
        byte[] id = nodeId(from);
        byte[] root = r.root();
        Challenge[] challenges = new Challenge[answers.size()];
        long[] picked = new long[answers.size()];
        EntriesProof proof;
        try {
            for (int i = 0; i < answers.size(); i++) {
                challenges[i] = Challenges.one(seed, id, period, r.count(), first + i);
                picked[i] = challenges[i].entry();
            }
            proof = EntriesProof.decode(entries.toByteArray(), limit, answers.size());
            proof.verify(root, r.count(), picked);
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException | IndexOutOfBoundsException
                 | NullPointerException e) {
            return new Result(Code.INVALID_PROOF, "the entries proof of challenges " + first + " to " + (first + answers.size() - 1)
                    + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        for (int i = 0; i < answers.size(); i++) {
            String bad = verifySlice(answers.get(i), challenges[i], proof.entry(challenges[i].entry()), faults);
            if (bad != null) {
                return new Result(Code.INVALID_PROOF, "answer to challenge " + (first + i) + ": " + bad);
            }
        }
        int answered = first + answers.size();
        if (answered == c) {
            s.storageRoots.put(key, r.with(answered, StorageRoot.PROVEN));
            s.storageNodes.put(from, new StorageNode(n.capacity(), n.collateral(), n.registeredHeight(), n.active(), n.proven() + 1,
                    n.missed(), n.faultsDeclared(), n.penalties(), n.withdrawAt()));
        } else {
            s.storageRoots.put(key, r.with(answered, StorageRoot.OPEN));
        }
        return Result.OK;
    }

    /**
     * Checks one answer's slice against its challenge and the challenged entry (proven by the
     * transaction's entries proof); returns why it fails, or null. The slice must be exactly the
     * challenged chunk of the entry, verified against its CID and size. An entry declared faulty
     * for the period needs no slice (and must carry none).
     */
    static String verifySlice(ProofAnswer a, Challenge ch, NodeEntry e, FaultList faults) {
        if (a.getSlice().size() > MAX_SLICE_BYTES) {
            return "a slice of " + a.getSlice().size() + " bytes (at most " + MAX_SLICE_BYTES + ")";
        }
        try {
            if (faults != null && faults.cids().contains(e.cid().toString())) {
                return a.getSlice().isEmpty() ? null : "entry " + e.cid() + " was declared faulty: its answer carries no slice";
            }
            if (a.getSlice().isEmpty()) {
                return "no slice for entry " + e.cid();
            }
            SliceProof sp = SliceProof.decode(a.getSlice().toByteArray(), MAX_SLICE_BYTES);
            long chunk = ch.chunk(e.size());
            if (sp.chunkCount() != 1 || sp.firstChunk() != chunk) {
                return "the slice proves chunks [" + sp.firstChunk() + ", +" + sp.chunkCount() + "), the challenge is chunk " + chunk;
            }
            sp.verify(e.cid(), e.size());
            return null;
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException | IndexOutOfBoundsException
                 | NullPointerException x) {
            return x.getClass().getSimpleName() + ": " + x.getMessage();
        }
    }

    /**
     * The end of block {@code s.height}: at a window's first block its seed is recorded (the
     * beacon seed after this block); at a window's last block every open root of that window is
     * missed: collateral cut by penaltyPpm (slashed), missed + 1, the whole root faulty, the node
     * inactive below the minimum collateral. At a period's last block, the records of period
     * {@code p - retainPeriods} are pruned.
     */
    static void endBlock(LedgerState s) {
        StorageParams p = s.storageParams;
        Windows w = p.windowing();
        long h = s.height;
        if (h < 0) {
            return;
        }
        long period = w.period(h);
        int window = w.window(h);
        long inWindow = h % w.windowBlocks();
        if (inWindow == 0 && s.beaconSeed != null) {
            s.storageSeeds.put(seedKey(period, window), s.beaconSeed.clone());
        }
        if (inWindow == w.windowBlocks() - 1) {
            String prefix = periodKey(period) + "/";
            List<String> missed = new ArrayList<>();
            for (Map.Entry<String, StorageRoot> e : s.storageRoots.subMap(prefix, periodKey(period) + "0").entrySet()) {
                StorageRoot r = e.getValue();
                if (r.window() == window && r.status() == StorageRoot.OPEN) {
                    missed.add(e.getKey());
                }
            }
            for (String key : missed) {
                String node = key.substring(prefix.length());
                s.storageRoots.put(key, s.storageRoots.get(key).with(s.storageRoots.get(key).answered(), StorageRoot.MISSED));
                FaultList f = s.storageFaults.get(key);
                s.storageFaults.put(key, new FaultList(true, f == null ? new java.util.TreeSet<>() : f.cids()));
                StorageNode n = s.storageNodes.get(node);
                if (n == null) {
                    continue;
                }
                if (n.leaving()) { // its collateral is in its withdrawal: the penalty cuts that
                    BigInteger cut = StorageExit.cut(s, node, n);
                    s.storageNodes.put(node, new StorageNode(n.capacity(), n.collateral(), n.registeredHeight(), false, n.proven(),
                            n.missed() + 1, n.faultsDeclared(), n.penalties().add(cut), n.withdrawAt()));
                    continue;
                }
                BigInteger cut = n.collateral().multiply(BigInteger.valueOf(p.penaltyPpm())).divide(BigInteger.valueOf(StakingParams.PPM));
                BigInteger left = n.collateral().subtract(cut);
                s.slashed = s.slashed.add(cut);
                s.storageNodes.put(node, new StorageNode(n.capacity(), left, n.registeredHeight(),
                        n.active() && left.compareTo(p.minCollateral()) >= 0, n.proven(), n.missed() + 1, n.faultsDeclared(),
                        n.penalties().add(cut), 0));
            }
            if (window == p.windows() - 1 && period >= p.retainPeriods()) {
                prune(s, period - p.retainPeriods());
            }
        }
        StorageExit.endBlock(s); // after the penalties: a withdrawal due now has paid for its last window
    }

    private static void prune(LedgerState s, long period) {
        String from = periodKey(period) + "/";
        String to = periodKey(period) + "0";
        for (LedgerState.Tracked<?> m : List.of(s.storageRoots, s.storageFaults, s.storageSeeds)) {
            for (String k : new ArrayList<>(m.subMap(from, to).keySet())) {
                m.remove(k);
            }
        }
    }
}
