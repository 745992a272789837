package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.testkit.RawHttp;
import java.awt.image.BufferedImage;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CDN edge on a real devnet (six storage nodes, four of them OEChain super-nodes, and the
 * edge process {@code oe devnet} starts): content uploaded to a node is served by the edge,
 * checked, cached and revalidated; a website published under a name with {@code oe site publish}
 * is served on the name's host, followed when it moves, and opened in headless Chromium on its
 * own origin with its stylesheet applied and its image decoded; the disk tier is warm after the
 * edge restarts.
 */
class DevnetEdgeTest {
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        ChainDevnet.stopAll(started);
    }

    private static OeLauncherTest.Run oe(String... args) throws Exception {
        return OeLauncherTest.oe(Map.of(), args);
    }

    private String upload(String api, String token, byte[] bytes) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/objects")).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return ChainDevnet.JSON.readTree(r.body()).get("cid").asText();
    }

    private double edgeMetric(String edge, String name, String label) throws Exception {
        return ChainDevnet.metric(http, edge, "unused", name, label);
    }

    @Test
    void theDevnetsEdge_servesChecksAndCaches_publishedSitesByName_inChromium_andStaysWarmAcrossARestart() throws Exception {
        ChainDevnet net = ChainDevnet.start(dir, started);
        JsonNode doc = ChainDevnet.JSON.readTree(dir.resolve("devnet/devnet.json").toFile());
        JsonNode edgeDoc = doc.get("edge");
        String edge = edgeDoc.get("url").asText();
        URI edgeUri = URI.create(edge);
        InetSocketAddress at = new InetSocketAddress(edgeUri.getHost(), edgeUri.getPort());
        String api = net.apis().get(0);
        String token = net.tokens().get(0);

        // a 20 MiB object: a miss, then a hit, byte for byte; the CID is the ETag
        byte[] big = new byte[20 << 20];
        new Random(26).nextBytes(big);
        String cid = upload(api, token, big);
        RawHttp.Response miss = RawHttp.get(at, "GET", "/c/" + cid);
        assertEquals(200, miss.status(), miss::text);
        assertArrayEquals(big, miss.body());
        assertEquals("MISS", miss.header("X-Cache"));
        assertEquals("\"" + cid + "\"", miss.header("ETag"));
        RawHttp.Response hit = RawHttp.get(at, "GET", "/c/" + cid);
        assertEquals("HIT", hit.header("X-Cache"));
        assertArrayEquals(big, hit.body());
        assertEquals(304, RawHttp.get(at, "GET", "/c/" + cid, "If-None-Match: \"" + cid + "\"").status());
        RawHttp.Response head = RawHttp.get(at, "HEAD", "/c/" + cid);
        assertEquals(String.valueOf(big.length), head.header("Content-Length"));

        // random ranges, single and multiple, against the original bytes (fixed seed)
        byte[] other = new byte[(9 << 20) + 4321];
        new Random(27).nextBytes(other);
        String otherCid = upload(api, token, other);
        Random r = new Random(20261207);
        try (RawHttp h = new RawHttp(at)) {
            for (int i = 0; i < 40; i++) {
                long a = r.nextInt(other.length);
                long b = Math.min(other.length - 1, a + r.nextInt(i % 2 == 0 ? 5000 : 3 << 20));
                RawHttp.Response part = h.request("GET", "/c/" + otherCid, "Range: bytes=" + a + "-" + b);
                assertEquals(206, part.status(), part::text);
                assertArrayEquals(Arrays.copyOfRange(other, (int) a, (int) b + 1), part.body(), "bytes " + a + "-" + b);
            }
            RawHttp.Response multi = h.request("GET", "/c/" + otherCid, "Range: bytes=0-9,8000000-8000009");
            assertEquals(206, multi.status());
            assertTrue(multi.header("Content-Type").startsWith("multipart/byteranges"), multi.header("Content-Type"));
            String body = new String(multi.body(), StandardCharsets.ISO_8859_1);
            assertTrue(body.contains("Content-Range: bytes 8000000-8000009/" + other.length), body);
            assertTrue(body.contains(new String(Arrays.copyOfRange(other, 8_000_000, 8_000_010), StandardCharsets.ISO_8859_1)));
        }

        // 200 concurrent cold requests for one object: one origin fetch of its manifest and one of its chunk
        byte[] small = new byte[700_000];
        new Random(28).nextBytes(small);
        String smallCid = upload(api, token, small);
        double fetchesBefore = edgeMetric(edge, "oe_edge_origin_fetch_seconds_count", null);
        double coalescedBefore = edgeMetric(edge, "oe_edge_coalesced_requests_total", null);
        List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
        HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        for (int i = 0; i < 200; i++) { // 200 connections (over HTTP/2 the edge allows 100 streams at once a connection)
            all.add(h1.sendAsync(HttpRequest.newBuilder(URI.create(edge + "/c/" + smallCid)).timeout(Duration.ofMinutes(2)).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (CompletableFuture<HttpResponse<byte[]>> f : all) {
            HttpResponse<byte[]> resp = f.get();
            assertEquals(200, resp.statusCode());
            assertArrayEquals(small, resp.body());
        }
        assertEquals(2, edgeMetric(edge, "oe_edge_origin_fetch_seconds_count", null) - fetchesBefore,
                "one manifest fetch and one chunk fetch for 200 requests");
        assertTrue(edgeMetric(edge, "oe_edge_coalesced_requests_total", null) - coalescedBefore >= 1);

        // a website: oe site publish, served on its name's host, types by extension, its own 404 page
        Path site = Files.createDirectories(dir.resolve("site"));
        Files.writeString(site.resolve("index.html"), page("one"));
        Files.writeString(site.resolve("style.css"), "h1 { color: rgb(10, 120, 30) }\n".repeat(40));
        BufferedImage img = new BufferedImage(7, 5, BufferedImage.TYPE_INT_RGB);
        img.setRGB(3, 2, 0xff0000);
        ImageIO.write(img, "png", site.resolve("logo.png").toFile());
        Files.writeString(site.resolve("404.html"), "<!doctype html><title>missing</title><p>no such page here</p>");
        String key = doc.get("chain").get("devnetKey").asText();
        String node0 = net.nodes().get(0).get("dataDir").asText();
        OeLauncherTest.Run pub = oe("site", "publish", "blog", site.toString(), "--key", key, "--data-dir", node0);
        assertEquals(0, pub.code(), pub.out() + pub.err());
        assertTrue(pub.out().contains("registered blog -> "), pub.out());
        String host = "Host: blog.n.localhost:" + at.getPort();
        RawHttp.Response index = awaitBody(at, host, "/", "one");
        assertTrue(index.header("Content-Type").startsWith("text/html"), index.header("Content-Type"));
        assertEquals("public, max-age=30", index.header("Cache-Control"));
        assertTrue(RawHttp.get(at, "GET", "/style.css", host).header("Content-Type").startsWith("text/css"));
        assertEquals("image/png", RawHttp.get(at, "GET", "/logo.png", host).header("Content-Type"));
        RawHttp.Response missing = RawHttp.get(at, "GET", "/nope.html", host);
        assertEquals(404, missing.status());
        assertTrue(missing.text().contains("no such page here"));

        // the name moves: the edge follows within seconds
        Files.writeString(site.resolve("index.html"), page("two"));
        OeLauncherTest.Run again = oe("site", "publish", "blog", site.toString(), "--key", key, "--data-dir", node0);
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(again.out().contains("updated blog -> "), again.out());
        String root = again.out().split(" -> ")[1].split(" ")[0].strip();
        awaitBody(at, host, "/", "two");

        // headless Chromium on the site's own origin: the stylesheet applies, the image decodes
        String origin = "http://" + io.oecloud.proofs.Cid.parse(root).toBase36() + ".c.localhost:" + at.getPort();
        String dom = Chromium.dumpDom(origin + "/", dir.resolve("chromium-profile"), 15_000);
        assertEquals("rgb(10, 120, 30)|7|" + origin, Chromium.value(dom, "probe"), dom);

        // the disk tier is warm after the edge restarts: nothing is fetched again
        long pid = edgeDoc.get("pid").asLong();
        ChainDevnet.signal("TERM", pid);
        DevnetTest.awaitTrue(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), 30, "the edge to stop");
        List<String> cmd = new ArrayList<>();
        edgeDoc.get("cmd").forEach(c -> cmd.add(c.asText()));
        Process restarted = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("edge-again.log").toFile()).start();
        started.add(restarted);
        DevnetTest.awaitTrue(() -> Files.readString(dir.resolve("edge-again.log")).contains("; ready") || !restarted.isAlive(), 60, "the edge to restart");
        RawHttp.Response warm = RawHttp.get(at, "GET", "/c/" + cid);
        assertEquals(200, warm.status(), warm::text);
        assertEquals("HIT", warm.header("X-Cache"));
        assertArrayEquals(big, warm.body());
        assertEquals(0, edgeMetric(edge, "oe_edge_origin_fetch_seconds_count", null), "served from the disk tier: no origin fetch");
        assertTrue(edgeMetric(edge, "oe_edge_chunks_total", "tier=\"disk\"") >= 20);

        // a scan of 10x the memory tier keeps a hot set's hit ratio: the edge restarted with 1 MiB of
        // memory, no disk and 64 KiB chunks; 3 hot objects of 100 KiB (2 chunks each, over the 64 KiB
        // of the hot answers) read between 100 one-time objects of 100 KiB (10 MiB)
        ChainDevnet.signal("TERM", restarted.pid());
        DevnetTest.awaitTrue(() -> !restarted.isAlive(), 30, "the edge to stop again");
        List<String> tinyCmd = new ArrayList<>(cmd);
        tinyCmd.set(tinyCmd.indexOf("--memory") + 1, "1MiB");
        tinyCmd.set(tinyCmd.indexOf("--disk") + 1, "0");
        tinyCmd.addAll(List.of("--chunk-size", "64KiB"));
        Process tiny = new ProcessBuilder(tinyCmd).redirectErrorStream(true).redirectOutput(dir.resolve("edge-tiny.log").toFile()).start();
        started.add(tiny);
        DevnetTest.awaitTrue(() -> Files.readString(dir.resolve("edge-tiny.log")).contains("; ready") || !tiny.isAlive(), 60, "the small edge");
        Random s = new Random(29);
        List<String> hot = new ArrayList<>();
        List<String> scan = new ArrayList<>();
        for (int i = 0; i < 103; i++) {
            byte[] b = new byte[100 << 10];
            s.nextBytes(b);
            (i < 3 ? hot : scan).add(upload(api, token, b));
        }
        for (int round = 0; round < 5; round++) {
            for (String c : hot) {
                assertEquals(200, RawHttp.get(at, "GET", "/c/" + c).status());
            }
        }
        int hits = 0;
        for (int i = 0; i < scan.size(); i++) {
            assertEquals(200, RawHttp.get(at, "GET", "/c/" + scan.get(i)).status());
            RawHttp.Response h = RawHttp.get(at, "GET", "/c/" + hot.get(i % hot.size()));
            hits += "HIT".equals(h.header("X-Cache")) ? 1 : 0;
        }
        assertTrue(hits >= 90, hits + " of 100 hot reads were hits during a scan of 10x the memory tier");
    }

    /** An index page whose script reports the heading's color, the image's width and the page's origin once loaded. */
    private static String page(String text) {
        return "<!doctype html><html><head><link rel=stylesheet href=style.css></head><body><h1>" + text + "</h1>"
                + "<img id=logo src=logo.png><div id=\"probe\" data-value=\"\"></div><script>"
                + "window.addEventListener('load', () => { document.getElementById('probe').setAttribute('data-value', "
                + "getComputedStyle(document.querySelector('h1')).color + '|' + document.getElementById('logo').naturalWidth"
                + " + '|' + location.origin); });</script></body></html>";
    }

    /** GETs {@code path} on {@code host} until its body contains {@code text} (a name followed, 30 s at most). */
    private static RawHttp.Response awaitBody(InetSocketAddress at, String host, String path, String text) throws Exception {
        RawHttp.Response[] last = new RawHttp.Response[1];
        DevnetTest.awaitTrue(() -> {
            last[0] = RawHttp.get(at, "GET", path, host);
            return last[0].status() == 200 && last[0].text().contains(text);
        }, 30, "the edge to serve '" + text + "' at " + host + path);
        return last[0];
    }
}
