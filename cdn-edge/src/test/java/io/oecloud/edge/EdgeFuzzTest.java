package io.oecloud.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.http.RangeSet;
import io.oecloud.proofs.Cid;
import io.oecloud.testkit.RawHttp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The edge's HTTP boundary under mutated requests (fixed seed, bounded count and time): every
 * request gets a well-formed answer with a status the edge means (never a 500, never a hang), the
 * connection may close, and the edge still serves the right bytes afterwards. Range headers are
 * also checked alone: whatever the header, the spans are sorted, disjoint and inside the object.
 */
class EdgeFuzzTest {
    private static final Set<Integer> MEANT = Set.of(200, 206, 301, 304, 400, 401, 403, 404, 405, 408, 413, 414, 416, 429, 431, 502, 504);

    @Test
    void mutatedRequests_getAMeantStatus_andTheEdgeKeepsServing() throws Exception {
        MemoryOrigin origin = new MemoryOrigin();
        byte[] bytes = new byte[300_000];
        new Random(1).nextBytes(bytes);
        Cid file = origin.putFile(bytes, "text/plain", 1 << 20, 2);
        Cid site = origin.putDirectory(Map.of("index.html", origin.putFile("<p>hi".getBytes(StandardCharsets.UTF_8), "", 1 << 20, 2),
                "a b.txt", file));
        EdgeConfig config = new EdgeConfig(new InetSocketAddress("127.0.0.1", 0), "localhost", Map.of("mapped.example", site.toString()),
                null, 64 << 10, 16L << 20, 0, "token", Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(1), 512, 512, null, EdgeConfig.HEAD_DEADLINE);
        try (Edge edge = Edge.start(config, origin, n -> null, null, null, new SimpleMeterRegistry(), () -> "")) {
            InetSocketAddress at = edge.address();
            Random r = new Random(20261207);
            String[] paths = {"/c/" + file, "/c/" + site + "/", "/c/" + site + "/a%20b.txt", "/c/" + site, "/", "/metrics", "/cache/" + file,
                "/c/" + site + "/index.html", "/c/" + file + "/x"};
            String[] hosts = {"localhost", "127.0.0.1", site.toBase36() + ".c.localhost", "x.n.localhost", "mapped.example", "", "a..b"};
            String[] methods = {"GET", "HEAD", "DELETE", "POST", "PUT", "OPTIONS", "G\u0000T"};
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int sent = 0;
            for (int i = 0; i < 600 && System.nanoTime() < deadline; i++, sent++) {
                String path = mutate(paths[r.nextInt(paths.length)], r);
                StringBuilder req = new StringBuilder(methods[r.nextInt(methods.length)]).append(' ').append(path).append(" HTTP/1.1\r\n");
                req.append("Host: ").append(mutate(hosts[r.nextInt(hosts.length)], r)).append("\r\n");
                if (r.nextBoolean()) {
                    req.append("Range: ").append(mutate(range(r), r)).append("\r\n");
                }
                if (r.nextInt(4) == 0) {
                    req.append("If-None-Match: ").append(mutate("\"" + file + "\"", r)).append("\r\n");
                }
                if (r.nextInt(4) == 0) {
                    req.append("Accept-Encoding: ").append(mutate("gzip, br;q=0.5", r)).append("\r\n");
                }
                if (r.nextInt(8) == 0) {
                    req.append("Authorization: Bearer ").append(mutate("token", r)).append("\r\n");
                }
                req.append("Connection: close\r\n\r\n");
                try (RawHttp h = new RawHttp(at)) {
                    h.send(req.toString().getBytes(StandardCharsets.ISO_8859_1));
                    RawHttp.Response resp = h.read(req.toString().startsWith("HEAD"));
                    assertTrue(MEANT.contains(resp.status()), resp.status() + " for\n" + req + resp.text());
                } catch (IOException e) {
                    // a closed connection is an answer too (a request the codec could not even frame)
                }
            }
            assertTrue(sent >= 100, "only " + sent + " requests in the time");
            RawHttp.Response after = RawHttp.get(at, "GET", "/c/" + site + "/a%20b.txt");
            assertEquals(200, after.status());
            assertArrayEquals(bytes, after.body());
        }
    }

    @Test
    void anyRangeHeader_givesSortedDisjointSpansInsideTheObject_orAReason() {
        Random r = new Random(36);
        for (int i = 0; i < 100_000; i++) {
            long size = r.nextInt(4) == 0 ? r.nextInt(10) : r.nextInt(1 << 30);
            switch (RangeSet.parse(mutate(range(r), r), size)) {
                case RangeSet.Whole w -> { }
                case RangeSet.Unsatisfiable u -> assertTrue(!u.reason().isEmpty());
                case RangeSet.Spans s -> {
                    long end = -1;
                    assertTrue(s.spans().size() <= RangeSet.MAX_SPECS);
                    for (long[] span : s.spans()) {
                        assertTrue(span[0] > end && span[0] < span[1] && span[1] <= size, span[0] + "-" + span[1] + " of " + size);
                        end = span[1];
                    }
                }
            }
        }
    }

    private static String range(Random r) {
        StringBuilder b = new StringBuilder(r.nextInt(10) == 0 ? "items=" : "bytes=");
        int n = 1 + r.nextInt(r.nextInt(5) == 0 ? 30 : 3);
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ",");
            switch (r.nextInt(4)) {
                case 0 -> b.append(r.nextInt(1_000_000)).append('-').append(r.nextInt(1_000_000));
                case 1 -> b.append(r.nextInt(1_000_000)).append('-');
                case 2 -> b.append('-').append(r.nextInt(1_000_000));
                default -> b.append("9".repeat(1 + r.nextInt(30))).append('-');
            }
        }
        return b.toString();
    }

    /** Flips, drops, doubles or inserts a few characters (visible ASCII, %, /, dots), or leaves {@code s}. */
    private static String mutate(String s, Random r) {
        StringBuilder b = new StringBuilder(s);
        int edits = r.nextInt(4);
        String alphabet = "%./\\-=,;\"*09az AZ~\u00e9";
        for (int i = 0; i < edits && b.length() > 0; i++) {
            int at = r.nextInt(b.length());
            switch (r.nextInt(4)) {
                case 0 -> b.setCharAt(at, alphabet.charAt(r.nextInt(alphabet.length())));
                case 1 -> b.deleteCharAt(at);
                case 2 -> b.insert(at, b.charAt(at));
                default -> b.insert(at, alphabet.charAt(r.nextInt(alphabet.length())));
            }
        }
        return b.toString();
    }
}
