package io.oecloud.node;

import io.oecloud.node.api.NodeApiServer;
import io.oecloud.node.api.ApiAccess;
import io.oecloud.node.api.ApiToken;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * "A stranger must not be in charge of a node" (issue 22): who may use which route of the HTTP
 * API, from which Host and which web page, and what the API's origin may run. Real sockets, a
 * real server on a six-node network.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class HttpAccessTest {
    private TestNetwork net;
    private NodeApiServer api;
    private int port;
    private Path dir;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        this.dir = dir;
        net = TestNetwork.start(dir, 6);
        api = server(ApiAccessTest.access());
        port = api.address().getPort();
    }

    private NodeApiServer server(ApiAccess access) throws Exception {
        return net.api(0, access, NodeApiServer.Limits.defaults());
    }

    @AfterAll
    void stop() {
        api.close();
        net.close();
    }

    private RawHttp.Response raw(int p, String request) throws Exception {
        try (RawHttp c = new RawHttp(p, 10_000)) {
            return c.send(request).read();
        }
    }

    private HttpResponse<byte[]> send(String method, String path, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static final String[] TOKEN = {"Authorization", "Bearer " + ApiAccessTest.TOKEN};

    private String upload(String path, byte[] data, String type) throws Exception {
        HttpResponse<byte[]> r = send("POST", path, data, "Authorization", TOKEN[1], "Content-Type", type);
        assertEquals(201, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        return new String(r.body(), StandardCharsets.UTF_8).replaceAll(".*\"cid\":\"([^\"]+)\".*", "$1");
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void privateRoutes_withoutTheToken_are401InWords_andChangeNothing() throws Exception {
        String cid = upload("/v1/objects", random(100_000, 1), "application/octet-stream");
        String peer = net.get(1).p2p.host.peerId().toString();
        String addr = net.get(1).p2p.host.listenAddresses().get(0).withPeerId(net.get(1).p2p.host.peerId()).toString();
        int listed = net.get(0).objects.list().size();
        List<String[]> routes = List.of(
                new String[] {"DELETE", "/v1/objects/" + cid}, new String[] {"GET", "/v1/objects"},
                new String[] {"POST", "/v1/objects"}, new String[] {"POST", "/v1/directories"},
                new String[] {"GET", "/v1/status"}, new String[] {"GET", "/metrics"}, new String[] {"GET", "/v1/health/" + cid},
                new String[] {"POST", "/v1/repair"}, new String[] {"POST", "/v1/ping?addr=" + java.net.URLEncoder.encode(addr, StandardCharsets.UTF_8)},
                new String[] {"POST", "/v1/ping?addr=/ip4/10.0.0.1/tcp/22"}, new String[] {"POST", "/v1/dht/provide/" + cid},
                new String[] {"GET", "/v1/dht/providers/" + cid}, new String[] {"GET", "/v1/dht/peers/" + peer},
                new String[] {"PUT", "/v1/dht/values/homepage"}, new String[] {"GET", "/v1/dht/values?key=/oe/" + peer + "/x"},
                new String[] {"GET", "/v2/anything"});
        for (String[] r : routes) {
            byte[] body = r[0].equals("GET") || r[0].equals("DELETE") ? null : "{\"entries\":[]}".getBytes(StandardCharsets.UTF_8);
            HttpResponse<byte[]> none = send(r[0], r[1], body);
            String text = new String(none.body(), StandardCharsets.UTF_8);
            assertEquals(401, none.statusCode(), r[0] + " " + r[1] + ": " + text);
            assertTrue(text.contains("API token"), text);
            assertEquals("Bearer realm=\"oe\"", none.headers().firstValue("www-authenticate").orElseThrow());
            HttpResponse<byte[]> wrong = send(r[0], r[1], body, "Authorization", "Bearer " + "f".repeat(64));
            assertEquals(401, wrong.statusCode(), r[0] + " " + r[1]);
            assertTrue(wrong.headers().firstValue("www-authenticate").orElseThrow().contains("invalid_token"));
        }
        assertEquals(200, send("GET", "/v1/objects/" + cid, null).statusCode(), "not deleted");
        assertEquals(listed, net.get(0).objects.list().size(), "nothing uploaded");
        assertEquals(200, send("GET", "/v1/id", null).statusCode(), "/v1/id is open");
        assertEquals(200, send("GET", "/v1/status", null, TOKEN).statusCode(), "with the token");
    }

    @Test
    void publicReads_unencryptedAreOpen_encryptedNeedTheToken_alsoInsideDirectories() throws Exception {
        byte[] plain = random(150_000, 2);
        byte[] secret = random(150_000, 3);
        String open = upload("/v1/objects", plain, "application/octet-stream");
        String sealed = upload("/v1/objects?encrypt=true", secret, "application/octet-stream");
        String dirCid = upload("/v1/directories", ("{\"entries\":[{\"name\":\"open\",\"cid\":\"" + open + "\"},{\"name\":\"sealed\",\"cid\":\""
                + sealed + "\"}]}").getBytes(StandardCharsets.UTF_8), "application/json");

        HttpResponse<byte[]> got = send("GET", "/v1/objects/" + open, null);
        assertEquals(200, got.statusCode());
        assertArrayEquals(plain, got.body());
        assertArrayEquals(plain, send("GET", "/v1/objects/" + dirCid + "/open", null).body());
        assertEquals(200, send("GET", "/v1/objects/" + dirCid, null).statusCode(), "a listing is public");
        for (String path : List.of("/v1/objects/" + sealed, "/v1/objects/" + dirCid + "/sealed")) {
            for (String method : List.of("GET", "HEAD")) {
                HttpResponse<byte[]> r = send(method, path, null);
                assertEquals(401, r.statusCode(), method + " " + path);
                assertEquals("Bearer realm=\"oe\"", r.headers().firstValue("www-authenticate").orElseThrow());
            }
            assertArrayEquals(secret, send("GET", path, null, TOKEN).body());
        }
    }

    @Test
    void publicReadsClosedByConfiguration_everyReadNeedsTheToken() throws Exception {
        String open = upload("/v1/objects", random(100_000, 4), "application/octet-stream");
        try (NodeApiServer closed = server(new ApiAccess(ApiToken.of(ApiAccessTest.TOKEN), false, List.of(), List.of()))) {
            int p = closed.address().getPort();
            assertEquals(401, raw(p, "GET /v1/objects/" + open + " HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\n\r\n").status());
            assertEquals(200, raw(p, HttpRobustnessTest.head(p, "GET", "/v1/objects/" + open)).status());
            assertEquals(200, raw(p, "GET /v1/id HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\n\r\n").status(), "/v1/id stays open");
        }
    }

    @Test
    void foreignHost_isRefused403_evenWithTheToken_soDnsRebindingGetsNothing() throws Exception {
        String cid = upload("/v1/objects", random(100_000, 5), "application/octet-stream");
        for (String host : List.of("evil.example:" + port, "evil.example", "127.0.0.1:" + (port + 1), "attacker.localhost:" + port)) {
            RawHttp.Response r = raw(port, "GET /v1/objects/" + cid + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer "
                    + ApiAccessTest.TOKEN + "\r\n\r\n");
            assertEquals(403, r.status(), host + ": " + r.body());
            assertTrue(r.body().contains("--api-host"), r.body());
        }
        assertEquals(200, raw(port, "GET /v1/objects/" + cid + " HTTP/1.1\r\nHost: localhost:" + port + "\r\n\r\n").status());
        assertEquals(400, raw(port, "GET /v1/id HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nHost: evil.example\r\n\r\n").status());
        assertEquals(400, raw(port, "GET /v1/id HTTP/1.0\r\n\r\n").status(), "no Host");
        try (NodeApiServer named = server(new ApiAccess(ApiToken.of(ApiAccessTest.TOKEN), true, List.of("node.example.com"), List.of()))) {
            int p = named.address().getPort();
            assertEquals(200, raw(p, "GET /v1/id HTTP/1.1\r\nHost: node.example.com\r\n\r\n").status(), "a configured name");
        }
    }

    @Test
    void crossSiteRequests_areRefused403_beforeAnythingHappens() throws Exception {
        int listed = net.get(0).objects.list().size();
        // a "simple" cross-site POST (no preflight): text/plain, no custom headers
        for (String path : List.of("/v1/objects", "/v1/repair", "/v1/directories", "/v1/chain/txs")) {
            RawHttp.Response r = raw(port, "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: https://evil.example\r\n"
                    + "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
            assertEquals(403, r.status(), path + ": " + r.body());
            assertTrue(r.body().contains("--api-cors-origin"), r.body());
            assertNull(r.header("access-control-allow-origin"));
        }
        RawHttp.Response withToken = raw(port, "POST /v1/objects HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: https://evil.example\r\n"
                + "Authorization: Bearer " + ApiAccessTest.TOKEN + "\r\nContent-Length: 5\r\n\r\nhello");
        assertEquals(403, withToken.status(), "a page never gets to use the token either");
        assertEquals(listed, net.get(0).objects.list().size(), "nothing uploaded");
        RawHttp.Response preflight = raw(port, "OPTIONS /v1/objects HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: DELETE\r\n\r\n");
        assertEquals(403, preflight.status());
        assertNull(preflight.header("access-control-allow-origin"));
        // public content stays readable from any page, without CORS headers (the browser keeps it from the script)
        String cid = upload("/v1/objects", random(70_000, 6), "image/png");
        RawHttp.Response img = raw(port, "GET /v1/objects/" + cid + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: https://evil.example\r\n\r\n");
        assertEquals(200, img.status());
        assertNull(img.header("access-control-allow-origin"));
        // the API's own origin is not foreign
        RawHttp.Response own = raw(port, HttpRobustnessTest.head(port, "POST", "/v1/repair", "Origin: http://127.0.0.1:" + port));
        assertTrue(own.status() == 200 || own.status() == 429, own.status() + " " + own.body());
    }

    @Test
    void corsOrigin_configured_getsPreflightAndHeaders_othersNone() throws Exception {
        try (NodeApiServer cors = server(new ApiAccess(ApiToken.of(ApiAccessTest.TOKEN), true, List.of(), List.of("https://app.example.com")))) {
            int p = cors.address().getPort();
            RawHttp.Response pre = raw(p, "OPTIONS /v1/status HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nOrigin: https://app.example.com\r\n"
                    + "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n\r\n");
            assertEquals(204, pre.status());
            assertEquals("https://app.example.com", pre.header("access-control-allow-origin"));
            assertTrue(pre.header("access-control-allow-headers").contains("Authorization"));
            RawHttp.Response status = raw(p, HttpRobustnessTest.head(p, "GET", "/v1/status", "Origin: https://app.example.com"));
            assertEquals(200, status.status());
            assertEquals("https://app.example.com", status.header("access-control-allow-origin"));
            RawHttp.Response other = raw(p, HttpRobustnessTest.head(p, "GET", "/v1/status", "Origin: https://other.example.com"));
            assertEquals(403, other.status());
        }
    }

    @Test
    void objectAnswers_cannotRunScriptOnTheApiOrigin() throws Exception {
        Map<String, Boolean> attachment = Map.of("text/html", true, "image/svg+xml", true, "application/xhtml+xml", true,
                "text/javascript", true, "application/xml", true, "image/png", false, "text/plain; charset=utf-8", false, "video/mp4", false);
        for (var e : attachment.entrySet()) {
            String cid = upload("/v1/objects", "<script>alert(document.domain)</script>".repeat(2000).getBytes(StandardCharsets.UTF_8), e.getKey());
            for (String method : List.of("GET", "HEAD")) {
                HttpResponse<byte[]> r = send(method, "/v1/objects/" + cid, null);
                assertEquals(200, r.statusCode());
                assertEquals("nosniff", r.headers().firstValue("x-content-type-options").orElseThrow(), e.getKey());
                assertEquals("sandbox", r.headers().firstValue("content-security-policy").orElseThrow(), e.getKey());
                assertEquals(e.getValue(), r.headers().firstValue("content-disposition").map(v -> v.equals("attachment")).orElse(false),
                        method + " " + e.getKey());
            }
        }
        HttpResponse<byte[]> error = send("GET", "/v1/objects/bnotacid", null);
        assertEquals("nosniff", error.headers().firstValue("x-content-type-options").orElseThrow(), "errors too");
        // which declared types are kept: api/MediaTypesTest
    }

    @Test
    void dashboard_filesAreOpenAndRunOnlyTheirOwnScript_itsDataStillNeedsTheToken() throws Exception {
        HttpResponse<byte[]> moved = send("GET", "/ui", null);
        assertEquals(301, moved.statusCode());
        assertEquals("/ui/", moved.headers().firstValue("location").orElseThrow());
        for (String[] f : new String[][] {{"/ui/", "text/html"}, {"/ui/app.js", "text/javascript"}, {"/ui/style.css", "text/css"}}) {
            HttpResponse<byte[]> r = send("GET", f[0], null);
            assertEquals(200, r.statusCode(), f[0] + " needs no token: it holds no data");
            assertTrue(r.headers().firstValue("content-type").orElseThrow().startsWith(f[1]), f[0]);
            String csp = r.headers().firstValue("content-security-policy").orElseThrow();
            assertTrue(csp.contains("script-src 'self'") && csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), csp);
            assertFalse(csp.contains("unsafe-inline"), csp);
            assertEquals("nosniff", r.headers().firstValue("x-content-type-options").orElseThrow());
        }
        String page = new String(send("GET", "/ui/", null).body(), StandardCharsets.UTF_8);
        assertFalse(page.contains("<script>"), "no inline script: the policy would refuse it");
        assertEquals(404, send("GET", "/ui/../v1/status", null).statusCode());
        assertEquals(404, send("GET", "/ui/api-token", null).statusCode());
        assertEquals(401, send("GET", "/v1/status", null).statusCode(), "what the page shows still needs the token");
        assertEquals(405, send("POST", "/ui/app.js", new byte[0], TOKEN).statusCode());
        assertEquals("sandbox", send("GET", "/v1/id", null).headers().firstValue("content-security-policy").orElseThrow(),
                "every other answer stays sandboxed");
    }

    /** A status source whose repair waits for the test. */
    private static final class SlowRepair implements NodeApiServer.StatusSource {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public Map<String, Object> status() {
            return Map.of();
        }

        @Override
        public String metrics() {
            return "";
        }

        @Override
        public Map<String, Object> upkeepNow() {
            runs.incrementAndGet();
            started.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Map.of("corrupt", List.of(), "rebuilt", 0);
        }
    }

    @Test
    void repairTrigger_needsTheToken_runsOneAtATime_andAtMostOncePerInterval() throws Exception {
        SlowRepair slow = new SlowRepair();
        StorageNode first = net.get(0);
        try (NodeApiServer s = new NodeApiServer(first.p2p.service(() -> { }), first.objects, ApiAccessTest.access(),
                new NodeApiServer.Limits(4, 8, 64 << 20, Duration.ofSeconds(15), Duration.ofHours(1), 512)).withStatus(slow)
                .start(new InetSocketAddress("127.0.0.1", 0))) {
            int p = s.address().getPort();
            String repair = HttpRobustnessTest.head(p, "POST", "/v1/repair", "Content-Length: 0");
            assertEquals(401, raw(p, "POST /v1/repair HTTP/1.1\r\nHost: 127.0.0.1:" + p + "\r\nContent-Length: 0\r\n\r\n").status());
            CompletableFuture<RawHttp.Response> running = CompletableFuture.supplyAsync(() -> {
                try {
                    return raw(p, repair);
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            assertTrue(slow.started.await(10, TimeUnit.SECONDS));
            RawHttp.Response second = raw(p, repair);
            assertEquals(429, second.status(), second.body());
            assertTrue(second.body().contains("one runs at a time"), second.body());
            slow.release.countDown();
            assertEquals(200, running.get(10, TimeUnit.SECONDS).status());
            RawHttp.Response soon = raw(p, repair);
            assertEquals(429, soon.status(), soon.body());
            assertTrue(soon.body().contains("at most one every 3600 s"), soon.body());
            assertTrue(Integer.parseInt(soon.header("retry-after")) > 3000, soon.header("retry-after"));
            assertEquals(1, slow.runs.get());
        }
    }

    @Test
    void cli_withoutAToken_saysHowToPassOne() throws Exception {
        String apiAddr = "127.0.0.1:" + port;
        DhtCommandsTest.Result ls = DhtCommandsTest.oe("ls", "--api", apiAddr, "--data-dir", dir.resolve("nobody").toString());
        assertEquals(1, ls.code());
        assertTrue(ls.err().contains("needs the node's API token") && ls.err().contains("--token-file"), ls.err());
        DhtCommandsTest.Result ok = DhtCommandsTest.oe("ls", "--api", apiAddr, "--token-file", ApiAccessTest.tokenFile(dir).toString());
        assertEquals(0, ok.code(), ok.err());
        assertFalse(ok.err().contains("token"), ok.err());
    }

    @Test
    void oeUi_printsTheDashboardLink_withTheTokenInTheFragmentOnly() throws Exception {
        String apiAddr = "127.0.0.1:" + port;
        DhtCommandsTest.Result ui = DhtCommandsTest.oe("ui", "--api", apiAddr, "--token-file", ApiAccessTest.tokenFile(dir).toString());
        assertEquals(0, ui.code(), ui.err());
        assertEquals("http://" + apiAddr + "/ui/#token=" + ApiAccessTest.TOKEN, ui.out().strip());
        DhtCommandsTest.Result none = DhtCommandsTest.oe("ui", "--api", apiAddr, "--data-dir", dir.resolve("nobody").toString());
        assertEquals(0, none.code());
        assertEquals("http://" + apiAddr + "/ui/", none.out().strip(), "without a token: the page asks for it");
        assertTrue(none.err().contains("no API token found"), none.err());
    }
}
