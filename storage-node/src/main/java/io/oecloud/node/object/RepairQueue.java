package io.oecloud.node.object;

import io.oecloud.proofs.Cid;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Objects stored short of full redundancy, retried until whole. An upload acknowledged with its
 * write quorum (shards or manifest copies that no node could take) is added here by the node that
 * stored it and repaired as soon as a node can take what is missing, not at the next periodic pass
 * (5 minutes by default): first after 1 s, then after pauses that double up to 30 s, and at once
 * when a new connection comes up (usually the node that was missing coming back; wakes are
 * coalesced to one a second, and a wake starts the backoff again). While no node could take a missing shard an attempt costs a HAS probe of the
 * segment's shards and of the spare candidates, nothing is fetched or decoded.
 *
 * <p>One thread does the work, one object at a time, so repair traffic stays gentle beside
 * uploads. An attempt that throws is logged and retried like any other: the queue never stops.
 * At most {@code capacity} objects wait (10,000 by default); beyond that, and after a restart (the
 * queue lives in memory), the periodic pass finds them, since it repairs a segment that records a
 * missing shard whatever its threshold r is.
 */
public final class RepairQueue implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RepairQueue.class.getName());

    /** One attempt at an object; returns what is still short afterwards. */
    @FunctionalInterface
    public interface Attempt {
        RepairService.Shortfall run(Cid cid, RepairService.Shortfall todo) throws Exception;
    }

    private static final class Entry {
        RepairService.Shortfall todo; // null: not tried yet
        int tries;
        long fresh; // addFresh calls so far: one during an attempt voids that attempt's shortfall
        ScheduledFuture<?> next;
    }

    private final Attempt attempt;
    private final long firstNanos;
    private final long maxNanos;
    private final int capacity;
    /** Guarded by this; the attempts themselves run outside the lock. */
    private final Map<Cid, Entry> entries = new LinkedHashMap<>();
    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-repair-catch-up");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private volatile long lastWake = System.nanoTime() - TimeUnit.SECONDS.toNanos(1);

    /**
     * @param first pause before the first attempt; doubled after each attempt that leaves the object short
     * @param max longest pause between attempts at one object
     * @param capacity objects that may wait at once
     */
    public RepairQueue(Attempt attempt, Duration first, Duration max, int capacity) {
        if (first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
            throw new IllegalArgumentException("pauses must satisfy 0 < first <= max, were " + first + " and " + max);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
        }
        this.attempt = attempt;
        this.firstNanos = first.toNanos();
        this.maxNanos = max.toNanos();
        this.capacity = capacity;
    }

    /** The node's queue: 1 s, doubling to 30 s, 10,000 objects. */
    public static RepairQueue of(RepairService repair) {
        return new RepairQueue(repair::catchUp, Duration.ofSeconds(1), Duration.ofSeconds(30), 10_000);
    }

    /** Queues {@code cid} (one already waiting: no change). */
    public synchronized void add(Cid cid) {
        if (entries.containsKey(cid)) {
            return;
        }
        if (entries.size() >= capacity) {
            LOG.log(System.Logger.Level.WARNING, "repair queue full ({0} objects): {1} waits for the periodic pass", capacity, cid);
            return;
        }
        Entry e = new Entry();
        entries.put(cid, e);
        schedule(cid, e, firstNanos);
    }

    /** What the last attempt at a waiting {@code cid} left short (null: none yet, or not waiting). */
    synchronized RepairService.Shortfall shortfallOf(Cid cid) {
        Entry e = entries.get(cid);
        return e == null ? null : e.todo;
    }

    /**
     * Queues {@code cid}; one already waiting is looked at whole at its next attempt (its
     * shortfall forgotten): what made it short may have grown since.
     */
    public synchronized void addFresh(Cid cid) {
        Entry e = entries.get(cid);
        if (e == null) {
            add(cid);
        } else {
            e.todo = null;
            e.fresh++;
        }
    }

    /**
     * Tries every waiting object now (at most one wake a second), whatever its backoff, which
     * starts again: a node that was missing may be back. Cheap and non-blocking (event loops call it).
     */
    public void wake() {
        if (!wakePending.compareAndSet(false, true)) {
            return;
        }
        long delay = Math.max(0, lastWake + TimeUnit.SECONDS.toNanos(1) - System.nanoTime());
        try {
            worker.schedule(() -> {
                synchronized (this) {
                    wakePending.set(false);
                    lastWake = System.nanoTime();
                    for (Map.Entry<Cid, Entry> me : entries.entrySet()) {
                        Entry e = me.getValue();
                        if (e.next != null && e.next.cancel(false)) { // not the one running now
                            e.tries = 0;
                            schedule(me.getKey(), e, 0);
                        }
                    }
                }
            }, delay, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            wakePending.set(false);
        }
    }

    /** Objects waiting. */
    public synchronized int size() {
        return entries.size();
    }

    /** Waits until no object waits; false if some still did after {@code timeout}. */
    public synchronized boolean awaitEmpty(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!entries.isEmpty()) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    /** Caller holds the lock. */
    private void schedule(Cid cid, Entry e, long delayNanos) {
        try {
            e.next = worker.schedule(() -> attempt(cid, e), delayNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closing: the periodic pass of the next run finds the object
        }
    }

    private void attempt(Cid cid, Entry e) {
        RepairService.Shortfall todo;
        long fresh;
        synchronized (this) {
            todo = e.todo;
            fresh = e.fresh;
        }
        RepairService.Shortfall left = todo;
        try {
            left = attempt.run(cid, todo);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            return; // closing
        } catch (Throwable t) { // never let one object stop the queue
            LOG.log(System.Logger.Level.WARNING, "catching up on {0} failed (tried again later): {1}", cid, String.valueOf(t));
        }
        synchronized (this) {
            if (e.fresh != fresh) {
                // addFresh came while this attempt ran: what it found short is stale, look at everything again soon
                e.todo = null;
                schedule(cid, e, firstNanos);
                return;
            }
            if (left != null && left.none()) {
                entries.remove(cid);
                notifyAll();
                LOG.log(System.Logger.Level.INFO, "{0} is whole again", cid);
                return;
            }
            e.todo = left;
            e.tries++;
            schedule(cid, e, Math.min(maxNanos, firstNanos << Math.min(20, e.tries)));
        }
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
