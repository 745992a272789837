package io.oecloud.node.object;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NodeShardHolders} sends this node's own peer ID to its store. There is no shard client
 * here (null): a call that reached the network would fail the test.
 */
class NodeShardHoldersTest {
    @TempDir
    Path dir;

    private final Identity me = Identity.generate();
    private final byte[] block = "a shard".getBytes();
    private final Cid cid = Cid.raw(block);
    private final List<Cid> announced = new CopyOnWriteArrayList<>();
    private final ExecutorService io = Executors.newFixedThreadPool(2);
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final Troubled troubled = new Troubled(Ticker.systemTicker(), metrics);
    private ShardStore store;
    private NodeShardHolders holders;

    @BeforeEach
    void open() throws Exception {
        store = ShardStore.open(dir, 1L << 30);
        holders = new NodeShardHolders(me.peerId(), store, null, me.publicKey(), io, announced::add, troubled);
    }

    @AfterEach
    void close() {
        io.shutdownNow();
        store.close();
    }

    private boolean pinnedBy(byte[] key) throws StoreException {
        return store.metadata(cid).owners().stream().anyMatch(o -> Arrays.equals(o, key));
    }

    @Test
    void thisNodesPeerId_reachesItsStore_forPutGetHasAndUnpin() throws Exception {
        holders.put(me.peerId(), cid, block).get(10, TimeUnit.SECONDS);
        assertTrue(pinnedBy(me.publicKey()), "pinned by this node's key");
        // announced on the store's thread just after the put's future completes: waited for, briefly
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); announced.isEmpty() && System.nanoTime() < end; ) {
            Thread.sleep(1);
        }
        assertEquals(List.of(cid), announced, "announced once stored");
        assertArrayEquals(block, holders.get(me.peerId(), cid).get(10, TimeUnit.SECONDS));
        assertArrayEquals(block, holders.find(me.peerId(), cid).get(10, TimeUnit.SECONDS));
        assertTrue(holders.has(me.peerId(), cid).get(10, TimeUnit.SECONDS));
        assertTrue(holders.unpin(me.peerId(), cid).get(10, TimeUnit.SECONDS));
        assertFalse(holders.unpin(me.peerId(), cid).get(10, TimeUnit.SECONDS), "no pin left");
    }

    @Test
    void anyAnswers_withThisNodeAmongThePeers_isTrue_withoutAskingAnyone() throws Exception {
        List<PeerId> others = List.of(Identity.generate().peerId(), me.peerId());
        assertTrue(holders.anyAnswers(others, cid).get(1, TimeUnit.SECONDS));
        assertFalse(holders.anyAnswers(List.of(), cid).get(1, TimeUnit.SECONDS));
    }

    @Test
    void putRebuilt_onThisNode_isPinnedForTheObjectsOwner_andCheckedAgainstItsCid() throws Exception {
        byte[] owner = Identity.generate().publicKey();
        holders.putRebuilt(me.peerId(), cid, block, owner).get(10, TimeUnit.SECONDS);
        assertTrue(pinnedBy(owner));
        assertFalse(pinnedBy(me.publicKey()));
        byte[] wrong = "another shard".getBytes();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> holders.putRebuilt(me.peerId(), Cid.raw("x".getBytes()), wrong, owner).get(10, TimeUnit.SECONDS));
        assertInstanceOf(StoreException.class, e.getCause());
        assertEquals(StoreException.Code.CID_MISMATCH, ((StoreException) e.getCause()).code());
    }

    @Test
    void aGetThatThisNodesStoreFails_countsNothingAgainstIt() {
        assertThrows(ExecutionException.class, () -> holders.get(me.peerId(), cid).get(10, TimeUnit.SECONDS));
        assertFalse(troubled.test(me.peerId()));
        assertEquals(0.0, metrics.counter("oe_shard_failed_gets").count());
    }
}
