package io.oecloud.node.object;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Segments in memory at once, across every upload and download of the node, so heap stays
 * bounded whatever the number of requests and the size of their objects. A request that holds no
 * slot waits for one (a busy node answers slower, never runs out of heap); a request that holds
 * one only takes more (pipelining, read-ahead) when they are free, so no request waits while
 * holding a slot and the budget cannot deadlock.
 */
final class MemoryBudget {
    private final Semaphore slots;
    private final int total;

    /** @param slots segments (with their shards) that may be in memory at once */
    MemoryBudget(int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("a memory budget needs at least one slot, was " + slots);
        }
        this.total = slots;
        this.slots = new Semaphore(slots, true);
    }

    /**
     * Slots for a node whose heap is {@code maxHeap} bytes: half of it for segments of
     * {@code segmentBytes} each with their k + m shards (and the copies made while coding).
     */
    static MemoryBudget forHeap(long maxHeap, int segmentSize, int k, int m) {
        long perSegment = (long) segmentSize * 2 + (long) segmentSize * (k + m) / k;
        return new MemoryBudget((int) Math.max(1, Math.min(256, maxHeap / 2 / perSegment)));
    }

    /**
     * Waits up to a minute for a slot (a request that holds none yet).
     *
     * @throws ObjectException BUSY when every slot stayed in use for that minute, or on an interrupt
     */
    void awaitSlot() throws ObjectException {
        try {
            if (!acquire(60)) {
                throw new ObjectException(ObjectException.Code.BUSY, "node busy: all " + total
                        + " segment slots stayed in use for 60 s; try again or use another node");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ObjectException(ObjectException.Code.BUSY, "interrupted while waiting for memory");
        }
    }

    /** Waits for a slot; false after {@code seconds}. */
    boolean acquire(long seconds) throws InterruptedException {
        return slots.tryAcquire(seconds, TimeUnit.SECONDS);
    }

    /** A slot if one is free now. */
    boolean tryAcquire() {
        return slots.tryAcquire();
    }

    void release() {
        slots.release();
    }

    int total() {
        return total;
    }

    int available() {
        return slots.availablePermits();
    }
}
