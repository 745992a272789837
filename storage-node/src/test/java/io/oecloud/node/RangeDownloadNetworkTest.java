package io.oecloud.node;

import static io.oecloud.node.ObjectNetworkTest.metric;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.PeerId;
import io.oecloud.node.object.ManifestAccess;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.object.ObjectStore.ByteSpan;
import io.oecloud.node.object.ObjectView;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.node.shard.FaultyShardServers;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Range downloads over six nodes on loopback with 8 MiB segments at RS(4,2) (2 MiB shards): a
 * small range moves verified slices of the data shards holding it, not k whole shards, and falls
 * back to whole shards when a slice cannot be had.
 */
@Timeout(180)
class RangeDownloadNetworkTest {
    private static final int MIB = 1 << 20;
    /** RS(4,2), 8 MiB segments: the production shape of a segment. */
    private static final ObjectService.Config CONFIG = new ObjectService.Config(4, 2, 8 * MIB, 64 * 1024, 3);

    @TempDir
    Path dir;

    private TestNetwork net;
    private byte[] data;
    private Cid cid;
    private Manifest manifest;

    @BeforeEach
    void start() throws Exception {
        net = TestNetwork.start(dir, 6, CONFIG);
        data = new byte[16 * MIB];
        new Random(24).nextBytes(data);
        cid = net.get(0).objects.upload(new ByteArrayInputStream(data), null);
        manifest = ManifestAccess.manifest(net.get(0).objects, cid);
    }

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    private byte[] read(StorageNode n, long from, long to) throws Exception {
        ObjectView v = n.objects.stat(cid);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        n.objects.read(v, new ByteSpan(from, to), out);
        return out.toByteArray();
    }

    /** The node holding segment {@code seg}'s data shard {@code shard}. */
    private StorageNode holder(int seg, int shard) {
        PeerId id = PeerId.fromBytes(manifest.getSegments(seg).getShards(shard).getHolders(0).toByteArray());
        return net.nodes().stream().filter(n -> n.p2p.host.peerId().equals(id)).findFirst().orElseThrow();
    }

    private StorageNode anyBut(StorageNode not) {
        return net.nodes().stream().filter(n -> n != not).findFirst().orElseThrow();
    }

    private record Moved(double shardBytes, double sliceBytes, double slices, double fallbacks) {
        static Moved of(StorageNode n) {
            return new Moved(metric(n, "oe_segment_shard_bytes_total"), metric(n, "oe_segment_slice_bytes_total"),
                    metric(n, "oe_segment_slices_total"), metric(n, "oe_segment_slice_fallbacks_total"));
        }

        Moved minus(Moved o) {
            return new Moved(shardBytes - o.shardBytes, sliceBytes - o.sliceBytes, slices - o.slices, fallbacks - o.fallbacks);
        }
    }

    @Test
    void aFewKiBOfA16MiBObject_moveAsVerifiedSlices_notWholeShards() throws Exception {
        StorageNode reader = net.get(5);
        long[][] ranges = {
            {3L * MIB + 100, 3L * MIB + 100 + 4096}, // inside data shard 1 of segment 0
            {2L * MIB - 2000, 2L * MIB + 2096}, // across data shards 0 and 1
            {8L * MIB + 6 * MIB + 5, 8L * MIB + 6 * MIB + 5 + 4096}, // segment 1, data shard 3
            {16L * MIB - 4096, 16L * MIB}, // the object's last bytes
            {5L * MIB, 5L * MIB + MIB + 300_000}, // 1.3 MiB (under a quarter of the segment): two slices
        };
        for (long[] r : ranges) {
            Moved before = Moved.of(reader);
            long t0 = System.nanoTime();
            byte[] got = read(reader, r[0], r[1]);
            long micros = (System.nanoTime() - t0) / 1000;
            Moved d = Moved.of(reader).minus(before);
            assertArrayEquals(Arrays.copyOfRange(data, (int) r[0], (int) r[1]), got, "bytes " + r[0] + "-" + r[1]);
            System.out.printf("range %d-%d (%d bytes): %.0f slice bytes in %.0f slices, %.0f whole-shard bytes, %d µs%n",
                    r[0], r[1], r[1] - r[0], d.sliceBytes(), d.slices(), d.shardBytes(), micros);
            assertEquals(0, d.shardBytes(), "no whole shard was fetched");
            assertEquals(0, d.fallbacks());
            assertTrue(d.sliceBytes() >= r[1] - r[0] && d.sliceBytes() <= r[1] - r[0] + 2 * 1024 * d.slices(),
                    "the chunks holding the range, and no more: " + d);
        }
        Moved before = Moved.of(reader);
        long t0 = System.nanoTime();
        assertArrayEquals(Arrays.copyOfRange(data, 0, 8 * MIB), read(reader, 0, 8 * MIB));
        Moved whole = Moved.of(reader).minus(before);
        System.out.printf("range 0-%d (a whole segment): %.0f whole-shard bytes, %.0f slice bytes, %d µs%n", 8 * MIB,
                whole.shardBytes(), whole.sliceBytes(), (System.nanoTime() - t0) / 1000);
        assertTrue(whole.shardBytes() >= 8 * MIB && whole.sliceBytes() == 0, "a whole segment comes as whole shards: " + whole);
    }

