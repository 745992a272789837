package io.oecloud.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.proofs.Cid;
import io.oecloud.testkit.RawHttp;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The edge's HTTP front over an in-memory origin: real sockets, the real cache and checks. */
class EdgeHttpTest {
    private final MemoryOrigin origin = new MemoryOrigin();
    private final Map<String, Cid> names = new ConcurrentHashMap<>();
    private Edge edge;

    private Edge start(EdgeConfig config) throws IOException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        edge = Edge.start(config, origin, n -> names.get(n), null, null, registry, () -> "oe_edge_test 1\n");
        return edge;
    }

    private Edge start() throws IOException {
        return start(config(1 << 20, 64L << 20));
    }

    private static EdgeConfig config(int chunk, long memory) {
        return config(chunk, memory, Duration.ofSeconds(2), 256);
    }

    private static EdgeConfig config(int chunk, long memory, Duration writeDeadline, int perAddress) {
        return new EdgeConfig(new InetSocketAddress("127.0.0.1", 0), "localhost", Map.of(), null, chunk, memory, 0, "admin-token",
                Duration.ofSeconds(10), writeDeadline, Duration.ofMillis(200), 512, perAddress, null, EdgeConfig.HEAD_DEADLINE);
    }

    @AfterEach
    void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private InetSocketAddress at() {
        return edge.address();
    }

    @Test
    void aFile_isAMissThenAHit_withItsCidAsETag_andImmutableCaching() throws Exception {
        byte[] bytes = random(3 << 20, 1);
        Cid cid = origin.putFile(bytes, "video/mp4", 1 << 20, 4);
        start();
        RawHttp.Response first = RawHttp.get(at(), "GET", "/c/" + cid);
        assertEquals(200, first.status());
        assertArrayEquals(bytes, first.body());
        assertEquals("MISS", first.header("X-Cache"));
        assertEquals("\"" + cid + "\"", first.header("ETag"));
        assertEquals("public, max-age=31536000, immutable", first.header("Cache-Control"));
        assertEquals("video/mp4", first.header("Content-Type"));
        assertNotNull(first.header("Age"));
        int slices = origin.sliceCalls.get();
        RawHttp.Response second = RawHttp.get(at(), "GET", "/c/" + cid);
        assertArrayEquals(bytes, second.body());
        assertEquals("HIT", second.header("X-Cache"));
        assertEquals(slices, origin.sliceCalls.get(), "a hit asks the origin nothing");
        assertEquals(1, origin.manifestCalls.get());
    }

    @Test
    void twoHundredConcurrentColdRequests_makeOneOriginFetch() throws Exception {
        byte[] bytes = random(1 << 20, 2);
        Cid cid = origin.putFile(bytes, "application/octet-stream", 4 << 20, 4); // 1 MiB in one segment: 4 shards, 4 slices
        origin.delayMillis = 300;
        start();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<RawHttp.Response>> answers = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 200; i++) {
                answers.add(clients.submit(() -> {
                    go.await();
                    return RawHttp.get(at(), "GET", "/c/" + cid, "Host: 127.0.0.1");
                }));
            }
            go.countDown();
            for (Future<RawHttp.Response> f : answers) {
                RawHttp.Response r = f.get();
                assertEquals(200, r.status(), r::text);
                assertArrayEquals(bytes, r.body());
            }
        }
        assertEquals(1, origin.manifestCalls.get(), "one manifest fetch");
        assertEquals(4, origin.sliceCalls.get(), "one fetch of the one chunk: a slice of each of its 4 data shards");
        assertEquals(2, edge.metrics().originFetches(), "one manifest and one chunk fetched");
        assertTrue(edge.metrics().coalescedRequests() >= 1, "requests that waited for the fetch are counted");
    }

    @Test
    void randomRanges_singleAndMultiple_matchTheOriginalBytes() throws Exception {
        int size = (5 << 20) + 12_345; // segments of 2 MiB at k = 3: shards of 699,051 bytes, not 1 KiB-aligned; chunks of 256 KiB
        byte[] bytes = random(size, 3);
        Cid cid = origin.putFile(bytes, "application/octet-stream", 2 << 20, 3);
        start(config(256 << 10, 64L << 20));
        Random r = new Random(20261207);
        try (RawHttp h = new RawHttp(at())) {
            for (int i = 0; i < 150; i++) {
                int n = 1 + r.nextInt(i % 3 == 0 ? 4 : 1);
                List<long[]> asked = new ArrayList<>();
                StringBuilder header = new StringBuilder("bytes=");
                for (int j = 0; j < n; j++) {
                    long a = r.nextInt(size);
                    long b = Math.min(size - 1, a + r.nextInt(r.nextBoolean() ? 3000 : 1 << 20));
                    asked.add(new long[] {a, b + 1});
                    header.append(j == 0 ? "" : ",").append(a).append('-').append(b);
                }
                RawHttp.Response resp = h.request("GET", "/c/" + cid, "Range: " + header);
                assertEquals(206, resp.status(), resp::text);
                List<long[]> merged = merge(asked);
                if (merged.size() == 1) {
                    long[] s = merged.get(0);
                    assertEquals("bytes " + s[0] + "-" + (s[1] - 1) + "/" + size, resp.header("Content-Range"));
                    assertArrayEquals(Arrays.copyOfRange(bytes, (int) s[0], (int) s[1]), resp.body(), "range " + header);
                } else {
                    String type = resp.header("Content-Type");
                    assertTrue(type.startsWith("multipart/byteranges; boundary="), type);
                    List<byte[]> parts = multipart(resp.body(), type.substring(type.indexOf('=') + 1), size, merged);
                    for (int j = 0; j < merged.size(); j++) {
                        assertArrayEquals(Arrays.copyOfRange(bytes, (int) merged.get(j)[0], (int) merged.get(j)[1]), parts.get(j));
                    }
                }
            }
        }
    }

    private static List<long[]> merge(List<long[]> asked) {
        List<long[]> s = new ArrayList<>(asked);
        s.sort((x, y) -> Long.compare(x[0], y[0]));
        List<long[]> out = new ArrayList<>();
        for (long[] x : s) {
            if (!out.isEmpty() && x[0] <= out.get(out.size() - 1)[1]) {
                out.get(out.size() - 1)[1] = Math.max(out.get(out.size() - 1)[1], x[1]);
            } else {
                out.add(new long[] {x[0], x[1]});
            }
        }
        return out;
    }

    /** The parts of a multipart/byteranges body, each checked for its Content-Range. */
    private static List<byte[]> multipart(byte[] body, String boundary, long size, List<long[]> spans) {
        List<byte[]> parts = new ArrayList<>();
        int at = 0;
        for (long[] s : spans) {
            String head = "\r\n--" + boundary + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes " + s[0] + "-"
                    + (s[1] - 1) + "/" + size + "\r\n\r\n";
            byte[] hb = head.getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(hb, Arrays.copyOfRange(body, at, at + hb.length), "part head");
            at += hb.length;
            parts.add(Arrays.copyOfRange(body, at, at + (int) (s[1] - s[0])));
            at += (int) (s[1] - s[0]);
        }
        assertEquals("\r\n--" + boundary + "--\r\n", new String(body, at, body.length - at, StandardCharsets.US_ASCII));
        return parts;
    }

    @Test
    void conditionalHeadAndBadRanges_followHttp() throws Exception {
        byte[] bytes = random(200_000, 4);
        Cid cid = origin.putFile(bytes, "application/octet-stream", 1 << 20, 2);
        start();
        String etag = "\"" + cid + "\"";
        RawHttp.Response notModified = RawHttp.get(at(), "GET", "/c/" + cid, "If-None-Match: W/" + etag);
        assertEquals(304, notModified.status());
        assertEquals(etag, notModified.header("ETag"));
        RawHttp.Response head = RawHttp.get(at(), "HEAD", "/c/" + cid);
        assertEquals(200, head.status());
        assertEquals("200000", head.header("Content-Length"));
        assertEquals(0, head.body().length);
        RawHttp.Response past = RawHttp.get(at(), "GET", "/c/" + cid, "Range: bytes=300000-");
        assertEquals(416, past.status());
        assertEquals("bytes */200000", past.header("Content-Range"));
        StringBuilder many = new StringBuilder("bytes=0-0");
        for (int i = 1; i < 40; i++) {
            many.append(',').append(i * 10).append('-').append(i * 10);
        }
        RawHttp.Response tooMany = RawHttp.get(at(), "GET", "/c/" + cid, "Range: " + many);
        assertEquals(416, tooMany.status());
        assertTrue(tooMany.text().contains("more than 16 ranges"), tooMany.text());
        RawHttp.Response absurd = RawHttp.get(at(), "GET", "/c/" + cid, "Range: bytes=99999999999999999999999999-");
        assertEquals(416, absurd.status());
        RawHttp.Response overlapping = RawHttp.get(at(), "GET", "/c/" + cid, "Range: bytes=0-99,50-149,150-199");
        assertEquals(206, overlapping.status(), "overlapping and adjacent ranges merge into one: no byte twice");
        assertArrayEquals(Arrays.copyOfRange(bytes, 0, 200), overlapping.body());
    }

    @Test
    void aCorruptingOrigin_gets502_andNothingIsCached() throws Exception {
        byte[] bytes = random(2 << 20, 5);
        Cid cid = origin.putFile(bytes, "application/octet-stream", 1 << 20, 2);
        origin.corrupt = true;
        start();
        RawHttp.Response bad = RawHttp.get(at(), "GET", "/c/" + cid);
        assertEquals(502, bad.status());
        assertTrue(bad.text().contains("does not verify"), bad.text());
        assertTrue(edge.metrics().verificationFailures() >= 1);
        origin.refuseSlices = true; // the fallback's whole data shards are checked as well
        RawHttp.Response badShards = RawHttp.get(at(), "GET", "/c/" + cid);
        assertEquals(502, badShards.status());
        assertTrue(badShards.text().contains("does not hash to its CID"), badShards.text());
        origin.corrupt = false;
        RawHttp.Response good = RawHttp.get(at(), "GET", "/c/" + cid);
        assertEquals(200, good.status());
        assertEquals("MISS", good.header("X-Cache"), "nothing of the bad answers was kept");
        assertArrayEquals(bytes, good.body());
        assertTrue(origin.shardCalls.get() > 0, "with slices refused, the segment's data shards were read");
    }

    @Test
    void aSite_servesIndexTypesRedirectsAnd404Page_onThePathAndOnItsOwnOrigin() throws Exception {
        Cid index = origin.putFile("<!doctype html><link rel=stylesheet href=style.css><h1>hi</h1>".getBytes(StandardCharsets.UTF_8), "", 1 << 20, 2);
        Cid css = origin.putFile("h1 { color: rgb(1, 2, 3) }".getBytes(StandardCharsets.UTF_8), "", 1 << 20, 2);
        Cid png = origin.putFile(random(100_000, 6), "image/png", 1 << 20, 2);
        Cid missing = origin.putFile("<h1>not here</h1>".getBytes(StandardCharsets.UTF_8), "text/html", 1 << 20, 2);
        Cid sub = origin.putDirectory(Map.of("a.txt", css));
        Cid site = origin.putDirectory(Map.of("index.html", index, "style.css", css, "logo.png", png, "404.html", missing, "sub", sub));
        start();
        RawHttp.Response root = RawHttp.get(at(), "GET", "/c/" + site + "/");
        assertEquals(200, root.status());
        assertEquals("text/html; charset=utf-8", root.header("Content-Type"));
        assertTrue(root.text().contains("<h1>hi</h1>"));
        RawHttp.Response redirect = RawHttp.get(at(), "GET", "/c/" + site + "/sub?x=1");
        assertEquals(301, redirect.status());
        assertEquals("/c/" + site + "/sub/?x=1", redirect.header("Location"));
        RawHttp.Response listing = RawHttp.get(at(), "GET", "/c/" + site + "/sub/");
        assertEquals(200, listing.status());
        assertTrue(listing.text().contains("a.txt"), "a directory without index.html is listed");
        assertEquals("text/css; charset=utf-8", RawHttp.get(at(), "GET", "/c/" + site + "/style.css").header("Content-Type"));
        assertEquals("image/png", RawHttp.get(at(), "GET", "/c/" + site + "/logo.png").header("Content-Type"));
        RawHttp.Response miss = RawHttp.get(at(), "GET", "/c/" + site + "/nope.html");
        assertEquals(404, miss.status());
        assertTrue(miss.text().contains("not here"), "the site's own 404.html");
        String host = "Host: " + site.toBase36() + ".c.localhost:" + at().getPort();
        RawHttp.Response own = RawHttp.get(at(), "GET", "/style.css", host);
        assertEquals(200, own.status());
        assertEquals("h1 { color: rgb(1, 2, 3) }", own.text());
        assertEquals(200, RawHttp.get(at(), "GET", "/", host).status());
        assertEquals(404, RawHttp.get(at(), "GET", "/", "Host: somewhere.example").status());
    }

    @Test
    void pathTraversalAndMalformedPaths_are400() throws Exception {
        Cid cid = origin.putDirectory(Map.of("a", origin.putFile(new byte[] {1}, "", 1 << 20, 2)));
        start();
        for (String p : List.of("/c/" + cid + "/..%2F..%2Fetc", "/c/" + cid + "/%2e%2e/a", "/c/" + cid + "/a%00", "/c/" + cid + "/%zz",
                "/c/not-a-cid/x", "/c/" + cid + "/%5c..")) {
            RawHttp.Response r = RawHttp.get(at(), "GET", p);
            assertEquals(400, r.status(), p + ": " + r.text());
        }
    }

    @Test
    void purge_needsTheToken_andEmptiesEveryTier() throws Exception {
        byte[] bytes = random(300_000, 7);
        Cid cid = origin.putFile(bytes, "", 1 << 20, 2);
        start();
        assertEquals("MISS", RawHttp.get(at(), "GET", "/c/" + cid).header("X-Cache"));
        assertEquals(401, RawHttp.get(at(), "DELETE", "/cache/" + cid).status());
        assertEquals(401, RawHttp.get(at(), "DELETE", "/cache/" + cid, "Authorization: Bearer wrong").status());
        RawHttp.Response ok = RawHttp.get(at(), "DELETE", "/cache/" + cid, "Authorization: Bearer admin-token");
        assertEquals(200, ok.status(), ok::text);
        assertEquals("MISS", RawHttp.get(at(), "GET", "/c/" + cid).header("X-Cache"));
        assertEquals(405, RawHttp.get(at(), "POST", "/c/" + cid).status());
    }

    @Test
    void text_isGzippedForClientsThatAcceptIt() throws Exception {
        byte[] css = "body { margin: 0 }\n".repeat(2000).getBytes(StandardCharsets.UTF_8);
        Cid cid = origin.putFile(css, "text/css", 1 << 20, 2);
        start();
        RawHttp.Response z = RawHttp.get(at(), "GET", "/c/" + cid, "Accept-Encoding: br, gzip");
        assertEquals("gzip", z.header("Content-Encoding"));
        assertEquals("Accept-Encoding", z.header("Vary"));
        assertTrue(z.body().length < css.length / 10);
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(z.body()))) {
            assertArrayEquals(css, in.readAllBytes());
        }
        RawHttp.Response plain = RawHttp.get(at(), "GET", "/c/" + cid, "Accept-Encoding: gzip;q=0");
        assertNull(plain.header("Content-Encoding"));
        assertArrayEquals(css, plain.body());
    }

    @Test
    void headerFloodsLongLinesAndTooManyConnections_getTheirStatus() throws Exception {
        start(config(1 << 20, 64L << 20, Duration.ofSeconds(2), 16));
        String big = "x".repeat(20_000);
        assertEquals(431, RawHttp.get(at(), "GET", "/c/x", "X-Flood: " + big).status());
        assertEquals(414, RawHttp.get(at(), "GET", "/c/" + big).status());
        List<RawHttp> open = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                RawHttp h = new RawHttp(at());
                open.add(h);
                assertEquals(404, h.request("GET", "/nothing").status());
            }
            try (RawHttp over = new RawHttp(at())) {
                RawHttp.Response r = over.read(false);
                assertEquals(429, r.status());
            }
            assertEquals(404, open.get(0).request("GET", "/still-served").status(), "the connections within the cap are unaffected");
        } finally {
            for (RawHttp h : open) {
                h.close();
            }
        }
    }

    @Test
    void theHeadDeadline_cutsAStalledHead_butNotAnIdleKeepAliveConnection_norALongDownload() throws Exception {
        byte[] bytes = random(6 << 20, 21);
        Cid cid = origin.putFile(bytes, "", 2 << 20, 2);
        EdgeConfig c = config(1 << 20, 64L << 20);
        Duration deadline = Duration.ofMillis(600);
        start(new EdgeConfig(c.bind(), c.domain(), c.sites(), null, c.chunkSize(), c.memoryBytes(), 0, c.token(), c.originDeadline(),
                c.writeDeadline(), c.nameTtl(), c.connections(), c.perAddress(), null, deadline));
        try (RawHttp h = new RawHttp(at())) {
            assertEquals(206, h.request("GET", "/c/" + cid, "Range: bytes=0-9").status());
            Thread.sleep(3 * deadline.toMillis()); // idle between requests, three deadlines long: what is under test
            assertEquals(206, h.request("GET", "/c/" + cid, "Range: bytes=10-19").status(), "the idle keep-alive connection still serves");
            // a download read slowly, over many deadlines, is not a late head
            h.send(("GET /c/" + cid + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            java.io.InputStream in = h.socket().getInputStream();
            byte[] buf = new byte[64 << 10];
            long got = 0;
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            while (System.nanoTime() < end) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                all.write(buf, 0, n);
                got += n;
                if (all.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n") && got >= bytes.length) {
                    break;
                }
                Thread.sleep(25); // about 2.5 MB/s: the 6 MiB take several deadlines
            }
            assertTrue(got >= bytes.length, "the slow download completed: " + got + " bytes");
        }
        try (RawHttp stalled = new RawHttp(at())) {
            stalled.send("GET /c/".getBytes(StandardCharsets.US_ASCII)); // half a request line, then nothing
            long t0 = System.nanoTime();
            RawHttp.Response r = stalled.read(false);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(408, r.status());
            assertTrue(ms >= deadline.toMillis() - 100 && ms < deadline.toMillis() + 5_000, ms + " ms");
        }
    }

    @Test
    void aClientThatStopsReading_isCutOff_andOthersAreServed() throws Exception {
        byte[] bytes = random(24 << 20, 8);
        Cid cid = origin.putFile(bytes, "", 8 << 20, 4);
        start(config(1 << 20, 64L << 20, Duration.ofSeconds(1), 256));
        try (RawHttp slow = new RawHttp(at())) {
            slow.send(("GET /c/" + cid + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response other = RawHttp.get(at(), "GET", "/c/" + cid, "Range: bytes=0-99");
            assertEquals(206, other.status());
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            boolean closed = false;
            java.io.InputStream in = slow.socket().getInputStream();
            Thread.sleep(8_000); // not reading: the kernel's buffers fill (a few MiB), then the server's write deadline (1 s) runs out
            byte[] buf = new byte[1 << 16];
            long got = 0;
            while (System.nanoTime() < deadline) {
                int n = in.read(buf);
                if (n < 0) {
                    closed = true;
                    break;
                }
                got += n;
            }
            assertTrue(closed, "the server closed the stalled connection");
            assertTrue(got < bytes.length, "it did not get the whole object");
        }
    }

    @Test
    void siteNames_resolveThroughTheRegistry_andUpdatesAreFollowed() throws Exception {
        Cid v1 = origin.putDirectory(Map.of("index.html", origin.putFile("one".getBytes(StandardCharsets.UTF_8), "text/html", 1 << 20, 2)));
        Cid v2 = origin.putDirectory(Map.of("index.html", origin.putFile("two".getBytes(StandardCharsets.UTF_8), "text/html", 1 << 20, 2)));
        names.put("blog", v1);
        start();
        String host = "Host: blog.n.localhost:" + at().getPort();
        RawHttp.Response first = RawHttp.get(at(), "GET", "/", host);
        assertEquals("one", first.text());
        assertEquals("public, max-age=30", first.header("Cache-Control"), "a name moves: a short max-age");
        names.put("blog", v2);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        String now = first.text();
        while (!now.equals("two") && System.nanoTime() < deadline) {
            Thread.sleep(50);
            now = RawHttp.get(at(), "GET", "/", host).text();
        }
        assertEquals("two", now, "the update is followed within the name TTL");
        assertEquals(404, RawHttp.get(at(), "GET", "/", "Host: nobody.n.localhost").status());
    }

    @Test
    void http2ByTheH2cUpgrade_servesWholeObjectsAndRanges_onOneConnection() throws Exception {
        byte[] bytes = random(3 << 20, 10);
        Cid cid = origin.putFile(bytes, "application/octet-stream", 1 << 20, 2);
        start();
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_2).build();
        java.net.URI uri = java.net.URI.create("http://127.0.0.1:" + at().getPort() + "/c/" + cid);
        java.net.http.HttpResponse<byte[]> whole = client.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, whole.statusCode());
        assertArrayEquals(bytes, whole.body());
        java.net.http.HttpResponse<byte[]> part = client.send(java.net.http.HttpRequest.newBuilder(uri).header("Range", "bytes=1000-2999").build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(java.net.http.HttpClient.Version.HTTP_2, part.version(), "upgraded to h2c");
        assertEquals(206, part.statusCode());
        assertArrayEquals(Arrays.copyOfRange(bytes, 1000, 3000), part.body());
        assertEquals("HIT", part.headers().firstValue("x-cache").orElse(""));
        List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<byte[]>>> many = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            many.add(client.sendAsync(java.net.http.HttpRequest.newBuilder(uri).header("Range", "bytes=" + i * 1000 + "-" + (i * 1000 + 99)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (int i = 0; i < 20; i++) {
            java.net.http.HttpResponse<byte[]> r = many.get(i).get();
            assertEquals(java.net.http.HttpClient.Version.HTTP_2, r.version());
            assertArrayEquals(Arrays.copyOfRange(bytes, i * 1000, i * 1000 + 100), r.body(), "stream " + i);
        }
    }

    @Test
    void withACertificate_theEdgeSpeaksTls_andAlpnChoosesHttp2OrHttp11() throws Exception {
        Path dir = java.nio.file.Files.createTempDirectory("edge-tls");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Path openssl = io.oecloud.testkit.DebianPackage.require(Path.of("/usr/bin/openssl"), "openssl");
        Process p = new ProcessBuilder(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
                .redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, said);
        byte[] bytes = random(2 << 20, 11);
        Cid cid = origin.putFile(bytes, "application/octet-stream", 1 << 20, 2);
        EdgeConfig c = config(1 << 20, 64L << 20);
        start(new EdgeConfig(c.bind(), c.domain(), c.sites(), null, c.chunkSize(), c.memoryBytes(), 0, c.token(), c.originDeadline(),
                c.writeDeadline(), c.nameTtl(), c.connections(), c.perAddress(), new EdgeConfig.Tls(cert, key), c.headDeadline()));
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (var in = java.nio.file.Files.newInputStream(cert)) {
            trust.setCertificateEntry("edge", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        java.net.URI uri = java.net.URI.create("https://127.0.0.1:" + at().getPort() + "/c/" + cid);
        for (java.net.http.HttpClient.Version v : java.net.http.HttpClient.Version.values()) {
            java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().sslContext(ssl).version(v).build();
            java.net.http.HttpResponse<byte[]> r = client.send(java.net.http.HttpRequest.newBuilder(uri).header("Range", "bytes=100-199").build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(v, r.version(), "ALPN gave the client what it asked for");
            assertEquals(206, r.statusCode());
            assertArrayEquals(Arrays.copyOfRange(bytes, 100, 200), r.body());
        }
        assertThrows(java.io.IOException.class, () -> RawHttp.get(at(), "GET", "/c/" + cid), "plain HTTP on the TLS port is not answered");
    }

    @Test
    void pipelinedRequests_areAnsweredInOrder_andAPurgeDropsTheHotAnswers() throws Exception {
        byte[] small = random(5000, 12);
        byte[] big = random(3 << 20, 13);
        Cid smallCid = origin.putFile(small, "application/octet-stream", 1 << 20, 2);
        Cid bigCid = origin.putFile(big, "application/octet-stream", 1 << 20, 2);
        origin.delayMillis = 50;
        start();
        try (RawHttp h = new RawHttp(at())) {
            StringBuilder three = new StringBuilder();
            for (String target : List.of("/c/" + smallCid, "/c/" + bigCid, "/c/" + smallCid, "/c/" + bigCid)) {
                three.append("GET ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-4999\r\n\r\n");
            }
            h.send(three.toString().getBytes(StandardCharsets.US_ASCII)); // four requests in one write
            for (byte[] expected : List.of(small, big, small, big)) {
                RawHttp.Response r = h.read(false);
                assertEquals(206, r.status());
                assertArrayEquals(Arrays.copyOf(expected, 5000), r.body(), "answers in the order asked");
            }
        }
        assertEquals("HIT", RawHttp.get(at(), "GET", "/c/" + smallCid).header("X-Cache"), "its one chunk came with the ranges");
        int slices = origin.sliceCalls.get();
        RawHttp.Response hot = RawHttp.get(at(), "GET", "/c/" + smallCid);
        assertEquals("HIT", hot.header("X-Cache"));
        assertArrayEquals(small, hot.body());
        assertEquals("\"" + smallCid + "\"", hot.header("ETag"));
        assertEquals(0, RawHttp.get(at(), "HEAD", "/c/" + smallCid).body().length);
        assertEquals(slices, origin.sliceCalls.get());
        assertEquals(200, RawHttp.get(at(), "DELETE", "/cache/" + smallCid, "Authorization: Bearer admin-token").status());
        RawHttp.Response after = RawHttp.get(at(), "GET", "/c/" + smallCid);
        assertEquals("MISS", after.header("X-Cache"), "the purge took the hot answer too");
        assertArrayEquals(small, after.body());
    }
}
