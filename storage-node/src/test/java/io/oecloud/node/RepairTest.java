package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.node.object.ManifestAccess;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.object.ObjectView;
import io.oecloud.node.object.RepairService;
import io.oecloud.node.pb.ManifestProto.Segment;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Eight nodes, RS(4,2): lose two holders, repair, lose a third, still read. */
@Timeout(180)
class RepairTest {
    @TempDir
    Path dir;

    private final List<StorageNode> nodes = new ArrayList<>();
    private final ObjectService.Config config = new ObjectService.Config(4, 2, 1 << 20, 64 * 1024, 3);

    @BeforeEach
    void start() throws Exception {
        PrintWriter quiet = new PrintWriter(new StringWriter());
        for (int i = 0; i < 8; i++) {
            StorageNode n = StorageNode.start(Identity.generate(), List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")),
                    dir.resolve("n" + i), 1L << 30, config);
            List<Multiaddr> boot = new ArrayList<>();
            for (StorageNode o : nodes) {
                boot.add(o.p2p.host.listenAddresses().get(0).withPeerId(o.p2p.host.peerId()));
            }
            n.p2p.bootstrap(boot, quiet);
            nodes.add(n);
        }
        for (StorageNode n : nodes) {
            for (StorageNode o : nodes) {
                if (n != o) {
                    n.p2p.host.identified(n.p2p.host.dial(o.p2p.host.listenAddresses().get(0).withPeerId(o.p2p.host.peerId())).get()).get();
                }
            }
        }
    }

    @AfterEach
    void stop() {
        nodes.forEach(StorageNode::close);
    }

    private StorageNode nodeOf(Segment seg, int shard) {
        PeerId p = PeerId.fromBytes(seg.getShards(shard).getHolders(0).toByteArray());
        return nodes.stream().filter(n -> n.p2p.host.peerId().equals(p)).findFirst().orElseThrow();
    }

    private byte[] read(StorageNode n, Cid cid) throws Exception {
        ObjectView v = n.objects.stat(cid);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        n.objects.read(v, ObjectStore.ByteSpan.all(v.size()), out);
        return out.toByteArray();
    }

    @Test
    void twoLostHolders_areRebuiltOnNewNodes_soAThirdLossIsSurvived() throws Exception {
        byte[] data = new byte[(1 << 20) - 1000]; // one segment
        new Random(11).nextBytes(data);
        StorageNode uploader = nodes.get(0);
        Cid cid = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, cid).getSegments(0);

        // lose two holders (never the uploader, which also keeps a manifest copy)
        List<StorageNode> victims = new ArrayList<>();
        for (int i = 0; i < 6 && victims.size() < 3; i++) {
            StorageNode v = nodeOf(seg, i);
            if (v != uploader) {
                victims.add(v);
            }
        }
        victims.get(0).close();
        victims.get(1).close();
        nodes.removeAll(victims.subList(0, 2));

        int rebuilt = 0;
        for (StorageNode n : nodes) {
            rebuilt += new RepairService(n.objects, 1).repairOnce().shards();
        }
        assertEquals(2, rebuilt, "exactly the two lost shards are rebuilt, once");
        for (StorageNode n : nodes) {
            assertEquals(new RepairService.Repaired(0, 0), new RepairService(n.objects, 1).repairOnce(),
                    "a healthy segment and enough manifest copies need nothing");
        }
        long copies = nodes.stream().filter(n -> {
            try {
                return n.store.has(cid);
            } catch (Exception e) {
                return false;
            }
        }).count();
        assertTrue(copies >= 3, "the manifest is on 3 live nodes again, was on " + copies);

        // a third original holder goes: without the repair only 3 of 6 would remain
        victims.get(2).close();
        nodes.remove(victims.get(2));
        StorageNode reader = nodes.stream().filter(n -> n != uploader).findFirst().orElseThrow();
        assertArrayEquals(data, read(reader, cid));
        assertTrue(ManifestAccess.manifest(reader.objects, cid).getSegmentsCount() == 1);
    }

    @Test
    void belowK_repairReportsAndDoesNothing() throws Exception {
        byte[] data = new byte[500_000];
        new Random(12).nextBytes(data);
        StorageNode uploader = nodes.get(0);
        Cid cid = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, cid).getSegments(0);
        List<StorageNode> victims = new ArrayList<>();
        for (int i = 0; i < 6 && victims.size() < 3; i++) {
            StorageNode v = nodeOf(seg, i);
            if (v != uploader) {
                victims.add(v);
            }
        }
        victims.forEach(StorageNode::close);
        nodes.removeAll(victims);
        assertEquals(0, new RepairService(uploader.objects, 1).repairOnce().shards());
        ObjectException e = org.junit.jupiter.api.Assertions.assertThrows(ObjectException.class, () -> read(uploader, cid));
        assertEquals(ObjectException.Code.NOT_ENOUGH_SHARDS, e.code());
    }

    @Test
    void deletedObjects_areNotRepaired() throws Exception {
        byte[] data = new byte[600_000];
        new Random(13).nextBytes(data);
        StorageNode uploader = nodes.get(0);
        Cid cid = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, cid).getSegments(0);
        uploader.objects.unpin(cid);
        StorageNode victim = nodeOf(seg, 0) != uploader ? nodeOf(seg, 0) : nodeOf(seg, 1);
        victim.close();
        nodes.remove(victim);
        for (StorageNode n : nodes) {
            assertEquals(0, new RepairService(n.objects, 1).repairOnce().shards(), "nothing is rebuilt for a deleted object");
        }
    }
}
