package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.dht.PeerId;
import io.oecloud.node.object.HolderRecords;
import io.oecloud.node.object.ManifestAccess;
import io.oecloud.node.object.RepairService;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chain's fault lists reach repair and its records placement, through {@link HolderRecords}
 * (a fake here: what the chain would say), on eight real nodes in this JVM, RS(4,2).
 */
@Timeout(180)
class ChainFaultRepairTest {
    @TempDir
    Path dir;

    private TestNetwork net;

    /** What the "chain" says: holders suspect of every block, of some CIDs, and standings. */
    private static final class Records implements HolderRecords {
        final Set<PeerId> missed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final Map<PeerId, Set<Cid>> declared = new java.util.concurrent.ConcurrentHashMap<>();
        final Map<PeerId, Standing> standing = new java.util.concurrent.ConcurrentHashMap<>();
        volatile long generation;

        @Override
        public boolean suspect(PeerId peer, Cid cid) {
            return missed.contains(peer) || declared.getOrDefault(peer, Set.of()).contains(cid);
        }

        @Override
        public boolean suspectOfAny(PeerId peer) {
            return missed.contains(peer) || declared.containsKey(peer);
        }

        @Override
        public Standing standing(PeerId peer) {
            return standing.getOrDefault(peer, Standing.UNKNOWN);
        }

        @Override
        public long generation() {
            return generation;
        }
    }

    @BeforeEach
    void start() throws Exception {
        net = TestNetwork.start(dir, 8);
    }

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    private static PeerId peer(StorageNode n) {
        return n.p2p.host.peerId();
    }

