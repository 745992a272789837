package io.oecloud.node.object;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.dht.PeerId;
import io.oecloud.proofs.Cid;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Placer} against holders in memory: distinct nodes, failover, write quorum, long tail, deadline. */
@Timeout(30)
class PlacerTest {
    private final FakeHolders holders = new FakeHolders();
    private final AtomicLong now = new AtomicLong();
    private final Ticker ticker = now::get;
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final Troubled troubled = new Troubled(ticker, metrics);
    private final Queue<Pin> pinned = new ConcurrentLinkedQueue<>();

    private Placer placer(Ticker t) {
        return new Placer(holders, troubled, new PinRelease(holders), t, metrics);
    }

    private static List<Cid> cids(int n) {
        List<Cid> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(Cid.raw(block(i)));
        }
        return l;
    }

    private static byte[] block(int i) {
        byte[] b = new byte[64];
        new Random(i).nextBytes(b);
        return b;
    }

    private static List<byte[]> blocks(int n) {
        List<byte[]> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(block(i));
        }
        return l;
    }

    @Test
    void place_sixBlocksOnSixNodes_eachOnADistinctNode_andEveryPinIsRecorded() throws Exception {
        List<PeerId> peers = FakeHolders.peers(6);
        List<PeerId> placed = placer(ticker).place("segment 0", cids(6), blocks(6), peers, 5, pinned);
        assertEquals(6, new HashSet<>(placed).size());
        assertEquals(6, pinned.size());
        for (int i = 0; i < 6; i++) {
            assertTrue(holders.stored.get(placed.get(i)).containsKey(cids(6).get(i)), "block " + i + " is where it is recorded");
        }
    }

    @Test
    void place_aFullNode_isPassedOver_itsBlockGoesToTheNext_andItIsTriedLastForAWhile() throws Exception {
        List<PeerId> peers = FakeHolders.peers(7);
        holders.set(peers.get(2), FakeHolders.Mode.FULL);
        List<PeerId> placed = placer(ticker).place("segment 0", cids(6), blocks(6), peers, 5, pinned);
        assertFalse(placed.contains(peers.get(2)));
        assertTrue(placed.contains(peers.get(6)), "the spare took the block");
        assertTrue(troubled.test(peers.get(2)));
        now.addAndGet(Troubled.MEMORY.toNanos() + 1);
        assertFalse(troubled.test(peers.get(2)), "forgotten after a minute, by the ticker");
    }

    @Test
    void place_aBusyNode_isAskedAgain_andKeepsItsBlock() throws Exception {
        List<PeerId> peers = FakeHolders.peers(6);
        holders.set(peers.get(3), FakeHolders.Mode.BUSY_ONCE);
        List<PeerId> placed = placer(Ticker.systemTicker()).place("segment 0", cids(6), blocks(6), peers, 6, pinned);
        assertEquals(peers, placed);
        assertEquals(2, holders.asked.stream().filter(p -> p.peer().equals(peers.get(3))).count());
    }

    @Test
    void place_belowTheWriteQuorum_failsWithTheCountsAndEachNodesReason_andKeepsThePinsToTakeBack() {
        List<PeerId> peers = FakeHolders.peers(6);
        holders.set(peers.get(0), FakeHolders.Mode.FULL).set(peers.get(4), FakeHolders.Mode.FULL);
        ObjectException e = assertThrows(ObjectException.class,
                () -> placer(ticker).place("segment 7", cids(6), blocks(6), peers, 5, pinned));
        assertEquals(ObjectException.Code.PLACEMENT_FAILED, e.code());
        assertTrue(e.getMessage().startsWith("segment 7: placed 4 of 6 shards, 5 needed (write quorum); "
                + "6 nodes known, every one tried; 2 failed ("), e.getMessage());
        assertTrue(e.getMessage().contains("…: full; "), e.getMessage());
        assertEquals(4, pinned.size(), "what was placed is handed back, for the upload to take back");
    }

    @Test
    void place_refusedForPaymentByEveryNodeThatRefused_failsAsPaymentRequired_otherwiseAsPlacementFailed() {
        List<PeerId> peers = FakeHolders.peers(6);
        for (int i = 1; i < 6; i++) {
            holders.set(peers.get(i), FakeHolders.Mode.UNPAID);
        }
        ObjectException e = assertThrows(ObjectException.class,
                () -> placer(ticker).place("segment 0", cids(6), blocks(6), peers, 5, pinned));
        assertEquals(ObjectException.Code.PAYMENT_REQUIRED, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("cannot pay one period"), e.getMessage());

        holders.set(peers.get(1), FakeHolders.Mode.FULL); // one refusal for another reason: not the account's fault alone
        ObjectException mixed = assertThrows(ObjectException.class,
                () -> placer(ticker).place("segment 1", cids(6), blocks(6), peers, 5, pinned));
        assertEquals(ObjectException.Code.PLACEMENT_FAILED, mixed.code(), mixed.getMessage());
    }

    @Test
    void place_atTheWriteQuorum_endsWithTheBlockNoNodeTookUnplaced() throws Exception {
        List<PeerId> peers = FakeHolders.peers(6);
        holders.set(peers.get(1), FakeHolders.Mode.FULL);
        List<PeerId> placed = placer(ticker).place("segment 0", cids(6), blocks(6), peers, 5, pinned);
        assertEquals(1, placed.stream().filter(Objects::isNull).count());
        assertEquals(5, new HashSet<>(placed.stream().filter(Objects::nonNull).toList()).size());
    }

    @Test
    void place_aNodeThatNeverAnswers_getsASecondTransferToASpare_andTheFirstIsCancelled() throws Exception {
        List<PeerId> peers = FakeHolders.peers(7);
        holders.set(peers.get(0), FakeHolders.Mode.SILENT);
        List<PeerId> placed = placer(Ticker.systemTicker()).place("segment 0", cids(6), blocks(6), peers, 6, pinned);
        assertEquals(peers.get(6), placed.get(0), "the spare holds the late block");
        assertTrue(holders.silent.get(0).isCancelled(), "the transfer that never finished is cancelled");
        assertEquals(1.0, metrics.counter("oe_shard_long_tail_transfers").count());
    }

    @Test
    void place_givesUpAfter120Seconds_readFromTheTicker() {
        List<PeerId> peers = FakeHolders.peers(2);
        peers.forEach(p -> holders.set(p, FakeHolders.Mode.SILENT));
        // One shard lands, then the clock passes the limit while the other transfer never ends. The
        // clock moves only after the placement read it three times since the landing: by then it has
        // read its start and counted the landed shard (moving it earlier raced: "placed 0 of 2").
        java.util.concurrent.atomic.AtomicInteger readsSinceLanding = new java.util.concurrent.atomic.AtomicInteger(-1);
        Ticker counting = () -> readsSinceLanding.get() >= 0 && readsSinceLanding.incrementAndGet() > 3
                ? now.get() + TimeUnit.SECONDS.toNanos(Placer.PLACEMENT_SECONDS + 1) : now.get();
        CompletableFuture<Void> later = CompletableFuture.runAsync(() -> {
            while (holders.silent.size() < 2) {
                Thread.onSpinWait();
            }
            readsSinceLanding.set(0);
            ((CompletableFuture<Void>) holders.silent.get(0)).complete(null);
        });
        long t0 = System.nanoTime();
        ObjectException e = assertThrows(ObjectException.class,
                () -> placer(counting).place("the manifest", cids(2), blocks(2), peers, 2, pinned));
        later.join();
        assertTrue(e.getMessage().startsWith("the manifest: placed 1 of 2 in 120 s, 2 needed (write quorum); "
                + "the other transfers did not finish"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "no real waiting");
        assertTrue(holders.silent.get(1).isCancelled());
    }

    @Test
    void placeOne_passesOverAFullNode_andAvoidsItForTheRestOfTheRepair() {
        List<PeerId> peers = FakeHolders.peers(3);
        holders.set(peers.get(0), FakeHolders.Mode.FULL);
        Set<PeerId> avoid = new HashSet<>(Set.of(peers.get(2)));
        PeerId at = placer(ticker).placeOne(cids(1).get(0), block(0), peers, avoid, new byte[32]);
        assertEquals(peers.get(1), at);
        assertTrue(avoid.contains(peers.get(0)));
        assertNull(placer(ticker).placeOne(cids(1).get(0), block(0), List.of(peers.get(0), peers.get(2)), avoid, new byte[32]));
    }

    @Test
    void pinsOfSecondCopies_andOfFailedUploads_areTakenBack() throws Exception {
        List<PeerId> peers = FakeHolders.peers(2);
        PinRelease release = new PinRelease(holders);
        List<Pin> pins = List.of(new Pin(peers.get(0), cids(1).get(0)), new Pin(peers.get(1), cids(1).get(0)));
        release.release(pins, "a failed upload");
        assertTrue(release.await(Duration.ofSeconds(10)));
        assertEquals(Set.copyOf(pins), Set.copyOf(holders.unpinned));
    }
}
