package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class DeadlinesTest {
    @Test
    void aFutureNotDoneInTime_failsWithTimeoutException_notBeforeItsDeadline() {
        long t0 = System.nanoTime();
        CompletableFuture<String> f = Deadlines.orTimeout(new CompletableFuture<>(), 300);
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(took >= 299, "fired early, after " + took + " ms");
    }

    @Test
    void futuresDoneInTime_keepTheirValues_andTheirDeadlinesLeaveTheWheel() throws Exception {
        int threads = Thread.activeCount();
        for (int i = 0; i < 100_000; i++) {
            CompletableFuture<Integer> f = Deadlines.orTimeout(new CompletableFuture<>(), 60_000);
            assertTrue(f.complete(i));
            assertEquals(i, f.get());
        }
        CompletableFuture<String> done = CompletableFuture.completedFuture("x");
        assertSame(done, Deadlines.orTimeout(done, 1));
        // Cancelled deadlines are cleared at the next tick; uncancelled ones would stay a minute.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Deadlines.pending() >= 1_000 && System.nanoTime() < until) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Deadlines.TICK_MILLIS));
        }
        assertTrue(Deadlines.pending() < 1_000, "deadlines of completed futures still armed: " + Deadlines.pending());
        assertTrue(Thread.activeCount() <= threads + 1, "threads " + threads + " -> " + Thread.activeCount());
    }
}
