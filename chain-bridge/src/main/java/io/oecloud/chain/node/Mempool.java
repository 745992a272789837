package io.oecloud.chain.node;

import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.RequestPrepareProposal;
import io.oecloud.chain.abci.AbciTypesProto.ResponsePrepareProposal;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.node.LedgerApp.Admission;
import io.oecloud.chain.node.LedgerApp.Committed;
import io.oecloud.chain.node.LedgerApp.DroppedException;
import io.oecloud.chain.node.LedgerApp.Submission;
import io.oecloud.chain.node.LedgerApp.TooManyWaitersException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The ledger's mempool: the pending transactions ({@link TxPool}, by fee per byte), the check
 * state they were admitted on (the committed state plus what was admitted since), the clients
 * waiting for their transaction's block, and where admitted client transactions go (the gossip).
 *
 * <p>Threading: not thread-safe. Every method except {@link #size()} and {@link #evicted()} runs
 * under the {@link LedgerApp}'s monitor, which orders submissions with the ABCI calls. A waiter's
 * continuation must not run under that monitor, so completions are added to the {@code after}
 * list the caller passes, and the caller runs them once the monitor is released.
 */
final class Mempool {
    /** Bounds of the mempool: what a few seconds of the network's best rate brings. */
    static final int MAX_PENDING_TXS = 20_000;
    static final long MAX_PENDING_BYTES = 64L << 20;
    /** Clients waiting at most (each holds a request open): the same bytes posted a million times must not hold a million. */
    static final int MAX_WAITERS = 2 * MAX_PENDING_TXS;

    private final TxPool pool = new TxPool(MAX_PENDING_TXS, MAX_PENDING_BYTES);
    /** Clients waiting for their transaction's block, by transaction hash. */
    private final Map<String, List<CompletableFuture<Committed>>> waiters = new HashMap<>();
    private int waiting;
    private LedgerState check;
    private volatile Consumer<byte[]> gossip = tx -> { };
    /** Transactions dropped from the full mempool for better-paying ones, since this process started. */
    private final AtomicLong evicted = new AtomicLong();

    Mempool(LedgerState committed) {
        this.check = committed.copyForNextBlock();
    }

    /**
     * Admits {@code checked} (its state-free checks passed) when the check state and the pool's
     * bounds allow: a full pool drops its cheapest for it (their waiters are told, through
     * {@code after}), a client's transaction goes to the gossip. With {@code await}, the answer
     * carries a future completed by the block that holds it.
     */
    Submission admit(String hash, byte[] tx, Ledger.Checked checked, Ledger ledger, boolean fromClient, boolean await, List<Runnable> after) {
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
                    after.add(() -> w.forEach(f -> f.completeExceptionally(e)));
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
        return new Submission(a, f);
    }

    /** CometBFT's CheckTx (NEW and RECHECK alike): applied on top of what the mempool admitted since the last commit. */
    Ledger.Result checkTx(Ledger ledger, Ledger.Checked checked) {
        return ledger.apply(check, checked);
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
    void forget(String hash, CompletableFuture<Committed> f) {
        List<CompletableFuture<Committed>> l = waiters.get(hash);
        if (l != null && l.remove(f)) {
            waiting--;
            if (l.isEmpty()) {
                waiters.remove(hash);
            }
        }
    }

    /** Where every transaction this node admits from its own clients goes (the gossip). */
    void onAdmitted(Consumer<byte[]> gossip) {
        this.gossip = gossip;
    }

    /** Transactions waiting (without the lock: a scrape never waits for a block). */
    int size() {
        return pool.size();
    }

    /** Transactions dropped from the full mempool for better-paying ones, since this process started (without the lock). */
    long evicted() {
        return evicted.get();
    }

    /**
     * The mempool's checks of a block's transactions that it holds, by hash and the very same
     * bytes (null for the others): a block's transactions are mostly ones this node admitted,
     * and what {@link Ledger#check} found for them (parse, signature, chain, sender, fee) does not
     * depend on the state, so FinalizeBlock takes it over instead of parsing and hashing each
     * transaction again (~3 % of the ledgers' CPU at saturation). The rest are checked as before.
     */
    Ledger.Checked[] pooled(List<String> hashes, byte[][] txs) {
        Ledger.Checked[] out = new Ledger.Checked[txs.length];
        for (int i = 0; i < txs.length; i++) {
            TxPool.Entry e = pool.get(hashes.get(i));
            if (e != null && Arrays.equals(e.tx(), txs[i])) {
                out[i] = e.checked;
            }
        }
        return out;
    }

    /**
     * The proposal: what CometBFT's own mempool offers (nothing with the nop mempool), then the
     * ledger's mempool, best paying per byte first with each account's nonces in order
     * ({@link TxPool#reap}), up to the block's byte limit. Each candidate is applied to a scratch
     * copy of the committed state in the block's order: the pool was checked in arrival order, and
     * a transaction that spends what an earlier-arrived, cheaper one brings would fail in this
     * order; such a one waits for a later block instead (with its account's later nonces).
     * {@code timeMillis} is the block's time; {@code ledger} is null before InitChain: then only
     * what CometBFT offers is proposed.
     */
    ResponsePrepareProposal propose(RequestPrepareProposal r, long timeMillis, LedgerState committed, Ledger ledger) {
        ResponsePrepareProposal.Builder b = ResponsePrepareProposal.newBuilder();
        long size = 0;
        Set<String> offered = new HashSet<>();
        LedgerState scratch = ledger == null ? null : committed.copyAt(r.getHeight(), timeMillis);
        for (ByteString tx : r.getTxsList()) {
            size += TxPool.blockBytes(tx.size());
            if (size > r.getMaxTxBytes()) {
                return b.build();
            }
            b.addTxs(tx);
            byte[] bytes = tx.toByteArray();
            offered.add(LedgerApp.hash(bytes));
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

    /**
     * After a commit: the block's transactions leave the pool and their waiters get the result
     * ({@code results}, in the block's order, with {@code hashes}); the rest are applied again on
     * the new state in arrival order (with what admission found: no signature is checked again),
     * and what the block made invalid is dropped and its waiters told why.
     */
    void committed(LedgerState state, List<String> hashes, List<Ledger.Result> results, Ledger ledger, List<Runnable> after) {
        for (int i = 0; i < hashes.size(); i++) {
            String h = hashes.get(i);
            pool.remove(h);
            List<CompletableFuture<Committed>> w = takeWaiters(h);
            if (!w.isEmpty()) {
                Ledger.Result x = results.get(i);
                Committed c = new Committed(h, state.height(), x.code().value(), x.log());
                after.add(() -> w.forEach(f -> f.complete(c)));
            }
        }
        // the mempool again on the new state, in arrival order (CometBFT rechecks its own, if it has one, with CheckTx)
        check = state.copyForNextBlock();
        for (TxPool.Entry p : pool.all()) {
            Ledger.Result res = ledger.apply(check, p.checked);
            if (!res.ok()) {
                pool.remove(p.hash);
                List<CompletableFuture<Committed>> w = takeWaiters(p.hash);
                if (!w.isEmpty()) {
                    DroppedException e = new DroppedException(res.code(), "left the mempool without a block: " + res.log());
                    after.add(() -> w.forEach(f -> f.completeExceptionally(e)));
                }
            }
        }
    }

    /** A new chain's genesis: the check state starts from it. */
    void reset(LedgerState genesis) {
        check = genesis.copyForNextBlock();
    }
}
