package io.oecloud.node.object;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.dht.PeerId;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import io.oecloud.node.shard.ShardException;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntPredicate;

/**
 * Puts blocks on nodes: all the shards of a segment, or the copies of a manifest, on distinct nodes
 * with a write quorum and long-tail cancellation ({@link #place}); one rebuilt block at a time for
 * repair ({@link #placeOne}). Which nodes, in which order, is the caller's ({@link Candidates});
 * how a node is reached is {@link ShardHolders}'. Time is read from a {@link Ticker}.
 */
final class Placer {
    /** How long one placement may take before it fails with what it placed. */
    static final long PLACEMENT_SECONDS = 120;

    private final ShardHolders holders;
    private final Troubled troubled;
    private final PinRelease release;
    private final Ticker ticker;
    private final Counter longTails;

    Placer(ShardHolders holders, Troubled troubled, PinRelease release, Ticker ticker, MeterRegistry metrics) {
        this.holders = holders;
        this.troubled = troubled;
        this.release = release;
        this.ticker = ticker;
        this.longTails = Counter.builder("oe_shard_long_tail_transfers")
                .description("Second transfers started for shards whose first was late").register(metrics);
    }

    /** One transfer of block {@code index} to {@code peer}, and how it ended. */
    private record Attempt(int index, PeerId peer, CompletableFuture<Void> transfer) {}