    /** Nodes holding {@code cid} in their store. */
    private Set<StorageNode> holding(Cid cid) {
        Set<StorageNode> out = new HashSet<>();
        for (StorageNode n : net.live()) {
            try {
                if (n.store.has(cid)) {
                    out.add(n);
                }
            } catch (Exception e) {
                // not held
            }
        }
        return out;
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void awaitTrue(Check c, int seconds, String what) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (!c.ok()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + seconds + " s: " + what);
            }
            Thread.sleep(100);
        }
    }

    private double chainRebuilt() {
        return net.live().stream().mapToDouble(n -> n.metrics.counter("oe_repair_chain_rebuilt").count()).sum();
    }

    @Test
    void aHolderTheChainCaught_isNotCounted_thoughItAnswersHas_andItsShardIsRebuiltOnAnotherNode() throws Exception {
        byte[] data = new byte[(1 << 20) - 1000]; // one segment
        new Random(24).nextBytes(data);
        StorageNode uploader = net.get(0);
        Cid object = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, object).getSegments(0);
        int lostIndex = -1;
        StorageNode liar = null;
        for (int i = 0; i < seg.getShardsCount() && liar == null; i++) {
            StorageNode h = net.holderOf(seg.getShards(i).getHolders(0));
            if (h != uploader) {
                liar = h;
                lostIndex = i;
            }
        }
        Cid lost = Cid.fromBytes(seg.getShards(lostIndex).getCid().toByteArray());
        // the liar still holds the file and answers HAS: without the chain, nothing is wrong
        for (StorageNode n : net.live()) {
            RepairService r = new RepairService(n.objects, 1);
            assertEquals(0, r.repairOnce().shards(), "without the chain every holder answers HAS: nothing to rebuild");
            assertTrue(r.chainFaulted().isEmpty());
        }
        assertEquals(6, uploader.objects.health(object).weakest());

        // the chain says the liar missed its window (its whole root is suspect)
        Records chain = new Records();
        chain.missed.add(peer(liar));
        chain.generation = 1;
        for (StorageNode n : net.live()) {
            n.followChain(chain);
        }
        assertEquals(5, uploader.objects.health(object).weakest(), "the caught holder is not counted, though it answers HAS");
        Set<StorageNode> before = new HashSet<>();
        for (Shard sh : seg.getShardsList()) {
            for (ByteString h : sh.getHoldersList()) {
                before.add(net.holderOf(h));
            }
        }
        int queued = 0;
        for (StorageNode n : net.live()) {
            RepairService r = new RepairService(n.objects, 1);
            for (Cid c : r.chainFaulted()) {
                queued++;
                assertEquals(RepairService.Shortfall.NONE, r.chainCatchUp(c, null), "whole after one attempt, or another node acts");
            }
        }
        assertEquals(3, queued, "each of the manifest's 3 holders finds it");
        assertEquals(1.0, chainRebuilt(), 0.0, "one node acts: the shard is rebuilt once");
        Set<StorageNode> now = holding(lost);
        now.remove(liar);
        assertEquals(1, now.size(), "the lost shard is on exactly one other node");
        StorageNode newHolder = now.iterator().next();
        assertFalse(before.contains(newHolder), "a node holding no other shard of the segment took it");
        awaitTrue(() -> uploader.objects.health(object).weakest() == 6, 30,
                "6 healthy shards, the caught holder not among them (the new one found through the DHT)");

        // a second look finds nothing to do; the object reads whole without the liar
        for (StorageNode n : net.live()) {
            RepairService r = new RepairService(n.objects, 1);
            for (Cid c : r.chainFaulted()) {
                r.chainCatchUp(c, null);
            }
        }
        assertEquals(1.0, chainRebuilt(), 0.0, "nothing rebuilt twice");
        net.kill(net.indexOf(liar));
        assertArrayEquals(data, TestNetwork.read(net.get(net.indexOf(uploader)), object));
    }

    @Test
    void aDeclaredCid_makesItsHolderSuspectOfThatShardOnly() throws Exception {
        byte[] data = new byte[700_000];
        new Random(25).nextBytes(data);
        StorageNode uploader = net.get(0);
        Cid object = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, object).getSegments(0);
        Records chain = new Records();
        StorageNode holder = null;
        for (int i = 0; i < seg.getShardsCount() && holder == null; i++) {
            StorageNode h = net.holderOf(seg.getShards(i).getHolders(0));
            if (h != uploader) {
                holder = h;
                chain.declared.put(peer(h), Set.of(Cid.fromBytes(seg.getShards(i).getCid().toByteArray())));
            }
        }
        chain.generation = 1;
        for (StorageNode n : net.live()) {
            n.followChain(chain);
        }
        assertEquals(5, uploader.objects.health(object).weakest());
        for (StorageNode n : net.live()) {
            n.chainRecordsChanged(chain); // as the chain link calls it after a read: queued, repaired at once
        }
        awaitTrue(() -> chainRebuilt() == 1.0, 60, "the declared shard rebuilt by the chain's repair queue");
        awaitTrue(() -> uploader.objects.health(object).weakest() == 6, 30, "whole again");
        awaitTrue(() -> net.live().stream().allMatch(n -> n.chainRepairs.size() == 0), 30, "the queues empty");
    }

    @Test
    void placement_prefersCleanRegisteredNodes_thenRegisteredWithARecord_thenUnregistered() throws Exception {
        Records chain = new Records();
        List<StorageNode> all = net.live();
        Set<PeerId> clean = new HashSet<>();
        for (int i : new int[] {0, 2, 4, 6, 7}) {
            chain.standing.put(peer(all.get(i)), HolderRecords.Standing.CLEAN);
            clean.add(peer(all.get(i)));
        }
        chain.standing.put(peer(all.get(1)), HolderRecords.Standing.RECORD); // 3 and 5: not registered
        for (StorageNode n : all) {
            n.followChain(chain);
        }
        for (int round = 0; round < 3; round++) {
            byte[] data = new byte[300_000];
            new Random(26 + round).nextBytes(data);
            Cid object = all.get(round).objects.upload(new ByteArrayInputStream(data), null);
            Segment seg = ManifestAccess.manifest(all.get(0).objects, object).getSegments(0);
            Map<PeerId, Integer> shards = new HashMap<>();
            for (Shard sh : seg.getShardsList()) {
                shards.merge(PeerId.fromBytes(sh.getHolders(0).toByteArray()), 1, Integer::sum);
            }
            Set<PeerId> want = new HashSet<>(clean);
            want.add(peer(all.get(1)));
            assertEquals(want, shards.keySet(), "the 5 clean nodes and the registered one with a record, never the unregistered");
        }
    }

    @Test
    void withOnlyTheCaughtNodeLeft_itGetsTheShardBack_butNotAgainWhileItHoldsIt() throws Exception {
        net.close();
        net = TestNetwork.start(dir.resolve("six"), 6); // RS(4,2): every node holds a shard of the segment
        byte[] data = new byte[600_000];
        new Random(27).nextBytes(data);
        StorageNode uploader = net.get(0);
        Cid object = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, object).getSegments(0);
        StorageNode caught = null;
        Cid shard = null;
        for (int i = 0; i < seg.getShardsCount() && caught == null; i++) {
            StorageNode h = net.holderOf(seg.getShards(i).getHolders(0));
            if (h != uploader) {
                caught = h;
                shard = Cid.fromBytes(seg.getShards(i).getCid().toByteArray());
            }
        }
        Records chain = new Records();
        chain.missed.add(peer(caught));
        chain.generation = 1;
        for (StorageNode n : net.live()) {
            n.followChain(chain);
        }
        // it still holds its shard: the only place left for it, which has it, so nothing is fetched or placed
        boolean stillShort = false;
        for (StorageNode n : net.live()) {
            RepairService r = new RepairService(n.objects, 1);
            for (Cid c : r.chainFaulted()) {
                stillShort |= !r.chainCatchUp(c, null).none();
            }
        }
        assertTrue(stillShort, "the acting node keeps the segment to look at again (the caught copy is not counted)");
        assertEquals(0.0, chainRebuilt(), 0.0, "not rebuilt onto the node that holds it");
        // its copy is really lost: the caught node, the last resort, gets it back
        assertTrue(caught.store.delete(shard));
        for (StorageNode n : net.live()) {
            RepairService r = new RepairService(n.objects, 1);
            for (Cid c : r.chainFaulted()) {
                r.chainCatchUp(c, null);
            }
        }
        assertEquals(1.0, chainRebuilt(), 0.0);
        assertTrue(caught.store.has(shard), "rebuilt onto the only node without a shard of the segment");
    }
}
