package io.oecloud.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.Event;
import io.oecloud.chain.abci.AbciTypesProto.EventAttribute;
import io.oecloud.chain.abci.AbciTypesProto.ExecTxResult;
import io.oecloud.chain.abci.AbciTypesProto.Misbehavior;
import io.oecloud.chain.abci.AbciTypesProto.ValidatorUpdate;
import io.oecloud.chain.abci.AbciTypesProto.VoteInfo;
import io.oecloud.chain.abci.CryptokeysProto.PublicKey;
import io.oecloud.chain.abci.CryptoproofProto.ProofOp;
import io.oecloud.chain.abci.CryptoproofProto.ProofOps;
import io.oecloud.chain.abci.TypesvalidatorProto.BlockIDFlag;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCheckTx;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.RequestPrepareProposal;
import io.oecloud.chain.abci.AbciTypesProto.RequestQuery;
import io.oecloud.chain.abci.AbciTypesProto.Response;
import io.oecloud.chain.abci.AbciTypesProto.ResponseCheckTx;
import io.oecloud.chain.abci.AbciTypesProto.ResponseCommit;
import io.oecloud.chain.abci.AbciTypesProto.ResponseEcho;
import io.oecloud.chain.abci.AbciTypesProto.ResponseExtendVote;
import io.oecloud.chain.abci.AbciTypesProto.ResponseFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.ResponseFlush;
import io.oecloud.chain.abci.AbciTypesProto.ResponseInfo;
import io.oecloud.chain.abci.AbciTypesProto.ResponseInitChain;
import io.oecloud.chain.abci.AbciTypesProto.ResponseListSnapshots;
import io.oecloud.chain.abci.AbciTypesProto.ResponsePrepareProposal;
import io.oecloud.chain.abci.AbciTypesProto.ResponseProcessProposal;
import io.oecloud.chain.abci.AbciTypesProto.ResponseQuery;
import io.oecloud.chain.abci.AbciTypesProto.ResponseVerifyVoteExtension;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The ledger as CometBFT sees it over ABCI 2.0. Three states, as every ABCI application keeps:
 * the committed one (in RocksDB), the one FinalizeBlock builds for the block being decided, and
 * the mempool's check state (committed + the transactions admitted since).
 *
 * <p>The mempool is the ledger's own ({@link TxPool}; CometBFT runs with {@code mempool.type =
 * "nop"}): clients {@link #submit} transactions, which are checked against the check state, kept
 * by fee per byte (a full pool drops its cheapest for a better-paying one), handed to the gossip
 * for the other super-nodes, and put into blocks by PrepareProposal when this node proposes,
 * best paying first. After each commit the included ones leave the pool and the rest are checked
 * again on the new state. ABCI calls arrive one at a time from the server's thread; submissions
 * come from HTTP threads; the monitor of this object orders the two. No signature is verified
 * under the monitor: {@link Ledger#check} runs before it is taken and its result is carried in.
 */
public final class LedgerApp {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(LedgerApp.class.getName());

    /** Bounds of the mempool: what a few seconds of the network's best rate brings. */
    static final int MAX_PENDING_TXS = 20_000;
    static final long MAX_PENDING_BYTES = 64L << 20;

    private final LedgerStore store;
    private volatile Ledger ledger;
    private final TxPool pool = new TxPool(MAX_PENDING_TXS, MAX_PENDING_BYTES);
    /** Clients waiting for their transaction's block, by transaction hash. */
    private final Map<String, List<CompletableFuture<Committed>>> waiters = new HashMap<>();
    /** Clients waiting at most (each holds a request open): the same bytes posted a million times must not hold a million. */
    static final int MAX_WAITERS = 2 * MAX_PENDING_TXS;
    private int waiting;
    /** Completions to run once the monitor is released (a waiter's continuation must not run under it). */
    private List<Runnable> afterCall = new ArrayList<>();
    private volatile Consumer<byte[]> gossip = tx -> { };
    private List<String> workingHashes;
    private List<ExecTxResult> workingResults;
    private LedgerState committed;
    private LedgerState working;
    private LedgerState check;
    private byte[] workingHash;
    private java.util.TreeMap<String, byte[]> workingEntries;
    /** The entry keys the working block wrote or removed (with the pools and counters, always written). */
    private java.util.Set<String> workingChanged;
    private StateTree workingTree;
    /** The committed state's entries (null after a restart until the first block needs them). */
    private java.util.TreeMap<String, byte[]> committedEntries;
    /**
     * Tests set {@code -Doe.ledger.crossCheck=true}: each block's entries and app hash, built from
     * what the block changed, are compared with ones built from the whole state.
     */
    private static final boolean CROSS_CHECK = Boolean.getBoolean("oe.ledger.crossCheck");
    /** The committed state's tree, for proofs (built on first use after a restart). */
    private StateTree committedTree;
    private static final java.util.HexFormat HEX = java.util.HexFormat.of().withUpperCase();
    private final java.util.concurrent.atomic.AtomicLong txsCommitted = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong txsRefused = new java.util.concurrent.atomic.AtomicLong();
    private int workingTxs;
    private int workingRefused;

    /** Transactions applied in committed blocks since this process started. */
    public long txsCommitted() {
        return txsCommitted.get();
    }

    /** Transactions in committed blocks that the ledger refused (their fee was not taken). */
    public long txsRefused() {
        return txsRefused.get();
    }

    public LedgerApp(LedgerStore store) throws IOException {
        this.store = store;
        this.committed = store.load();
        this.check = committed.copy();
        Map<String, String> params = store.params();
        if (params.containsKey("chainId")) {
            // a ledger made before feePerByte was a parameter gets the default, as its genesis would now
            this.ledger = new Ledger(params.get("chainId"), new Fees(new BigInteger(params.get("minFee")),
                    params.containsKey("feePerByte") ? new BigInteger(params.get("feePerByte")) : Fees.DEFAULT_PER_BYTE), verifier);
        }
        this.validatorOperators = java.util.Set.copyOf(committed.validators().keySet());
    }

    /** The signature check the ledgers of this app use (tests count its calls and the locks held during them). */
    private volatile Ledger.Verifier verifier = TxSignatures::verify;

    /** Replaces the signature check (tests only: a counting hook), for the current ledger and any made later. */
    synchronized void verifier(Ledger.Verifier v) {
        verifier = v;
        if (ledger != null) {
            ledger = new Ledger(ledger.chainId(), ledger.fees(), v);
        }
    }

    /** The operators (account addresses = peer IDs) of the committed validator set: the super-nodes that may gossip. */
    private volatile java.util.Set<String> validatorOperators;

    /** The operators of the committed validator set (read without the lock). */
    public java.util.Set<String> validatorOperators() {
        return validatorOperators;
    }

    /** The chain's ID, or null before InitChain. */
    public String chainId() {
        Ledger l = ledger;
        return l == null ? null : l.chainId();
    }

    /** What a transaction must pay on this chain, or null before InitChain. */
    public Fees fees() {
        Ledger l = ledger;
        return l == null ? null : l.fees();
    }

    /** The committed state (for tests and queries). */
    public LedgerState committed() {
        return committed;
    }

    /** What {@link #submit} made of a transaction: its hash, and code 0 when it waits in the mempool. */
    public record Admission(String hash, Ledger.Code code, String log) {
        public boolean ok() {
            return code == Ledger.Code.OK;
        }
    }

    /** A transaction in a committed block: where, and the ledger's result (code 0: applied). */
    public record Committed(String hash, long height, int code, String log) {
    }

    /** A transaction that left the mempool without a block: a block changed the state under it. */
    public static final class DroppedException extends RuntimeException {
        public final Ledger.Code code;

        DroppedException(Ledger.Code code, String message) {
            super(message);
            this.code = code;
        }
    }

    /**
     * Checks {@code tx} against the check state and, when valid, keeps it for a block. With
     * {@code fromClient} it is also handed to the gossip (transactions from other super-nodes are
     * not passed on: super-nodes gossip to each other directly). With {@code await}, the future
     * completes when a block holding it commits (fails when it leaves the mempool otherwise);
     * null when not admitted.
     */
    public Submission submit(byte[] tx, boolean fromClient, boolean await) {
        String hash = hash(tx);
        Ledger l = ledger;
        if (l == null) {
            return new Submission(new Admission(hash, Ledger.Code.NO_GENESIS, "this ledger has no genesis yet (InitChain has not run)"), null);
        }
        // outside the monitor: parsing and the signature are the expensive part, and a transaction
        // refused for them (a bad signature, a wrong chain) never takes the ledger's lock at all
        Ledger.Checked checked = l.check(tx);
        if (checked.refusal() != null) {
            return new Submission(new Admission(hash, checked.refusal().code(), checked.refusal().log()), null);
        }
        List<Runnable> told = new ArrayList<>(0);
        Submission out;
        synchronized (this) {
            Admission a;
            if (pool.contains(hash)) {
                a = new Admission(hash, Ledger.Code.OK, "already pending");
            } else {
                TxPool.Plan plan = pool.plan(checked.sender(), checked.fee(), tx.length);
                if (plan.refused()) {
                    return new Submission(new Admission(hash, Ledger.Code.MEMPOOL_FULL, plan.refusal()), null);
                }
                Ledger.Result res = ledger.apply(check, checked);
                if (!res.ok()) {
                    return new Submission(new Admission(hash, res.code(), res.log()), null);
                }
                for (TxPool.Entry victim : plan.victims()) {
                    pool.evict(victim);
                    List<CompletableFuture<Committed>> w = takeWaiters(victim.hash);
                    if (!w.isEmpty()) {
                        DroppedException e = new DroppedException(Ledger.Code.MEMPOOL_FULL, "dropped from the full mempool for a transaction"
                                + " paying more per byte (this one paid " + victim.rate() + " base units per byte)");
                        told.add(() -> w.forEach(f -> f.completeExceptionally(e)));
                    }
                }
                evicted.addAndGet(plan.victims().size());
                pool.add(hash, checked);
                if (fromClient) {
                    gossip.accept(tx);
                }
                a = new Admission(hash, Ledger.Code.OK, "");
            }
            CompletableFuture<Committed> f = null;
            if (await && waiting >= MAX_WAITERS) {
                f = CompletableFuture.failedFuture(new TooManyWaitersException(waiting));
            } else if (await) {
                f = new CompletableFuture<>();
                waiters.computeIfAbsent(hash, h -> new ArrayList<>(1)).add(f);
                waiting++;
            }
            out = new Submission(a, f);
        }
        told.forEach(Runnable::run); // a waiter's continuation never runs under the monitor
        return out;
    }

    /** Transactions dropped from the full mempool for better-paying ones, since this process started. */
    private final java.util.concurrent.atomic.AtomicLong evicted = new java.util.concurrent.atomic.AtomicLong();

    /** Transactions dropped from the full mempool for better-paying ones, since this process started (without the lock). */
    public long evicted() {
        return evicted.get();
    }

    /** A transaction was admitted, but too many clients already wait for blocks to wait for this one too. */
    public static final class TooManyWaitersException extends RuntimeException {
        TooManyWaitersException(int waiting) {
            super("admitted, but " + waiting + " clients already wait for blocks: not waiting for this one");
        }
    }

    /** The answer of {@link #submit}: the admission, and the block's outcome when asked to wait. */
    public record Submission(Admission admission, CompletableFuture<Committed> committed) {
    }

    /** The clients waiting for {@code hash}, no longer counted as waiting. */
    private List<CompletableFuture<Committed>> takeWaiters(String hash) {
        List<CompletableFuture<Committed>> w = waiters.remove(hash);
        if (w == null) {
            return List.of();
        }
        waiting -= w.size();
        return w;
    }

    /** Stops waiting for {@code hash} (a client gave up). */
    public synchronized void forget(String hash, CompletableFuture<Committed> f) {
        List<CompletableFuture<Committed>> l = waiters.get(hash);
        if (l != null && l.remove(f)) {
            waiting--;
            if (l.isEmpty()) {
                waiters.remove(hash);
            }
        }
    }

    /** Where every transaction this node admits from its own clients goes (the gossip). */
    public void onAdmitted(Consumer<byte[]> gossip) {
        this.gossip = gossip;
    }

    /** Transactions waiting in the mempool (without the lock: a scrape never waits for a block). */
    public int pending() {
        return pool.size();
    }

    /** A transaction's hash as CometBFT names it: SHA-256 of its bytes, upper-case hex. */
    public static String hash(byte[] tx) {
        return HEX.formatHex(Ledger.sha256().digest(tx));
    }

    public Response handle(Request r) throws IOException {
        // signatures are checked before the monitor is taken (submissions are not held up by them)
        // and carried in: nothing is verified while the ledger is locked
        Ledger l = ledger;
        List<Ledger.Checked> prechecked = null;
        List<String> hashes = null;
        if (l != null && r.hasFinalizeBlock()) {
            int n = r.getFinalizeBlock().getTxsCount();
            byte[][] txs = new byte[n][];
            hashes = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                txs[i] = r.getFinalizeBlock().getTxs(i).toByteArray();
                hashes.add(hash(txs[i]));
            }
            Ledger.Checked[] pooled = pooled(hashes, txs);
            prechecked = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                prechecked.add(pooled[i] != null ? pooled[i] : l.check(txs[i]));
            }
        } else if (l != null && r.hasCheckTx()) {
            prechecked = List.of(l.check(r.getCheckTx().getTx().toByteArray()));
        }
        Response resp;
        List<Runnable> after;
        synchronized (this) {
            boolean same = ledger == l;
            resp = dispatch(r, same ? prechecked : null, same ? hashes : null);
            after = afterCall;
            afterCall = after.isEmpty() ? after : new ArrayList<>();
        }
        after.forEach(Runnable::run);
        return resp;
    }

    /**
     * The mempool's checks of a block's transactions that it holds, by hash and the very same
     * bytes (null for the others): a block's transactions are mostly ones this node admitted,
     * and what {@link Ledger#check} found for them (parse, signature, chain, sender, fee) does not
     * depend on the state, so FinalizeBlock takes it over instead of parsing and hashing each
     * transaction again (~3 % of the ledgers' CPU at saturation). The rest are checked as before.
     */
    private synchronized Ledger.Checked[] pooled(List<String> hashes, byte[][] txs) {
        Ledger.Checked[] out = new Ledger.Checked[txs.length];
        for (int i = 0; i < txs.length; i++) {
            TxPool.Entry e = pool.get(hashes.get(i));
            if (e != null && java.util.Arrays.equals(e.tx(), txs[i])) {
                out[i] = e.checked;
            }
        }
        return out;
    }

    private Response dispatch(Request r, List<Ledger.Checked> prechecked, List<String> hashes) throws IOException {
        return switch (r.getValueCase()) {
            case ECHO -> Response.newBuilder().setEcho(ResponseEcho.newBuilder().setMessage(r.getEcho().getMessage())).build();
            case FLUSH -> Response.newBuilder().setFlush(ResponseFlush.getDefaultInstance()).build();
            case INFO -> Response.newBuilder().setInfo(ResponseInfo.newBuilder().setData("oechain").setVersion("0.1.0")
                    .setAppVersion(1).setLastBlockHeight(committed.height())
                    .setLastBlockAppHash(ByteString.copyFrom(committed.height() == 0 ? new byte[0] : store.appHash()))).build();
            case INIT_CHAIN -> Response.newBuilder().setInitChain(initChain(r.getInitChain())).build();
            case CHECK_TX -> Response.newBuilder().setCheckTx(checkTx(r.getCheckTx(), prechecked)).build();
            case PREPARE_PROPOSAL -> Response.newBuilder().setPrepareProposal(prepare(r.getPrepareProposal())).build();
            case PROCESS_PROPOSAL -> Response.newBuilder().setProcessProposal(ResponseProcessProposal.newBuilder()
                    .setStatus(ResponseProcessProposal.ProposalStatus.ACCEPT)).build();
            case EXTEND_VOTE -> Response.newBuilder().setExtendVote(ResponseExtendVote.getDefaultInstance()).build();
            case VERIFY_VOTE_EXTENSION -> Response.newBuilder().setVerifyVoteExtension(ResponseVerifyVoteExtension.newBuilder()
                    .setStatus(ResponseVerifyVoteExtension.VerifyStatus.ACCEPT)).build();
            case FINALIZE_BLOCK -> Response.newBuilder().setFinalizeBlock(finalizeBlock(r.getFinalizeBlock(), prechecked, hashes)).build();
            case COMMIT -> Response.newBuilder().setCommit(commit()).build();
            case QUERY -> Response.newBuilder().setQuery(query(r.getQuery())).build();
            case LIST_SNAPSHOTS -> Response.newBuilder().setListSnapshots(ResponseListSnapshots.getDefaultInstance()).build();
            case OFFER_SNAPSHOT -> Response.newBuilder().setOfferSnapshot(
                    io.oecloud.chain.abci.AbciTypesProto.ResponseOfferSnapshot.newBuilder()
                            .setResult(io.oecloud.chain.abci.AbciTypesProto.ResponseOfferSnapshot.Result.REJECT)).build();
            case LOAD_SNAPSHOT_CHUNK -> Response.newBuilder().setLoadSnapshotChunk(
                    io.oecloud.chain.abci.AbciTypesProto.ResponseLoadSnapshotChunk.getDefaultInstance()).build();
            case APPLY_SNAPSHOT_CHUNK -> Response.newBuilder().setApplySnapshotChunk(
                    io.oecloud.chain.abci.AbciTypesProto.ResponseApplySnapshotChunk.newBuilder()
                            .setResult(io.oecloud.chain.abci.AbciTypesProto.ResponseApplySnapshotChunk.Result.ABORT)).build();
            default -> Response.newBuilder().setException(io.oecloud.chain.abci.AbciTypesProto.ResponseException.newBuilder()
                    .setError("unknown ABCI request " + r.getValueCase())).build();
        };
    }

    /**
     * Genesis: {@code app_state} is {"minFee", "params": {...}, "reserve", "accounts": [{"address",
     * "balance"}], "candidates": [{"address", "validatorKey" (base64), "selfBond", "commissionPpm",
     * "moniker"}]}, amounts in base units as decimal strings. The candidates' self-bonds are part
     * of the genesis supply and they make the first validator set, which replaces the one in
     * CometBFT's genesis. Anything wrong refuses the genesis whole.
     */
    private ResponseInitChain initChain(RequestInitChain r) throws IOException {
        JsonNode doc = r.getAppStateBytes().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.getAppStateBytes().toByteArray());
        Fees fees;
        try {
            fees = Fees.fromGenesis(doc);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
        LedgerState s = new LedgerState();
        s.params = StakingParams.fromJson(doc.path("params"));
        s.height = r.getInitialHeight() - 1;
        s.reserve = new BigInteger(doc.path("reserve").asText("0"));
        for (JsonNode a : doc.path("accounts")) {
            String addr = a.path("address").asText();
            io.oecloud.dht.PeerId.parse(addr); // a bad genesis is refused, not half-loaded
            s.accounts.put(addr, new LedgerState.Account(s.account(addr).balance().add(new BigInteger(a.path("balance").asText())), 0));
        }
        BigInteger bonded = BigInteger.ZERO;
        for (JsonNode c : doc.path("candidates")) {
            String addr = c.path("address").asText();
            io.oecloud.dht.PeerId.parse(addr);
            BigInteger bond = new BigInteger(c.path("selfBond").asText("0"));
            // the self-bond is created for the candidate: credit it, then bond it like a transaction would
            s.accounts.put(addr, new LedgerState.Account(s.account(addr).balance().add(bond), 0));
            Ledger.Result res = Staking.registerCandidate(s, addr, bond, java.util.Base64.getDecoder().decode(c.path("validatorKey").asText()),
                    c.path("commissionPpm").asInt(0), c.path("moniker").asText(""), bond);
            if (!res.ok()) {
                throw new IOException("genesis candidate " + addr + ": " + res.log());
            }
            bonded = bonded.add(bond);
        }
        BigInteger total = s.supply();
        if (total.compareTo(Amounts.LIMIT) >= 0) {
            throw new IOException("genesis supply " + total + " reaches 2^128");
        }
        s.genesisSupply = total;
        ResponseInitChain.Builder b = ResponseInitChain.newBuilder();
        if (!s.candidates.isEmpty()) {
            List<Staking.Update> set = Staking.endBlockAtGenesis(s);
            if (set.isEmpty()) {
                throw new IOException("no genesis candidate can be a validator (each needs the minimum self-bond and one pass of stake)");
            }
            for (Staking.Update u : set) {
                b.addValidators(update(u));
            }
        } else {
            LOG.log(System.Logger.Level.WARNING, "genesis names no candidates: the validators of CometBFT genesis.json stay until candidates are elected");
        }
        ledger = new Ledger(r.getChainId(), fees, verifier);
        store.saveParams(Map.of("chainId", r.getChainId(), "minFee", fees.minimum().toString(), "feePerByte", fees.perByte().toString()));
        Map<String, byte[]> entries = s.entries();
        StateTree tree = new StateTree(entries);
        byte[] hash = tree.root();
        store.commit(entries, entries.keySet(), s.height, hash); // InitChain runs on an empty store
        committedEntries = new java.util.TreeMap<>(entries);
        committed = s;
        committedTree = tree;
        check = s.copy();
        validatorOperators = java.util.Set.copyOf(s.validators().keySet());
        LOG.log(System.Logger.Level.INFO, "genesis of {0}: {1} accounts, {2} candidates, {3} base units ({4} bonded)",
                r.getChainId(), s.accounts.size(), s.candidates.size(), total, bonded);
        return b.setAppHash(ByteString.copyFrom(hash)).build();
    }

    private static ValidatorUpdate update(Staking.Update u) {
        return ValidatorUpdate.newBuilder().setPubKey(PublicKey.newBuilder().setEd25519(ByteString.copyFrom(u.validatorKey())))
                .setPower(u.power()).build();
    }

    private ResponseCheckTx checkTx(RequestCheckTx r, List<Ledger.Checked> prechecked) {
        if (ledger == null) {
            return ResponseCheckTx.newBuilder().setCode(Ledger.Code.NO_GENESIS.value()).setCodespace("oechain")
                    .setLog("this ledger has no genesis yet (InitChain has not run)").build();
        }
        // NEW and RECHECK alike go on top of what the mempool admitted since the last commit
        Ledger.Result res = ledger.apply(check, prechecked != null ? prechecked.get(0) : ledger.check(r.getTx().toByteArray()));
        return ResponseCheckTx.newBuilder().setCode(res.code().value()).setLog(res.log()).setCodespace(res.ok() ? "" : "oechain").build();
    }

    /**
     * The proposal: what CometBFT's own mempool offers (nothing with the nop mempool), then the
     * ledger's mempool, best paying per byte first with each account's nonces in order
     * ({@link TxPool#reap}), up to the block's byte limit. Each candidate is applied to a scratch
     * copy of the committed state in the block's order: the pool was checked in arrival order, and
     * a transaction that spends what an earlier-arrived, cheaper one brings would fail in this
     * order; such a one waits for a later block instead (with its account's later nonces).
     */
    private ResponsePrepareProposal prepare(RequestPrepareProposal r) {
        ResponsePrepareProposal.Builder b = ResponsePrepareProposal.newBuilder();
        long size = 0;
        java.util.Set<String> offered = new java.util.HashSet<>();
        LedgerState scratch = ledger == null ? null : committed.copy();
        if (scratch != null) {
            scratch.height = r.getHeight();
            scratch.timeMillis = r.getTime().getSeconds() * 1000 + r.getTime().getNanos() / 1_000_000;
        }
        for (ByteString tx : r.getTxsList()) {
            size += TxPool.blockBytes(tx.size());
            if (size > r.getMaxTxBytes()) {
                return b.build();
            }
            b.addTxs(tx);
            byte[] bytes = tx.toByteArray();
            offered.add(hash(bytes));
            if (scratch != null) {
                ledger.apply(scratch, bytes);
            }
        }
        if (scratch == null) {
            return b.build();
        }
        for (TxPool.Entry e : pool.reap(r.getMaxTxBytes() - size,
                e -> (offered.isEmpty() || !offered.contains(e.hash)) && ledger.apply(scratch, e.checked).ok())) {
            b.addTxs(ByteString.copyFrom(e.tx()));
        }
        return b.build();
    }

    /** {@code prechecked} and {@code hashes}, when given, are the block's transactions' checks and hashes, in order. */
    private ResponseFinalizeBlock finalizeBlock(RequestFinalizeBlock r, List<Ledger.Checked> prechecked, List<String> hashes) {
        if (ledger == null) {
            throw new IllegalStateException("FinalizeBlock before InitChain");
        }
        working = committed.copy();
        java.util.Set<String> changed = working.track(); // what this block writes: the entries, tree and store follow only that
        working.height = r.getHeight();
        working.timeMillis = r.getTime().getSeconds() * 1000 + r.getTime().getNanos() / 1_000_000; // block time, never the clock
        List<Staking.Vote> votes = new ArrayList<>();
        for (VoteInfo v : r.getDecidedLastCommit().getVotesList()) {
            votes.add(new Staking.Vote(HEX.formatHex(v.getValidator().getAddress().toByteArray()), v.getValidator().getPower(),
                    v.getBlockIdFlag() == BlockIDFlag.BLOCK_ID_FLAG_COMMIT, v.getBlockIdFlag() == BlockIDFlag.BLOCK_ID_FLAG_ABSENT));
        }
        List<Staking.Evidence> evidence = new ArrayList<>();
        for (Misbehavior m : r.getMisbehaviorList()) {
            evidence.add(new Staking.Evidence(HEX.formatHex(m.getValidator().getAddress().toByteArray()), m.getHeight()));
        }
        boolean jailed = Staking.beginBlock(working, votes, evidence);
        ResponseFinalizeBlock.Builder b = ResponseFinalizeBlock.newBuilder();
        workingTxs = 0;
        workingRefused = 0;
        workingHashes = new ArrayList<>(r.getTxsCount());
        for (int i = 0; i < r.getTxsCount(); i++) {
            Ledger.Result res;
            if (prechecked != null && hashes != null) {
                workingHashes.add(hashes.get(i));
                res = ledger.apply(working, prechecked.get(i));
            } else {
                byte[] bytes = r.getTxs(i).toByteArray();
                workingHashes.add(hash(bytes));
                res = ledger.apply(working, ledger.check(bytes));
            }
            workingTxs += res.ok() ? 1 : 0;
            workingRefused += res.ok() ? 0 : 1;
            ExecTxResult.Builder x = ExecTxResult.newBuilder().setCode(res.code().value()).setLog(res.log())
                    .setCodespace(res.ok() ? "" : "oechain");
            if (!res.tags().isEmpty()) {
                Event.Builder e = Event.newBuilder().setType("oe");
                res.tags().forEach((k, v) -> e.addAttributes(EventAttribute.newBuilder().setKey(k).setValue(v).setIndex(true)));
                x.addEvents(e);
            }
            b.addTxResults(x);
        }
        for (Staking.Update u : Staking.endBlock(working, jailed)) {
            b.addValidatorUpdates(update(u));
        }
        if (!working.supply().equals(working.expectedSupply())) { // the invariant, at every block
            throw new IllegalStateException("supply invariant broken at height " + r.getHeight() + ": balances, stake and pools "
                    + working.supply() + " != genesis + minted - slashed " + working.expectedSupply());
        }
        working.untrack();
        if (committedEntries == null) { // the first block after a restart
            committedEntries = new java.util.TreeMap<>(committed.entries());
        }
        if (committedTree == null) {
            committedTree = new StateTree(committedEntries);
        }
        workingEntries = new java.util.TreeMap<>(committedEntries);
        for (String k : changed) {
            byte[] v = working.entry(k);
            if (v == null) {
                workingEntries.remove(k);
            } else {
                workingEntries.put(k, v);
            }
        }
        Map<String, byte[]> scalars = working.scalarEntries();
        workingEntries.putAll(scalars);
        workingChanged = new java.util.HashSet<>(changed);
        workingChanged.addAll(scalars.keySet());
        workingTree = StateTree.next(committedTree, workingEntries, workingChanged);
        workingHash = workingTree.root();
        if (CROSS_CHECK) {
            crossCheck(r.getHeight());
        }
        workingResults = b.getTxResultsList();
        return b.setAppHash(ByteString.copyFrom(workingHash)).build();
    }

    /** The block's entries and app hash as the whole state gives them, against what was built from the changes. */
    private void crossCheck(long height) {
        Map<String, byte[]> full = working.entries();
        boolean same = full.size() == workingEntries.size();
        for (Map.Entry<String, byte[]> e : full.entrySet()) {
            if (!same) {
                break;
            }
            same = java.util.Arrays.equals(e.getValue(), workingEntries.get(e.getKey()));
        }
        if (!same || !java.util.Arrays.equals(new StateTree(full).root(), workingHash)) {
            java.util.Set<String> differ = new java.util.TreeSet<>(full.keySet());
            differ.addAll(workingEntries.keySet());
            differ.removeIf(k -> java.util.Arrays.equals(full.get(k), workingEntries.get(k)));
            throw new IllegalStateException("block " + height + ": the entries or app hash built from the block's changes differ from the"
                    + " whole state's; entries that differ: " + differ.stream().limit(10).toList());
        }
    }

    private ResponseCommit commit() throws IOException {
        if (working == null) {
            throw new IllegalStateException("Commit without FinalizeBlock");
        }
        store.commit(workingEntries, workingChanged, working.height, workingHash); // atomically, with its height: a crash before this replays the block
        committedEntries = workingEntries;
        committed = working;
        committedTree = workingTree;
        working = null;
        workingEntries = null;
        workingChanged = null;
        workingTree = null;
        txsCommitted.addAndGet(workingTxs);
        txsRefused.addAndGet(workingRefused);
        for (int i = 0; i < workingHashes.size(); i++) {
            String h = workingHashes.get(i);
            pool.remove(h);
            List<CompletableFuture<Committed>> w = takeWaiters(h);
            if (!w.isEmpty()) {
                ExecTxResult x = workingResults.get(i);
                Committed c = new Committed(h, committed.height(), x.getCode(), x.getLog());
                afterCall.add(() -> w.forEach(f -> f.complete(c)));
            }
        }
        workingHashes = null;
        workingResults = null;
        validatorOperators = java.util.Set.copyOf(committed.validators().keySet());
        // the mempool again on the new state, in arrival order (CometBFT rechecks its own, if it has one, with CheckTx)
        check = committed.copy();
        for (TxPool.Entry p : pool.all()) {
            Ledger.Result res = ledger.apply(check, p.checked);
            if (!res.ok()) {
                pool.remove(p.hash);
                List<CompletableFuture<Committed>> w = takeWaiters(p.hash);
                if (!w.isEmpty()) {
                    DroppedException e = new DroppedException(res.code(), "left the mempool without a block: " + res.log());
                    afterCall.add(() -> w.forEach(f -> f.completeExceptionally(e)));
                }
            }
        }
        return ResponseCommit.getDefaultInstance();
    }

    /**
     * Queries at the committed height: {@code /account} (data = address), {@code /cid} (data =
     * CID), {@code /candidates}, {@code /params}. Answers are JSON.
     */
    private ResponseQuery query(RequestQuery r) throws IOException {
        String data = r.getData().toString(StandardCharsets.UTF_8);
        Object answer = switch (r.getPath()) {
            case "/account" -> account(committed, data);
            case "/cid" -> cid(committed, data);
            case "/candidates" -> candidates(committed);
            case "/params" -> params(committed, ledger == null ? null : ledger.fees());
            default -> null;
        };
        ResponseQuery.Builder b = ResponseQuery.newBuilder().setHeight(committed.height()).setKey(r.getData());
        String stateKey = switch (r.getPath()) {
            case "/account" -> "account/" + data;
            case "/cid" -> "cid/" + data;
            default -> null;
        };
        if (r.getProve() && stateKey != null) {
            if (committedTree == null) {
                committedTree = new StateTree(committed.entries());
            }
            b.setProofOps(ProofOps.newBuilder().addOps(ProofOp.newBuilder().setType(PROOF_TYPE)
                    .setKey(ByteString.copyFromUtf8(stateKey)).setData(committedTree.prove(stateKey, committed.height()).toByteString())));
        }
        if (answer == null) {
            boolean known = List.of("/account", "/cid", "/candidates", "/params").contains(r.getPath());
            return b.setCode(known ? 2 : 1).setLog(known ? data + " is not registered" : "unknown query path '" + r.getPath()
                    + "' (known: /account, /cid, /candidates, /params)").build();
        }
        return b.setCode(0).setValue(ByteString.copyFrom(JSON.writeValueAsBytes(answer))).build();
    }

    /** The proof op type of a {@link io.oecloud.chain.pb.ChainProto.StateProof} in a query answer. */
    public static final String PROOF_TYPE = "oe/state/v1";

    static Map<String, Object> account(LedgerState s, String addr) {
        LedgerState.Account a = s.account(addr);
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("address", addr);
        m.put("balance", a.balance().toString());
        m.put("nonce", a.nonce());
        Map<String, String> bonded = new java.util.LinkedHashMap<>();
        s.delegationsOf(addr).forEach((c, v) -> bonded.put(c, v.toString()));
        m.put("delegations", bonded);
        List<Map<String, Object>> unbonding = new ArrayList<>();
        for (LedgerState.Unbonding u : s.unbondingsOf(addr)) {
            Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("candidate", u.candidate());
            e.put("amount", u.amount().toString());
            e.put("completeHeight", u.completeHeight());
            unbonding.add(e);
        }
        m.put("unbonding", unbonding);
        return m;
    }

    static Map<String, Object> cid(LedgerState s, String cid) {
        LedgerState.CidRecord c = s.cid(cid);
        if (c == null) {
            return null;
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("cid", cid);
        m.put("owner", c.owner());
        m.put("sinceHeight", c.sinceHeight());
        m.put("sinceTime", java.time.Instant.ofEpochMilli(c.sinceMillis()).toString());
        m.put("title", c.title());
        m.put("license", c.license());
        return m;
    }

    /** Every candidate, by stake (largest first), with its power when it is a validator. */
    static List<Map<String, Object>> candidates(LedgerState s) {
        List<Map<String, Object>> l = new ArrayList<>();
        s.candidates().forEach((op, c) -> {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("address", op);
            m.put("moniker", c.moniker());
            m.put("validatorAddress", c.validatorAddress());
            m.put("validatorKey", java.util.Base64.getEncoder().encodeToString(c.validatorKey()));
            m.put("stake", c.stake().toString());
            m.put("selfBond", s.delegation(op, op).toString());
            m.put("delegators", s.delegationsTo(op).size());
            m.put("commissionPpm", c.commissionPpm());
            m.put("jailed", c.jailed());
            m.put("jailedUntil", c.jailedUntil());
            m.put("power", s.validators().getOrDefault(op, 0L));
            l.add(m);
        });
        l.sort(java.util.Comparator.comparing((Map<String, Object> m) -> new BigInteger((String) m.get("stake"))).reversed()
                .thenComparing(m -> (String) m.get("address")));
        return l;
    }

    static Map<String, Object> params(LedgerState s, Fees fees) {
        Map<String, Object> m = new java.util.LinkedHashMap<>(s.params().toMap());
        if (fees != null) {
            m.putAll(fees.toMap());
        }
        m.put("feePool", s.feePool().toString());
        m.put("reserve", s.reserve().toString());
        m.put("genesisSupply", s.genesisSupply().toString());
        m.put("minted", s.minted().toString());
        m.put("slashed", s.slashed().toString());
        return m;
    }
}
