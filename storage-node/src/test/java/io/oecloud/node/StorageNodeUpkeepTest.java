package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.node.object.ObjectService;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.testkit.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's upkeep: a periodic task never dies (a run that throws, even an Error, is followed by the
 * next run), and the garbage task collects by the node's clock, which the test moves.
 */
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

    @Test
    void garbageUpkeep_collectsAnUnpinnedShard_onlyOnceTheNodesClockPassedTheGrace() throws Exception {
        ManualClock clock = new ManualClock();
        StorageNode.Upkeep often = new StorageNode.Upkeep(Duration.ofHours(1), Duration.ofHours(1), Duration.ofMillis(5), Duration.ofHours(24));
        try (StorageNode node = StorageNode.start(Identity.generate(), List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")),
                dir, 1L << 30, ObjectService.Config.defaults(), often, StorageNode.defaultQuotas(1L << 30), clock)) {
            byte[] data = new byte[1000];
            new Random(5).nextBytes(data);
            Cid cid = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, data);
            byte[] owner = node.p2p.host.identity().publicKey();
            node.store.put(cid, data, owner);
            assertTrue(node.store.unpin(cid, owner));
            clock.advance(Duration.ofHours(24).minusMillis(1));
            awaitRuns(node, "gc", runs(node, "gc") + 3);
            assertNotNull(node.store.metadata(cid), "kept within the grace, however often the task runs");
            clock.advance(Duration.ofMillis(1));
            awaitRuns(node, "gc", runs(node, "gc") + 2);
            assertNull(node.store.metadata(cid), "collected once the grace is over");
        }
    }

    /** Completed runs of an upkeep task, from the node's metrics. */
    private static double runs(StorageNode node, String task) {
        String line = node.metrics().lines().filter(l -> l.startsWith("oe_upkeep_runs_total{task=\"" + task + "\"}"))
                .findFirst().orElse(" 0");
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }

    /** Waits for the upkeep thread (its own schedule, in real time) to complete {@code n} runs of {@code task}. */
    private static void awaitRuns(StorageNode node, String task, double n) throws InterruptedException {
        while (runs(node, task) < n) {
            Thread.sleep(5); // the class's @Timeout bounds the wait
        }
    }
}