    /**
     * Places block i on a node of its own (distinct nodes for all blocks), failing over to the
     * next candidate when a transfer fails. Once half the blocks are placed, a block whose
     * transfer has taken twice as long as those gets a second transfer to a spare node; the first
     * to finish is kept and the other cancelled. Each CID must have been computed here from its
     * block: this node stores its own copy without hashing it again.
     *
     * <p>Write quorum: placement goes on while any transfer runs or any candidate is untried, so
     * slowness alone never leaves a block out. Only when every candidate was tried or failed and
     * nothing under way could free one may it end with blocks unplaced, and only if at least
     * {@code quorum} were placed; otherwise it fails with the counts and each node's reason.
     *
     * @param what what the blocks are, for messages ("segment 3", "the manifest")
     * @param pinned receives every placed block's pin (also those of a placement that then fails),
     *     so that an upload that fails can take them back
     * @return the holder of each block, null for a block no node took
     */
    List<PeerId> place(String what, List<Cid> cids, List<byte[]> blocks, List<PeerId> candidates, int quorum,
                       Queue<Pin> pinned) throws ObjectException {
        int n = cids.size();
        PeerId[] holders = new PeerId[n];
        List<List<Attempt>> attempts = new ArrayList<>();
        BlockingQueue<Attempt> finished = new LinkedBlockingQueue<>();
        ArrayDeque<PeerId> spare = new ArrayDeque<>(candidates);
        for (int i = 0; i < n; i++) {
            attempts.add(new ArrayList<>());
        }
        ArrayDeque<PeerId> again = new ArrayDeque<>(); // failed for a passing reason (busy, slow): one more try each
        Set<PeerId> retried = new HashSet<>();
        Set<PeerId> taken = new HashSet<>(); // holding a block of this placement, or trying to
        ArrayDeque<Integer> starved = new ArrayDeque<>(); // blocks whose transfers failed, waiting for a free node
        int[] launched = {0};
        int processed = 0;
        IntPredicate launch = i -> {
            PeerId p = spare.poll();
            while (p == null && !again.isEmpty()) {
                PeerId q = again.poll();
                if (!taken.contains(q) && retried.add(q)) {
                    p = q;
                }
            }
            if (p == null) {
                return false;
            }
            taken.add(p);
            launched[0]++;
            CompletableFuture<Void> t = transfer(p, cids.get(i), blocks.get(i));
            Attempt a = new Attempt(i, p, t);
            attempts.get(i).add(a);
            t.whenComplete((ok, e) -> finished.add(a));
            return true;
        };
        Map<PeerId, String> failures = new LinkedHashMap<>();
        int paymentRefusals = 0; // nodes in failures whose (first) refusal was PAYMENT_REQUIRED
        long start = ticker.read();
        long deadline = start + TimeUnit.SECONDS.toNanos(PLACEMENT_SECONDS);
        long hedgeAt = Long.MAX_VALUE;
        boolean hedged = false;
        int placed = 0;
        try {
            for (int i = 0; i < n; i++) {
                if (!launch.test(i)) {
                    starved.add(i); // fewer candidates than blocks: it waits for a node to come free
                }
            }
            while (placed < n) {
                while (!starved.isEmpty() && launch.test(starved.peek())) {
                    starved.poll();
                }
                if (!starved.isEmpty() && processed == launched[0]) { // nothing under way can free a node
                    if (placed >= quorum) {
                        break; // every candidate was tried: the missing blocks are recorded, and repaired later
                    }
                    throw new ObjectException(paymentRefusals == failures.size() && !failures.isEmpty()
                            ? ObjectException.Code.PAYMENT_REQUIRED : ObjectException.Code.PLACEMENT_FAILED,
                            what + ": placed " + placed + " of " + n + (n == 1 ? " copy" : " shards") + ", " + quorum
                            + " needed (write quorum); " + (paymentRefusals == failures.size() && !failures.isEmpty()
                            ? "every node that refused wants payment: the uploading key's chain account cannot pay one period of"
                            + " these blocks (fund it, and try again after a few seconds); " : "")
                            + tried(candidates.size(), failures));
                }
                long now = ticker.read();
                if (now >= deadline) {
                    throw new ObjectException(ObjectException.Code.PLACEMENT_FAILED, what + ": placed " + placed + " of " + n
                            + " in " + PLACEMENT_SECONDS + " s, " + quorum + " needed (write quorum); the other transfers did not finish; "
                            + tried(candidates.size(), failures));
                }
                Attempt a = finished.poll(Math.max(0, Math.min(deadline, hedgeAt) - now), TimeUnit.NANOSECONDS);
                if (a == null) {
                    if (!hedged && ticker.read() >= hedgeAt) {
                        hedged = true;
                        for (int i = 0; i < n; i++) {
                            if (holders[i] == null && launch.test(i)) {
                                longTails.increment();
                            }
                        }
                    }
                    continue;
                }
                processed++;
                Throwable error = a.transfer().handle((ok, e) -> e).join();
                if (error == null && holders[a.index()] == null) {
                    holders[a.index()] = a.peer();
                    placed++;
                    for (Attempt other : attempts.get(a.index())) {
                        other.transfer().cancel(true); // the slower copy of the same shard
                    }
                    if (placed * 2 >= n && hedgeAt == Long.MAX_VALUE && placed < n) {
                        long elapsed = ticker.read() - start;
                        hedgeAt = start + Math.max(2 * elapsed, elapsed + TimeUnit.MILLISECONDS.toNanos(50));
                    }
                } else if (error != null && holders[a.index()] != null) {
                    if (!Arrays.asList(holders).contains(a.peer())) {
                        taken.remove(a.peer()); // the cancelled slower copy: that node is free again
                        spare.addFirst(a.peer());
                    }
                } else if (error != null) {
                    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                    troubled.mark(a.peer(), reason(cause));
                    if (failures.put(a.peer(), reason(cause)) == null && cause instanceof ShardException se
                            && se.status() == io.oecloud.node.pb.ShardProto.ShardResponse.Status.PAYMENT_REQUIRED) {
                        paymentRefusals++;
                    }
                    taken.remove(a.peer());
                    if (passing(cause)) {
                        again.add(a.peer());
                    }
                    boolean running = attempts.get(a.index()).stream().anyMatch(x -> !x.transfer().isDone());
                    if (running) {
                        if (hedged && launch.test(a.index())) { // a second copy failed beside a slow first: one more spare
                            longTails.increment();
                        }
                    } else if (!launch.test(a.index())) {
                        starved.add(a.index()); // a node busy with a second copy may come free
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ObjectException(ObjectException.Code.PLACEMENT_FAILED, "interrupted while placing shards");
        } finally {
            List<Pin> extra = new ArrayList<>();
            for (List<Attempt> l : attempts) {
                for (Attempt a : l) {
                    if (!a.peer().equals(holders[a.index()])) {
                        a.transfer().cancel(true);
                    }
                    // Every transfer has ended now (cancelled or done). One that completed holds a
                    // pin of ours: the kept copy is the block's; a second copy that finished too
                    // is extra and its pin is given back (a cancelled one the peer had stored
                    // already cannot be known, and stays: garbage kept, never data lost).
                    if (a.transfer().isDone() && !a.transfer().isCompletedExceptionally()) {
                        Pin pin = new Pin(a.peer(), cids.get(a.index()));
                        if (a.peer().equals(holders[a.index()])) {
                            pinned.add(pin);
                        } else {
                            extra.add(pin);
                        }
                    }
                }
            }
            release.release(extra, "second copies");
        }
        return Arrays.asList(holders);
    }

    /** One transfer; cancelling the returned future stops the one under way. */
    private CompletableFuture<Void> transfer(PeerId peer, Cid cid, byte[] data) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        AtomicReference<CompletableFuture<?>> current = new AtomicReference<>();
        result.whenComplete((v, e) -> { // cancelled (long tail): stop the transfer under way
            CompletableFuture<?> c = current.get();
            if (e != null && c != null) {
                c.cancel(true);
            }
        });
        transfer(peer, cid, data, 0, result, current);
        return result;
    }

    /** A PUT that a busy peer refused is tried again after 0.1, 0.2, 0.4, 0.8 and 1.6 s. */
    private void transfer(PeerId peer, Cid cid, byte[] data, int attempt, CompletableFuture<Void> result,
                          AtomicReference<CompletableFuture<?>> current) {
        if (result.isDone()) {
            return;
        }
        CompletableFuture<Void> f = holders.put(peer, cid, data);
        current.set(f);
        f.whenComplete((v, e) -> {
            if (e == null) {
                result.complete(null);
                return;
            }
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (c instanceof ShardException se
                    && se.status() == ShardResponse.Status.BUSY && attempt < 5) {
                CompletableFuture.delayedExecutor(100L << attempt, TimeUnit.MILLISECONDS)
                        .execute(() -> transfer(peer, cid, data, attempt + 1, result, current));
            } else {
                result.completeExceptionally(c);
            }
        });
    }

    /** "6 nodes known; 2 failed (12D3KooWabcd…: busy; ...)" for a placement's error message. */
    private static String tried(int known, Map<PeerId, String> failures) {
        StringBuilder why = new StringBuilder();
        failures.forEach((p, m) -> why.append(why.isEmpty() ? "" : "; ").append(p.toString(), 0, Math.min(16, p.toString().length()))
                .append("…: ").append(m));
        return known + (known == 1 ? " node" : " nodes") + " known, every one tried"
                + (failures.isEmpty() ? "" : "; " + failures.size() + " failed (" + why + ")");
    }

    /** Why a PUT failed, in words (never a Java exception's text): it goes into answers to clients. */
    static String reason(Throwable e) {
        if (e instanceof ShardException se) {
            String said = se.getMessage() == null ? "" : se.getMessage();
            return switch (se.status()) {
                case BUSY -> "busy";
                case FULL -> "full";
                default -> se.status().name().toLowerCase(Locale.ROOT).replace('_', ' ')
                        + (said.isEmpty() ? "" : " (" + (said.length() > 80 ? said.substring(0, 80) + "…" : said) + ")");
            };
        }
        if (e instanceof StoreException se) {
            return "this node's store: " + se.getMessage();
        }
        if (e instanceof TimeoutException) {
            return "no answer in time";
        }
        if (e instanceof CancellationException) {
            return "cancelled";
        }
        if (e instanceof IOException || e instanceof IllegalStateException) {
            return "unreachable, or the connection closed";
        }
        return "failed (" + e.getClass().getSimpleName() + ")";
    }

    /** Whether a failed PUT may succeed when tried again: not when the node is full or refused the request itself. */
    private static boolean passing(Throwable e) {
        if (e instanceof ShardException se) {
            return switch (se.status()) {
                case FULL, CID_MISMATCH, TOO_LARGE, FORBIDDEN, BAD_REQUEST -> false;
                default -> true;
            };
        }
        return !(e instanceof StoreException);
    }

    /**
     * Stores {@code block} on one node from {@code candidates} not in {@code avoid}, pinned by
     * {@code pinOwner} when that node is this one, else by this node's key
     * ({@link ShardHolders#putRebuilt}). Nodes that fail for a passing reason (busy with other
     * transfers, slow) are tried again, up to three more rounds with a growing pause, before the
     * block is given up until the next repair round; nodes that refuse (full, forbidden) are not,
     * and are added to {@code avoid}.
     *
     * @return the node that took it, or null
     */
    PeerId placeOne(Cid cid, byte[] block, List<PeerId> candidates, Set<PeerId> avoid, byte[] pinOwner) {
        List<PeerId> round = new ArrayList<>(candidates);
        for (int attempt = 0; attempt < 4 && !round.isEmpty(); attempt++) {
            if (attempt > 0) {
                try {
                    Thread.sleep(250L << (2 * (attempt - 1))); // 250 ms, 1 s, 4 s: the others' transfers drain
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
            List<PeerId> again = new ArrayList<>();
            for (PeerId p : round) {
                if (avoid.contains(p)) {
                    continue;
                }
                try {
                    holders.putRebuilt(p, cid, block, pinOwner).get(60, TimeUnit.SECONDS);
                    return p;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                } catch (Exception e) {
                    Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                    if (passing(cause) && !(cause instanceof TimeoutException)) {
                        again.add(p); // busy: maybe in the next round (a minute's silence is not retried)
                    } else {
                        avoid.add(p); // full or refusing: not this block
                    }
                }
            }
            round = again;
        }
        return null;
    }
}
