package io.oecloud.chain.ledger;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ledger's state: accounts, the CID registry, candidates, delegations, unbonding stake, the
 * validator set and its signing records, pools and supply counters, in sorted maps so every walk
 * over it is in one order on every validator. Copied per block (the working state of
 * FinalizeBlock, the check state of the mempool); the store keeps its {@link #entries()}.
 */
public final class LedgerState {
    /** An account: base units held and the next nonce it must use. */
    public record Account(BigInteger balance, long nonce) {
        public static final Account EMPTY = new Account(BigInteger.ZERO, 0);

        /** The state entry's value ({@code account/ADDR}), as proofs carry it. */
        public byte[] encode() {
            byte[] b = Amounts.encode(balance);
            return ByteBuffer.allocate(8 + 1 + b.length).putLong(nonce).put((byte) b.length).put(b).array();
        }

        public static Account decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            long nonce = in.getLong();
            byte[] b = new byte[in.get()];
            in.get(b);
            return new Account(new BigInteger(1, b), nonce);
        }
    }

    /** Who holds a CID since when (height and block time), with its title and license. */
    public record CidRecord(String owner, long sinceHeight, long sinceMillis, String title, String license) {
        byte[] encode() {
            byte[] o = owner.getBytes(StandardCharsets.UTF_8);
            byte[] t = title.getBytes(StandardCharsets.UTF_8);
            byte[] l = license.getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(8 + 8 + 6 + o.length + t.length + l.length).putLong(sinceHeight).putLong(sinceMillis)
                    .putShort((short) o.length).put(o).putShort((short) t.length).put(t).putShort((short) l.length).put(l).array();
        }

        public static CidRecord decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            long h = in.getLong();
            long ms = in.getLong();
            return new CidRecord(string(in), h, ms, string(in), string(in));
        }

        static String string(ByteBuffer in) {
            byte[] b = new byte[in.getShort() & 0xffff];
            in.get(b);
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    /**
     * A candidate for super-node, by its operator's address: the key that signs its blocks, its
     * commission, the sum of the stake delegated to it (its own included), and its jail.
     */
    public record Candidate(byte[] validatorKey, int commissionPpm, String moniker, BigInteger stake, boolean jailed,
                            long jailedUntil, long lastPunished, long commissionHeight) {
        Candidate withStake(BigInteger s) {
            return new Candidate(validatorKey, commissionPpm, moniker, s, jailed, jailedUntil, lastPunished, commissionHeight);
        }

        Candidate jail(long until, long punishedAt) {
            return new Candidate(validatorKey, commissionPpm, moniker, stake, true, until, punishedAt, commissionHeight);
        }

        Candidate unjail() {
            return new Candidate(validatorKey, commissionPpm, moniker, stake, false, 0, lastPunished, commissionHeight);
        }

        Candidate edit(int commission, String name, long height) {
            return new Candidate(validatorKey, commission, name, stake, jailed, jailedUntil, lastPunished,
                    commission == commissionPpm ? commissionHeight : height);
        }

        /** CometBFT's validator address: the first 20 bytes of SHA-256 of the key, in hex. */
        public String validatorAddress() {
            return consensusAddress(validatorKey);
        }

        byte[] encode() {
            byte[] m = moniker.getBytes(StandardCharsets.UTF_8);
            byte[] st = Amounts.encode(stake);
            return ByteBuffer.allocate(32 + 4 + 2 + m.length + 1 + st.length + 1 + 8 + 8 + 8).put(validatorKey).putInt(commissionPpm)
                    .putShort((short) m.length).put(m).put((byte) st.length).put(st).put((byte) (jailed ? 1 : 0))
                    .putLong(jailedUntil).putLong(lastPunished).putLong(commissionHeight).array();
        }

        static Candidate decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            byte[] key = new byte[32];
            in.get(key);
            int commission = in.getInt();
            byte[] m = new byte[in.getShort() & 0xffff];
            in.get(m);
            byte[] st = new byte[in.get()];
            in.get(st);
            boolean jailed = in.get() == 1;
            return new Candidate(key, commission, new String(m, StandardCharsets.UTF_8), new BigInteger(1, st), jailed, in.getLong(),
                    in.getLong(), in.getLong());
        }
    }

    /** Stake on its way back to its delegator: slashable until {@code completeHeight}, then paid. */
    public record Unbonding(String delegator, String candidate, BigInteger amount, long createdHeight, long completeHeight) {
        String key() {
            return key(completeHeight, candidate, delegator);
        }

        static String key(long completeHeight, String candidate, String delegator) {
            return String.format("%020d/%s/%s", completeHeight, candidate, delegator);
        }

        byte[] encode() {
            byte[] d = delegator.getBytes(StandardCharsets.UTF_8);
            byte[] c = candidate.getBytes(StandardCharsets.UTF_8);
            byte[] a = Amounts.encode(amount);
            return ByteBuffer.allocate(2 + d.length + 2 + c.length + 1 + a.length + 16).putShort((short) d.length).put(d)
                    .putShort((short) c.length).put(c).put((byte) a.length).put(a).putLong(createdHeight).putLong(completeHeight).array();
        }

        static Unbonding decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            String d = CidRecord.string(in);
            String c = CidRecord.string(in);
            byte[] a = new byte[in.get()];
            in.get(a);
            return new Unbonding(d, c, new BigInteger(1, a), in.getLong(), in.getLong());
        }
    }

    /**
     * A validator's signing record over the downtime window: a ring of bits (1 = missed), the
     * blocks counted so far and the misses among the last window.
     */
    public record Liveness(long counted, int missed, byte[] bits) {
        static Liveness fresh(int window) {
            return new Liveness(0, 0, new byte[(window + 7) / 8]);
        }

        Liveness record(boolean miss, int window) {
            int i = (int) (counted % window);
            boolean was = (bits[i >> 3] & (1 << (i & 7))) != 0;
            byte[] b = bits.clone();
            if (miss) {
                b[i >> 3] |= (byte) (1 << (i & 7));
            } else {
                b[i >> 3] &= (byte) ~(1 << (i & 7));
            }
            return new Liveness(counted + 1, missed + (miss ? 1 : 0) - (was ? 1 : 0), b);
        }

        byte[] encode() {
            return ByteBuffer.allocate(12 + bits.length).putLong(counted).putInt(missed).put(bits).array();
        }

        static Liveness decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            long c = in.getLong();
            int m = in.getInt();
            byte[] b = new byte[in.remaining()];
            in.get(b);
            return new Liveness(c, m, b);
        }
    }

    /**
     * A candidate's beacon key (BLS12-381, 48 bytes, its proof of possession checked when it was
     * registered) and the height of the block that registered it (0: genesis). Entry value: key
     * (48) || u64 height, big-endian.
     */
    public record BeaconKey(byte[] publicKey, long sinceHeight) {
        byte[] encode() {
            return ByteBuffer.allocate(48 + 8).put(publicKey).putLong(sinceHeight).array();
        }

        static BeaconKey decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            byte[] k = new byte[48];
            in.get(k);
            return new BeaconKey(k, in.getLong());
        }
    }

    /**
     * A registered storage node ({@code storage-node/ADDR}): its offered capacity, bonded
     * collateral, since when, whether it is active (collateral at least the minimum), and its
     * record: periods proven, windows missed, CIDs declared faulty, base units slashed; and, once
     * it unregistered ({@link StorageExit}), the height its {@link StorageWithdrawal} matures at
     * (0: not leaving; a leaving node's collateral is 0 and it is inactive).
     * Encoded: u64 capacity, u8 n, n bytes collateral, u64 registeredHeight, u8 active,
     * u64 proven, u64 missed, u64 faultsDeclared, u8 n, n bytes penalties (big-endian throughout),
     * then u64 withdrawAt only when it is not 0 (so a node that never left encodes as before).
     */
    public record StorageNode(long capacity, BigInteger collateral, long registeredHeight, boolean active, long proven,
                              long missed, long faultsDeclared, BigInteger penalties, long withdrawAt) {
        /** Whether the node unregistered: its collateral is in a withdrawal maturing at {@link #withdrawAt}. */
        public boolean leaving() {
            return withdrawAt != 0;
        }

        byte[] encode() {
            byte[] c = Amounts.encode(collateral);
            byte[] p = Amounts.encode(penalties);
            ByteBuffer out = ByteBuffer.allocate(8 + 1 + c.length + 8 + 1 + 24 + 1 + p.length + (withdrawAt != 0 ? 8 : 0))
                    .putLong(capacity).put((byte) c.length).put(c).putLong(registeredHeight).put((byte) (active ? 1 : 0)).putLong(proven)
                    .putLong(missed).putLong(faultsDeclared).put((byte) p.length).put(p);
            if (withdrawAt != 0) {
                out.putLong(withdrawAt);
            }
            return out.array();
        }

        static StorageNode decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            long cap = in.getLong();
            byte[] c = new byte[in.get()];
            in.get(c);
            long since = in.getLong();
            boolean active = in.get() == 1;
            long proven = in.getLong();
            long missed = in.getLong();
            long faults = in.getLong();
            byte[] p = new byte[in.get()];
            in.get(p);
            long withdrawAt = in.remaining() >= 8 ? in.getLong() : 0;
            return new StorageNode(cap, new BigInteger(1, c), since, active, proven, missed, faults, new BigInteger(1, p), withdrawAt);
        }
    }

    /**
     * A leaving storage node's collateral on its way back ({@code storage-withdrawal/HEIGHT/ADDR},
     * HEIGHT the maturity in 20 decimal digits, so due withdrawals are one range): counted by the
     * supply invariant, cut by the penalties of windows it still misses, paid to the node's balance
     * at the end of block {@code completeHeight} ({@link StorageExit}). Encoded: u16 n, n bytes
     * address, u8 n, n bytes amount, u64 createdHeight, u64 completeHeight.
     */
    public record StorageWithdrawal(String node, BigInteger amount, long createdHeight, long completeHeight) {
        String key() {
            return key(completeHeight, node);
        }

        static String key(long completeHeight, String node) {
            return String.format("%020d/%s", completeHeight, node);
        }

        StorageWithdrawal withAmount(BigInteger a) {
            return new StorageWithdrawal(node, a, createdHeight, completeHeight);
        }

        byte[] encode() {
            byte[] n = node.getBytes(StandardCharsets.UTF_8);
            byte[] a = Amounts.encode(amount);
            return ByteBuffer.allocate(2 + n.length + 1 + a.length + 16).putShort((short) n.length).put(n).put((byte) a.length).put(a)
                    .putLong(createdHeight).putLong(completeHeight).array();
        }

        static StorageWithdrawal decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            String n = CidRecord.string(in);
            byte[] a = new byte[in.get()];
            in.get(a);
            return new StorageWithdrawal(n, new BigInteger(1, a), in.getLong(), in.getLong());
        }
    }

    /**
     * A node's committed root for a period ({@code storage-root/PERIOD/ADDR}, PERIOD in 20
     * decimal digits so that a period's roots are one range): the root, the entry count, the
     * height it was committed at, the node's window, the answers accepted so far, and the status
     * (0 open, 1 proven, 2 missed). Encoded: 32 bytes root, u64 count, u64 height, u32 window,
     * u32 answered, u8 status.
     */
    public record StorageRoot(byte[] root, long count, long height, int window, int answered, int status) {
        public static final int OPEN = 0;
        public static final int PROVEN = 1;
        public static final int MISSED = 2;

        public StorageRoot {
            root = root.clone();
        }

        @Override
        public byte[] root() {
            return root.clone();
        }

        StorageRoot with(int newAnswered, int newStatus) {
            return new StorageRoot(root, count, height, window, newAnswered, newStatus);
        }

        byte[] encode() {
            return ByteBuffer.allocate(32 + 8 + 8 + 4 + 4 + 1).put(root).putLong(count).putLong(height).putInt(window)
                    .putInt(answered).put((byte) status).array();
        }

        static StorageRoot decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            byte[] r = new byte[32];
            in.get(r);
            return new StorageRoot(r, in.getLong(), in.getLong(), in.getInt(), in.getInt(), in.get());
        }
    }

    /**
     * A node's faults in a period ({@code storage-fault/PERIOD/ADDR}): whether its window was
     * missed (then every entry of its committed root is faulty: the chain holds the root, not the
     * CIDs) and the CIDs it declared lost. Encoded: u8 missed, u32 n, n × (u8 length, binary CID),
     * in the CIDs' string order.
     */
    public record FaultList(boolean missed, java.util.SortedSet<String> cids) {
        public FaultList {
            cids = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(cids));
        }

        byte[] encode() {
            List<byte[]> bins = new ArrayList<>(cids.size());
            int n = 1 + 4;
            for (String c : cids) {
                byte[] b = io.oecloud.proofs.Cid.parse(c).toBytes();
                bins.add(b);
                n += 1 + b.length;
            }
            ByteBuffer out = ByteBuffer.allocate(n).put((byte) (missed ? 1 : 0)).putInt(bins.size());
            for (byte[] b : bins) {
                out.put((byte) b.length).put(b);
            }
            return out.array();
        }

        static FaultList decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            boolean missed = in.get() == 1;
            int n = in.getInt();
            java.util.TreeSet<String> cids = new java.util.TreeSet<>();
            for (int i = 0; i < n; i++) {
                byte[] b = new byte[in.get() & 0xff];
                in.get(b);
                cids.add(io.oecloud.proofs.Cid.fromBytes(b).toString());
            }
            return new FaultList(missed, cids);
        }
    }

    final Tracked<Account> accounts = new Tracked<>("account/");
    final Tracked<CidRecord> cids = new Tracked<>("cid/");
    /** The name registry by name ({@link Names}). */
    final Tracked<Names.Record> names = new Tracked<>("name/");
    /** What a RegisterName pays into the fee pool ({@code names-params/registerFee}, from genesis {@code names.registerFee}). */
    BigInteger nameRegisterFee = Names.DEFAULT_REGISTER_FEE;
    /** Candidates by operator address. */
    final Tracked<Candidate> candidates = new Tracked<>("candidate/");
    /** Bonded stake by "candidate/delegator" (a candidate's delegations are one range). */
    final Tracked<BigInteger> delegations = new Tracked<>("delegation/");
    /** Unbonding stake by "completeHeight/candidate/delegator" (due entries are one range). */
    final Tracked<Unbonding> unbondings = new Tracked<>("unbonding/");
    /** The validator set CometBFT was last told: operator address to voting power. */
    final Tracked<Long> validators = new Tracked<>("validator/");
    /** Signing records of the validators, by operator address. */
    final Tracked<Liveness> liveness = new Tracked<>("liveness/");
    /** Beacon keys by operator address (candidates without one are absent). */
    final Tracked<BeaconKey> beaconKeys = new Tracked<>("beacon-key/");
    /** Storage nodes by address. */
    final Tracked<StorageNode> storageNodes = new Tracked<>("storage-node/");
    /** Leaving storage nodes' collateral by "COMPLETEHEIGHT/ADDR" (due withdrawals are one range). */
    final Tracked<StorageWithdrawal> storageWithdrawals = new Tracked<>("storage-withdrawal/");
    /** Committed roots by "PERIOD/ADDR" (Storage.periodKey). */
    final Tracked<StorageRoot> storageRoots = new Tracked<>("storage-root/");
    /** Fault lists by "PERIOD/ADDR". */
    final Tracked<FaultList> storageFaults = new Tracked<>("storage-fault/");
    /** Window seeds by "PERIOD/WINDOW" (both zero-padded): the beacon seed after the window's first block, 32 bytes. */
    final Tracked<byte[]> storageSeeds = new Tracked<>("storage-seed/");
    /** Contract picks by "PERIOD/NODE", fixed when the node's window seed is recorded ({@link Storage#contractPicks}). */
    final Tracked<List<Storage.ContractPick>> storageContractPicks = new Tracked<>("storage-picks/");
    /** Audit committees by "PERIOD/WINDOW", drawn at the window's first block (Audits). */
    final Tracked<List<String>> auditCommittees = new Tracked<>("audit-committee/");
    /** Audit verdicts by "PERIOD/AUDITOR/TARGET": one per auditor, target and period (Audits.Verdict). */
    final Tracked<Audits.Verdict> auditVerdicts = new Tracked<>("audit-verdict/");
    /** Audit records by address (Audits.Record). */
    final Tracked<Audits.Record> auditRecords = new Tracked<>("audit-record/");
    /** Storage nodes' asks by address ({@link Contracts}): base units per GiB per period; absent: no ask. */
    final Tracked<BigInteger> storageAsks = new Tracked<>("storage-ask/");
    /** Storage contracts by "OBJECTCID/PAYER" ({@link Contracts.Contract}). */
    final Tracked<Contracts.Contract> contracts = new Tracked<>("contract/");
    /** Index: "PAYER/OBJECTCID" of every contract (empty values): a payer's contracts are one range. */
    final Tracked<byte[]> contractsByPayer = new Tracked<>("contract-payer/");
    /** Index: "NODE/OBJECTCID/PAYER" of every holding (empty values): a node's contracts are one range. */
    final Tracked<byte[]> contractHolders = new Tracked<>("contract-holder/");
    /** Index: "PERIOD/OBJECTCID/PAYER", PERIOD the contract's end (20 digits): expired records are one range. */
    final Tracked<byte[]> contractEnds = new Tracked<>("contract-end/");
    /**
     * Each node's held list, dense: "NODE/INDEX" (INDEX 20 digits, below the node's count) to the key
     * "OBJECTCID/PAYER" of a contract that pays the node for the current period or later; the
     * contract picks draw an index ({@link Contracts#joinHeld}, {@link Contracts#leaveHeld}).
     */
    final Tracked<String> heldList = new Tracked<>("held-list/");
    /** The held list's positions: "NODE/OBJECTCID/PAYER" to its index there. */
    final Tracked<Long> heldIndex = new Tracked<>("held-index/");
    /** The held list's lengths by node (absent: 0). */
    final Tracked<Long> heldCount = new Tracked<>("held-count/");
    /**
     * Each node's held-list weights as a Fenwick tree over the list's indexes (implicit size
     * 2^24, {@link Contracts#MAX_HELD}): "NODE/POSITION" (POSITION 1 .. 2^24, 10 digits) to the
     * sum of the node's bytes in the contracts at indexes [POSITION - lowbit(POSITION), POSITION);
     * only positions whose sum is non-zero exist, and "NODE/2^24" is the node's total. The
     * contract picks draw a byte of the total ({@link Contracts#heldAt}).
     */
    final Tracked<Long> heldWeight = new Tracked<>("held-weight/");
    /**
     * How far the held lists have let go of ended contracts: the one key "" to the last
     * {@link #contractEnds} key ("PERIOD/OBJECTCID/PAYER") whose holders left their lists
     * ({@link Contracts#leaveEnded}, a bounded number a block); absent before the first.
     */
    final Tracked<String> heldCursor = new Tracked<>("held-cursor/");
    /** Per-node payment rates ("rate/NODE"): base units a period due to the node now (positive; absent: 0). */
    final Tracked<BigInteger> rates = new Tracked<>("rate/");
    /** Scheduled rate changes by "PERIOD/NODE" (20 digits): signed deltas applied when PERIOD begins (never 0). */
    final Tracked<BigInteger> rateChanges = new Tracked<>("rate-change/");
    /** Settled payments by "PERIOD/NODE" (20 digits), pruned after retainPeriods ({@link Contracts.Payment}). */
    final Tracked<Contracts.Payment> payments = new Tracked<>("payment/");
    /** What settlement paid each node since genesis ("earned/NODE", base units; absent: 0): its total, kept as it is paid. */
    final Tracked<BigInteger> earned = new Tracked<>("earned/");
    StorageParams storageParams = StorageParams.DEFAULTS;
    /** Operator address by CometBFT validator address (hex): derived from the candidates, not stored. */
    final TreeMap<String, String> byValidatorAddress = new TreeMap<>();
    StakingParams params = StakingParams.DEFAULTS;
    /** The block being applied: its time (from CometBFT, never the clock). */
    long timeMillis;
    BigInteger feePool;
    /** Passes paid into storage contracts and not yet settled ({@code pool/escrow}, {@link Contracts}). */
    BigInteger escrowPool = BigInteger.ZERO;
    /**
     * The storage price of period {@link #pricePeriod} ({@code price/period}, {@code price/value},
     * {@code price/default}): fixed at the period's first block by {@link Contracts#beginBlock}; -1: never set.
     */
    long pricePeriod = -1;
    BigInteger price = BigInteger.ZERO;
    boolean priceDefault = true;
    /** The protocol's own reserve (for future development), set at genesis. */
    BigInteger reserve = BigInteger.ZERO;
    /** Base units created at genesis (the supply invariant's starting point). */
    BigInteger genesisSupply;
    /** Base units minted as block rewards, and burned by slashing, since genesis. */
    BigInteger minted = BigInteger.ZERO;
    BigInteger slashed = BigInteger.ZERO;
    long height;
    /**
     * The beacon's seed after this state's block ({@code beacon/seed}), the one before it
     * ({@code beacon/previous}: what the block's beacon signed), and the last height whose block
     * carried a beacon ({@code beacon/height}, 0: none yet). Null in a ledger made before the beacon.
     */
    byte[] beaconSeed;
    byte[] beaconPrevious;
    long beaconHeight;

    LedgerState() {
        this(BigInteger.ZERO, BigInteger.ZERO, 0);
    }

    private LedgerState(BigInteger feePool, BigInteger genesisSupply, long height) {
        this.feePool = feePool;
        this.genesisSupply = genesisSupply;
        this.height = height;
    }

    /** A copy that records nothing (until {@link #track}). */
    public LedgerState copy() {
        LedgerState s = new LedgerState(feePool, genesisSupply, height);
        s.accounts.load(accounts);
        s.cids.load(cids);
        s.names.load(names);
        s.nameRegisterFee = nameRegisterFee;
        s.candidates.load(candidates);
        s.delegations.load(delegations);
        s.unbondings.load(unbondings);
        s.validators.load(validators);
        s.liveness.load(liveness);
        s.beaconKeys.load(beaconKeys);
        s.storageNodes.load(storageNodes);
        s.storageWithdrawals.load(storageWithdrawals);
        s.storageRoots.load(storageRoots);
        s.storageFaults.load(storageFaults);
        s.storageSeeds.load(storageSeeds);
        s.storageContractPicks.load(storageContractPicks);
        s.auditCommittees.load(auditCommittees);
        s.auditVerdicts.load(auditVerdicts);
        s.auditRecords.load(auditRecords);
        s.storageAsks.load(storageAsks);
        s.earned.load(earned);
        s.contracts.load(contracts);
        s.contractsByPayer.load(contractsByPayer);
        s.contractHolders.load(contractHolders);
        s.contractEnds.load(contractEnds);
        s.heldList.load(heldList);
        s.heldIndex.load(heldIndex);
        s.heldCount.load(heldCount);
        s.heldCursor.load(heldCursor);
        s.heldWeight.load(heldWeight);
        s.rates.load(rates);
        s.rateChanges.load(rateChanges);
        s.payments.load(payments);
        s.escrowPool = escrowPool;
        s.pricePeriod = pricePeriod;
        s.price = price;
        s.priceDefault = priceDefault;
        s.storageParams = storageParams;
        s.beaconSeed = beaconSeed;
        s.beaconPrevious = beaconPrevious;
        s.beaconHeight = beaconHeight;
        s.byValidatorAddress.putAll(byValidatorAddress);
        s.params = params;
        s.timeMillis = timeMillis;
        s.reserve = reserve;
        s.minted = minted;
        s.slashed = slashed;
        return s;
    }

    /**
     * A copy for trying transactions as block {@code height} at {@code timeMillis} (the block's
     * time, never the clock) would apply them: a proposal's scratch state.
     */
    public LedgerState copyAt(long height, long timeMillis) {
        LedgerState s = copy();
        s.height = height;
        s.timeMillis = timeMillis;
        return s;
    }

    /**
     * A copy for checking transactions as the next block would apply them (the mempool's check
     * state): height + 1, so rules that depend on the height (storage windows and deadlines,
     * jail terms) judge a transaction by the earliest block it can be in.
     */
    public LedgerState copyForNextBlock() {
        return copyAt(height + 1, timeMillis);
    }

    /** The record of a CID (its string form), or null. */
    public CidRecord cid(String cid) {
        return cids.get(cid);
    }

    /** The record of a name, or null when it is not registered. */
    public Names.Record name(String name) {
        return names.get(name);
    }

    /** What a RegisterName pays into the fee pool, on top of the transaction's fee. */
    public BigInteger nameRegisterFee() {
        return nameRegisterFee;
    }

    public Account account(String address) {
        return accounts.getOrDefault(address, Account.EMPTY);
    }

    public Candidate candidate(String operator) {
        return candidates.get(operator);
    }

    public java.util.SortedMap<String, Candidate> candidates() {
        return java.util.Collections.unmodifiableSortedMap(candidates);
    }

    /** The current validator set (operator address to power), as CometBFT was last told it. */
    public java.util.SortedMap<String, Long> validators() {
        return java.util.Collections.unmodifiableSortedMap(validators);
    }

    public StakingParams params() {
        return params;
    }

    public StorageParams storageParams() {
        return storageParams;
    }

    /** The storage node registered by {@code address}, or null. */
    public StorageNode storageNode(String address) {
        return storageNodes.get(address);
    }

    public java.util.SortedMap<String, StorageNode> storageNodes() {
        return java.util.Collections.unmodifiableSortedMap(storageNodes);
    }

    /** The root {@code address} committed for {@code period}, or null. */
    public StorageRoot storageRoot(long period, String address) {
        return storageRoots.get(Storage.periodKey(period) + "/" + address);
    }

    /** The roots {@code address} committed that the state still holds, by period. */
    public java.util.SortedMap<Long, StorageRoot> storageRootsOf(String address) {
        java.util.TreeMap<Long, StorageRoot> m = new java.util.TreeMap<>();
        for (Map.Entry<String, StorageRoot> e : storageRoots.entrySet()) {
            if (e.getKey().endsWith("/" + address)) {
                m.put(Long.parseLong(e.getKey().substring(0, e.getKey().indexOf('/'))), e.getValue());
            }
        }
        return m;
    }

    /** The fault lists of {@code address} that the state still holds, by period. */
    public java.util.SortedMap<Long, FaultList> storageFaultsOf(String address) {
        java.util.TreeMap<Long, FaultList> m = new java.util.TreeMap<>();
        for (Map.Entry<String, FaultList> e : storageFaults.entrySet()) {
            if (e.getKey().endsWith("/" + address)) {
                m.put(Long.parseLong(e.getKey().substring(0, e.getKey().indexOf('/'))), e.getValue());
            }
        }
        return m;
    }

    /** The seed of window {@code window} of {@code period} (the beacon seed after its first block), or null before it. */
    public byte[] storageSeed(long period, int window) {
        byte[] v = storageSeeds.get(Storage.seedKey(period, window));
        return v == null ? null : v.clone();
    }

    /** The withdrawal of leaving node {@code address} (its collateral on its way back), or null when it is not leaving. */
    public StorageWithdrawal storageWithdrawal(String address) {
        StorageNode n = storageNodes.get(address);
        return n == null || !n.leaving() ? null : storageWithdrawals.get(StorageWithdrawal.key(n.withdrawAt(), address));
    }

    /** Every withdrawal of leaving storage nodes, by maturity then address. */
    public java.util.SortedMap<String, StorageWithdrawal> storageWithdrawals() {
        return java.util.Collections.unmodifiableSortedMap(storageWithdrawals);
    }

    /** The collateral bonded by all storage nodes. */
    public BigInteger storageCollateral() {
        BigInteger s = BigInteger.ZERO;
        for (StorageNode n : storageNodes.values()) {
            s = s.add(n.collateral());
        }
        return s;
    }

    public BigInteger delegation(String candidate, String delegator) {
        return delegations.getOrDefault(candidate + "/" + delegator, BigInteger.ZERO);
    }

    /** Every delegation of {@code candidate}: delegator to amount, in address order. */
    public java.util.SortedMap<String, BigInteger> delegationsTo(String candidate) {
        TreeMap<String, BigInteger> m = new TreeMap<>();
        for (Map.Entry<String, BigInteger> e : delegations.subMap(candidate + "/", candidate + "0").entrySet()) {
            m.put(e.getKey().substring(candidate.length() + 1), e.getValue());
        }
        return m;
    }

    /** The stake {@code delegator} has bonded, by candidate. */
    public java.util.SortedMap<String, BigInteger> delegationsOf(String delegator) {
        TreeMap<String, BigInteger> m = new TreeMap<>();
        for (Map.Entry<String, BigInteger> e : delegations.entrySet()) {
            int slash = e.getKey().indexOf('/');
            if (e.getKey().substring(slash + 1).equals(delegator)) {
                m.put(e.getKey().substring(0, slash), e.getValue());
            }
        }
        return m;
    }

    /** {@code delegator}'s stake on its way back. */
    public List<Unbonding> unbondingsOf(String delegator) {
        List<Unbonding> l = new ArrayList<>();
        for (Unbonding u : unbondings.values()) {
            if (u.delegator().equals(delegator)) {
                l.add(u);
            }
        }
        return l;
    }

    public BigInteger feePool() {
        return feePool;
    }

    public BigInteger reserve() {
        return reserve;
    }

    /** Passes in storage contracts' escrow, not yet paid out or refunded. */
    public BigInteger escrowPool() {
        return escrowPool;
    }

    public BigInteger minted() {
        return minted;
    }

    public BigInteger slashed() {
        return slashed;
    }

    public long height() {
        return height;
    }

    /** {@code operator}'s beacon key, or null when it registered none. */
    public BeaconKey beaconKey(String operator) {
        return beaconKeys.get(operator);
    }

    /** The operator whose beacon key is {@code publicKey}, or null. */
    public String beaconKeyHolder(byte[] publicKey) {
        for (Map.Entry<String, BeaconKey> e : beaconKeys.entrySet()) {
            if (java.util.Arrays.equals(e.getValue().publicKey(), publicKey)) {
                return e.getKey();
            }
        }
        return null;
    }

    /** The operator of a CometBFT validator address (upper-case hex), or null. */
    public String operatorOf(String validatorAddress) {
        return byValidatorAddress.get(validatorAddress);
    }

    /**
     * The votes of a block's last commit as the beacon sees them ({@code votes} in the commit's
     * order): each validator's beacon key, when it has one that counts for block
     * {@code blockHeight}'s beacon (registered at height {@code blockHeight - 2} or before: the
     * votes it aggregates were extended on the state after that height), its power, and whether it
     * committed.
     */
    public List<io.oecloud.chain.beacon.Beacon.Voter> beaconVoters(List<Block.Vote> votes, long blockHeight) {
        List<io.oecloud.chain.beacon.Beacon.Voter> l = new ArrayList<>(votes.size());
        for (Block.Vote v : votes) {
            String op = byValidatorAddress.get(v.validatorAddress());
            BeaconKey k = op == null ? null : beaconKeys.get(op);
            l.add(new io.oecloud.chain.beacon.Beacon.Voter(k != null && k.sinceHeight() <= blockHeight - 2 ? k.publicKey() : null, v.power(),
                    v.signedBlock()));
        }
        return l;
    }

    /** The beacon's seed after this state's block (null in a ledger made before the beacon). */
    public byte[] beaconSeed() {
        return beaconSeed == null ? null : beaconSeed.clone();
    }

    /** The seed before this state's block: what the votes on this block's height sign next (see Beacon.message). */
    public byte[] beaconPreviousSeed() {
        return beaconPrevious == null ? null : beaconPrevious.clone();
    }

    /** The last height whose block carried a beacon (0: none yet). */
    public long beaconHeight() {
        return beaconHeight;
    }

    /** What exists now: balances + bonded + unbonding + pools (fees, reserve, escrow) + storage collateral + storage withdrawals. */
    public BigInteger supply() {
        BigInteger s = BigInteger.ZERO;
        for (BigInteger part : supplyParts().values()) {
            s = s.add(part);
        }
        return s;
    }

    /**
     * Where the supply is, part by part (their sum is {@link #supply()}): balances, bonded stake
     * (delegations), unbonding, the fee pool, the reserve, storage collateral, storage withdrawals
     * and the escrow of storage contracts.
     */
    public Map<String, BigInteger> supplyParts() {
        BigInteger balances = BigInteger.ZERO;
        for (Account a : accounts.values()) {
            balances = balances.add(a.balance());
        }
        BigInteger bonded = BigInteger.ZERO;
        for (BigInteger d : delegations.values()) {
            bonded = bonded.add(d);
        }
        BigInteger unbonding = BigInteger.ZERO;
        for (Unbonding u : unbondings.values()) {
            unbonding = unbonding.add(u.amount());
        }
        BigInteger withdrawals = BigInteger.ZERO;
        for (StorageWithdrawal w : storageWithdrawals.values()) {
            withdrawals = withdrawals.add(w.amount());
        }
        Map<String, BigInteger> m = new java.util.LinkedHashMap<>();
        m.put("balances", balances);
        m.put("bonded", bonded);
        m.put("unbonding", unbonding);
        m.put("feePool", feePool);
        m.put("reserve", reserve);
        m.put("collateral", storageCollateral());
        m.put("withdrawals", withdrawals);
        m.put("escrow", escrowPool);
        return m;
    }

    /** What should exist: genesis + minted - slashed. The invariant is {@code supply() == expectedSupply()}. */
    public BigInteger expectedSupply() {
        return genesisSupply.add(minted).subtract(slashed);
    }

    public BigInteger genesisSupply() {
        return genesisSupply;
    }

    /** CometBFT's address of a validator key: the first 20 bytes of its SHA-256, upper-case hex. */
    public static String consensusAddress(byte[] ed25519Key) {
        return java.util.HexFormat.of().withUpperCase().formatHex(java.util.Arrays.copyOf(sha256().digest(ed25519Key), 20));
    }

    /**
     * From now on, records the {@link #entries()} key of every map entry written or removed (the
     * pools, supply counters and parameters are few and always written): what a block changed,
     * so the entries, the tree and the store need not be rebuilt whole. Returns the live set.
     */
    java.util.Set<String> track() {
        java.util.Set<String> changed = new java.util.HashSet<>();
        for (Tracked<?> m : List.of(accounts, cids, candidates, delegations, unbondings, validators, liveness, beaconKeys, storageNodes,
                storageWithdrawals, storageRoots, storageFaults, storageSeeds, storageContractPicks, auditCommittees, auditVerdicts, auditRecords,
                storageAsks, earned, contracts, contractsByPayer, contractHolders, contractEnds, heldList, heldIndex, heldCount, heldWeight, heldCursor, rates, rateChanges,
                payments, names)) {
            m.changed = changed;
        }
        return changed;
    }

    /** Stops recording (the state is committed). */
    void untrack() {
        for (Tracked<?> m : List.of(accounts, cids, candidates, delegations, unbondings, validators, liveness, beaconKeys, storageNodes,
                storageWithdrawals, storageRoots, storageFaults, storageSeeds, storageContractPicks, auditCommittees, auditVerdicts, auditRecords,
                storageAsks, earned, contracts, contractsByPayer, contractHolders, contractEnds, heldList, heldIndex, heldCount, heldWeight, heldCursor, rates, rateChanges,
                payments, names)) {
            m.changed = null;
        }
    }

    /** The entries that are not in the maps: pools, supply counters, parameters. Always written. */
    public Map<String, byte[]> scalarEntries() {
        TreeMap<String, byte[]> m = new TreeMap<>();
        for (Map.Entry<String, String> e : params.toMap().entrySet()) {
            m.put("params/" + e.getKey(), e.getValue().getBytes(StandardCharsets.US_ASCII));
        }
        for (Map.Entry<String, String> e : storageParams.toMap().entrySet()) {
            m.put("storage-params/" + e.getKey(), e.getValue().getBytes(StandardCharsets.US_ASCII));
        }
        m.put("names-params/registerFee", nameRegisterFee.toString().getBytes(StandardCharsets.US_ASCII));
        m.put("pool/fees", Amounts.encode(feePool));
        m.put("pool/reserve", Amounts.encode(reserve));
        m.put("pool/escrow", Amounts.encode(escrowPool));
        m.put("supply/genesis", Amounts.encode(genesisSupply));
        m.put("supply/minted", Amounts.encode(minted));
        m.put("supply/slashed", Amounts.encode(slashed));
        beaconScalars(m);
        priceScalars(m);
        return m;
    }

    private void priceScalars(Map<String, byte[]> m) {
        if (pricePeriod >= 0) {
            m.put("price/period", ByteBuffer.allocate(8).putLong(pricePeriod).array());
            m.put("price/value", Amounts.encode(price));
            m.put("price/default", new byte[] {(byte) (priceDefault ? 1 : 0)});
        }
    }

    private void beaconScalars(Map<String, byte[]> m) {
        if (beaconSeed != null) {
            m.put("beacon/seed", beaconSeed.clone());
            m.put("beacon/previous", beaconPrevious.clone());
            m.put("beacon/height", ByteBuffer.allocate(8).putLong(beaconHeight).array());
        }
    }

    /** The value {@link #entries()} holds for a map entry's key ("account/ADDR", ...), or null when absent. */
    public byte[] entry(String key) {
        int slash = key.indexOf('/');
        String rest = key.substring(slash + 1);
        return switch (key.substring(0, slash + 1)) {
            case "account/" -> accounts.containsKey(rest) ? accounts.get(rest).encode() : null;
            case "cid/" -> cids.containsKey(rest) ? cids.get(rest).encode() : null;
            case "name/" -> names.containsKey(rest) ? names.get(rest).encode() : null;
            case "candidate/" -> candidates.containsKey(rest) ? candidates.get(rest).encode() : null;
            case "delegation/" -> delegations.containsKey(rest) ? Amounts.encode(delegations.get(rest)) : null;
            case "unbonding/" -> unbondings.containsKey(rest) ? unbondings.get(rest).encode() : null;
            case "validator/" -> validators.containsKey(rest) ? ByteBuffer.allocate(8).putLong(validators.get(rest)).array() : null;
            case "liveness/" -> liveness.containsKey(rest) ? liveness.get(rest).encode() : null;
            case "beacon-key/" -> beaconKeys.containsKey(rest) ? beaconKeys.get(rest).encode() : null;
            case "storage-node/" -> storageNodes.containsKey(rest) ? storageNodes.get(rest).encode() : null;
            case "storage-withdrawal/" -> storageWithdrawals.containsKey(rest) ? storageWithdrawals.get(rest).encode() : null;
            case "storage-root/" -> storageRoots.containsKey(rest) ? storageRoots.get(rest).encode() : null;
            case "storage-fault/" -> storageFaults.containsKey(rest) ? storageFaults.get(rest).encode() : null;
            case "storage-seed/" -> storageSeeds.containsKey(rest) ? storageSeeds.get(rest).clone() : null;
            case "storage-picks/" -> storageContractPicks.containsKey(rest) ? Storage.encodePicks(storageContractPicks.get(rest)) : null;
            case "audit-committee/" -> auditCommittees.containsKey(rest) ? Audits.encodeCommittee(auditCommittees.get(rest)) : null;
            case "audit-verdict/" -> auditVerdicts.containsKey(rest) ? auditVerdicts.get(rest).encode() : null;
            case "audit-record/" -> auditRecords.containsKey(rest) ? auditRecords.get(rest).encode() : null;
            case "storage-ask/" -> storageAsks.containsKey(rest) ? Amounts.encode(storageAsks.get(rest)) : null;
            case "earned/" -> earned.containsKey(rest) ? Amounts.encode(earned.get(rest)) : null;
            case "contract/" -> contracts.containsKey(rest) ? contracts.get(rest).encode() : null;
            case "contract-payer/" -> contractsByPayer.containsKey(rest) ? new byte[0] : null;
            case "contract-holder/" -> contractHolders.containsKey(rest) ? new byte[0] : null;
            case "contract-end/" -> contractEnds.containsKey(rest) ? new byte[0] : null;
            case "held-list/" -> heldList.containsKey(rest) ? heldList.get(rest).getBytes(StandardCharsets.US_ASCII) : null;
            case "held-index/" -> heldIndex.containsKey(rest) ? u64(heldIndex.get(rest)) : null;
            case "held-count/" -> heldCount.containsKey(rest) ? u64(heldCount.get(rest)) : null;
            case "held-cursor/" -> heldCursor.containsKey(rest) ? heldCursor.get(rest).getBytes(StandardCharsets.US_ASCII) : null;
            case "held-weight/" -> heldWeight.containsKey(rest) ? u64(heldWeight.get(rest)) : null;
            case "rate/" -> rates.containsKey(rest) ? Amounts.encode(rates.get(rest)) : null;
            case "rate-change/" -> rateChanges.containsKey(rest) ? rateChanges.get(rest).toByteArray() : null;
            case "payment/" -> payments.containsKey(rest) ? payments.get(rest).encode() : null;
            default -> throw new IllegalArgumentException("not a map entry: " + key);
        };
    }

    /**
     * A sorted map that, while a set is attached, records the entry key ({@code prefix + key}) of
     * every key written or removed. Its views are read-only, so no write can go around the record.
     */
    static final class Tracked<V> extends TreeMap<String, V> {
        private static final long serialVersionUID = 1L;
        private final String prefix;
        private transient java.util.Set<String> changed;

        Tracked(String prefix) {
            this.prefix = prefix;
        }

        /** Fills an empty map from another, recording nothing. */
        void load(java.util.SortedMap<String, V> from) {
            super.putAll(from);
        }

        private void mark(Object key) {
            if (changed != null) {
                changed.add(prefix + key);
            }
        }

        @Override
        public V put(String key, V value) {
            mark(key);
            return super.put(key, value);
        }

        @Override
        public V remove(Object key) {
            if (containsKey(key)) {
                mark(key);
            }
            return super.remove(key);
        }

        @Override
        public void putAll(Map<? extends String, ? extends V> m) {
            m.keySet().forEach(this::mark);
            super.putAll(m);
        }

        @Override
        public void clear() {
            super.keySet().forEach(this::mark);
            super.clear();
        }

        @Override
        public V putIfAbsent(String key, V value) {
            mark(key);
            return super.putIfAbsent(key, value);
        }

        @Override
        public V computeIfAbsent(String key, java.util.function.Function<? super String, ? extends V> f) {
            mark(key);
            return super.computeIfAbsent(key, f);
        }

        @Override
        public V computeIfPresent(String key, java.util.function.BiFunction<? super String, ? super V, ? extends V> f) {
            mark(key);
            return super.computeIfPresent(key, f);
        }

        @Override
        public V compute(String key, java.util.function.BiFunction<? super String, ? super V, ? extends V> f) {
            mark(key);
            return super.compute(key, f);
        }

        @Override
        public V merge(String key, V value, java.util.function.BiFunction<? super V, ? super V, ? extends V> f) {
            mark(key);
            return super.merge(key, value, f);
        }

        @Override
        public V replace(String key, V value) {
            mark(key);
            return super.replace(key, value);
        }

        @Override
        public boolean replace(String key, V oldValue, V newValue) {
            mark(key);
            return super.replace(key, oldValue, newValue);
        }

        @Override
        public void replaceAll(java.util.function.BiFunction<? super String, ? super V, ? extends V> f) {
            super.keySet().forEach(this::mark);
            super.replaceAll(f);
        }

        @Override
        public Map.Entry<String, V> pollFirstEntry() {
            if (!isEmpty()) {
                mark(firstKey());
            }
            return super.pollFirstEntry();
        }

        @Override
        public Map.Entry<String, V> pollLastEntry() {
            if (!isEmpty()) {
                mark(lastKey());
            }
            return super.pollLastEntry();
        }

        @Override
        public java.util.Set<Map.Entry<String, V>> entrySet() {
            // through an unmodifiable map, whose entries refuse setValue too ("" is below every key)
            return java.util.Collections.unmodifiableNavigableMap(super.tailMap("", true)).entrySet();
        }

        @Override
        public java.util.Set<String> keySet() {
            return java.util.Collections.unmodifiableSet(super.keySet());
        }

        @Override
        public java.util.NavigableSet<String> navigableKeySet() {
            return java.util.Collections.unmodifiableNavigableSet(super.navigableKeySet());
        }

        @Override
        public java.util.NavigableSet<String> descendingKeySet() {
            return java.util.Collections.unmodifiableNavigableSet(super.descendingKeySet());
        }

        @Override
        public java.util.Collection<V> values() {
            return java.util.Collections.unmodifiableCollection(super.values());
        }

        @Override
        public java.util.NavigableMap<String, V> descendingMap() {
            return java.util.Collections.unmodifiableNavigableMap(super.descendingMap());
        }

        @Override
        public java.util.NavigableMap<String, V> subMap(String from, boolean fromIn, String to, boolean toIn) {
            return java.util.Collections.unmodifiableNavigableMap(super.subMap(from, fromIn, to, toIn));
        }

        @Override
        public java.util.SortedMap<String, V> subMap(String from, String to) {
            return subMap(from, true, to, false);
        }

        @Override
        public java.util.NavigableMap<String, V> headMap(String to, boolean inclusive) {
            return java.util.Collections.unmodifiableNavigableMap(super.headMap(to, inclusive));
        }

        @Override
        public java.util.SortedMap<String, V> headMap(String to) {
            return headMap(to, false);
        }

        @Override
        public java.util.NavigableMap<String, V> tailMap(String from, boolean inclusive) {
            return java.util.Collections.unmodifiableNavigableMap(super.tailMap(from, inclusive));
        }

        @Override
        public java.util.SortedMap<String, V> tailMap(String from) {
            return tailMap(from, true);
        }
    }

    /** Every key and value of the state, in key order: what the app hash commits to and the store keeps. */
    public Map<String, byte[]> entries() {
        TreeMap<String, byte[]> m = new TreeMap<>();
        for (Map.Entry<String, Account> e : accounts.entrySet()) {
            m.put("account/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, CidRecord> e : cids.entrySet()) {
            m.put("cid/" + e.getKey(), e.getValue().encode());
        }
        names.forEach((k, v) -> m.put("name/" + k, v.encode()));
        for (Map.Entry<String, Candidate> e : candidates.entrySet()) {
            m.put("candidate/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, BigInteger> e : delegations.entrySet()) {
            m.put("delegation/" + e.getKey(), Amounts.encode(e.getValue()));
        }
        for (Map.Entry<String, Unbonding> e : unbondings.entrySet()) {
            m.put("unbonding/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, Long> e : validators.entrySet()) {
            m.put("validator/" + e.getKey(), ByteBuffer.allocate(8).putLong(e.getValue()).array());
        }
        for (Map.Entry<String, Liveness> e : liveness.entrySet()) {
            m.put("liveness/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, BeaconKey> e : beaconKeys.entrySet()) {
            m.put("beacon-key/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, StorageNode> e : storageNodes.entrySet()) {
            m.put("storage-node/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, StorageWithdrawal> e : storageWithdrawals.entrySet()) {
            m.put("storage-withdrawal/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, StorageRoot> e : storageRoots.entrySet()) {
            m.put("storage-root/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, FaultList> e : storageFaults.entrySet()) {
            m.put("storage-fault/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, byte[]> e : storageSeeds.entrySet()) {
            m.put("storage-seed/" + e.getKey(), e.getValue().clone());
        }
        storageContractPicks.forEach((k, v) -> m.put("storage-picks/" + k, Storage.encodePicks(v)));
        Audits.entries(this, m);
        storageAsks.forEach((k, v) -> m.put("storage-ask/" + k, Amounts.encode(v)));
        earned.forEach((k, v) -> m.put("earned/" + k, Amounts.encode(v)));
        contracts.forEach((k, v) -> m.put("contract/" + k, v.encode()));
        contractsByPayer.forEach((k, v) -> m.put("contract-payer/" + k, new byte[0]));
        contractHolders.forEach((k, v) -> m.put("contract-holder/" + k, new byte[0]));
        contractEnds.forEach((k, v) -> m.put("contract-end/" + k, new byte[0]));
        heldList.forEach((k, v) -> m.put("held-list/" + k, v.getBytes(StandardCharsets.US_ASCII)));
        heldIndex.forEach((k, v) -> m.put("held-index/" + k, u64(v)));
        heldCount.forEach((k, v) -> m.put("held-count/" + k, u64(v)));
        heldCursor.forEach((k, v) -> m.put("held-cursor/" + k, v.getBytes(StandardCharsets.US_ASCII)));
        heldWeight.forEach((k, v) -> m.put("held-weight/" + k, u64(v)));
        rates.forEach((k, v) -> m.put("rate/" + k, Amounts.encode(v)));
        rateChanges.forEach((k, v) -> m.put("rate-change/" + k, v.toByteArray()));
        payments.forEach((k, v) -> m.put("payment/" + k, v.encode()));
        for (Map.Entry<String, String> e : params.toMap().entrySet()) {
            m.put("params/" + e.getKey(), e.getValue().getBytes(StandardCharsets.US_ASCII));
        }
        for (Map.Entry<String, String> e : storageParams.toMap().entrySet()) {
            m.put("storage-params/" + e.getKey(), e.getValue().getBytes(StandardCharsets.US_ASCII));
        }
        m.put("names-params/registerFee", nameRegisterFee.toString().getBytes(StandardCharsets.US_ASCII));
        m.put("pool/fees", Amounts.encode(feePool));
        m.put("pool/reserve", Amounts.encode(reserve));
        m.put("pool/escrow", Amounts.encode(escrowPool));
        m.put("supply/genesis", Amounts.encode(genesisSupply));
        m.put("supply/minted", Amounts.encode(minted));
        m.put("supply/slashed", Amounts.encode(slashed));
        beaconScalars(m);
        priceScalars(m);
        return m;
    }

    private static byte[] u64(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    /** The state whose {@link #entries()} these are (with the height, kept beside them). */
    public static LedgerState fromEntries(Map<String, byte[]> entries, long height) {
        LedgerState s = new LedgerState();
        Map<String, String> params = new java.util.LinkedHashMap<>();
        Map<String, String> storage = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            String k = e.getKey();
            byte[] v = e.getValue();
            int slash = k.indexOf('/');
            String rest = k.substring(slash + 1);
            switch (k.substring(0, slash + 1)) {
                case "account/" -> s.accounts.put(rest, Account.decode(v));
                case "cid/" -> s.cids.put(rest, CidRecord.decode(v));
                case "name/" -> s.names.put(rest, Names.Record.decode(v));
                case "names-params/" -> {
                    if (rest.equals("registerFee")) {
                        s.nameRegisterFee = new BigInteger(new String(v, StandardCharsets.US_ASCII));
                    }
                }
                case "candidate/" -> {
                    Candidate c = Candidate.decode(v);
                    s.candidates.put(rest, c);
                    s.byValidatorAddress.put(c.validatorAddress(), rest);
                }
                case "delegation/" -> s.delegations.put(rest, new BigInteger(1, v));
                case "unbonding/" -> s.unbondings.put(rest, Unbonding.decode(v));
                case "validator/" -> s.validators.put(rest, ByteBuffer.wrap(v).getLong());
                case "liveness/" -> s.liveness.put(rest, Liveness.decode(v));
                case "beacon-key/" -> s.beaconKeys.put(rest, BeaconKey.decode(v));
                case "params/" -> params.put(rest, new String(v, StandardCharsets.US_ASCII));
                case "storage-node/" -> s.storageNodes.put(rest, StorageNode.decode(v));
                case "storage-withdrawal/" -> s.storageWithdrawals.put(rest, StorageWithdrawal.decode(v));
                case "storage-root/" -> s.storageRoots.put(rest, StorageRoot.decode(v));
                case "storage-fault/" -> s.storageFaults.put(rest, FaultList.decode(v));
                case "storage-seed/" -> s.storageSeeds.put(rest, v.clone());
                case "storage-picks/" -> s.storageContractPicks.put(rest, Storage.decodePicks(v));
                case "audit-committee/" -> s.auditCommittees.put(rest, Audits.decodeCommittee(v));
                case "audit-verdict/" -> s.auditVerdicts.put(rest, Audits.Verdict.decode(v));
                case "audit-record/" -> s.auditRecords.put(rest, Audits.Record.decode(v));
                case "storage-params/" -> storage.put(rest, new String(v, StandardCharsets.US_ASCII));
                case "storage-ask/" -> s.storageAsks.put(rest, new BigInteger(1, v));
                case "earned/" -> s.earned.put(rest, new BigInteger(1, v));
                case "contract/" -> s.contracts.put(rest, Contracts.Contract.decode(rest, v));
                case "contract-payer/" -> s.contractsByPayer.put(rest, new byte[0]);
                case "contract-holder/" -> s.contractHolders.put(rest, new byte[0]);
                case "contract-end/" -> s.contractEnds.put(rest, new byte[0]);
                case "held-list/" -> s.heldList.put(rest, new String(v, StandardCharsets.US_ASCII));
                case "held-index/" -> s.heldIndex.put(rest, ByteBuffer.wrap(v).getLong());
                case "held-count/" -> s.heldCount.put(rest, ByteBuffer.wrap(v).getLong());
                case "held-cursor/" -> s.heldCursor.put(rest, new String(v, StandardCharsets.US_ASCII));
                case "held-weight/" -> s.heldWeight.put(rest, ByteBuffer.wrap(v).getLong());
                case "rate/" -> s.rates.put(rest, new BigInteger(1, v));
                case "rate-change/" -> s.rateChanges.put(rest, new BigInteger(v));
                case "payment/" -> s.payments.put(rest, Contracts.Payment.decode(v));
                case "price/" -> {
                    switch (rest) {
                        case "period" -> s.pricePeriod = ByteBuffer.wrap(v).getLong();
                        case "value" -> s.price = new BigInteger(1, v);
                        case "default" -> s.priceDefault = v.length == 1 && v[0] == 1;
                        default -> { } // a key of a later version
                    }
                }
                case "beacon/" -> {
                    switch (rest) {
                        case "seed" -> s.beaconSeed = v.clone();
                        case "previous" -> s.beaconPrevious = v.clone();
                        case "height" -> s.beaconHeight = ByteBuffer.wrap(v).getLong();
                        default -> { } // a key of a later version
                    }
                }
                default -> {
                    BigInteger n = new BigInteger(1, v);
                    switch (k) {
                        case "pool/fees" -> s.feePool = n;
                        case "pool/reserve" -> s.reserve = n;
                        case "pool/escrow" -> s.escrowPool = n;
                        case "supply/genesis" -> s.genesisSupply = n;
                        case "supply/minted" -> s.minted = n;
                        case "supply/slashed" -> s.slashed = n;
                        default -> { } // a key of a later version: kept by the store, unknown here
                    }
                }
            }
        }
        if (!params.isEmpty()) {
            s.params = StakingParams.fromMap(params);
        }
        if (!storage.isEmpty()) {
            s.storageParams = StorageParams.fromMap(storage);
        }
        s.height = height;
        return s;
    }

    /** The app hash: the root of the {@link StateTree} over {@link #entries()}. */
    byte[] appHash() {
        return appHash(entries());
    }

    static byte[] appHash(Map<String, byte[]> entries) {
        return new StateTree(entries).root();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
