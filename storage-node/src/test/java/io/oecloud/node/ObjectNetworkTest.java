package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Six storage nodes in one JVM on loopback, real stores on disk: upload, download, lose nodes. */
@Timeout(180)
class ObjectNetworkTest {
    @TempDir
    Path dir;

    private final List<StorageNode> nodes = new ArrayList<>();
    private final ObjectService.Config config = new ObjectService.Config(4, 2, 1 << 20, 64 * 1024, 3);

    @BeforeEach
    void start() throws Exception {
        PrintWriter quiet = new PrintWriter(new StringWriter());
        for (int i = 0; i < 6; i++) {
            StorageNode n = StorageNode.start(Identity.generate(), List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")),
                    dir.resolve("node" + i), 1L << 30, config);
            if (!nodes.isEmpty()) {
                StorageNode first = nodes.get(0);
                n.p2p.bootstrap(List.of(first.p2p.host.listenAddresses().get(0).withPeerId(first.p2p.host.peerId())), quiet);
            }
            nodes.add(n);
        }
        for (StorageNode n : nodes) { // everyone connects to everyone (a devnet is small)
            for (StorageNode o : nodes) {
                if (n != o) {
                    n.p2p.host.dial(o.p2p.host.listenAddresses().get(0).withPeerId(o.p2p.host.peerId())).get();
                    n.p2p.host.identified(n.p2p.host.connection(o.p2p.host.peerId())).get();
                }
            }
        }
    }

    @AfterEach
    void stop() {
        nodes.forEach(StorageNode::close);
    }

    private byte[] download(StorageNode n, Cid cid) throws Exception {
        Manifest m = n.objects.manifest(cid);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        n.objects.download(m, 0, m.getSize(), out);
        return out.toByteArray();
    }

    @Test
    void upload_spreadsShardsOverSixNodes_andAnyNodeDownloadsTheSameBytes() throws Exception {
        byte[] data = new byte[5 * (1 << 20) + 123];
        new Random(1).nextBytes(data);
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(data), "application/x-test");
        assertEquals(ContentCodec.MANIFEST, cid.codec());
        Manifest m = nodes.get(3).objects.manifest(cid);
        assertEquals(data.length, m.getSize());
        assertEquals("application/x-test", m.getContentType());
        assertEquals(6, m.getSegmentsCount());
        for (var seg : m.getSegmentsList()) {
            Set<String> holders = new HashSet<>();
            seg.getShardsList().forEach(s -> holders.add(java.util.HexFormat.of().formatHex(s.getHolders(0).toByteArray())));
            assertEquals(6, holders.size(), "the 6 shards of a segment sit on 6 distinct nodes");
        }
        assertArrayEquals(data, download(nodes.get(4), cid));
        ByteArrayOutputStream part = new ByteArrayOutputStream();
        nodes.get(5).objects.download(m, 1_500_000, 3_200_001, part);
        assertArrayEquals(Arrays.copyOfRange(data, 1_500_000, 3_200_001), part.toByteArray());
    }

    @Test
    void anyTwoNodesDown_stillDownloads_threeDown_failsWithTheCounts() throws Exception {
        byte[] data = new byte[3 * (1 << 20)];
        new Random(2).nextBytes(data);
        Cid cid = nodes.get(1).objects.upload(new ByteArrayInputStream(data), null);
        Manifest m = nodes.get(0).objects.manifest(cid);
        nodes.get(2).close();
        nodes.get(5).close();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        nodes.get(0).objects.download(m, 0, m.getSize(), out);
        assertArrayEquals(data, out.toByteArray());
        nodes.get(3).close();
        ObjectException e = assertThrows(ObjectException.class,
                () -> nodes.get(0).objects.download(m, 0, m.getSize(), new ByteArrayOutputStream()));
        assertEquals(ObjectException.Code.NOT_ENOUGH_SHARDS, e.code());
        assertTrue(e.getMessage().contains("3 of its shards were found, 4 are needed"), e.getMessage());
    }

    @Test
    void smallObjects_liveInsideTheirManifest() throws Exception {
        byte[] small = "a small object".getBytes();
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(small), "text/plain");
        Manifest m = nodes.get(2).objects.manifest(cid);
        assertEquals(0, m.getSegmentsCount());
        assertArrayEquals(small, download(nodes.get(2), cid));
    }

    @Test
    void unknownObjects_andBadRanges_areRefusedClearly() throws Exception {
        Cid absent = Cid.compute(ContentCodec.MANIFEST, io.oecloud.proofs.HashFunction.BLAKE3, new byte[] {1});
        assertEquals(ObjectException.Code.NOT_FOUND,
                assertThrows(ObjectException.class, () -> nodes.get(0).objects.manifest(absent)).code());
        Cid raw = Cid.raw(new byte[] {1});
        assertEquals(ObjectException.Code.NOT_FOUND,
                assertThrows(ObjectException.class, () -> nodes.get(0).objects.manifest(raw)).code());
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(new byte[100_000]), null);
        Manifest m = nodes.get(1).objects.manifest(cid);
        assertEquals(ObjectException.Code.BAD_RANGE, assertThrows(ObjectException.class,
                () -> nodes.get(1).objects.download(m, 10, 100_001, new ByteArrayOutputStream())).code());
    }
}
