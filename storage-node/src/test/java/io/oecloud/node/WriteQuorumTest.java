package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.PeerId;
import io.oecloud.node.object.ManifestAccess;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.RepairService;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, "an upload survives a node dying under it": six storage nodes in one JVM, RS(4,2), 1 MiB
 * segments, so every segment needs all six. A node is lost at a chosen byte of an upload (its libp2p
 * side closes at once, as under kill -9: every connection drops and transfers to it fail); the
 * upload must still be acknowledged with its write quorum (k + 1 = 5), read back identical, and be
 * repaired to six shards per segment once the node is back. Uploads that fail, for too few nodes or
 * a body that breaks off, must leave no pins behind.
 */
@Timeout(300)
class WriteQuorumTest {
    @TempDir
    Path dir;

    private static final int NODES = 6;
    private TestNetwork net;
    private List<StorageNode> nodes;

    @BeforeEach
    void start() throws Exception {
        net = TestNetwork.start(dir, NODES);
        nodes = net.nodes();
    }

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    /** Reads {@code data}, calling {@code at} once when {@code offset} bytes have been read: the moment of a fault. */
    private static InputStream faultAt(byte[] data, long offset, Runnable at) {
        return new FilterInputStream(new ByteArrayInputStream(data)) {
            private long read;
            private boolean fired;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (!fired && read >= offset) {
                    fired = true;
                    at.run();
                }
                int want = fired ? len : (int) Math.min(len, Math.max(1, offset - read));
                int n = super.read(b, off, want);
                read += Math.max(0, n);
                return n;
            }

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }
        };
    }

    /** The first {@code good} bytes of {@code data}, then the IOException a client that goes away gives. */
    private static InputStream breaksOffAfter(byte[] data, int good) {
        return new FilterInputStream(new ByteArrayInputStream(data, 0, good)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n < 0) {
                    throw new IOException("the client went away");
                }
                return n;
            }

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }
        };
    }

    private static byte[] download(StorageNode n, Cid cid) throws Exception {
        return TestNetwork.read(n, cid);
    }

    private static int missing(Manifest m) {
        int missing = 0;
        for (Segment seg : m.getSegmentsList()) {
            for (Shard sh : seg.getShardsList()) {
                missing += sh.getHoldersCount() == 0 ? 1 : 0;
            }
        }
        return missing;
    }

    /**
     * For each segment, the live nodes that hold a good copy of each of its shards, as their stores
     * say (not the DHT, whose provider records arrive later). Whole: each of the six shards on its
     * own node.
     */
    private void assertWhole(Manifest m, String what) throws Exception {
        for (int s = 0; s < m.getSegmentsCount(); s++) {
            Segment seg = m.getSegments(s);
            Set<PeerId> nodesOfSegment = new HashSet<>();
            for (int i = 0; i < seg.getShardsCount(); i++) {
                Cid c = Cid.fromBytes(seg.getShards(i).getCid().toByteArray());
                boolean held = false;
                for (StorageNode n : net.live()) {
                    if (n.store.has(c)) {
                        held = true;
                        nodesOfSegment.add(n.p2p.host.peerId());
                    }
                }
                assertTrue(held, what + ": shard " + i + " of segment " + s + " is held by no node");
            }
            assertTrue(nodesOfSegment.size() >= seg.getShardsCount(), what + ": segment " + s + " sits on "
                    + nodesOfSegment.size() + " nodes");
        }
    }

    /** Shards and manifests on live nodes that {@code owner}'s key still pins. */
    private List<String> pinsOf(byte[] owner) throws Exception {
        List<String> out = new ArrayList<>();
        for (StorageNode n : net.live()) {
            for (StoredShard s : n.store.list()) {
                if (s.owners().stream().anyMatch(o -> Arrays.equals(o, owner))) {
                    out.add("node " + net.indexOf(n) + ": " + s.cid());
                }
            }
        }
        return out;
    }

    @Test
    void aNodeLostAtARandomMomentOfEachOf20Uploads_everyUploadIsAcknowledged_readsBackIdentical_andIsMadeWholeWhenItReturns()
            throws Exception {
        Random rnd = new Random(22);
        Map<Cid, byte[]> acknowledged = new LinkedHashMap<>();
        for (int round = 0; round < 20; round++) {
            int uploader = round % NODES;
            int victim = (uploader + 1 + rnd.nextInt(NODES - 1)) % NODES;
            byte[] data = new byte[(2 << 20) + rnd.nextInt(2 << 20)]; // 3 or 4 segments of 1 MiB
            rnd.nextBytes(data);
            long moment = rnd.nextInt(data.length);
            String what = "round " + round + " (node " + victim + " lost after " + moment + " of " + data.length + " bytes)";
            StorageNode up = nodes.get(uploader);
            double degradedBefore = ObjectNetworkTest.metric(up, "oe_uploads_degraded_total");
            Cid cid = up.objects.upload(faultAt(data, moment, () -> net.kill(victim)), null);
            assertEquals(degradedBefore + 1, ObjectNetworkTest.metric(up, "oe_uploads_degraded_total"), what + ": counted as degraded");
            acknowledged.put(cid, data);
            Manifest m = ManifestAccess.manifest(up.objects, cid);
            assertTrue(missing(m) >= 1, what + ": the manifest records the shards no node could take");
            assertTrue(missing(m) <= m.getSegmentsCount(), what + ": at most one shard is missing per segment");
            assertArrayEquals(data, download(nodes.get((victim + 1) % NODES), cid), what + ": reads back while the node is down");
            net.restart(victim);
            assertTrue(up.catchUp.awaitEmpty(Duration.ofSeconds(60)), what + ": repair caught up within 60 s");
            assertWhole(m, what);
            assertArrayEquals(data, download(nodes.get(victim), cid), what + ": reads back from the node that returned");
        }
        // the whole network stops and starts again on the same disks: everything reads back
        net.restartAll();
        int i = 0;
        for (Map.Entry<Cid, byte[]> e : acknowledged.entrySet()) {
            assertArrayEquals(e.getValue(), download(nodes.get(i++ % NODES), e.getKey()), "after a full restart: " + e.getKey());
        }
    }

    @Test
    void anUploadThatCannotReachItsWriteQuorum_failsPromptlyWithTheCounts_andLeavesNoPins() throws Exception {
        net.kill(4);
        net.kill(5);
        byte[] data = new byte[3 << 20];
        new Random(23).nextBytes(data);
        StorageNode up = nodes.get(0);
        long t0 = System.nanoTime();
        ObjectException e = assertThrows(ObjectException.class, () -> up.objects.upload(new ByteArrayInputStream(data), null));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertEquals(ObjectException.Code.PLACEMENT_FAILED, e.code());
        assertTrue(e.getMessage().contains("placed 4 of 6 shards, 5 needed (write quorum)"), e.getMessage());
        assertTrue(e.getMessage().contains("6 nodes known, every one tried; 2 failed"), e.getMessage());
        assertTrue(seconds < 20, "failed after " + seconds + " s");
        assertTrue(up.objects.awaitReleases(Duration.ofSeconds(60)));
        assertEquals(List.of(), pinsOf(up.p2p.host.identity().publicKey()), "the failed upload's shards are unpinned");
    }

    @Test
    void anUploadWhoseBodyBreaksOff_afterSegmentsWerePlaced_leavesNoPins() throws Exception {
        byte[] data = new byte[(3 << 20) + (1 << 19)];
        new Random(24).nextBytes(data);
        StorageNode up = nodes.get(2);
        IOException e = assertThrows(IOException.class, () -> up.objects.upload(breaksOffAfter(data, data.length - 1000), null));
        assertEquals("the client went away", e.getMessage());
        assertTrue(up.objects.awaitReleases(Duration.ofSeconds(60)));
        assertEquals(List.of(), pinsOf(up.p2p.host.identity().publicKey()), "the aborted upload's shards are unpinned");
        assertEquals(0, up.catchUp.size(), "nothing of it is queued for repair");
        // the same bytes, whole this time, upload and read back (unpinning took only the aborted upload's pins)
        Cid cid = up.objects.upload(new ByteArrayInputStream(data), null);
        assertArrayEquals(data, download(nodes.get(5), cid));
    }

    @Test
    void aSegmentThatRecordsAMissingShard_isRepairedByThePeriodicPass_evenWithRZero() throws Exception {
        StorageNode up = nodes.get(0);
        up.catchUp.close(); // only the periodic pass acts here
        byte[] data = new byte[(2 << 20) + 5];
        new Random(25).nextBytes(data);
        net.kill(3);
        Cid cid = up.objects.upload(new ByteArrayInputStream(data), null);
        Manifest m = ManifestAccess.manifest(up.objects, cid);
        assertEquals(m.getSegmentsCount(), missing(m), "one shard of each segment had nowhere to go");
        net.restart(3);
        // r = 0 would leave a segment with 5 of 6 healthy shards alone; one that was never whole is not
        int rebuilt = 0;
        for (int i = 0; i < NODES; i++) {
            rebuilt += new RepairService(nodes.get(i).objects, 0).repairOnce().shards();
        }
        assertEquals(m.getSegmentsCount(), rebuilt, "each missing shard rebuilt once");
        assertWhole(m, "after the pass");
        assertArrayEquals(data, download(nodes.get(4), cid));
    }
}
