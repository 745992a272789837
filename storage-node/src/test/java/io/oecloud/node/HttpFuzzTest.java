package io.oecloud.node;

import io.oecloud.node.api.NodeApiServer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.oecloud.testkit.NettyLeaks;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed HTTP requests against a node's API over real sockets (issue 22, "Fuzzing at every
 * boundary"): 10,000 requests, each a mutation of a valid one (framing, headers, methods,
 * ranges, paths, percent-encoding, huge numbers), from a fixed seed; request i is built from
 * {@code Random(SEED + i)}, so a failure names the request that caused it and rebuilds it alone.
 *
 * <p>Every request is answered or its connection closed within {@link #DEADLINE_MS}; no answer is
 * a 500 or any 5xx but 503 (a limit); no error body carries Java exception text; the node logs no
 * error (the API logs every internal error and every handler failure at that level). Afterwards the
 * node has given back every buffered byte and upload slot, Netty found no leaked buffer (leak
 * detection paranoid for this test), and the API serves valid requests. About 10-20 s on two
 * cores.
 */
@Timeout(180)
class HttpFuzzTest {
    static final long SEED = 0x0E22_F022L;
    static final int REQUESTS = 10_000;
    static final int CLIENTS = 48;
    static final long DEADLINE_MS = 10_000;
    /** The whole run's time bound: reaching it before REQUESTS is a failure, not a hang. */
    static final long BUDGET_SECONDS = 100;

    @TempDir
    Path dir;

    /** The valid requests the mutations start from; {@code %T} is the token, {@code %H} the Host, {@code %C} an object's CID. */
    private static final List<String> CORPUS = List.of(
            "GET /v1/objects/%C HTTP/1.1\r\nHost: %H\r\nRange: bytes=10-2000\r\n\r\n",
            "GET /v1/objects/%C HTTP/1.1\r\nHost: %H\r\nRange: bytes=-500\r\nConnection: close\r\n\r\n",
            "HEAD /v1/objects/%C HTTP/1.1\r\nHost: %H\r\n\r\n",
            "GET /v1/objects/%D/a%20file.bin HTTP/1.1\r\nHost: %H\r\nRange: bytes=0-\r\n\r\n",
            "GET /v1/objects/%D HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\n\r\n",
            "POST /v1/objects HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
            "POST /v1/objects?encrypt=true HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
            "POST /v1/directories HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\nContent-Length: 60\r\n\r\n{\"entries\":[{\"name\":\"x\",\"cid\":\"%C\"}]}                        ",
            "GET /v1/objects HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\n\r\n",
            "DELETE /v1/objects/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\n\r\n",
            "GET /v1/status HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\n\r\n",
            "GET /v1/id HTTP/1.1\r\nHost: %H\r\nOrigin: http://%H\r\n\r\n",
            "GET /v1/health/%C HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\n\r\n",
            "POST /v1/repair HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\nContent-Length: 0\r\n\r\n",
            "PUT /v1/dht/values/home HTTP/1.1\r\nHost: %H\r\nContent-Length: 2\r\n\r\nv1",
            "POST /v1/ping?addr=/ip4/127.0.0.1/tcp/1 HTTP/1.1\r\nHost: %H\r\n\r\n",
            "OPTIONS /v1/objects HTTP/1.1\r\nHost: %H\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: DELETE\r\n\r\n",
            "GET /v1/chain/status HTTP/1.1\r\nHost: %H\r\n\r\n",
            "GET /metrics HTTP/1.1\r\nHost: %H\r\nAuthorization: Bearer %T\r\n\r\n");

    private static final List<String> NUMBERS = List.of("-1", "0", "1", "-0", "+5", " 7", "0x10", "1e3", "2147483648", "4294967296",
            "9223372036854775807", "9223372036854775808", "18446744073709551616", "99999999999999999999", "FFFFFFFFFFFFFFFFFF",
            "zz", "", "1,2", "00000000000000000000000000001");

    private static final List<String> SNIPPETS = List.of("\r\n", "\n", "\r", "\0", " ", "\t", ":", "%", "%zz", "%00", "%2F..%2F",
            "/../", "?", "#", ";", ",", "\"", "\u00ff", "\u00e9", "Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n",
            "Content-Length: -1\r\n", "Host: evil.example\r\n", "Range: bytes=0-1,2-3\r\n", "Range: bytes=99999999999999999999-\r\n",
            "Expect: 100-continue\r\n", "Connection: close\r\n", "Authorization: Bearer x\r\n", "Origin: null\r\n",
            "X-Big: " + "a".repeat(9000) + "\r\n", "/" + "p".repeat(5000), "0\r\n\r\n", "ffffffff\r\n", "5;" + "e".repeat(300) + "\r\n");

    /** Request {@code i}: a corpus entry, filled in, then one to four mutations. */
    static byte[] request(int i, String host, String token, String cid, String dirCid) {
        Random r = new Random(SEED + i);
        String base = CORPUS.get(r.nextInt(CORPUS.size())).replace("%H", host).replace("%T", token)
                .replace("%C", cid).replace("%D", dirCid);
        byte[] b = base.getBytes(StandardCharsets.ISO_8859_1);
        int mutations = 1 + r.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            b = mutate(r, b);
        }
        return b;
    }

    private static byte[] mutate(Random r, byte[] b) {
        String s = new String(b, StandardCharsets.ISO_8859_1);
        int at = b.length == 0 ? 0 : r.nextInt(b.length);
        switch (r.nextInt(12)) {
            case 0 -> { // flip a bit
                if (b.length > 0) {
                    b = b.clone();
                    b[at] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            }
            case 1 -> { // a random byte
                if (b.length > 0) {
                    b = b.clone();
                    b[at] = (byte) r.nextInt(256);
                }
                return b;
            }
            case 2 -> { // cut the request short
                return java.util.Arrays.copyOf(b, at);
            }
            case 3 -> { // drop a range
                int len = Math.min(b.length - at, 1 + r.nextInt(20));
                return (s.substring(0, at) + s.substring(at + len)).getBytes(StandardCharsets.ISO_8859_1);
            }
            case 4, 5 -> { // a snippet somewhere
                return (s.substring(0, at) + SNIPPETS.get(r.nextInt(SNIPPETS.size())) + s.substring(at)).getBytes(StandardCharsets.ISO_8859_1);
            }
            case 6, 7 -> { // a number replaced by an interesting one
                java.util.regex.Matcher n = java.util.regex.Pattern.compile("\\d+").matcher(s);
                List<int[]> spots = new ArrayList<>();
                while (n.find()) {
                    spots.add(new int[] {n.start(), n.end()});
                }
                if (spots.isEmpty()) {
                    return b;
                }
                int[] spot = spots.get(r.nextInt(spots.size()));
                return (s.substring(0, spot[0]) + NUMBERS.get(r.nextInt(NUMBERS.size())) + s.substring(spot[1])).getBytes(StandardCharsets.ISO_8859_1);
            }
            case 8 -> { // a header line duplicated
                int line = s.indexOf("\r\n", at);
                int start = s.lastIndexOf("\r\n", at);
                if (line < 0 || start < 0 || line <= start) {
                    return b;
                }
                String h = s.substring(start, line);
                return (s.substring(0, line) + h + s.substring(line)).getBytes(StandardCharsets.ISO_8859_1);
            }
            case 9 -> { // the method replaced
                int sp = s.indexOf(' ');
                String[] methods = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT", "G\0T", "get", "", "X".repeat(100)};
                return (methods[r.nextInt(methods.length)] + (sp < 0 ? s : s.substring(sp))).getBytes(StandardCharsets.ISO_8859_1);
            }
            case 10 -> { // the version replaced
                String[] versions = {"HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1x", "HTTP/", "http/1.1", "HTTP/1.10", ""};
                return s.replaceFirst("HTTP/1\\.1", versions[r.nextInt(versions.length)]).getBytes(StandardCharsets.ISO_8859_1);
            }
            default -> { // a body that says chunked but is framed anyhow
                String chunks = Integer.toHexString(r.nextInt(64)) + (r.nextBoolean() ? "\r\n" : "\n") + "x".repeat(r.nextInt(80))
                        + (r.nextBoolean() ? "\r\n0\r\n\r\n" : "");
                int end = s.indexOf("\r\n\r\n");
                if (end < 0) {
                    return b;
                }
                return (s.substring(0, end) + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks).getBytes(StandardCharsets.ISO_8859_1);
            }
        }
    }

    /** What happened to one request. */
    record Outcome(int status, String body) {}

    private static Outcome exchange(int port, byte[] request, boolean halfClose) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout((int) DEADLINE_MS);
            try {
                s.getOutputStream().write(request);
                s.getOutputStream().flush();
                if (halfClose) {
                    s.shutdownOutput();
                }
            } catch (IOException refusedEarly) {
                // the server answered and closed before taking everything: its answer is read below
            }
            InputStream in = s.getInputStream();
            String status;
            try {
                status = line(in);
            } catch (java.net.SocketException reset) {
                return new Outcome(-1, "");
            }
            if (status == null) {
                return new Outcome(-1, ""); // closed without an answer: allowed
            }
            if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
                throw new AssertionError("not an HTTP answer: " + status);
            }
            int code = Integer.parseInt(status.substring(9, 12));
            boolean head = new String(request, 0, Math.min(5, request.length), StandardCharsets.ISO_8859_1).equals("HEAD ");
            if (code == 100) { // an interim answer; the final one (or a close) follows
                line(in);
                return exchangeRest(in, head);
            }
            return new Outcome(code, head ? "" : body(in));
        }
    }

    private static Outcome exchangeRest(InputStream in, boolean head) throws IOException {
        String status;
        try {
            status = line(in);
        } catch (java.net.SocketException reset) {
            return new Outcome(-1, "");
        }
        if (status == null) {
            return new Outcome(-1, "");
        }
        return new Outcome(Integer.parseInt(status.substring(9, 12)), head ? "" : body(in));
    }

    /** The headers, then up to 64 KiB of a Content-Length body (what an error's words fit in). */
    private static String body(InputStream in) throws IOException {
        long length = -1;
        for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
            if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Long.parseLong(h.substring(15).strip());
            }
        }
        if (length < 0 || length > 65536) {
            return "";
        }
        try {
            return new String(in.readNBytes((int) length), StandardCharsets.UTF_8);
        } catch (java.net.SocketException reset) {
            return "";
        }
    }

    private static String line(InputStream in) throws IOException {
        return io.oecloud.testkit.RawHttp.readLine(in);
    }

    /** Netty's leak reports (it logs them through java.util.logging here), or the node's own errors. */
    private static final class Leaks extends Handler {
        final List<String> seen = new CopyOnWriteArrayList<>();
        private final String marker;

        Leaks(String marker) {
            this.marker = marker;
        }

        @Override
        public void publish(LogRecord r) {
            if (r.getMessage() != null && r.getMessage().contains(marker) || marker.isEmpty() && r.getLevel() == java.util.logging.Level.SEVERE) {
                seen.add(r.getMessage() + (r.getThrown() == null ? "" : ": " + r.getThrown()));
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    @Test
    void tenThousandMalformedRequests_noneIs500OrHangs_andTheNodeIsHealthyAfterwards() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        Logger leakLog = Logger.getLogger(ResourceLeakDetector.class.getName());
        Leaks leaks = new Leaks("LEAK");
        leakLog.addHandler(leaks);
        Logger nodeLog = Logger.getLogger("io.oecloud.node");
        Leaks errors = new Leaks(""); // the API's "internal error" and "request failed" log lines
        nodeLog.addHandler(errors);
        leakDetectionReportsHere(leaks);
        try (TestNetwork net = TestNetwork.start(dir, 6)) {
            try (NodeApiServer api = net.api(0, ApiAccessTest.access(),
                    new NodeApiServer.Limits(4, 8, 8 << 20, Duration.ofMillis(250), Duration.ofHours(1), 512))) {
                int port = api.address().getPort();
                String host = "127.0.0.1:" + port;
                HttpClient http = HttpClient.newHttpClient();
                byte[] object = new byte[300_000];
                new Random(SEED).nextBytes(object);
                String cid = post(http, port, "/v1/objects", object);
                String dirCid = post(http, port, "/v1/directories", ("{\"entries\":[{\"name\":\"a file.bin\",\"cid\":\"" + cid + "\"}]}")
                        .getBytes(StandardCharsets.UTF_8));

                Map<Integer, AtomicInteger> statuses = new TreeMap<>();
                Map<Integer, AtomicInteger> counts = new ConcurrentHashMap<>();
                List<String> failures = new CopyOnWriteArrayList<>();
                AtomicInteger done = new AtomicInteger();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(BUDGET_SECONDS);
                long t0 = System.nanoTime();
                try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                    List<Future<?>> clients = new ArrayList<>();
                    for (int c = 0; c < CLIENTS; c++) {
                        int client = c;
                        clients.add(pool.submit(() -> {
                            for (int i = client; i < REQUESTS && failures.size() < 10 && System.nanoTime() < end; i += CLIENTS) {
                                byte[] req = request(i, host, ApiAccessTest.TOKEN, cid, dirCid);
                                boolean halfClose = new Random(SEED ^ i).nextInt(3) == 0;
                                try {
                                    Outcome o = exchange(port, req, halfClose);
                                    counts.computeIfAbsent(o.status(), k -> new AtomicInteger()).incrementAndGet();
                                    if (o.status() == 500 || o.status() >= 500 && o.status() != 503 || o.status() > 599) {
                                        failures.add("request " + i + " got " + o.status() + " " + o.body());
                                    }
                                    if (o.body().contains("Exception") || o.body().contains("java.")) {
                                        failures.add("request " + i + " got Java text: " + o.body());
                                    }
                                } catch (SocketTimeoutException hung) {
                                    failures.add("request " + i + " neither answered nor closed within " + DEADLINE_MS + " ms: "
                                            + printable(req));
                                } catch (IOException | AssertionError e) {
                                    failures.add("request " + i + ": " + e + " for " + printable(req));
                                }
                                done.incrementAndGet();
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : clients) {
                        f.get();
                    }
                }
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                counts.forEach((k, v) -> statuses.put(k, v));
                System.out.println("HTTP fuzz: " + done.get() + " requests in " + ms + " ms; answers by status (-1: closed) " + statuses);
                assertTrue(failures.isEmpty(), String.join("\n", failures));
                assertEquals(REQUESTS, done.get(), "all requests within " + BUDGET_SECONDS + " s");

                // bounded: every buffered byte and upload slot given back once the connections are gone
                awaitTrue(() -> api.bufferedBodyBytes() == 0 && api.uploadsRunning() == 0, "buffers and upload slots given back");
                // healthy: valid requests work
                HttpResponse<String> id = http.send(HttpRequest.newBuilder(URI.create("http://" + host + "/v1/id")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, id.statusCode());
                byte[] again = new byte[200_000];
                new Random(SEED + 1).nextBytes(again);
                String cid2 = post(http, port, "/v1/objects", again);
                HttpResponse<byte[]> back = http.send(HttpRequest.newBuilder(URI.create("http://" + host + "/v1/objects/" + cid2)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertArrayEquals(again, back.body());
            }
        } finally {
            collectAndReport();
            ResourceLeakDetector.setLevel(level);
            leakLog.removeHandler(leaks);
            nodeLog.removeHandler(errors);
        }
        assertTrue(leaks.seen.isEmpty(), "Netty reported leaked buffers:\n" + String.join("\n", leaks.seen));
        assertTrue(errors.seen.isEmpty(), "the node logged errors (a bug met on the way):\n" + String.join("\n", errors.seen));
    }

    /** Leaked buffers are reported once collected, when the detector next tracks a buffer. */
    private static void collectAndReport() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            for (int j = 0; j < 200; j++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
                b.release();
            }
            Thread.sleep(50);
        }
    }

    /** A self-check: a buffer leaked on purpose is seen, so silence afterwards means no leak. */
    private static void leakDetectionReportsHere(Leaks leaks) throws InterruptedException {
        PooledByteBufAllocator.DEFAULT.directBuffer(16).touch(NettyLeaks.DELIBERATE).writeInt(22); // never released
        for (int i = 0; i < 20 && leaks.seen.isEmpty(); i++) {
            collectAndReport();
        }
        assertTrue(!leaks.seen.isEmpty(), "Netty's leak reports do not reach this test: it could not see a leak");
        leaks.seen.clear();
    }

    private static String post(HttpClient http, int port, String path, byte[] body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + ApiAccessTest.TOKEN).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return r.body().replaceAll(".*\"cid\":\"([^\"]+)\".*", "$1");
    }

    private static void awaitTrue(java.util.function.BooleanSupplier c, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!c.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, what + " did not happen within 15 s");
            Thread.sleep(20);
        }
    }

    private static String printable(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 600); i++) {
            int c = b[i] & 0xff;
            s.append(c == '\r' ? "\\r" : c == '\n' ? "\\n" : c < 0x20 || c > 0x7e ? String.format("\\x%02x", c) : String.valueOf((char) c));
        }
        return s + (b.length > 600 ? "... (" + b.length + " bytes)" : "");
    }
}
