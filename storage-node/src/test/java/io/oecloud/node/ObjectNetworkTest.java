package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.node.object.ManifestAccess;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.object.ObjectStore.ByteSpan;
import io.oecloud.node.object.ObjectView;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
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

    private final ObjectService.Config config = TestNetwork.CONFIG;
    private TestNetwork net;
    private List<StorageNode> nodes;

    @BeforeEach
    void start() throws Exception {
        net = TestNetwork.start(dir, 6, config);
        nodes = net.nodes();
    }

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    private static byte[] download(StorageNode n, Cid cid) throws Exception {
        return TestNetwork.read(n, cid);
    }

    @Test
    void upload_spreadsShardsOverSixNodes_andAnyNodeDownloadsTheSameBytes() throws Exception {
        byte[] data = new byte[5 * (1 << 20) + 123];
        new Random(1).nextBytes(data);
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(data), "application/x-test");
        assertEquals(ContentCodec.MANIFEST, cid.codec());
        ObjectView v = nodes.get(3).objects.stat(cid);
        assertEquals(data.length, v.size());
        assertEquals("application/x-test", v.contentType());
        Manifest m = ManifestAccess.manifest(nodes.get(3).objects, cid);
        assertEquals(6, m.getSegmentsCount());
        for (var seg : m.getSegmentsList()) {
            Set<String> holders = new HashSet<>();
            seg.getShardsList().forEach(s -> holders.add(java.util.HexFormat.of().formatHex(s.getHolders(0).toByteArray())));
            assertEquals(6, holders.size(), "the 6 shards of a segment sit on 6 distinct nodes");
        }
        assertArrayEquals(data, download(nodes.get(4), cid));
        ByteArrayOutputStream part = new ByteArrayOutputStream();
        nodes.get(5).objects.read(v, new ByteSpan(1_500_000, 3_200_001), part);
        assertArrayEquals(Arrays.copyOfRange(data, 1_500_000, 3_200_001), part.toByteArray());
    }

    /** Uploads one after another, whole and short segments, random and all-zero bytes: each reads back its own. */
    @Test
    void consecutiveUploads_ofWholeAndShortSegments_eachReadsBackItsOwnBytes() throws Exception {
        Random rnd = new Random(21);
        List<byte[]> objects = new ArrayList<>();
        for (int size : new int[] {4 * (1 << 20) + 17, 3 * (1 << 20), 2 * (1 << 20) + 5, 100_000}) {
            byte[] data = new byte[size];
            rnd.nextBytes(data);
            objects.add(data);
        }
        objects.add(new byte[3 * (1 << 20)]); // zeros: any stale byte would show
        List<Cid> cids = new ArrayList<>();
        for (byte[] data : objects) {
            cids.add(nodes.get(0).objects.upload(new ByteArrayInputStream(data), null));
        }
        for (int i = 0; i < objects.size(); i++) {
            assertArrayEquals(objects.get(i), download(nodes.get(1 + i % 5), cids.get(i)), "object " + i);
        }
    }

    @Test
    void anyTwoNodesDown_stillDownloads_threeDown_failsWithTheCounts() throws Exception {
        byte[] data = new byte[3 * (1 << 20)];
        new Random(2).nextBytes(data);
        Cid cid = nodes.get(1).objects.upload(new ByteArrayInputStream(data), null);
        ObjectView v = nodes.get(0).objects.stat(cid);
        net.stop(2);
        net.stop(5);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        nodes.get(0).objects.read(v, ByteSpan.all(v.size()), out);
        assertArrayEquals(data, out.toByteArray());
        net.stop(3);
        ObjectException e = assertThrows(ObjectException.class,
                () -> nodes.get(0).objects.read(v, ByteSpan.all(v.size()), new ByteArrayOutputStream()));
        assertEquals(ObjectException.Code.NOT_ENOUGH_SHARDS, e.code());
        assertTrue(e.getMessage().contains("3 of its shards were found, 4 are needed"), e.getMessage());
    }

    @Test
    void smallObjects_liveInsideTheirManifest() throws Exception {
        byte[] small = "a small object".getBytes();
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(small), "text/plain");
        Manifest m = ManifestAccess.manifest(nodes.get(2).objects, cid);
        assertEquals(0, m.getSegmentsCount());
        assertArrayEquals(small, download(nodes.get(2), cid));
    }

    @Test
    void unknownObjects_andBadRanges_areRefusedClearly() throws Exception {
        Cid absent = Cid.compute(ContentCodec.MANIFEST, io.oecloud.proofs.HashFunction.BLAKE3, new byte[] {1});
        assertEquals(ObjectException.Code.NOT_FOUND,
                assertThrows(ObjectException.class, () -> nodes.get(0).objects.stat(absent)).code());
        Cid raw = Cid.raw(new byte[] {1});
        assertEquals(ObjectException.Code.NOT_FOUND,
                assertThrows(ObjectException.class, () -> nodes.get(0).objects.stat(raw)).code());
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(new byte[100_000]), null);
        ObjectView v = nodes.get(1).objects.stat(cid);
        assertEquals(ObjectException.Code.BAD_RANGE, assertThrows(ObjectException.class,
                () -> nodes.get(1).objects.read(v, new ByteSpan(10, 100_001), new ByteArrayOutputStream())).code());
    }

    @Test
    void aManifestThatDisagreesWithItsShards_isRefusedAsCorrupt_andNothingIsWritten() throws Exception {
        byte[] data = new byte[(1 << 20) + 10];
        new Random(12).nextBytes(data);
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(data), null);
        Manifest m = ManifestAccess.manifest(nodes.get(1).objects, cid);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        // consistent in itself (a 20-byte last segment) but not with its shards (coded from 10 bytes)
        Manifest wrongSize = m.toBuilder().setSize((1 << 20) + 20).setSegments(1, m.getSegments(1).toBuilder().setSize(20)).build();
        ObjectException e = assertThrows(ObjectException.class, () -> ManifestAccess.download(nodes.get(1).objects, wrongSize, 1 << 20, (1 << 20) + 5, out));
        assertEquals(ObjectException.Code.CORRUPT, e.code());
        assertTrue(e.getMessage().contains("the manifest's sizes give"), e.getMessage());
        // Parity from another object of the same size: every shard matches its own CID, but they
        // were not coded together. With a data shard lost, decoding must notice.
        byte[] other = new byte[data.length];
        new Random(13).nextBytes(other);
        Manifest mo = ManifestAccess.manifest(nodes.get(1).objects, nodes.get(0).objects.upload(new ByteArrayInputStream(other), null));
        var mixed = m.getSegments(0).toBuilder();
        for (int i = config.k(); i < config.k() + config.m(); i++) {
            mixed.setShards(i, mo.getSegments(0).getShards(i));
        }
        Manifest mixedParity = m.toBuilder().setSegments(0, mixed).build();
        var lost = m.getSegments(0).getShards(0);
        io.oecloud.dht.PeerId holder = io.oecloud.dht.PeerId.fromBytes(lost.getHolders(0).toByteArray());
        StorageNode holding = nodes.stream().filter(n -> n.p2p.host.peerId().equals(holder)).findFirst().orElseThrow();
        assertTrue(holding.store.delete(Cid.fromBytes(lost.getCid().toByteArray())));
        e = assertThrows(ObjectException.class, () -> ManifestAccess.download(nodes.get(1).objects, mixedParity, 0, 100, out));
        assertEquals(ObjectException.Code.CORRUPT, e.code());
        assertTrue(e.getMessage().contains("decoded to the wrong bytes"), e.getMessage());
        assertEquals(0, out.size(), "no byte of a segment that failed its checks is written");
        assertArrayEquals(data, download(nodes.get(2), cid), "its own parity rebuilds the lost shard");
    }

    @Test
    void encryptedObjects_readBackOnlyThroughTheOwner_andShardsHoldNoPlaintext() throws Exception {
        byte[] data = new byte[2 * (1 << 20) + 77];
        new Random(3).nextBytes(data);
        Arrays.fill(data, 0, 4096, (byte) 'A'); // a recognisable run
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(data), "text/plain", true);
        ObjectView v = nodes.get(0).objects.stat(cid);
        assertTrue(v.encrypted());
        assertArrayEquals(data, download(nodes.get(0), cid));
        ByteArrayOutputStream part = new ByteArrayOutputStream();
        nodes.get(0).objects.read(v, new ByteSpan((1 << 20) - 5, (1 << 20) + 5), part);
        assertArrayEquals(Arrays.copyOfRange(data, (1 << 20) - 5, (1 << 20) + 5), part.toByteArray());
        byte[] run = new byte[64];
        Arrays.fill(run, (byte) 'A');
        for (StorageNode n : nodes) {
            for (var held : n.store.list()) {
                byte[] bytes = n.store.get(held.cid());
                assertTrue(indexOf(bytes, run) < 0, "a stored block contains plaintext");
            }
        }
        ObjectException e = assertThrows(ObjectException.class, () -> download(nodes.get(3), cid));
        assertEquals(ObjectException.Code.NOT_OWNER, e.code());
        // an empty encrypted object still round-trips
        Cid empty = nodes.get(1).objects.upload(new ByteArrayInputStream(new byte[0]), null, true);
        assertEquals(0, download(nodes.get(1), empty).length);
        // a small one is sealed inside its manifest (one manifest stored, no shards): no plaintext anywhere, owner only
        byte[] small = new byte[4096];
        Arrays.fill(small, (byte) 'B');
        Cid inline = nodes.get(1).objects.upload(new ByteArrayInputStream(small), "text/plain", true);
        ObjectView iv = nodes.get(1).objects.stat(inline);
        assertTrue(iv.encrypted());
        assertEquals(4096, iv.size());
        assertArrayEquals(small, download(nodes.get(1), inline));
        ByteArrayOutputStream mid = new ByteArrayOutputStream();
        nodes.get(1).objects.read(iv, new ByteSpan(100, 200), mid);
        assertEquals(100, mid.size());
        Arrays.fill(run, (byte) 'B');
        for (StorageNode n : nodes) {
            for (var held : n.store.list()) {
                assertTrue(indexOf(n.store.get(held.cid()), run) < 0, "a stored block contains the small object's plaintext");
            }
        }
        assertEquals(ObjectException.Code.NOT_OWNER, assertThrows(ObjectException.class, () -> download(nodes.get(3), inline)).code());
    }

    /** A counter's value in the node's Prometheus text. */
    static double metric(StorageNode n, String name) {
        for (String line : n.metrics().split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no metric " + name);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void directories_nameObjects_andPathsResolveThroughNestedDirectories() throws Exception {
        ObjectService o = nodes.get(0).objects;
        byte[] page = "<h1>hi</h1>".getBytes();
        byte[] big = new byte[300_000];
        new Random(4).nextBytes(big);
        Cid pageCid = o.upload(new ByteArrayInputStream(page), "text/html");
        Cid bigCid = o.upload(new ByteArrayInputStream(big), "application/octet-stream");
        Cid sub = o.putDirectory(List.of(new ObjectService.NewEntry("data.bin", bigCid)));
        Cid root = o.putDirectory(List.of(new ObjectService.NewEntry("index.html", pageCid),
                new ObjectService.NewEntry("assets", sub)));
        ObjectView rv = nodes.get(4).objects.stat(root);
        assertTrue(rv.directory());
        assertEquals(List.of("assets", "index.html"), rv.entries().stream().map(ObjectStore.DirectoryEntry::name).toList());
        assertEquals(List.of(sub, pageCid), rv.entries().stream().map(ObjectStore.DirectoryEntry::cid).toList());
        assertEquals(List.of(true, false), rv.entries().stream().map(ObjectStore.DirectoryEntry::directory).toList());
        assertEquals(page.length + big.length, rv.size());

        ObjectView r = nodes.get(4).objects.resolve(root, List.of("assets", "data.bin"));
        assertEquals(bigCid, r.cid());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        nodes.get(4).objects.read(r, ByteSpan.all(r.size()), out);
        assertArrayEquals(big, out.toByteArray());

        assertEquals(ObjectException.Code.NOT_FOUND, assertThrows(ObjectException.class,
                () -> o.resolve(root, List.of("assets", "missing"))).code());
        ObjectException through = assertThrows(ObjectException.class, () -> o.resolve(root, List.of("index.html", "x")));
        assertEquals(ObjectException.Code.BAD_INPUT, through.code());
        assertTrue(through.getMessage().contains("is a file"), through.getMessage());
        for (String bad : List.of("", "a/b", "..", ".")) {
            ObjectException e = assertThrows(ObjectException.class, () -> o.putDirectory(List.of(new ObjectService.NewEntry(bad, pageCid))));
            assertEquals(ObjectException.Code.BAD_INPUT, e.code(), bad);
        }
        assertEquals(ObjectException.Code.BAD_INPUT, assertThrows(ObjectException.class, () -> o.putDirectory(List.of(
                new ObjectService.NewEntry("x", pageCid), new ObjectService.NewEntry("x", bigCid)))).code());
        Cid unknown = Cid.compute(ContentCodec.MANIFEST, io.oecloud.proofs.HashFunction.BLAKE3, new byte[] {7});
        ObjectException e = assertThrows(ObjectException.class, () -> o.putDirectory(List.of(new ObjectService.NewEntry("ghost", unknown))));
        assertEquals(ObjectException.Code.BAD_INPUT, e.code());
        assertTrue(e.getMessage().startsWith("entry 'ghost'"), e.getMessage());

        List<Cid> mine = o.list().stream().map(ObjectService.ObjectInfo::cid).toList();
        assertTrue(mine.containsAll(List.of(pageCid, bigCid, sub, root)), mine.toString());
        assertTrue(nodes.get(1).objects.list().stream().noneMatch(i -> mine.contains(i.cid())),
                "another node lists only what was uploaded through it");
    }

    @Test
    void aNodeThatAnswersWrongBytes_isCaughtByCidChecks_andAvoidedAfterwards() throws Exception {
        byte[] data = new byte[3 * (1 << 20)];
        new Random(5).nextBytes(data);
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(data), null);
        Manifest m = ManifestAccess.manifest(nodes.get(0).objects, cid);
        // the holder of the first segment's first data shard turns liar
        io.oecloud.dht.PeerId liarId = io.oecloud.dht.PeerId.fromBytes(m.getSegments(0).getShards(0).getHolders(0).toByteArray());
        StorageNode liar = nodes.stream().filter(n -> n.p2p.host.peerId().equals(liarId)).findFirst().orElseThrow();
        StorageNode reader = nodes.stream().filter(n -> n != liar).findFirst().orElseThrow();
        java.util.concurrent.atomic.AtomicInteger gets = new java.util.concurrent.atomic.AtomicInteger();
        liar.p2p.host.setStreamHandler(io.oecloud.node.shard.ShardServer.PROTOCOL_ID,
                io.oecloud.node.shard.FaultyShardServers.liar(liar.server, liar.store, gets));
        assertArrayEquals(data, download(reader, cid));
        // GETs the first download sent and then gave up on (hedges, read-ahead) may still reach the
        // liar after it returned: counted once they have stopped coming (300 ms without one, 10 s at most)
        int asked = gets.get();
        for (long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10); System.nanoTime() < end; ) {
            Thread.sleep(300);
            if (gets.get() == asked) {
                break;
            }
            asked = gets.get();
        }
        assertTrue(asked >= 1, "the liar was asked and its bytes refused");
        assertArrayEquals(data, download(reader, cid));
        assertEquals(asked, gets.get(), "the liar is not asked again while others have the shards");
        assertTrue(metric(reader, "oe_shard_failed_gets_total") >= 1, "failed GETs are counted");
    }

    @Test
    void aNodeThatAnswersAManifestWithWrongBytes_isAskedLastForManifestsAfterwards() throws Exception {
        byte[] data = new byte[100_000];
        new Random(6).nextBytes(data);
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(data), null);
        // a reader without its own copy of the manifest, and the first node it asks that has one turns liar
        StorageNode reader = nodes.stream().filter(n -> !hasBlock(n, cid)).findFirst().orElseThrow();
        io.oecloud.dht.PeerId liarId = ManifestAccess.manifestSources(reader.objects, cid).stream()
                .filter(p -> nodes.stream().anyMatch(n -> n.p2p.host.peerId().equals(p) && hasBlock(n, cid)))
                .findFirst().orElseThrow();
        StorageNode liar = nodes.stream().filter(n -> n.p2p.host.peerId().equals(liarId)).findFirst().orElseThrow();
        java.util.concurrent.atomic.AtomicInteger gets = new java.util.concurrent.atomic.AtomicInteger();
        liar.p2p.host.setStreamHandler(io.oecloud.node.shard.ShardServer.PROTOCOL_ID,
                io.oecloud.node.shard.FaultyShardServers.liar(liar.server, liar.store, gets));
        assertArrayEquals(data, download(reader, cid), "the manifest came from the next copy");
        assertTrue(gets.get() >= 1, "the liar was asked for the manifest and its bytes refused");
        int asked = gets.get();
        for (long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10); System.nanoTime() < end; ) {
            Thread.sleep(300); // GETs the download gave up on may still arrive: counted once they stop
            if (gets.get() == asked) {
                break;
            }
            asked = gets.get();
        }
        assertArrayEquals(data, download(reader, cid));
        assertEquals(asked, gets.get(), "the liar is asked last for the manifest while others have copies");
    }

    private static boolean hasBlock(StorageNode n, Cid cid) {
        try {
            return n.store.metadata(cid) != null;
        } catch (io.oecloud.node.store.StoreException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aSlowNode_doesNotHoldUpAnUpload_itsShardsGoElsewhere() throws Exception {
        // Seven nodes, so a spare exists for the slow node's shards.
        net.add(config);
        StorageNode slow = nodes.get(2);
        java.util.concurrent.atomic.AtomicInteger puts = new java.util.concurrent.atomic.AtomicInteger();
        slow.p2p.host.setStreamHandler(io.oecloud.node.shard.ShardServer.PROTOCOL_ID,
                io.oecloud.node.shard.FaultyShardServers.slowPuts(slow.server, 30_000, puts));
        byte[] data = new byte[4 * (1 << 20)];
        new Random(6).nextBytes(data);
        long t0 = System.nanoTime();
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(data), null);
        long seconds = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertTrue(seconds < 20, "the upload waited " + seconds + " s for a node that takes 30 s");
        assertTrue(puts.get() > 0, "the slow node was asked");
        Manifest m = ManifestAccess.manifest(nodes.get(0).objects, cid);
        for (var seg : m.getSegmentsList()) {
            for (var sh : seg.getShardsList()) {
                assertTrue(!io.oecloud.dht.PeerId.fromBytes(sh.getHolders(0).toByteArray()).equals(slow.p2p.host.peerId()),
                        "no shard is recorded on the node that never finished");
            }
        }
        assertArrayEquals(data, download(nodes.get(5), cid));
        assertTrue(metric(nodes.get(0), "oe_shard_long_tail_transfers_total") >= 1, "second transfers are counted");
        assertEquals(1.0, metric(nodes.get(0), "oe_uploads_total"));
        assertEquals(data.length, metric(nodes.get(0), "oe_upload_bytes_total"));
    }

    @Test
    void deletingAnObject_keepsShardsAnotherObjectShares_andASecondDeleteIsRefused() throws Exception {
        byte[] a = new byte[2 * (1 << 20)];
        new Random(10).nextBytes(a);
        byte[] b = Arrays.copyOf(a, 3 * (1 << 20) + 5); // A's two segments, then more
        new Random(11).nextBytes(Arrays.copyOfRange(b, a.length, b.length));
        ObjectService o = nodes.get(0).objects;
        Cid ca = o.upload(new ByteArrayInputStream(a), null);
        Cid cb = o.upload(new ByteArrayInputStream(b), null);
        assertEquals(ManifestAccess.manifest(o, ca).getSegments(0).getShards(0).getCid(), ManifestAccess.manifest(o, cb).getSegments(0).getShards(0).getCid(),
                "the objects share their first segment's shards");
        assertTrue(o.unpin(ca) > 0);
        assertEquals(ObjectException.Code.NOT_FOUND, assertThrows(ObjectException.class, () -> o.unpin(ca)).code());
        for (StorageNode n : nodes) {
            n.store.collectGarbage(0);
        }
        assertArrayEquals(b, download(nodes.get(3), cb));
    }

    @Test
    void manyUploadsAndDownloadsAtOnce_throughOneSegmentSlot_allComplete() throws Exception {
        StorageNode tight = net.add(new ObjectService.Config(4, 2, 1 << 20, 64 * 1024, 3, 1));
        List<byte[]> objects = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            byte[] b = new byte[(1 << 20) * 3 + i * 1000];
            new Random(20 + i).nextBytes(b);
            objects.add(b);
        }
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<Cid>> ups = new ArrayList<>();
            for (byte[] b : objects) {
                ups.add(pool.submit(() -> tight.objects.upload(new ByteArrayInputStream(b), null)));
            }
            List<java.util.concurrent.Future<byte[]>> downs = new ArrayList<>();
            for (var up : ups) {
                Cid c = up.get();
                downs.add(pool.submit(() -> download(tight, c)));
                downs.add(pool.submit(() -> download(tight, c)));
            }
            for (int i = 0; i < downs.size(); i++) {
                assertArrayEquals(objects.get(i / 2), downs.get(i).get());
            }
        }
        assertEquals(1.0, metric(tight, "oe_segment_slots_free"), "every slot is given back");
    }

    @Test
    void aSmallUpload_storesInline_whileALargeOneHoldsTheOnlySegmentSlot() throws Exception {
        StorageNode tight = net.add(new ObjectService.Config(4, 2, 1 << 20, 64 * 1024, 3, 1));
        java.util.concurrent.CountDownLatch more = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(1);
        byte[] head = new byte[(1 << 20) + 100]; // past one segment: the reader holds the slot while it waits
        new Random(41).nextBytes(head);
        InputStream stalling = new java.io.SequenceInputStream(new ByteArrayInputStream(head), new InputStream() {
            @Override
            public int read() throws java.io.IOException {
                waiting.countDown(); // the second segment's reader, holding the slot
                try {
                    more.await();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                return -1;
            }
        });
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                java.util.concurrent.Future<Cid> large = pool.submit(() -> tight.objects.upload(stalling, null));
                assertTrue(waiting.await(20, java.util.concurrent.TimeUnit.SECONDS), "the large upload reached its second segment");
                assertEquals(0.0, metric(tight, "oe_segment_slots_free"), "the large upload holds the only slot");
                byte[] small = new byte[4096];
                new Random(42).nextBytes(small);
                Cid c = pool.submit(() -> tight.objects.upload(new ByteArrayInputStream(small), null))
                        .get(20, java.util.concurrent.TimeUnit.SECONDS); // before: waited for the slot (60 s, then BUSY)
                assertArrayEquals(small, download(tight, c));
                assertFalse(large.isDone(), "the large upload is still reading");
                more.countDown();
                assertArrayEquals(head, download(tight, large.get(60, java.util.concurrent.TimeUnit.SECONDS)));
            } finally {
                more.countDown(); // a failed assertion must not leave the large upload (and the pool's close) waiting
            }
        }
        assertEquals(1.0, metric(tight, "oe_segment_slots_free"), "every slot is given back");
    }
}
