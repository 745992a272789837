package io.oecloud.node.api;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes of request bodies the API holds whole in memory at once, node-wide (directory listings,
 * up to 32 MiB each). Reserved as the bytes arrive, not from the declared length, and released
 * when the body is handled or dropped; a reservation beyond the budget is refused, so unfinished
 * bodies cannot add up (issue 22: fourteen of them held 448 MiB of a 512 MiB heap).
 */
final class BodyBudget {
    private final long limit;
    private final AtomicLong used = new AtomicLong();

    BodyBudget(long limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("the buffered body budget must be positive, was " + limit);
        }
        this.limit = limit;
    }

    /** Takes {@code n} bytes of the budget; false (taking nothing) when they do not fit. */
    boolean tryReserve(long n) {
        long now;
        do {
            now = used.get();
            if (now + n > limit) {
                return false;
            }
        } while (!used.compareAndSet(now, now + n));
        return true;
    }

    void release(long n) {
        used.addAndGet(-n);
    }

    long used() {
        return used.get();
    }

    long limit() {
        return limit;
    }
}
