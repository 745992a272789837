package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.node.object.ObjectService;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The object routes of the HTTP API on a six-node network in one JVM. */
@Timeout(180)
class ObjectsHttpTest {
    @TempDir
    Path dir;

    private final List<StorageNode> nodes = new ArrayList<>();
    private NodeApiServer api;
    private String base;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        ObjectService.Config config = new ObjectService.Config(4, 2, 1 << 20, 64 * 1024, 3);
        PrintWriter quiet = new PrintWriter(new StringWriter());
        for (int i = 0; i < 6; i++) {
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
        StorageNode first = nodes.get(0);
        api = new NodeApiServer(first.p2p.service(() -> { }), first.objects, first.io).withStatus(first)
                .start(new InetSocketAddress("127.0.0.1", 0));
        base = "http://127.0.0.1:" + api.address().getPort();
    }

    @AfterEach
    void stop() {
        api.close();
        nodes.forEach(StorageNode::close);
    }

    private HttpResponse<byte[]> get(String path, String range) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        if (range != null) {
            b.header("Range", range);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void postThenGet_returnsTheSameBytes_withRangesAndCacheHeaders() throws Exception {
        byte[] data = new byte[3 * (1 << 20) + 77];
        new Random(5).nextBytes(data);
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/objects"))
                .header("Content-Type", "image/png").POST(HttpRequest.BodyPublishers.ofByteArray(data)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, post.statusCode(), post.body());
        String cid = post.body().replaceAll(".*\"cid\":\"([^\"]+)\".*", "$1");
        assertTrue(cid.startsWith("b"), post.body());

        HttpResponse<byte[]> whole = get("/v1/objects/" + cid, null);
        assertEquals(200, whole.statusCode());
        assertArrayEquals(data, whole.body());
        assertEquals("image/png", whole.headers().firstValue("content-type").orElseThrow());
        assertEquals("\"" + cid + "\"", whole.headers().firstValue("etag").orElseThrow());
        assertTrue(whole.headers().firstValue("cache-control").orElseThrow().contains("immutable"));

        HttpResponse<byte[]> part = get("/v1/objects/" + cid, "bytes=1048570-1048600");
        assertEquals(206, part.statusCode());
        assertArrayEquals(Arrays.copyOfRange(data, 1048570, 1048601), part.body());
        assertEquals("bytes 1048570-1048600/" + data.length, part.headers().firstValue("content-range").orElseThrow());
        HttpResponse<byte[]> tail = get("/v1/objects/" + cid, "bytes=-10");
        assertArrayEquals(Arrays.copyOfRange(data, data.length - 10, data.length), tail.body());

        HttpResponse<Void> head = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/objects/" + cid))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode());
        assertEquals(String.valueOf(data.length), head.headers().firstValue("content-length").orElseThrow());
    }

    @Test
    void delete_unpinsEveryShard_andGarbageCollectionThenRemovesThem() throws Exception {
        byte[] data = new byte[2 << 20];
        new Random(7).nextBytes(data);
        String body = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/objects"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofString()).body();
        String cid = body.replaceAll(".*\"cid\":\"([^\"]+)\".*", "$1");
        int before = nodes.stream().mapToInt(n -> n.store.count()).sum();
        assertEquals(2 * 6 + 3, before, "2 segments of 6 shards, 3 manifest copies");
        HttpResponse<String> del = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/objects/" + cid)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, del.statusCode(), del.body());
        assertTrue(del.body().contains("\"unpinned\":15"), del.body());
        for (StorageNode n : nodes) {
            assertEquals(0, n.store.collectGarbage(java.util.concurrent.TimeUnit.HOURS.toMillis(1)), "kept during the grace period");
            n.store.collectGarbage(0);
        }
        assertEquals(0, nodes.stream().mapToInt(n -> n.store.count()).sum());
        assertEquals(404, get("/v1/objects/" + cid, null).statusCode());
        assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(base + "/v1/objects/" + cid)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void status_andPrometheusMetrics() throws Exception {
        HttpResponse<byte[]> status = get("/v1/status", null);
        assertEquals(200, status.statusCode());
        String s = new String(status.body());
        assertTrue(s.contains("\"peerId\":\"" + nodes.get(0).p2p.host.peerId() + "\""), s);
        assertTrue(s.contains("\"k\":4") && s.contains("\"connections\":5"), s);
        HttpResponse<byte[]> metrics = get("/metrics", null);
        assertEquals(200, metrics.statusCode());
        String m = new String(metrics.body());
        assertTrue(m.contains("oe_store_shards") && m.contains("oe_p2p_connections 5.0") && m.contains("jvm_memory_used_bytes"), m);
    }

    @Test
    void errors_areJsonWithTheRightStatus() throws Exception {
        HttpResponse<byte[]> bad = get("/v1/objects/bnot-a-cid", null);
        assertEquals(400, bad.statusCode());
        assertTrue(new String(bad.body()).contains("malformed CID"));
        String unknown = io.oecloud.proofs.Cid.compute(io.oecloud.proofs.ContentCodec.MANIFEST,
                io.oecloud.proofs.HashFunction.BLAKE3, new byte[] {9}).toString();
        assertEquals(404, get("/v1/objects/" + unknown, null).statusCode());

        byte[] data = new byte[2 << 20];
        new Random(6).nextBytes(data);
        String body = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/objects"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofString()).body();
        String cid = body.replaceAll(".*\"cid\":\"([^\"]+)\".*", "$1");
        HttpResponse<byte[]> r416 = get("/v1/objects/" + cid, "bytes=" + data.length + "-");
        assertEquals(416, r416.statusCode());
        assertEquals("bytes */" + data.length, r416.headers().firstValue("content-range").orElseThrow());

        // lose three of six nodes (not the one serving the API): fewer than k shards per segment
        int closed = 0;
        for (int i = 1; i < 6 && closed < 3; i++) {
            nodes.get(i).close();
            closed++;
        }
        HttpResponse<byte[]> r503 = get("/v1/objects/" + cid, null);
        assertEquals(503, r503.statusCode(), new String(r503.body()));
        assertTrue(new String(r503.body()).contains("3 of its shards were found, 4 are needed"), new String(r503.body()));
    }
}