    /**
     * Times ranges of growing length both ways (slices forced, whole shards forced), best of three,
     * to place {@code Download.SLICE_FRACTION}; checks only the bytes.
     */
    @Test
    void rangesOfGrowingLength_readBothWays_giveTheSameBytes_andTheirTimesArePrinted() throws Exception {
        StorageNode reader = net.get(4);
        for (int len : new int[] {4096, 256 * 1024, MIB, 2 * MIB, 4 * MIB, 8 * MIB}) {
            long from = 8L * MIB; // segment 1 from its start
            byte[] want = Arrays.copyOfRange(data, (int) from, (int) from + len);
            long[] best = {Long.MAX_VALUE, Long.MAX_VALUE};
            for (int round = 0; round < 3; round++) {
                for (int way = 0; way < 2; way++) {
                    try (AutoCloseable seam = io.oecloud.node.object.DownloadSeams.sliceFraction(way == 0 ? 1 : -1)) {
                        long t0 = System.nanoTime();
                        assertArrayEquals(want, read(reader, from, from + len));
                        best[way] = Math.min(best[way], System.nanoTime() - t0);
                    }
                }
            }
            System.out.printf("range of %d bytes of an 8 MiB segment: slices %.1f ms, whole shards %.1f ms%n",
                    len, best[0] / 1e6, best[1] / 1e6);
        }
    }

    @Test
    void aDataShardsHolderDown_theRangeFallsBackToWholeShards_andReadsRight() throws Exception {
        StorageNode down = holder(0, 1);
        StorageNode reader = anyBut(down);
        net.stop(net.nodes().indexOf(down));
        Moved before = Moved.of(reader);
        long from = 3L * MIB + 100;
        assertArrayEquals(Arrays.copyOfRange(data, (int) from, (int) from + 4096), read(reader, from, from + 4096));
        Moved d = Moved.of(reader).minus(before);
        assertEquals(1, d.fallbacks(), d.toString());
        assertTrue(d.shardBytes() >= 4 * 2 * MIB, "k whole shards: " + d);
    }

    @Test
    void aHolderAnsweringBadProofs_isRefused_counted_andTheRangeStillReadsRight() throws Exception {
        StorageNode liar = holder(0, 1);
        StorageNode reader = anyBut(liar);
        AtomicInteger proves = new AtomicInteger();
        liar.p2p.host.setStreamHandler(ShardServer.PROTOCOL_ID, FaultyShardServers.proofLiar(liar.server, liar.store, proves));
        double failed = metric(reader, "oe_shard_failed_gets_total");
        long from = 3L * MIB + 100;
        assertArrayEquals(Arrays.copyOfRange(data, (int) from, (int) from + 4096), read(reader, from, from + 4096));
        assertTrue(proves.get() >= 1, "the liar was asked");
        assertTrue(metric(reader, "oe_shard_failed_gets_total") > failed, "its bad proof counts as a failed GET");
        assertEquals(1, metric(reader, "oe_segment_slice_fallbacks_total"));
    }
}
