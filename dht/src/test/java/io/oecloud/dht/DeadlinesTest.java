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
    void aFutureNotDoneInTime_failsWithTimeoutException_aboutOnTime() {
        long t0 = System.nanoTime();
        CompletableFuture<String> f = Deadlines.orTimeout(new CompletableFuture<>(), 300);
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(took >= 300 && took < 300 + 5 * Deadlines.TICK_MILLIS + 1000, "fired after " + took + " ms");
    }

    @Test
    void aFutureDoneInTime_keepsItsValue_andManyArmedDeadlinesCostNoThreads() throws Exception {
        int threads = Thread.activeCount();
        for (int i = 0; i < 100_000; i++) {
            CompletableFuture<Integer> f = Deadlines.orTimeout(new CompletableFuture<>(), 200);
            f.complete(i);
        }
        CompletableFuture<String> done = CompletableFuture.completedFuture("x");
        assertSame(done, Deadlines.orTimeout(done, 1));
        CompletableFuture<String> late = Deadlines.orTimeout(new CompletableFuture<>(), 200);
        late.complete("answer");
        Thread.sleep(200 + 3 * Deadlines.TICK_MILLIS);
        assertEquals("answer", late.get());
        assertTrue(Thread.activeCount() <= threads + 1, "threads " + threads + " -> " + Thread.activeCount());
    }
}
