package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.node.object.ObjectService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A periodic task never dies: a run that throws, even an Error, is followed by the next run. */
@Timeout(60)
class StorageNodeUpkeepTest {
    @TempDir
    Path dir;

    @Test
    void upkeepTask_thatThrowsAnErrorAndThenAnException_runsAgainOnItsSchedule() throws Exception {
        try (StorageNode node = StorageNode.start(Identity.generate(), List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")),
                dir, 1L << 30, ObjectService.Config.defaults())) {
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch third = new CountDownLatch(1);
            node.every(Duration.ofMillis(1), "flaky", () -> {
                switch (runs.incrementAndGet()) {
                    case 1 -> throw new OutOfMemoryError("injected: Requested array size exceeds VM limit");
                    case 2 -> throw new IllegalStateException("injected");
                    default -> third.countDown();
                }
            });
            assertTrue(third.await(30, TimeUnit.SECONDS), "the task ran again after it threw; runs: " + runs.get());
            String counted = node.metrics().lines().filter(l -> l.startsWith("oe_upkeep_failures_total{task=\"flaky\"}"))
                    .findFirst().orElseThrow();
            assertEquals(2.0, Double.parseDouble(counted.substring(counted.lastIndexOf(' ') + 1)), "both failures are counted");
        }
    }
}
