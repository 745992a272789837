package io.oecloud.dht;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Deadlines for futures on one shared timer wheel. Nearly every deadline is cancelled long before
 * it is due (a shard transfer, a DHT request), so arming and cancelling must cost next to nothing.
 * {@link CompletableFuture#orTimeout} hands each one to the common pool's delay scheduler, which
 * wakes its thread for every deadline set: thousands of thread wake-ups per second on a busy node
 * (about 600 per 256 MiB upload on each receiving node). Here a deadline is a queue entry that
 * the wheel's one thread picks up on its next tick.
 */
public final class Deadlines {
    /** How late a deadline may fire: the wheel's tick. */
    public static final long TICK_MILLIS = 100;
    private static final HashedWheelTimer WHEEL = new HashedWheelTimer(r -> {
        Thread t = new Thread(r, "deadlines");
        t.setDaemon(true);
        return t;
    }, TICK_MILLIS, TimeUnit.MILLISECONDS, 512);

    private Deadlines() {}

    /**
     * Completes {@code f} with a {@link TimeoutException} unless it is done within {@code millis}
     * (as {@link CompletableFuture#orTimeout} does); returns {@code f}.
     */
    public static <T> CompletableFuture<T> orTimeout(CompletableFuture<T> f, long millis) {
        if (f.isDone()) {
            return f;
        }
        Timeout t = WHEEL.newTimeout(x -> f.completeExceptionally(new TimeoutException("no answer within " + millis + " ms")),
                millis, TimeUnit.MILLISECONDS);
        f.whenComplete((v, e) -> t.cancel());
        return f;
    }

    /** Deadlines armed and not yet fired or cleared (a cancelled one leaves at the next tick). */
    static long pending() {
        return WHEEL.pendingTimeouts();
    }
}
