package io.oecloud.node;

import io.oecloud.node.api.NodeApiServer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
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

    private TestNetwork net;
    private List<StorageNode> nodes;
    private NodeApiServer api;
    private String base;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        net = TestNetwork.start(dir, 6);
        nodes = net.nodes();
        api = net.api(0, ApiAccessTest.access(), NodeApiServer.Limits.defaults());
        base = "http://127.0.0.1:" + api.address().getPort();
    }

    @AfterEach
    void stop() {
        if (api != null) {
            api.close();
        }
        if (net != null) {
            net.close();
        }
    }

    /** A request with the API token. */
    private static HttpRequest.Builder authed(URI uri) {
        return HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + ApiAccessTest.TOKEN);
    }

    private HttpResponse<byte[]> get(String path, String range) throws Exception {
        HttpRequest.Builder b = authed(URI.create(base + path)).timeout(java.time.Duration.ofSeconds(60));
        if (range != null) {
            b.header("Range", range);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void postThenGet_returnsTheSameBytes_withRangesAndCacheHeaders() throws Exception {
        byte[] data = new byte[3 * (1 << 20) + 77];
        new Random(5).nextBytes(data);
        HttpResponse<String> post = http.send(authed(URI.create(base + "/v1/objects"))
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

        HttpResponse<Void> head = http.send(authed(URI.create(base + "/v1/objects/" + cid))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode());
        assertEquals(String.valueOf(data.length), head.headers().firstValue("content-length").orElseThrow());
    }

    /** A client slower than the uploader: pieces of a few KiB, 10 ms apart, plain and chunked. */
    @Test
    void slowClient_bodyTrickledInSmallPieces_isStoredWhole() throws Exception {
        byte[] data = new byte[(1 << 20) + 4321]; // two segments: a whole one and a short one
        new Random(11).nextBytes(data);
        for (boolean chunked : new boolean[] {false, true}) {
            String cid;
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", api.address().getPort())) {
                s.setSoTimeout(60_000);
                var out = s.getOutputStream();
                out.write(("POST /v1/objects HTTP/1.1\r\nHost: 127.0.0.1:" + api.address().getPort() + "\r\nConnection: close\r\n"
                        + "Authorization: Bearer " + ApiAccessTest.TOKEN + "\r\n"
                        + (chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + data.length) + "\r\n\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                int piece = data.length / 60 + 1;
                for (int at = 0; at < data.length; at += piece) {
                    int n = Math.min(piece, data.length - at);
                    if (chunked) {
                        out.write((Integer.toHexString(n) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    }
                    out.write(data, at, n);
                    if (chunked) {
                        out.write("\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    }
                    out.flush();
                    // the client's own pace, not a wait for the server: whatever the timing, the
                    // server must store the whole body (this pace makes its reader wake on its timer)
                    Thread.sleep(10);
                }
                if (chunked) {
                    out.write("0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    out.flush();
                }
                String answer = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                assertTrue(answer.startsWith("HTTP/1.1 201"), answer);
                cid = answer.replaceAll("(?s).*\"cid\":\"([^\"]+)\".*", "$1");
            }
            HttpResponse<byte[]> back = get("/v1/objects/" + cid, null);
            assertEquals(200, back.statusCode());
            assertArrayEquals(data, back.body(), chunked ? "chunked" : "content-length");
        }
    }

    @Test
    void delete_unpinsEveryShard_andGarbageCollectionThenRemovesThem() throws Exception {
        byte[] data = new byte[2 << 20];
        new Random(7).nextBytes(data);
        String body = http.send(authed(URI.create(base + "/v1/objects"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofString()).body();
        String cid = body.replaceAll(".*\"cid\":\"([^\"]+)\".*", "$1");
        int before = nodes.stream().mapToInt(n -> n.store.count()).sum();
        assertEquals(2 * 6 + 3, before, "2 segments of 6 shards, 3 manifest copies");
        HttpResponse<String> del = http.send(authed(URI.create(base + "/v1/objects/" + cid)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, del.statusCode(), del.body());
        assertTrue(del.body().contains("\"unpinned\":15"), del.body());
        for (StorageNode n : nodes) {
            assertEquals(0, n.store.collectGarbage(java.util.concurrent.TimeUnit.HOURS.toMillis(1)), "kept during the grace period");
            n.store.collectGarbage(0);
        }
        assertEquals(0, nodes.stream().mapToInt(n -> n.store.count()).sum());
        assertEquals(404, get("/v1/objects/" + cid, null).statusCode());
        assertEquals(404, http.send(authed(URI.create(base + "/v1/objects/" + cid)).DELETE().build(),
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
        String body = http.send(authed(URI.create(base + "/v1/objects"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofString()).body();
        String cid = body.replaceAll(".*\"cid\":\"([^\"]+)\".*", "$1");
        HttpResponse<byte[]> r416 = get("/v1/objects/" + cid, "bytes=" + data.length + "-");
        assertEquals(416, r416.statusCode());
        assertEquals("bytes */" + data.length, r416.headers().firstValue("content-range").orElseThrow());

        // lose three of six nodes (not the one serving the API): fewer than k shards per segment
        int closed = 0;
        for (int i = 1; i < 6 && closed < 3; i++) {
            net.stop(i);
            closed++;
        }
        HttpResponse<byte[]> r503 = get("/v1/objects/" + cid, null);
        assertEquals(503, r503.statusCode(), new String(r503.body()));
        assertTrue(new String(r503.body()).contains("3 of its shards were found, 4 are needed"), new String(r503.body()));
    }

    private HttpResponse<String> post(String path, byte[] body) throws Exception {
        return http.send(authed(URI.create(base + path)).timeout(java.time.Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String cidOf(HttpResponse<String> r) throws Exception {
        assertEquals(201, r.statusCode(), r.body());
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("cid").asText();
    }

    @Test
    void directories_overHttp_resolvePaths_listAsJson_andRefuseBadListings() throws Exception {
        byte[] a = new byte[200_000];
        new Random(7).nextBytes(a);
        String fileA = cidOf(post("/v1/objects", a));
        String fileB = cidOf(post("/v1/objects", "second".getBytes()));
        String sub = cidOf(post("/v1/directories", ("{\"entries\":[{\"name\":\"my file.bin\",\"cid\":\"" + fileA + "\"}]}").getBytes()));
        String root = cidOf(post("/v1/directories", ("{\"entries\":[{\"name\":\"b.txt\",\"cid\":\"" + fileB
                + "\"},{\"name\":\"sub\",\"cid\":\"" + sub + "\"}]}").getBytes()));

        HttpResponse<byte[]> got = get("/v1/objects/" + root + "/sub/my%20file.bin", null);
        assertEquals(200, got.statusCode());
        assertArrayEquals(a, got.body());
        HttpResponse<byte[]> ranged = get("/v1/objects/" + root + "/sub/my%20file.bin", "bytes=10-19");
        assertEquals(206, ranged.statusCode());
        assertArrayEquals(Arrays.copyOfRange(a, 10, 20), ranged.body());

        HttpResponse<byte[]> listing = get("/v1/objects/" + root, null);
        assertEquals(200, listing.statusCode());
        var doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(listing.body());
        assertEquals("b.txt", doc.at("/entries/0/name").asText());
        assertEquals("sub", doc.at("/entries/1/name").asText());
        assertTrue(doc.at("/entries/1/directory").asBoolean());
        assertEquals(a.length + 6, doc.get("size").asLong());

        assertEquals(404, get("/v1/objects/" + root + "/sub/nope", null).statusCode());
        assertEquals(400, get("/v1/objects/" + root + "/b.txt/deeper", null).statusCode());
        assertEquals(400, post("/v1/directories", "not json".getBytes()).statusCode());
        assertEquals(400, post("/v1/directories", "{\"entries\":[{\"name\":\"x\",\"cid\":\"bogus\"}]}".getBytes()).statusCode());
        HttpResponse<String> slash = post("/v1/directories", ("{\"entries\":[{\"name\":\"a/b\",\"cid\":\"" + fileB + "\"}]}").getBytes());
        assertEquals(400, slash.statusCode());
        assertTrue(slash.body().contains("contains '/'"), slash.body());
        HttpResponse<String> del = http.send(authed(URI.create(base + "/v1/objects/" + root + "/b.txt")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, del.statusCode());

        HttpResponse<byte[]> list = get("/v1/objects", null);
        assertEquals(200, list.statusCode());
        String body = new String(list.body());
        for (String c : List.of(fileA, fileB, sub, root)) {
            assertTrue(body.contains(c), body);
        }
    }

    @Test
    void encryptedUpload_overHttp_roundTrips_andCountersMove() throws Exception {
        byte[] data = new byte[1_500_000];
        new Random(8).nextBytes(data);
        String cid = cidOf(post("/v1/objects?encrypt=true", data));
        HttpResponse<byte[]> got = get("/v1/objects/" + cid, null);
        assertEquals(200, got.statusCode());
        assertArrayEquals(data, got.body());
        String metrics = new String(get("/metrics", null).body());
        assertTrue(metrics.contains("oe_uploads_total 1.0"), metrics);
        assertTrue(metrics.contains("oe_download_bytes_total " + (double) data.length), metrics);
    }

    @Test
    void cli_putRecursive_ls_get_path_rm_andStatus() throws Exception {
        Path tree = dir.resolve("site");
        java.nio.file.Files.createDirectories(tree.resolve("css"));
        java.nio.file.Files.writeString(tree.resolve("index.html"), "<h1>home</h1>");
        byte[] big = new byte[150_000];
        new Random(9).nextBytes(big);
        java.nio.file.Files.write(tree.resolve("css/site.bin"), big);
        String apiAddr = "127.0.0.1:" + api.address().getPort();
        String token = ApiAccessTest.tokenFile(dir).toString();

        DhtCommandsTest.Result put = DhtCommandsTest.oe("put", "-r", tree.toString(), "--api", apiAddr, "--token-file", token);
        assertEquals(0, put.code(), put.err());
        assertTrue(put.err().contains("2 files, 2 directories"), put.err());
        String root = put.out();

        Path out = dir.resolve("got.bin");
        DhtCommandsTest.Result get = DhtCommandsTest.oe("get", root + "/css/site.bin", "-o", out.toString(), "--api", apiAddr, "--token-file", token);
        assertEquals(0, get.code(), get.err());
        assertArrayEquals(big, java.nio.file.Files.readAllBytes(out));

        DhtCommandsTest.Result notDir = DhtCommandsTest.oe("put", tree.toString(), "--api", apiAddr, "--token-file", token);
        assertEquals(1, notDir.code());
        assertTrue(notDir.err().contains("use oe put -r"), notDir.err());

        DhtCommandsTest.Result ls = DhtCommandsTest.oe("ls", "--api", apiAddr, "--token-file", token);
        assertEquals(0, ls.code(), ls.err());
        assertEquals(4, ls.out().lines().count(), ls.out());
        assertTrue(ls.out().contains(root), ls.out());

        DhtCommandsTest.Result status = DhtCommandsTest.oe("status", "--api", apiAddr, "--token-file", token);
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("peerId") && status.out().contains("shards"), status.out());

        DhtCommandsTest.Result rm = DhtCommandsTest.oe("rm", root, "--api", apiAddr, "--token-file", token);
        assertEquals(0, rm.code(), rm.err());
        assertTrue(rm.out().startsWith("unpinned " + root), rm.out());
        DhtCommandsTest.Result after = DhtCommandsTest.oe("ls", "--api", apiAddr, "--token-file", token);
        assertTrue(!after.out().contains(root), "an unpinned object is no longer listed: " + after.out());
        DhtCommandsTest.Result bad = DhtCommandsTest.oe("rm", "nonsense", "--api", apiAddr, "--token-file", token);
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("malformed CID"), bad.err());
    }
}
