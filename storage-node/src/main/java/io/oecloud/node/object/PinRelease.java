package io.oecloud.node.object;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Takes back pins that uploads placed and will not use: every pin of an upload that failed, and
 * the second copies of long-tail transfers that finished too. In the background, best effort,
 * bounded node-wide: at most {@value #PARALLEL} unpin requests at once, each bounded by the shard
 * client's deadline (60 s); beyond {@value #BACKLOG} batches waiting, a batch is dropped with a
 * warning (its shards stay pinned: garbage kept, never data lost). Only pins known to have been
 * placed are taken back: unpinning where our PUT had not landed would remove another object's pin
 * of the same shard.
 */
final class PinRelease {
    private static final System.Logger LOG = System.getLogger(PinRelease.class.getName());
    /** Unpin requests at once, node-wide. */
    static final int PARALLEL = 16;
    /** Batches that may wait to be taken back. */
    static final int BACKLOG = 1_000;

    private final ShardHolders holders;
    private final Semaphore slots = new Semaphore(PARALLEL);
    private final Set<CompletableFuture<Void>> releasing = ConcurrentHashMap.newKeySet();

    PinRelease(ShardHolders holders) {
        this.holders = holders;
    }

    /**
     * Unpins {@code pins} on a virtual thread of its own; returns at once.
     *
     * @param what what the pins belonged to, for the log ("a failed upload", "second copies")
     */
    void release(Collection<Pin> pins, String what) {
        if (pins.isEmpty()) {
            return;
        }
        List<Pin> all = List.copyOf(pins);
        if (releasing.size() >= BACKLOG) {
            LOG.log(System.Logger.Level.WARNING, "{0} pins of {1} left in place: {2} batches are already being taken back",
                    all.size(), what, releasing.size());
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        releasing.add(done);
        Thread.ofVirtual().name("oe-unpin").start(() -> {
            int failed = 0;
            try {
                List<CompletableFuture<Boolean>> fs = new ArrayList<>();
                for (Pin p : all) {
                    slots.acquire();
                    CompletableFuture<Boolean> f;
                    try {
                        f = holders.unpin(p.peer(), p.cid());
                    } catch (RuntimeException e) {
                        f = CompletableFuture.completedFuture(false);
                    }
                    fs.add(f.whenComplete((ok, e) -> slots.release()));
                }
                for (CompletableFuture<Boolean> f : fs) {
                    failed += f.handle((ok, e) -> e == null && ok ? 0 : 1).join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                if (failed > 0) {
                    LOG.log(System.Logger.Level.WARNING, "{0} of {1} pins of {2} could not be taken back (node unreachable?)",
                            failed, all.size(), what);
                }
                releasing.remove(done);
                done.complete(null);
            }
        });
    }

    /**
     * Waits until every batch handed to {@link #release} has been taken back, or tried; for tests
     * and orderly shutdown.
     *
     * @return false if some were still under way after {@code timeout}
     */
    boolean await(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!releasing.isEmpty()) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            CompletableFuture<?>[] now = releasing.toArray(CompletableFuture[]::new);
            if (now.length == 0) {
                break;
            }
            try {
                CompletableFuture.anyOf(now).get(left, TimeUnit.NANOSECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // checked again above
            }
        }
        return true;
    }
}
