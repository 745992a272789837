package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.node.object.ManifestAccess;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.RepairService;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayInputStream;
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

    private TestNetwork net;

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

    /** Loses {@code n} (it stops whole) and leaves it out of {@code net.live()}. */
    private void lose(StorageNode n) {
        net.stop(net.indexOf(n));
    }

    @Test
    void twoLostHolders_areRebuiltOnNewNodes_soAThirdLossIsSurvived() throws Exception {
        byte[] data = new byte[(1 << 20) - 1000]; // one segment
        new Random(11).nextBytes(data);
        StorageNode uploader = net.get(0);
        Cid cid = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, cid).getSegments(0);

        // lose two holders (never the uploader, which also keeps a manifest copy)
        List<StorageNode> victims = new ArrayList<>();
        for (int i = 0; i < 6 && victims.size() < 3; i++) {
            StorageNode v = net.holderOf(seg.getShards(i).getHolders(0));
            if (v != uploader) {
                victims.add(v);
            }
        }
        lose(victims.get(0));
        lose(victims.get(1));

        int rebuilt = 0;
        for (StorageNode n : net.live()) {
            rebuilt += new RepairService(n.objects, 1).repairOnce().shards();
        }
        assertEquals(2, rebuilt, "exactly the two lost shards are rebuilt, once");
        for (StorageNode n : net.live()) {
            assertEquals(new RepairService.Repaired(0, 0), new RepairService(n.objects, 1).repairOnce(),
                    "a healthy segment and enough manifest copies need nothing");
        }
        long copies = net.live().stream().filter(n -> {
            try {
                return n.store.has(cid);
            } catch (Exception e) {
                return false;
            }
        }).count();
        assertTrue(copies >= 3, "the manifest is on 3 live nodes again, was on " + copies);

        // a third original holder goes: without the repair only 3 of 6 would remain
        lose(victims.get(2));
        StorageNode reader = net.live().stream().filter(n -> n != uploader).findFirst().orElseThrow();
        assertArrayEquals(data, TestNetwork.read(reader, cid));
        assertTrue(ManifestAccess.manifest(reader.objects, cid).getSegmentsCount() == 1);
    }

    @Test
    void belowK_repairReportsAndDoesNothing() throws Exception {
        byte[] data = new byte[500_000];
        new Random(12).nextBytes(data);
        StorageNode uploader = net.get(0);
        Cid cid = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, cid).getSegments(0);
        List<StorageNode> victims = new ArrayList<>();
        for (int i = 0; i < 6 && victims.size() < 3; i++) {
            StorageNode v = net.holderOf(seg.getShards(i).getHolders(0));
            if (v != uploader) {
                victims.add(v);
            }
        }
        victims.forEach(this::lose);
        assertEquals(0, new RepairService(uploader.objects, 1).repairOnce().shards());
        ObjectException e = org.junit.jupiter.api.Assertions.assertThrows(ObjectException.class, () -> TestNetwork.read(uploader, cid));
        assertEquals(ObjectException.Code.NOT_ENOUGH_SHARDS, e.code());
    }

    @Test
    void deletedObjects_areNotRepaired() throws Exception {
        byte[] data = new byte[600_000];
        new Random(13).nextBytes(data);
        StorageNode uploader = net.get(0);
        Cid cid = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, cid).getSegments(0);
        uploader.objects.unpin(cid);
        StorageNode first = net.holderOf(seg.getShards(0).getHolders(0));
        lose(first != uploader ? first : net.holderOf(seg.getShards(1).getHolders(0)));
        for (StorageNode n : net.live()) {
            assertEquals(0, new RepairService(n.objects, 1).repairOnce().shards(), "nothing is rebuilt for a deleted object");
        }
    }
}
