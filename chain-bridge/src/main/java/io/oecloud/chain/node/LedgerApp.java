package io.oecloud.chain.node;

import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.Event;
import io.oecloud.chain.abci.AbciTypesProto.EventAttribute;
import io.oecloud.chain.abci.AbciTypesProto.ExecTxResult;
import io.oecloud.chain.abci.AbciTypesProto.ExtendedVoteInfo;
import io.oecloud.chain.abci.AbciTypesProto.Misbehavior;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCheckTx;
import io.oecloud.chain.abci.AbciTypesProto.RequestExtendVote;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.RequestPrepareProposal;
import io.oecloud.chain.abci.AbciTypesProto.RequestProcessProposal;
import io.oecloud.chain.abci.AbciTypesProto.RequestVerifyVoteExtension;
import io.oecloud.chain.abci.AbciTypesProto.Response;
import io.oecloud.chain.abci.AbciTypesProto.ResponseApplySnapshotChunk;
import io.oecloud.chain.abci.AbciTypesProto.ResponseCheckTx;
import io.oecloud.chain.abci.AbciTypesProto.ResponseCommit;
import io.oecloud.chain.abci.AbciTypesProto.ResponseEcho;
import io.oecloud.chain.abci.AbciTypesProto.ResponseException;
import io.oecloud.chain.abci.AbciTypesProto.ResponseExtendVote;
import io.oecloud.chain.abci.AbciTypesProto.ResponseFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.ResponseFlush;
import io.oecloud.chain.abci.AbciTypesProto.ResponseInfo;
import io.oecloud.chain.abci.AbciTypesProto.ResponseInitChain;
import io.oecloud.chain.abci.AbciTypesProto.ResponseListSnapshots;
import io.oecloud.chain.abci.AbciTypesProto.ResponseLoadSnapshotChunk;
import io.oecloud.chain.abci.AbciTypesProto.ResponseOfferSnapshot;
import io.oecloud.chain.abci.AbciTypesProto.ResponsePrepareProposal;
import io.oecloud.chain.abci.AbciTypesProto.ResponseProcessProposal;
import io.oecloud.chain.abci.AbciTypesProto.ResponseVerifyVoteExtension;
import io.oecloud.chain.abci.AbciTypesProto.ValidatorUpdate;
import io.oecloud.chain.abci.AbciTypesProto.VoteInfo;
import io.oecloud.chain.abci.CryptokeysProto.PublicKey;
import io.oecloud.chain.abci.TypesvalidatorProto.BlockIDFlag;
import io.oecloud.chain.beacon.Beacon;
import io.oecloud.chain.beacon.Bls;
import io.oecloud.chain.ledger.Block;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Genesis;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.ledger.TxSignatures;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The ledger as CometBFT sees it over ABCI 2.0: this class dispatches each request to its role
 * and keeps the three states every ABCI application keeps apart: the committed one and the block
 * being finalized ({@link BlockCommitter}, on RocksDB), and the mempool's check state
 * ({@link Mempool}: committed + the transactions admitted since). The first state comes from
 * {@link Genesis}, each block runs as a {@link Block} under the ledger's rules, queries are
 * {@link Queries}.
 *
 * <p>The mempool is the ledger's own (CometBFT runs with {@code mempool.type = "nop"}): clients
 * {@link #submit} transactions, which are checked against the check state, kept by fee per byte
 * (a full pool drops its cheapest for a better-paying one), handed to the gossip for the other
 * super-nodes, and put into blocks by PrepareProposal when this node proposes, best paying first.
 * After each commit the included ones leave the pool and the rest are checked again on the new
 * state.
 *
 * <p>Threading: ABCI calls arrive one at a time from the server's thread; submissions come from
 * HTTP threads; the monitor of this object orders the two, and every role above runs under it.
 * No signature is verified under the monitor: {@link Ledger#check} runs before it is taken and
 * its result is carried in. Waiters' continuations run after it is released.
 */
public final class LedgerApp {
    private static final HexFormat HEX = HexFormat.of().withUpperCase();
    private static final System.Logger LOG = System.getLogger(LedgerApp.class.getName());

    private final LedgerStore store;
    private final BlockCommitter blocks;
    private final Mempool mempool;
    private volatile Ledger ledger;
    /** Completions to run once the monitor is released (a waiter's continuation must not run under it). */
    private List<Runnable> afterCall = new ArrayList<>();
    private final AtomicLong txsCommitted = new AtomicLong();
    private final AtomicLong txsRefused = new AtomicLong();
    /** SubmitProofs applied in FinalizeBlock and the time they took (proof verification dominates): metrics, not state. */
    private final AtomicLong proofsApplied = new AtomicLong();
    private final AtomicLong proofNanos = new AtomicLong();
    /** The signature check the ledgers of this app use (tests count its calls and the locks held during them). */
    private volatile Ledger.Verifier verifier = TxSignatures::verify;
    /** The operators (account addresses = peer IDs) of the committed validator set: the super-nodes that may gossip. */
    private volatile Set<String> validatorOperators;
    /** This node's beacon key (null: it contributes nothing; its vote extensions are empty). */
    private volatile Bls.SecretKey beaconKey;

    /** The app on the committed state of {@code store}, which stays the caller's to close (after this app's server). */
    public LedgerApp(LedgerStore store) throws IOException {
        this.store = store;
        this.blocks = new BlockCommitter(store);
        this.mempool = new Mempool(blocks.committed());
        Map<String, String> params = store.params();
        if (params.containsKey("chainId")) {
            // a ledger made before feePerByte was a parameter gets the default, as its genesis would now
            this.ledger = new Ledger(params.get("chainId"), new Fees(new BigInteger(params.get("minFee")),
                    params.containsKey("feePerByte") ? new BigInteger(params.get("feePerByte")) : Fees.DEFAULT_PER_BYTE), verifier);
        }
        this.validatorOperators = Set.copyOf(blocks.committed().validators().keySet());
    }

    /** Replaces the signature check (tests only: a counting hook), for the current ledger and any made later. */
    synchronized void verifier(Ledger.Verifier v) {
        verifier = v;
        if (ledger != null) {
            ledger = new Ledger(ledger.chainId(), ledger.fees(), v);
        }
    }

    /**
     * The key this node signs its beacon contributions with (its vote extensions): derived from
     * its identity ({@link Bls.SecretKey#fromIdentity}); it signs only while the committed state
     * holds this key for some candidate.
     */
    public void beaconKey(Bls.SecretKey key) {
        beaconKey = key;
    }

    /** Transactions applied in committed blocks since this process started. */
    public long txsCommitted() {
        return txsCommitted.get();
    }

    /** Transactions in committed blocks that the ledger refused (their fee was not taken). */
    public long txsRefused() {
        return txsRefused.get();
    }

    /** SubmitProof transactions this node applied in FinalizeBlock (accepted or refused by the rules). */
    public long proofsApplied() {
        return proofsApplied.get();
    }

    /** Seconds this node spent applying them: the proofs' verification on a super-node. */
    public double proofSeconds() {
        return proofNanos.get() / 1e9;
    }

    /** The operators of the committed validator set (read without the lock). */
    public Set<String> validatorOperators() {
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
        return blocks.committed();
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

    /** The answer of {@link #submit}: the admission, and the block's outcome when asked to wait. */
    public record Submission(Admission admission, CompletableFuture<Committed> committed) {
    }

    /** A transaction that left the mempool without a block: a block changed the state under it. */
    public static final class DroppedException extends RuntimeException {
        public final Ledger.Code code;

        DroppedException(Ledger.Code code, String message) {
            super(message);
            this.code = code;
        }
    }

    /** A transaction was admitted, but too many clients already wait for blocks to wait for this one too. */
    public static final class TooManyWaitersException extends RuntimeException {
        TooManyWaitersException(int waiting) {
            super("admitted, but " + waiting + " clients already wait for blocks: not waiting for this one");
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
            out = mempool.admit(hash, tx, checked, ledger, fromClient, await, told);
        }
        told.forEach(Runnable::run); // a waiter's continuation never runs under the monitor
        return out;
    }

    /** Transactions dropped from the full mempool for better-paying ones, since this process started (without the lock). */
    public long evicted() {
        return mempool.evicted();
    }

    /** Stops waiting for {@code hash} (a client gave up). */
    public synchronized void forget(String hash, CompletableFuture<Committed> f) {
        mempool.forget(hash, f);
    }

    /** Where every transaction this node admits from its own clients goes (the gossip). */
    public void onAdmitted(Consumer<byte[]> gossip) {
        mempool.onAdmitted(gossip);
    }

    /** Transactions waiting in the mempool (without the lock: a scrape never waits for a block). */
    public int pending() {
        return mempool.size();
    }

    /** A transaction's hash as CometBFT names it: SHA-256 of its bytes, upper-case hex. */
    public static String hash(byte[] tx) {
        return HEX.formatHex(Ledger.sha256().digest(tx));
    }

    /** Answers one ABCI request (called by {@link AbciServer}'s one thread, in arrival order). */
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
            Ledger.Checked[] pooled;
            synchronized (this) {
                pooled = mempool.pooled(hashes, txs);
            }
            prechecked = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                prechecked.add(pooled[i] != null ? pooled[i] : l.check(txs[i]));
            }
        } else if (l != null && r.hasCheckTx()) {
            prechecked = List.of(l.check(r.getCheckTx().getTx().toByteArray()));
        }
        // the beacon's BLS work too (signing, pairings: about a millisecond each), so submissions never
        // wait for it: it reads only the committed state, which changes at Commit and InitChain, and
        // those arrive on this same thread
        Object beacon = null;
        if (l != null) {
            switch (r.getValueCase()) {
                case EXTEND_VOTE -> {
                    return Response.newBuilder().setExtendVote(extendVote(r.getExtendVote())).build();
                }
                case VERIFY_VOTE_EXTENSION -> {
                    return Response.newBuilder().setVerifyVoteExtension(ResponseVerifyVoteExtension.newBuilder()
                            .setStatus(verifyVoteExtension(r.getVerifyVoteExtension()))).build();
                }
                case PROCESS_PROPOSAL -> {
                    return Response.newBuilder().setProcessProposal(ResponseProcessProposal.newBuilder()
                            .setStatus(processProposal(r.getProcessProposal()))).build();
                }
                case PREPARE_PROPOSAL -> beacon = beaconEntry(r.getPrepareProposal());
                case FINALIZE_BLOCK -> beacon = finalizedBeacon(r.getFinalizeBlock());
                default -> { }
            }
        }
        Response resp;
        List<Runnable> after;
        synchronized (this) {
            boolean same = ledger == l;
            resp = dispatch(r, same ? prechecked : null, same ? hashes : null, same ? beacon : null);
            after = afterCall;
            afterCall = after.isEmpty() ? after : new ArrayList<>();
        }
        after.forEach(Runnable::run);
        return resp;
    }

    /**
     * {@code beacon}: for PrepareProposal the beacon entry built before the lock ({@code byte[]},
     * null when none), for FinalizeBlock the block's beacon checked before it ({@link FinalizedBeacon}).
     */
    private Response dispatch(Request r, List<Ledger.Checked> prechecked, List<String> hashes, Object beacon) throws IOException {
        Response.Builder b = Response.newBuilder();
        return switch (r.getValueCase()) {
            case ECHO -> b.setEcho(ResponseEcho.newBuilder().setMessage(r.getEcho().getMessage())).build();
            case FLUSH -> b.setFlush(ResponseFlush.getDefaultInstance()).build();
            case INFO -> b.setInfo(ResponseInfo.newBuilder().setData("oechain").setVersion("0.1.0").setAppVersion(1)
                    .setLastBlockHeight(blocks.committed().height()).setLastBlockAppHash(ByteString.copyFrom(blocks.appHash()))).build();
            case INIT_CHAIN -> b.setInitChain(initChain(r.getInitChain())).build();
            case CHECK_TX -> b.setCheckTx(checkTx(r.getCheckTx(), prechecked)).build();
            case PREPARE_PROPOSAL -> b.setPrepareProposal(prepareProposal(r.getPrepareProposal(),
                    beacon instanceof byte[] e ? e : beaconEntry(r.getPrepareProposal()))).build();
            case PROCESS_PROPOSAL -> b.setProcessProposal(ResponseProcessProposal.newBuilder()
                    .setStatus(processProposal(r.getProcessProposal()))).build();
            // vote extensions are enabled from height 1: they carry the beacon's contributions
            case EXTEND_VOTE -> b.setExtendVote(extendVote(r.getExtendVote())).build();
            case VERIFY_VOTE_EXTENSION -> b.setVerifyVoteExtension(ResponseVerifyVoteExtension.newBuilder()
                    .setStatus(verifyVoteExtension(r.getVerifyVoteExtension()))).build();
            case FINALIZE_BLOCK -> b.setFinalizeBlock(finalizeBlock(r.getFinalizeBlock(), prechecked, hashes,
                    beacon instanceof FinalizedBeacon f ? f : null)).build();
            case COMMIT -> b.setCommit(commit()).build();
            case QUERY -> b.setQuery(Queries.answer(r.getQuery(), blocks, ledger == null ? null : ledger.fees())).build();
            // state sync is not offered
            case LIST_SNAPSHOTS -> b.setListSnapshots(ResponseListSnapshots.getDefaultInstance()).build();
            case OFFER_SNAPSHOT -> b.setOfferSnapshot(ResponseOfferSnapshot.newBuilder().setResult(ResponseOfferSnapshot.Result.REJECT)).build();
            case LOAD_SNAPSHOT_CHUNK -> b.setLoadSnapshotChunk(ResponseLoadSnapshotChunk.getDefaultInstance()).build();
            case APPLY_SNAPSHOT_CHUNK -> b.setApplySnapshotChunk(ResponseApplySnapshotChunk.newBuilder()
                    .setResult(ResponseApplySnapshotChunk.Result.ABORT)).build();
            default -> b.setException(ResponseException.newBuilder().setError("unknown ABCI request " + r.getValueCase())).build();
        };
    }

    /** A block's time in ms since 1970: from CometBFT, never the clock. */
    private static long millis(com.google.protobuf.Timestamp t) {
        return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
    }

    // ---- the beacon (Beacon: contributions in vote extensions, their aggregate first in the next block) ----

    /** The committed seed (seed_{h-1} while height h is voted on); seed_0 in a ledger made before the beacon. */
    private byte[] committedSeed() {
        byte[] s = blocks.committed().beaconSeed();
        return s != null ? s : Beacon.seed0(ledger.chainId());
    }

    /** This node's contribution at the height being voted on: its BLS signature of the beacon's message, or nothing. */
    private ResponseExtendVote extendVote(RequestExtendVote r) {
        Bls.SecretKey k = beaconKey;
        LedgerState c = blocks.committed();
        if (k == null || ledger == null || r.getHeight() != c.height() + 1 || c.beaconKeyHolder(k.publicKey()) == null) {
            return ResponseExtendVote.getDefaultInstance();
        }
        return ResponseExtendVote.newBuilder().setVoteExtension(ByteString.copyFrom(
                k.sign(Beacon.message(ledger.chainId(), r.getHeight(), committedSeed())))).build();
    }

    /**
     * A validator with a beacon key must extend its vote with a valid signature by that key (so a
     * commit's keyed votes always carry what the next proposer aggregates); one without a key
     * must send an empty extension (accepted, it counts for nothing).
     */
    private ResponseVerifyVoteExtension.VerifyStatus verifyVoteExtension(RequestVerifyVoteExtension r) {
        LedgerState c = blocks.committed();
        if (ledger == null || r.getHeight() != c.height() + 1) {
            return ResponseVerifyVoteExtension.VerifyStatus.ACCEPT; // not the height this state can judge
        }
        String op = c.operatorOf(HEX.formatHex(r.getValidatorAddress().toByteArray()));
        LedgerState.BeaconKey k = op == null ? null : c.beaconKey(op);
        byte[] ext = r.getVoteExtension().toByteArray();
        boolean ok = k == null ? ext.length == 0 : Bls.verify(k.publicKey(), Beacon.message(ledger.chainId(), r.getHeight(), committedSeed()), ext);
        if (!ok) {
            LOG.log(System.Logger.Level.WARNING, "vote extension of validator {0} at height {1} refused: {2}",
                    HEX.formatHex(r.getValidatorAddress().toByteArray()), r.getHeight(),
                    k == null ? "it has no beacon key, so its extension must be empty" : "not its beacon key's signature of the height's message");
        }
        return ok ? ResponseVerifyVoteExtension.VerifyStatus.ACCEPT : ResponseVerifyVoteExtension.VerifyStatus.REJECT;
    }

    /** The beacon entry aggregating the last commit's extensions, or null when none can be made. */
    private byte[] beaconEntry(RequestPrepareProposal r) {
        byte[] entry = null;
        LedgerState c = blocks.committed();
        if (ledger != null && r.getHeight() == c.height() + 1) {
            List<Block.Vote> votes = new ArrayList<>();
            List<byte[]> extensions = new ArrayList<>();
            for (ExtendedVoteInfo v : r.getLocalLastCommit().getVotesList()) {
                votes.add(vote(v.getValidator().getAddress(), v.getValidator().getPower(), v.getBlockIdFlag()));
                extensions.add(v.getVoteExtension().toByteArray());
            }
            List<Beacon.Voter> voters = c.beaconVoters(votes, r.getHeight());
            if (voters.stream().anyMatch(v -> v.beaconKey() != null)) {
                byte[] before = c.beaconPreviousSeed() != null ? c.beaconPreviousSeed() : committedSeed();
                Beacon.Entry e = Beacon.build(voters, extensions, Beacon.message(ledger.chainId(), r.getHeight() - 1, before));
                if (e != null) {
                    entry = Beacon.encode(e);
                } else if (Beacon.required(voters)) {
                    LOG.log(System.Logger.Level.WARNING, "height {0}: the last commit's extensions do not make a beacon, which is required",
                            r.getHeight());
                }
            }
        }
        return entry;
    }

    /** The block's transactions, with {@code entry} (the beacon, or null) first. */
    private ResponsePrepareProposal prepareProposal(RequestPrepareProposal r, byte[] entry) {
        LedgerState c = blocks.committed();
        if (entry == null) {
            return mempool.propose(r, millis(r.getTime()), c, ledger);
        }
        // CometBFT counts each entry with its field tag and length prefix
        int cost = 1 + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(entry.length) + entry.length;
        ResponsePrepareProposal p = mempool.propose(r.toBuilder().setMaxTxBytes(r.getMaxTxBytes() - cost).build(), millis(r.getTime()), c, ledger);
        return ResponsePrepareProposal.newBuilder().addTxs(ByteString.copyFrom(entry)).addAllTxs(p.getTxsList()).build();
    }

    /**
     * Rejects a proposal whose beacon is refused ({@link Block#checkBeacon}: missing while
     * required, malformed, too little power, not verifying) or that carries a beacon entry
     * anywhere but first. Transactions are not judged here: a refused one changes nothing.
     */
    private ResponseProcessProposal.ProposalStatus processProposal(RequestProcessProposal r) {
        LedgerState c = blocks.committed();
        if (ledger == null || r.getHeight() != c.height() + 1) {
            return ResponseProcessProposal.ProposalStatus.ACCEPT;
        }
        for (int i = 1; i < r.getTxsCount(); i++) {
            if (Beacon.isBeacon(r.getTxs(i).toByteArray())) {
                LOG.log(System.Logger.Level.WARNING, "proposal for height {0} rejected: a beacon entry at position {1}, not first", r.getHeight(), i);
                return ResponseProcessProposal.ProposalStatus.REJECT;
            }
        }
        List<Block.Vote> votes = new ArrayList<>();
        for (VoteInfo v : r.getProposedLastCommit().getVotesList()) {
            votes.add(vote(v.getValidator().getAddress(), v.getValidator().getPower(), v.getBlockIdFlag()));
        }
        byte[] first = r.getTxsCount() > 0 ? r.getTxs(0).toByteArray() : null;
        try {
            Block.checkBeacon(ledger.chainId(), c, r.getHeight(), votes, first != null && Beacon.isBeacon(first) ? first : null);
            return ResponseProcessProposal.ProposalStatus.ACCEPT;
        } catch (Beacon.BeaconException e) {
            LOG.log(System.Logger.Level.WARNING, "proposal for height {0} rejected: {1}", r.getHeight(), e.getMessage());
            return ResponseProcessProposal.ProposalStatus.REJECT;
        }
    }

    /** A FinalizeBlock's beacon, checked: its entry (null when the block carries none), or why it is refused. */
    private record FinalizedBeacon(Beacon.Entry entry, String refusal) {}

    private FinalizedBeacon finalizedBeacon(RequestFinalizeBlock r) {
        byte[] first = r.getTxsCount() > 0 ? r.getTxs(0).toByteArray() : null;
        try {
            return new FinalizedBeacon(Block.checkBeacon(ledger.chainId(), blocks.committed(), r.getHeight(), votes(r),
                    first != null && Beacon.isBeacon(first) ? first : null), null);
        } catch (Beacon.BeaconException e) {
            return new FinalizedBeacon(null, e.getMessage());
        }
    }

    private static List<Block.Vote> votes(RequestFinalizeBlock r) {
        List<Block.Vote> votes = new ArrayList<>();
        for (VoteInfo v : r.getDecidedLastCommit().getVotesList()) {
            votes.add(vote(v.getValidator().getAddress(), v.getValidator().getPower(), v.getBlockIdFlag()));
        }
        return votes;
    }

    private static Block.Vote vote(ByteString address, long power, BlockIDFlag flag) {
        return new Block.Vote(HEX.formatHex(address.toByteArray()), power, flag == BlockIDFlag.BLOCK_ID_FLAG_COMMIT,
                flag == BlockIDFlag.BLOCK_ID_FLAG_ABSENT);
    }

    private ResponseInitChain initChain(RequestInitChain r) throws IOException {
        Genesis g = Genesis.read(r.getChainId(), r.getAppStateBytes().toByteArray(), r.getInitialHeight());
        ResponseInitChain.Builder b = ResponseInitChain.newBuilder();
        for (Block.Update u : g.validators()) {
            b.addValidators(update(u));
        }
        ledger = new Ledger(r.getChainId(), g.fees(), verifier);
        store.saveParams(Map.of("chainId", r.getChainId(), "minFee", g.fees().minimum().toString(), "feePerByte", g.fees().perByte().toString()));
        byte[] hash = blocks.genesis(g.state());
        mempool.reset(g.state());
        validatorOperators = Set.copyOf(g.state().validators().keySet());
        return b.setAppHash(ByteString.copyFrom(hash)).build();
    }

    private static ValidatorUpdate update(Block.Update u) {
        return ValidatorUpdate.newBuilder().setPubKey(PublicKey.newBuilder().setEd25519(ByteString.copyFrom(u.validatorKey())))
                .setPower(u.power()).build();
    }

    private ResponseCheckTx checkTx(RequestCheckTx r, List<Ledger.Checked> prechecked) {
        if (ledger == null) {
            return ResponseCheckTx.newBuilder().setCode(Ledger.Code.NO_GENESIS.value()).setCodespace("oechain")
                    .setLog("this ledger has no genesis yet (InitChain has not run)").build();
        }
        Ledger.Result res = mempool.checkTx(ledger, prechecked != null ? prechecked.get(0) : ledger.check(r.getTx().toByteArray()));
        return ResponseCheckTx.newBuilder().setCode(res.code().value()).setLog(res.log()).setCodespace(res.ok() ? "" : "oechain").build();
    }

    /** {@code prechecked} and {@code hashes}, when given, are the block's transactions' checks and hashes, in order. */
    private ResponseFinalizeBlock finalizeBlock(RequestFinalizeBlock r, List<Ledger.Checked> prechecked, List<String> hashes,
                                                FinalizedBeacon beacon) {
        if (ledger == null) {
            throw new IllegalStateException("FinalizeBlock before InitChain");
        }
        if (beacon == null) { // not checked before the lock (the ledger changed meanwhile)
            beacon = finalizedBeacon(r);
        }
        List<Block.Vote> votes = votes(r);
        List<Block.Evidence> evidence = new ArrayList<>();
        for (Misbehavior m : r.getMisbehaviorList()) {
            evidence.add(new Block.Evidence(HEX.formatHex(m.getValidator().getAddress().toByteArray()), m.getHeight()));
        }
        Block block = Block.begin(blocks.committed(), r.getHeight(), millis(r.getTime()), votes, evidence);
        ResponseFinalizeBlock.Builder b = ResponseFinalizeBlock.newBuilder();
        List<String> txHashes = new ArrayList<>(r.getTxsCount());
        List<Ledger.Result> results = new ArrayList<>(r.getTxsCount());
        // the beacon, apart from the transactions: checked again (before the lock), whatever ProcessProposal said
        if (beacon.refusal() != null) {
            // only a block that more than 2/3 of the power accepted gets here: stop rather than commit it
            throw new IllegalStateException("block " + r.getHeight() + " was decided with a refused beacon: " + beacon.refusal());
        }
        block.beaconChecked(ledger.chainId(), blocks.committed(), beacon.entry());
        if (beacon.entry() != null) {
            b.addTxResults(ExecTxResult.newBuilder().setLog("beacon: seed of height " + r.getHeight()));
        }
        for (int i = beacon.entry() != null ? 1 : 0; i < r.getTxsCount(); i++) {
            Ledger.Result res;
            Ledger.Checked checked;
            if (prechecked != null && hashes != null) {
                txHashes.add(hashes.get(i));
                checked = prechecked.get(i);
            } else {
                byte[] bytes = r.getTxs(i).toByteArray();
                txHashes.add(hash(bytes));
                checked = ledger.check(bytes);
            }
            if (checked.isSubmitProof()) {
                long t0 = System.nanoTime();
                res = block.apply(ledger, checked);
                proofNanos.addAndGet(System.nanoTime() - t0);
                proofsApplied.incrementAndGet();
            } else {
                res = block.apply(ledger, checked);
            }
            results.add(res);
            ExecTxResult.Builder x = ExecTxResult.newBuilder().setCode(res.code().value()).setLog(res.log())
                    .setCodespace(res.ok() ? "" : "oechain");
            if (!res.tags().isEmpty()) {
                Event.Builder e = Event.newBuilder().setType("oe");
                res.tags().forEach((k, v) -> e.addAttributes(EventAttribute.newBuilder().setKey(k).setValue(v).setIndex(true)));
                x.addEvents(e);
            }
            b.addTxResults(x);
        }
        for (Block.Update u : block.end()) {
            b.addValidatorUpdates(update(u));
        }
        if (block.settlement() != null) { // one event per node settled: what `oe wallet history` can find with block_search
            block.settlement().payments().forEach((node, pay) -> b.addEvents(Event.newBuilder().setType("oe-payment")
                    .addAttributes(EventAttribute.newBuilder().setKey("node").setValue(node).setIndex(true))
                    .addAttributes(EventAttribute.newBuilder().setKey("period").setValue(Long.toString(block.settlement().period())).setIndex(true))
                    .addAttributes(EventAttribute.newBuilder().setKey("amount").setValue(pay.amount().toString()))
                    .addAttributes(EventAttribute.newBuilder().setKey("paid").setValue(Boolean.toString(pay.paid())).setIndex(true))));
        }
        return b.setAppHash(ByteString.copyFrom(blocks.finish(block, txHashes, results))).build();
    }

    private ResponseCommit commit() throws IOException {
        BlockCommitter.Finalized f = blocks.commit();
        int applied = 0;
        for (Ledger.Result res : f.results()) {
            applied += res.ok() ? 1 : 0;
        }
        txsCommitted.addAndGet(applied);
        txsRefused.addAndGet(f.results().size() - applied);
        validatorOperators = Set.copyOf(f.state().validators().keySet());
        mempool.committed(f.state(), f.hashes(), f.results(), ledger, afterCall);
        return ResponseCommit.getDefaultInstance();
    }
}
