package io.oecloud.node;

import io.oecloud.node.api.NodeApiServer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.node.object.ManifestAccess;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API against clients that break the rules (issue 22): bad framing, bodies that stop,
 * oversized heads, odd ranges, slow uploads that would hold the node's threads. Every exchange
 * is raw bytes over a real socket to a real server on a six-node network.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class HttpRobustnessTest {
    private TestNetwork net;
    private NodeApiServer api;
    private int port;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        net = TestNetwork.start(dir, 6);
        api = server(NodeApiServer.Limits.defaults());
        port = api.address().getPort();
    }

    private NodeApiServer server(NodeApiServer.Limits limits) throws Exception {
        return net.api(0, ApiAccessTest.access(), limits);
    }

    @AfterAll
    void stop() {
        api.close();
        net.close();
    }

    private RawHttp raw() throws Exception {
        return new RawHttp(port, 10_000); // every answer below comes at once; 10 s means "never"
    }

    private String head(String method, String path, String... headers) {
        return head(port, method, path, headers);
    }

    /** A request head with the Host and token the server at {@code p} wants. */
    static String head(int p, String method, String path, String... headers) {
        StringBuilder b = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1:")
                .append(p).append("\r\nAuthorization: Bearer ").append(ApiAccessTest.TOKEN).append("\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        return b.append("\r\n").toString();
    }

    private double uploadFailures() {
        return net.get(0).metrics.get("oe_upload_failures").counter().count();
    }

    private int objectsListed() throws Exception {
        return net.get(0).objects.list().size();
    }

    /** Nothing was stored on any node, and the uploading node lists no new object. */
    private void assertNothingStored(int blocksBefore, int listedBefore) throws Exception {
        assertEquals(blocksBefore, net.blocks(), "no shard or manifest stored");
        assertEquals(listedBefore, objectsListed(), "no object listed");
    }

    /** Waits (polling a counter, up to {@code seconds}) for the upload to have failed on the node. */
    private void awaitUploadFailures(double atLeast, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (uploadFailures() < atLeast) {
            assertTrue(System.nanoTime() < end, "the upload was not abandoned within " + seconds + " s");
            Thread.sleep(20);
        }
    }

    private String upload(byte[] data) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/objects"))
                .header("Authorization", "Bearer " + ApiAccessTest.TOKEN).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return r.body().replaceAll(".*\"cid\":\"([^\"]+)\".*", "$1");
    }

    // ---- truncated uploads (finding: a chunked body with bad framing was stored as complete and answered 201)

    private void assertBadChunkedBodyRefused(byte[] body, String expectedWord) throws Exception {
        int blocks = net.blocks();
        int listed = objectsListed();
        double failures = uploadFailures();
        try (RawHttp c = raw()) {
            c.send(head("POST", "/v1/objects", "Transfer-Encoding: chunked")).sendQuietly(body);
            RawHttp.Response r = c.read();
            assertEquals(400, r.status(), r.body());
            assertTrue(r.body().contains(expectedWord), r.body());
            assertTrue(c.closedByServer(), "the connection is closed after bad framing");
        }
        awaitUploadFailures(failures + 1, 10);
        assertNothingStored(blocks, listed);
    }

    @Test
    void upload_chunkSizeNotHex_is400_andStoresNothing() throws Exception {
        assertBadChunkedBodyRefused("5\r\nhello\r\nzz\r\nabc".getBytes(StandardCharsets.US_ASCII), "chunk");
    }

    @Test
    void upload_chunkSizeOverflowingLong_is400_andStoresNothing() throws Exception {
        assertBadChunkedBodyRefused("5\r\nhello\r\nFFFFFFFFFFFFFFFFFF\r\nabc".getBytes(StandardCharsets.US_ASCII), "chunk");
    }

    @Test
    void upload_chunkMissingItsCrlfAfter300000Bytes_is400_andStoresNothing() throws Exception {
        byte[] data = new byte[300_000];
        new Random(3).nextBytes(data);
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.writeBytes((Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        body.writeBytes(data);
        body.writeBytes("XX0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)); // no CRLF after the chunk's data
        assertBadChunkedBodyRefused(body.toByteArray(), "chunk");
    }

    @Test
    void upload_clientClosesMidBody_isAbandonedAtOnce_andStoresNothing() throws Exception {
        byte[] part = new byte[500_000];
        new Random(4).nextBytes(part);
        for (boolean chunked : new boolean[] {false, true}) {
            int blocks = net.blocks();
            int listed = objectsListed();
            double failures = uploadFailures();
            try (RawHttp c = raw()) {
                c.send(head("POST", "/v1/objects", chunked ? "Transfer-Encoding: chunked" : "Content-Length: 1000000"));
                if (chunked) {
                    c.send((Integer.toHexString(1_000_000) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                }
                c.send(part);
            } // closed half-way through the body
            awaitUploadFailures(failures + 1, 10);
            assertNothingStored(blocks, listed);
        }
    }

    @Test
    void upload_contentLengthTogetherWithChunked_is400AtOnce() throws Exception {
        try (RawHttp c = raw()) {
            c.send(head("POST", "/v1/objects", "Content-Length: 5", "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n");
            RawHttp.Response r = c.read();
            assertEquals(400, r.status(), r.body());
            assertTrue(r.body().contains("Content-Length") && r.body().contains("Transfer-Encoding"), r.body());
        }
    }

    @Test
    void upload_negativeOrMalformedContentLength_is400AtOnce() throws Exception {
        for (String length : List.of("-5", "5x", "99999999999999999999999", "5, 6")) {
            try (RawHttp c = raw()) {
                c.send(head("POST", "/v1/objects", "Content-Length: " + length) + "hello");
                RawHttp.Response r = c.read();
                assertEquals(400, r.status(), length + ": " + r.body());
                assertTrue(r.body().contains("Content-Length"), r.body());
            }
        }
    }

    @Test
    void upload_silentForTheLimit_is408_andStoresNothing() throws Exception {
        try (NodeApiServer quick = server(NodeApiServer.Limits.defaults().withBodySilence(Duration.ofMillis(300)))) {
            int p = quick.address().getPort();
            int blocks = net.blocks();
            int listed = objectsListed();
            double failures = uploadFailures();
            try (RawHttp c = new RawHttp(p, 10_000)) {
                c.send(head(p, "POST", "/v1/objects", "Content-Length: 100000") + "0123456789"); // then nothing
                RawHttp.Response r = c.read();
                assertEquals(408, r.status(), r.body());
                assertTrue(r.body().contains("nothing arrived for"), r.body());
                assertTrue(c.closedByServer());
            }
            awaitUploadFailures(failures + 1, 10);
            assertNothingStored(blocks, listed);
            assertEquals(0, quick.uploadsRunning(), "the upload's admission is given back");
        }
    }

    @Test
    void directoryBody_silentForTheLimit_is408() throws Exception {
        try (NodeApiServer quick = server(NodeApiServer.Limits.defaults().withBodySilence(Duration.ofMillis(300)))) {
            int p = quick.address().getPort();
            try (RawHttp c = new RawHttp(p, 10_000)) {
                c.send(head(p, "POST", "/v1/directories", "Content-Length: 1000") + "{\"entries\": [");
                RawHttp.Response r = c.read();
                assertEquals(408, r.status(), r.body());
                assertTrue(c.closedByServer());
            }
            awaitTrue(() -> quick.bufferedBodyBytes() == 0, "the stalled listing's bytes given back");
        }
    }

    @Test
    void partialHead_orOneSentAByteAtATime_is408WithinTheLimit() throws Exception {
        try (NodeApiServer quick = server(NodeApiServer.Limits.defaults().withBodySilence(Duration.ofMillis(300)))) {
            int p = quick.address().getPort();
            try (RawHttp c = new RawHttp(p, 10_000)) {
                c.send("GET /v1/id HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\n"); // no blank line: the head never ends
                RawHttp.Response r = c.read();
                assertEquals(408, r.status(), r.body());
                assertTrue(c.closedByServer());
            }
            try (RawHttp c = new RawHttp(p, 10_000)) { // slowloris: a byte every 100 ms, never silent that long
                byte[] head = ("GET /v1/id HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nX-Slow: " + "s".repeat(200) + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII);
                long t0 = System.nanoTime();
                boolean closed = false;
                for (int i = 0; i < head.length && !closed; i++) {
                    try {
                        c.send(new byte[] {head[i]});
                    } catch (java.io.IOException e) {
                        closed = true;
                    }
                    Thread.sleep(100);
                    closed |= TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) > 8;
                }
                RawHttp.Response r = c.read();
                assertEquals(408, r.status(), r.body());
            }
            try (RawHttp c = new RawHttp(p, 10_000)) { // an idle keep-alive connection is not a late head
                assertEquals(200, c.send(head(p, "GET", "/v1/id")).read().status());
                Thread.sleep(600);
                assertEquals(200, c.send(head(p, "GET", "/v1/id")).read().status());
            }
        }
    }

    // ---- bodies held whole (finding: fourteen unfinished directory listings held 448 MiB)

    @Test
    void unfinishedDirectoryBodies_beyondTheNodeWideBudget_are503() throws Exception {
        try (NodeApiServer small = server(new NodeApiServer.Limits(4, 8, 1 << 20, Duration.ofSeconds(60), Duration.ofSeconds(10), 512))) {
            int p = small.address().getPort();
            byte[] part = new byte[600_000];
            Arrays.fill(part, (byte) ' ');
            try (RawHttp a = new RawHttp(p, 10_000); RawHttp b = new RawHttp(p, 10_000)) {
                a.send(head(p, "POST", "/v1/directories", "Content-Length: 900000")).send(part);
                awaitTrue(() -> small.bufferedBodyBytes() == part.length, "the first listing's bytes held");
                b.send(head(p, "POST", "/v1/directories", "Content-Length: 900000")).sendQuietly(part);
                RawHttp.Response refused = b.read();
                assertEquals(503, refused.status(), refused.body());
                assertTrue(refused.body().contains("1 MiB of unfinished request bodies"), refused.body());
                assertTrue(b.closedByServer());
                assertEquals(part.length, small.bufferedBodyBytes(), "the refused body's bytes are not kept");
                // the first one finishes: it is answered, and its bytes are given back
                byte[] rest = new byte[300_000];
                Arrays.fill(rest, (byte) ' ');
                rest[0] = '{';
                rest[rest.length - 1] = '}';
                a.send(rest);
                RawHttp.Response answered = a.read();
                assertEquals(400, answered.status(), answered.body());
            }
            awaitTrue(() -> small.bufferedBodyBytes() == 0, "every byte given back");
        }
    }

    /** Polls a condition of the server every 10 ms for up to 10 s. */
    private static void awaitTrue(java.util.function.BooleanSupplier c, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, what + " did not happen within 10 s");
            Thread.sleep(10);
        }
    }

    @Test
    void connections_beyondTheLimit_are503AndClosed() throws Exception {
        try (NodeApiServer two = server(new NodeApiServer.Limits(4, 8, 64 << 20, Duration.ofSeconds(15), Duration.ofSeconds(10), 2))) {
            int p = two.address().getPort();
            try (RawHttp a = new RawHttp(p, 10_000); RawHttp b = new RawHttp(p, 10_000)) {
                for (RawHttp c : List.of(a, b)) { // each accepted and answered, and kept open
                    assertEquals(200, c.send(head(p, "GET", "/v1/id")).read().status());
                }
                try (RawHttp third = new RawHttp(p, 10_000)) {
                    RawHttp.Response r = third.read();
                    assertEquals(503, r.status(), r.body());
                    assertTrue(r.body().contains("too many connections"), r.body());
                }
            }
            awaitTrue(() -> { // the two closed: room again
                try (RawHttp c = new RawHttp(p, 10_000)) {
                    return c.send(head(p, "GET", "/v1/id")).read().status() == 200;
                } catch (Exception e) {
                    return false;
                }
            }, "a connection accepted once the others closed");
        }
    }

    // ---- heads over the limits (finding: served as if the header were absent)

    @Test
    void headerOver8KiB_is431_andClosed() throws Exception {
        try (RawHttp c = raw()) {
            c.send(head("GET", "/v1/id", "X-Big: " + "a".repeat(10_000)));
            RawHttp.Response r = c.read();
            assertEquals(431, r.status(), r.body());
            assertTrue(r.body().contains("8192"), r.body());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void requestLineOver4KiB_is414_andClosed() throws Exception {
        try (RawHttp c = raw()) {
            c.send(head("GET", "/v1/id?x=" + "a".repeat(10_000)));
            RawHttp.Response r = c.read();
            assertEquals(414, r.status(), r.body());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void malformedHead_is400_andNeverRouted() throws Exception {
        // each of these reached a route before: the decoder's failure was not looked at
        for (String bad : List.of(
                "GET /v1/id HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n",
                "GET /v1/id HTTP/1.1\nHost: 127.0.0.1\n\n",
                "G@T /v1/id HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) {
            try (RawHttp c = raw()) {
                c.send(bad);
                RawHttp.Response r = c.read();
                assertEquals(400, r.status(), bad + " -> " + r.body());
                assertFalse(r.body().contains("peerId"), r.body());
            }
        }
    }

    // ---- ranges (finding: bytes=0-99999999999999999999 gave 500)

    @Test
    void range_hugeNumbersAndOddShapes_areClampedOr416_never500() throws Exception {
        byte[] data = new byte[200_000];
        new Random(5).nextBytes(data);
        String cid = upload(data);
        record Case(String range, int status, int from, int to) {}
        List<Case> cases = List.of(
                new Case("bytes=0-99999999999999999999", 206, 0, data.length),
                new Case("bytes=10-" + Long.MAX_VALUE, 206, 10, data.length),
                new Case("bytes=-99999999999999999999", 206, 0, data.length),
                new Case("bytes=99999999999999999999-", 416, 0, 0),
                new Case("bytes=99999999999999999999-99999999999999999999", 416, 0, 0),
                new Case("bytes=0-1,5-6", 416, 0, 0),
                new Case("bytes=5-3", 416, 0, 0),
                new Case("bytes=--1", 416, 0, 0),
                new Case("bytes=", 416, 0, 0),
                new Case("bytes=-0", 416, 0, 0),
                new Case("bytes=abc", 416, 0, 0),
                new Case("bytes=1-2 ", 206, 1, 3),
                new Case("BYTES=1-2", 206, 1, 3),
                new Case("items=0-1", 200, 0, data.length));
        for (Case k : cases) {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/objects/" + cid))
                    .header("Range", k.range()).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(k.status(), r.statusCode(), k.range() + ": " + new String(r.body(), StandardCharsets.UTF_8));
            if (k.status() != 416) {
                assertArrayEquals(Arrays.copyOfRange(data, k.from(), k.to()), r.body(), k.range());
            } else {
                assertEquals("bytes */" + data.length, r.headers().firstValue("content-range").orElseThrow(), k.range());
                String text = new String(r.body(), StandardCharsets.UTF_8);
                assertFalse(text.contains("For input string") || text.contains("Exception"), text);
            }
        }
    }

    // ---- error bodies (finding: Java exception text reached the client)

    @Test
    void errors_nameTheProblemInWords_neverJavaExceptionText() throws Exception {
        try (RawHttp c = raw()) {
            c.send(head("POST", "/v1/directories", "Content-Length: 8") + "not json");
            RawHttp.Response r = c.read();
            assertEquals(400, r.status(), r.body());
            assertTrue(r.body().contains("not JSON"), r.body());
            assertFalse(r.body().contains("Unrecognized token") || r.body().contains("[Source") || r.body().contains("Exception"), r.body());
        }
        String cid = upload(new byte[100_000]);
        try (RawHttp c = raw()) {
            c.send(head("GET", "/v1/objects/" + cid + "/%zz"));
            RawHttp.Response r = c.read();
            assertEquals(400, r.status(), r.body());
            assertTrue(r.body().contains("percent"), r.body());
            assertFalse(r.body().contains("invalid hex byte"), r.body());
        }
        // a dial that fails deep in Netty: its exception's text ("Connection refused: /127.0.0.1:1") stays in the log
        String peer = io.oecloud.dht.Identity.generate().peerId().toString(); // a stranger: no connection to reuse
        try (RawHttp c = raw()) {
            c.send(head("POST", "/v1/ping?addr=/ip4/127.0.0.1/tcp/1/p2p/" + peer, "Content-Length: 0"));
            RawHttp.Response r = c.read();
            assertEquals(502, r.status(), r.body());
            assertTrue(r.body().contains("cannot connect to /ip4/127.0.0.1/tcp/1/p2p/" + peer + ": the connection was refused or failed"), r.body());
            assertFalse(r.body().contains("finishConnect") || r.body().contains("Connection refused: /127.0.0.1:1"), r.body());
        }
    }

    // ---- threads (finding: ten stalled uploads held the API for minutes)

    @Test
    void stalledUploads_doNotDelayAGetOrAPeersShardPut() throws Exception {
        byte[] small = new byte[300_000];
        new Random(6).nextBytes(small);
        String cid = upload(small);
        try (NodeApiServer patient = server(new NodeApiServer.Limits(4, 16, 64 << 20, Duration.ofSeconds(60),
                Duration.ofSeconds(10), 512))) {
            int p = patient.address().getPort();
            List<RawHttp> stalled = new ArrayList<>();
            try {
                int accepted = 0;
                for (int i = 0; i < 10; i++) {
                    RawHttp c = new RawHttp(p, 10_000);
                    stalled.add(c);
                    c.send("POST /v1/objects HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nAuthorization: Bearer " + ApiAccessTest.TOKEN
                            + "\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n");
                    RawHttp.Response interim = c.readInterim();
                    if (interim.status() == 100) {
                        c.send(new byte[10]); // ten bytes of a hundred million, then silence
                        accepted++;
                    } else {
                        assertEquals(429, interim.status(), interim.body());
                        assertTrue(interim.body().contains("127.0.0.1"), interim.body());
                    }
                }
                assertEquals(4, accepted, "four uploads at once from one address");
                HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p + "/v1/objects/" + cid))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, got.statusCode());
                assertArrayEquals(small, got.body());
                // another node's upload places a shard on this node through its shard server
                byte[] other = new byte[300_000];
                new Random(7).nextBytes(other);
                CompletableFuture<io.oecloud.proofs.Cid> peerUpload = CompletableFuture.supplyAsync(() -> {
                    try {
                        return net.get(1).objects.upload(new ByteArrayInputStream(other), "application/octet-stream");
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
                io.oecloud.proofs.Cid placed = peerUpload.get(10, TimeUnit.SECONDS);
                assertTrue(ManifestAccess.manifest(net.get(0).objects, placed).getSegmentsCount() == 1);
            } finally {
                for (RawHttp c : stalled) {
                    c.close();
                }
            }
        }
    }
}
