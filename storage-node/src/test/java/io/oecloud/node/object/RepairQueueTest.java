package io.oecloud.node.object;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class RepairQueueTest {
    private static Cid cid(int i) {
        return Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, new byte[] {(byte) i});
    }

    private static final RepairService.Shortfall SHORT = new RepairService.Shortfall(Set.of(0), false);

    @Test
    void anAttemptThatThrows_isLoggedAndTriedAgain_andTheOtherObjectsGoOn() throws Exception {
        Map<Cid, AtomicInteger> tries = new ConcurrentHashMap<>();
        RepairQueue.Attempt attempt = (c, todo) -> {
            int n = tries.computeIfAbsent(c, x -> new AtomicInteger()).incrementAndGet();
            if (c.equals(cid(1)) && n == 1) {
                throw new IllegalStateException("a manifest that makes repair throw");
            }
            if (c.equals(cid(2)) && n == 1) {
                throw new OutOfMemoryError("k = 2^31 - 1");
            }
            return n < 3 ? SHORT : RepairService.Shortfall.NONE;
        };
        try (RepairQueue q = new RepairQueue(attempt, Duration.ofMillis(5), Duration.ofMillis(20), 100)) {
            for (int i = 1; i <= 3; i++) {
                q.add(cid(i));
            }
            assertTrue(q.awaitEmpty(Duration.ofSeconds(30)), "every object was made whole despite the throws");
            for (int i = 1; i <= 3; i++) {
                assertEquals(3, tries.get(cid(i)).get(), "object " + i + " tried until whole, then no more");
            }
            q.add(cid(4)); // the queue still works after the throws
            assertTrue(q.awaitEmpty(Duration.ofSeconds(30)));
        }
    }

    @Test
    void whatWasStillShort_isHandedToTheNextAttempt() throws Exception {
        List<RepairService.Shortfall> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        RepairService.Shortfall segment3 = new RepairService.Shortfall(Set.of(3), false);
        try (RepairQueue q = new RepairQueue((c, todo) -> {
            seen.add(todo == null ? new RepairService.Shortfall(Set.of(-1), true) : todo);
            return seen.size() == 1 ? segment3 : RepairService.Shortfall.NONE;
        }, Duration.ofMillis(5), Duration.ofMillis(20), 100)) {
            q.add(cid(1));
            assertTrue(q.awaitEmpty(Duration.ofSeconds(30)));
        }
        assertEquals(List.of(new RepairService.Shortfall(Set.of(-1), true), segment3), seen,
                "first everything recorded (null), then only what was left");
    }

    @Test
    void wake_triesAtOnce_evenWhenTheBackoffWouldWaitAnHour() throws Exception {
        AtomicBoolean nodeBack = new AtomicBoolean();
        CountDownLatch tried = new CountDownLatch(1);
        try (RepairQueue q = new RepairQueue((c, todo) -> {
            RepairService.Shortfall left = nodeBack.get() ? RepairService.Shortfall.NONE : SHORT;
            tried.countDown(); // after the answer is decided: the test flips nodeBack only then
            return left;
        }, Duration.ofHours(1), Duration.ofHours(1), 100)) {
            q.add(cid(1));
            q.wake();
            assertTrue(tried.await(30, TimeUnit.SECONDS), "a wake does not wait for the hour");
            nodeBack.set(true);
            assertFalse(q.awaitEmpty(Duration.ofMillis(200)), "still short until the next attempt");
            q.wake(); // coalesced: runs a second after the first
            q.wake();
            assertTrue(q.awaitEmpty(Duration.ofSeconds(30)), "the second wake finds it whole");
        }
    }

    @Test
    void aFullQueue_leavesFurtherObjectsToThePeriodicPass() throws Exception {
        try (RepairQueue q = new RepairQueue((c, todo) -> RepairService.Shortfall.NONE, Duration.ofHours(1), Duration.ofHours(1), 2)) {
            q.add(cid(1));
            q.add(cid(1)); // again: no change
            q.add(cid(2));
            q.add(cid(3)); // over capacity
            assertEquals(2, q.size());
        }
    }

    @Test
    void badPauses_areRefusedNamingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RepairQueue((c, t) -> RepairService.Shortfall.NONE, Duration.ZERO, Duration.ofSeconds(1), 1));
        assertTrue(e.getMessage().contains("PT0S"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new RepairQueue((c, t) -> RepairService.Shortfall.NONE, Duration.ofSeconds(2), Duration.ofSeconds(1), 1));
        assertThrows(IllegalArgumentException.class,
                () -> new RepairQueue((c, t) -> RepairService.Shortfall.NONE, Duration.ofSeconds(1), Duration.ofSeconds(1), 0));
    }

    @Test
    void addFresh_forgetsWhatWasShort_soTheNextAttemptLooksAtEverything() throws Exception {
        List<RepairService.Shortfall> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        RepairService.Shortfall segment3 = new RepairService.Shortfall(Set.of(3), false);
        try (RepairQueue q = new RepairQueue((c, todo) -> {
            seen.add(todo == null ? new RepairService.Shortfall(Set.of(-1), true) : todo);
            return seen.size() == 1 ? segment3 : RepairService.Shortfall.NONE;
        }, Duration.ofMillis(200), Duration.ofSeconds(2), 100)) {
            q.add(cid(1));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!segment3.equals(q.shortfallOf(cid(1)))) { // the first attempt's shortfall, recorded
                assertTrue(System.nanoTime() < end, "the first attempt recorded segment 3");
                Thread.onSpinWait();
            }
            q.addFresh(cid(1)); // the chain named more: look at everything again
            assertTrue(q.awaitEmpty(Duration.ofSeconds(30)));
        }
        assertEquals(List.of(new RepairService.Shortfall(Set.of(-1), true), new RepairService.Shortfall(Set.of(-1), true)), seen,
                "the attempt after addFresh starts over (null), not from segment 3");
    }

    @Test
    void addFresh_duringAnAttempt_isNotOverwrittenByThatAttemptsShortfall() throws Exception {
        List<RepairService.Shortfall> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        try (RepairQueue q = new RepairQueue((c, todo) -> {
            seen.add(todo == null ? new RepairService.Shortfall(Set.of(-1), true) : todo);
            if (seen.size() == 1) {
                running.countDown();
                assertTrue(go.await(30, TimeUnit.SECONDS));
                return new RepairService.Shortfall(Set.of(3), false); // what it found before the chain named more
            }
            return RepairService.Shortfall.NONE;
        }, Duration.ofMillis(50), Duration.ofSeconds(2), 100)) {
            q.add(cid(1));
            assertTrue(running.await(30, TimeUnit.SECONDS));
            q.addFresh(cid(1)); // while the first attempt runs
            go.countDown();
            assertTrue(q.awaitEmpty(Duration.ofSeconds(30)));
        }
        assertEquals(2, seen.size(), seen.toString());
        assertEquals(new RepairService.Shortfall(Set.of(-1), true), seen.get(1),
                "the attempt after an addFresh that came mid-attempt looks at everything, not at that attempt's segment 3");
    }
}
