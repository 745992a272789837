package io.oecloud.chain.ledger;

import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.Ledger.Result;
import io.oecloud.chain.ledger.LedgerState.FaultList;
import io.oecloud.chain.ledger.LedgerState.StorageNode;
import io.oecloud.chain.ledger.LedgerState.StorageRoot;
import io.oecloud.chain.pb.ChainProto.ContractAnswer;
import io.oecloud.chain.pb.ChainProto.ProofAnswer;
import io.oecloud.chain.pb.ChainProto.SubmitProof;
import io.oecloud.proofs.Blake3;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.EntriesProof;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import io.oecloud.proofs.storage.Windows;
import java.math.BigInteger;
import java.nio.ByteBuffer;
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
    /** The largest entries proof a contract answer may carry: one entry ({@link EntriesProof#maxEncodedBytes}). */
    public static final int MAX_CONTRACT_ENTRIES_BYTES = EntriesProof.maxEncodedBytes(1);
    /** The domains of the two seeds a window's contract picks hash from (the contract, then the block in it). */
    /** v2: a pick draws a byte of the node's listed bytes (weighted by bytes); v1 drew an index of its list. */
    private static final byte[] PICK_DOMAIN = "oechain/contract-pick/v2".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ENTRY_DOMAIN = "oechain/contract-entry/v1".getBytes(StandardCharsets.US_ASCII);

    private Storage() {}

    /**
     * One contract pick of a node's period (chain-bridge/README.md, "Lost blocks stay in the
     * root"): the contract {@code object}/{@code payer} drawn from the node's held list, the
     * node's entries root and block count in it (its receipt's, as the contract held them at the
     * seed), and the challenge of one entry and chunk under that root. The node answers it with a
     * {@code ContractAnswer} in the SubmitProof that completes its window.
     */
    public record ContractPick(String object, String payer, byte[] root, long count, Challenge challenge) {
        public ContractPick {
            if (root == null || root.length != 32) {
                throw new IllegalArgumentException("a pick's root is 32 bytes");
            }
            root = root.clone();
        }

        @Override
        public byte[] root() {
            return root.clone();
        }

        /** The contract's key, "OBJECTCID/PAYER". */
        public String contract() {
            return object + "/" + payer;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ContractPick p && object.equals(p.object) && payer.equals(p.payer) && java.util.Arrays.equals(root, p.root)
                    && count == p.count && challenge.equals(p.challenge);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(object, payer, java.util.Arrays.hashCode(root), count, challenge);
        }

        @Override
        public String toString() {
            return "ContractPick[" + contract() + ", root=" + java.util.HexFormat.of().formatHex(root) + ", count=" + count + ", " + challenge
                    + "]";
        }
    }

    /**
     * A period's picks as the state stores them ({@code storage-picks/PERIOD/NODE}): u8 n, n ×
     * (u16 length, "OBJECTCID/PAYER" ASCII, 32-byte root, u64 count, u32 j, u64 entry, u64
     * chunkHigh, u64 chunkLow), big-endian, in pick order.
     */
    static byte[] encodePicks(List<ContractPick> picks) {
        List<byte[]> keys = new ArrayList<>(picks.size());
        int n = 1;
        for (ContractPick p : picks) {
            byte[] k = p.contract().getBytes(StandardCharsets.US_ASCII);
            keys.add(k);
            n += 2 + k.length + 32 + 8 + 4 + 24;
        }
        ByteBuffer out = ByteBuffer.allocate(n).put((byte) picks.size());
        for (int i = 0; i < picks.size(); i++) {
            ContractPick p = picks.get(i);
            Challenge c = p.challenge();
            out.putShort((short) keys.get(i).length).put(keys.get(i)).put(p.root).putLong(p.count()).putInt(c.j()).putLong(c.entry())
                    .putLong(c.chunkHigh()).putLong(c.chunkLow());
        }
        return out.array();
    }

    static List<ContractPick> decodePicks(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int n = in.get() & 0xff;
        List<ContractPick> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] k = new byte[in.getShort() & 0xffff];
            in.get(k);
            String key = new String(k, StandardCharsets.US_ASCII);
            byte[] root = new byte[32];
            in.get(root);
            long count = in.getLong();
            Challenge c = new Challenge(in.getInt(), in.getLong(), in.getLong(), in.getLong());
            int slash = key.indexOf('/');
            l.add(new ContractPick(key.substring(0, slash), key.substring(slash + 1), root, count, c));
        }
        return List.copyOf(l);
    }

    /** {@code node}'s contract picks for {@code period}, in order (empty when it has none, or before its window's seed). */
    public static List<ContractPick> contractPicks(LedgerState s, long period, String node) {
        return s.storageContractPicks.getOrDefault(periodKey(period) + "/" + node, List.of());
    }

    /**
     * Fixes the contract picks of window {@code window} of {@code period} from its {@code seed}
     * (its first block, once the seed is recorded): for each node of the window with an open,
     * non-empty root and a non-empty held list, k = contractChallenges picks j = 0 .. k-1, each the
     * contract of its held list whose interval of the node's listed bytes holds the byte
     * {@link #pickByte} r of j (so a contract is picked with its share of the node's bytes; the
     * Fenwick descent {@link Contracts#heldAt}), and in it the node's entry challenge
     * {@code Challenges.one(BLAKE3("oechain/contract-entry/v1" || seed), node, period, blocks, j)}
     * under its holding's root. Stored, so that a contract created, moved or ended after the seed
     * moves no pick. Work: the period's roots scanned (as the end-of-window rule does), then
     * O(k × log) per node of the window; never a walk over contracts.
     */
    static void pickContracts(LedgerState s, long period, int window, byte[] seed) {
        int k = s.storageParams.contractChallenges();
        if (k == 0) {
            return;
        }
        byte[] pickSeed = Blake3.hash(concat(PICK_DOMAIN, seed));
        byte[] entrySeed = Blake3.hash(concat(ENTRY_DOMAIN, seed));
        String prefix = periodKey(period) + "/";
        for (Map.Entry<String, StorageRoot> e : s.storageRoots.subMap(prefix, periodKey(period) + "0").entrySet()) {
            StorageRoot r = e.getValue();
            String node = e.getKey().substring(prefix.length());
            long held = Contracts.heldBytes(s, node);
            if (r.window() != window || r.status() != StorageRoot.OPEN || r.count() == 0 || held == 0) {
                continue;
            }
            byte[] id = nodeId(node);
            List<ContractPick> picks = new ArrayList<>(k);
            for (int j = 0; j < k; j++) {
                String key = Contracts.held(s, node, Contracts.heldAt(s, node, pickByte(pickSeed, id, period, held, j)));
                Contracts.Contract c = s.contracts.get(key);
                if (c == null || c.end() <= period || !c.holders().containsKey(node)) {
                    continue; // ended, its holders not yet out of the lists (Contracts.leaveEnded): nothing to prove for it now
                }
                Contracts.Holding h = c.holders().get(node);
                Challenge ch = Challenges.one(entrySeed, id, period, h.blocks(), j);
                int slash = key.indexOf('/');
                picks.add(new ContractPick(key.substring(0, slash), key.substring(slash + 1), h.root(), h.blocks(), ch));
            }
            s.storageContractPicks.put(e.getKey(), List.copyOf(picks));
        }
    }

    /**
     * The byte pick j draws of a node's {@code total} listed bytes (1 .. 2^62, more than a
     * Challenges count, which stops at 2^32): h = BLAKE3(pickSeed || u8 len(id) || id || u64be
     * period || u32be j), r = floor(u128be(h[0..16)) × total / 2^128), uniform over [0, total)
     * but for a bias below total / 2^128 < 2^-66 (the multiply-high of Challenges, over BigInteger).
     */
    static long pickByte(byte[] pickSeed, byte[] id, long period, long total, int j) {
        ByteBuffer b = ByteBuffer.allocate(pickSeed.length + 1 + id.length + 8 + 4);
        b.put(pickSeed).put((byte) id.length).put(id).putLong(period).putInt(j);
        byte[] h = Blake3.hash(b.array());
        BigInteger u = new BigInteger(1, java.util.Arrays.copyOf(h, 16));
        return u.multiply(BigInteger.valueOf(total)).shiftRight(128).longValueExact();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

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
     * SubmitProof as the transaction carries it: see {@link #submitProof(LedgerState, String, long, int, ByteString, List, List)}.
     */
    static Result submitProof(LedgerState s, String from, SubmitProof tx) {
        return submitProof(s, from, tx.getPeriod(), tx.getFirst(), tx.getEntries(), tx.getAnswersList(), tx.getContractAnswersList());
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
     * answer's slice is checked against its challenge's entry ({@link #verifySlice}). The
     * transaction that completes the window's c answers carries one contract answer per
     * {@link #contractPicks pick}, in order (any other carries none; MALFORMED otherwise): each an
     * entries proof of exactly the picked entry under the pick's (root, count) and that entry's
     * picked chunk by the same slice rule, checked before the answers (they are cheaper). Any
     * failure refuses the transaction whole (INVALID_PROOF, naming the entries proof, the
     * challenge or the contract answer) and changes nothing: the window can still be answered
     * correctly until it ends. Cost: at most c challenge
     * hashes, one multiproof of at most c entries (about k·log2(count) node hashes) and c slice
     * verifications, plus one single-entry proof and one slice per pick.
     */
    static Result submitProof(LedgerState s, String from, long period, int first, ByteString entries, List<ProofAnswer> answers,
                              List<ContractAnswer> contractAnswers) {
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
        boolean completes = first + answers.size() == c;
        List<ContractPick> picks = completes ? contractPicks(s, period, from) : List.of();
        if (contractAnswers.size() != picks.size()) {
            return new Result(Code.MALFORMED, completes
                    ? "the transaction that completes the window answers its " + picks.size() + " contract picks, one answer each, not "
                            + contractAnswers.size()
                    : "contract answers come with the transaction that completes the window's " + c + " answers; this one ends at "
                            + (first + answers.size()));
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
        for (int i = 0; i < contractAnswers.size(); i++) {
            ContractAnswer ca = contractAnswers.get(i);
            if (ca.getEntries().size() > MAX_CONTRACT_ENTRIES_BYTES || ca.getSlice().size() > MAX_SLICE_BYTES) {
                return new Result(Code.INVALID_PROOF, "contract answer " + i + " (" + picks.get(i).contract() + "): an entries proof of "
                        + ca.getEntries().size() + " bytes (at most " + MAX_CONTRACT_ENTRIES_BYTES + ") and a slice of " + ca.getSlice().size()
                        + " bytes (at most " + MAX_SLICE_BYTES + ")");
            }
        }
        FaultList faults = s.storageFaults.get(key);
        // the contract answers first: k small proofs, so a bad one is refused before the window's c slices are checked
        for (int i = 0; i < contractAnswers.size(); i++) {
            String bad = verifyContractAnswer(contractAnswers.get(i), picks.get(i), faults);
            if (bad != null) {
                return new Result(Code.INVALID_PROOF, "contract answer " + i + " (" + picks.get(i).contract() + "): " + bad);
            }
        }
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
        return verifySlice(a.getSlice(), ch, e, faults);
    }

    /** {@link #verifySlice(ProofAnswer, Challenge, NodeEntry, FaultList)} of a slice as carried (a ProofAnswer's or a ContractAnswer's). */
    static String verifySlice(ByteString slice, Challenge ch, NodeEntry e, FaultList faults) {
        if (slice.size() > MAX_SLICE_BYTES) {
            return "a slice of " + slice.size() + " bytes (at most " + MAX_SLICE_BYTES + ")";
        }
        try {
            if (faults != null && faults.cids().contains(e.cid().toString())) {
                return slice.isEmpty() ? null : "entry " + e.cid() + " was declared faulty: its answer carries no slice";
            }
            if (slice.isEmpty()) {
                return "no slice for entry " + e.cid();
            }
            SliceProof sp = SliceProof.decode(slice.toByteArray(), MAX_SLICE_BYTES);
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
     * Checks one contract answer against its pick: the entries proof (at most
     * {@link #MAX_CONTRACT_ENTRIES_BYTES}) proves exactly the picked entry under the pick's (root,
     * count), and the slice is that entry's picked chunk ({@link #verifySlice}; none for an entry
     * declared faulty for the period). Returns why it fails, or null.
     */
    static String verifyContractAnswer(ContractAnswer a, ContractPick pick, FaultList faults) {
        NodeEntry e;
        try {
            EntriesProof ep = EntriesProof.decode(a.getEntries().toByteArray(), MAX_CONTRACT_ENTRIES_BYTES, 1);
            ep.verify(pick.root, pick.count(), new long[] {pick.challenge().entry()});
            e = ep.entry(pick.challenge().entry());
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException | IndexOutOfBoundsException
                 | NullPointerException x) {
            return "the entries proof of entry " + pick.challenge().entry() + " of " + pick.count() + ": " + x.getClass().getSimpleName()
                    + ": " + x.getMessage();
        }
        return verifySlice(a.getSlice(), pick.challenge(), e, faults);
    }

    /**
     * The end of block {@code s.height}: at a window's first block its seed is recorded (the
     * beacon seed after this block) and the window's contract picks fixed from it; at a window's last block every open root of that window is
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
            pickContracts(s, period, window, s.beaconSeed);
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
        for (LedgerState.Tracked<?> m : List.of(s.storageRoots, s.storageFaults, s.storageSeeds, s.storageContractPicks)) {
            for (String k : new ArrayList<>(m.subMap(from, to).keySet())) {
                m.remove(k);
            }
        }
    }
}
