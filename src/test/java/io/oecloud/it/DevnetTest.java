package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/oe devnet as a user runs it: node processes on loopback, objects over HTTP, nodes killed
 * with SIGKILL, restarted, their disks wiped and corrupted, the whole network restarted.
 */
@Timeout(600)
class DevnetTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run leaves its nodes' logs
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        ChainDevnet.stopAll(started);
    }

    /** Starts bin/oe devnet and waits for devnet.json (written once every node is up). */
    Process devnet(Path data, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(OeLauncherTest.ROOT.resolve("bin/oe").toString(), "devnet",
                "--data-dir", data.toString(), "--p2p-port", "0", "--api-port", "0"));
        cmd.addAll(List.of(extra));
        if (!cmd.remove("--with-chain")) {
            cmd.add("--no-chain"); // the storage tests; DevnetChainTest runs the chain
        }
        Files.deleteIfExists(data.resolve("devnet.json"));
        Path log = dir.resolve("devnet-" + started.size() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        awaitTrue(() -> Files.exists(data.resolve("devnet.json")) || !p.isAlive(), 180, "devnet start");
        assertTrue(p.isAlive(), "devnet exited: " + Files.readString(log));
        return p;
    }

    private JsonNode nodes(Path data) throws Exception {
        JsonNode nodes = JSON.readTree(data.resolve("devnet.json").toFile()).get("nodes");
        for (JsonNode n : nodes) {
            tokens.put(n.get("api").asText(), Files.readString(Path.of(n.get("apiToken").asText())).strip());
        }
        return nodes;
    }

    interface Check {
        boolean ok() throws Exception;
    }

    /** Polls an external process's state, every 200 ms, up to {@code seconds}. */
    static void awaitTrue(Check c, long seconds, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!c.ok()) {
            assertTrue(System.nanoTime() < end, what + " did not happen within " + seconds + " s");
            Thread.sleep(200);
        }
    }

    static Path randomFile(Path f, long size, long seed) throws Exception {
        Random r = new Random(seed);
        byte[] buf = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(f)) {
            for (long left = size; left > 0; left -= buf.length) {
                r.nextBytes(buf);
                out.write(buf, 0, (int) Math.min(buf.length, left));
            }
        }
        return f;
    }

    static String sha256(InputStream in) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 20];
        for (int n; (n = in.read(buf)) > 0; ) {
            d.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** Each node's API token, by API URL (devnet.json names the file; uploads and status need it). */
    private final Map<String, String> tokens = new java.util.concurrent.ConcurrentHashMap<>();

    private HttpRequest.Builder authed(String api, String path) {
        return HttpRequest.newBuilder(URI.create(api + path)).header("Authorization", "Bearer " + tokens.get(api));
    }

    private String upload(String api, Path file) throws Exception {
        HttpResponse<String> r = http.send(authed(api, "/v1/objects").timeout(Duration.ofMinutes(5))
                .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("cid").asText();
    }

    /** Status and SHA-256 of the body (or the body itself when it is not a 200). */
    private record Got(int status, String sha256, String error) {}

    private Got download(String api, String cid) throws Exception {
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/objects/" + cid))
                .timeout(Duration.ofMinutes(5)).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            return r.statusCode() == 200 ? new Got(200, sha256(in), null) : new Got(r.statusCode(), null, new String(in.readAllBytes()));
        }
    }

    private JsonNode get(String api, String path) throws Exception {
        HttpResponse<String> r = http.send(authed(api, path).timeout(Duration.ofMinutes(2)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static void kill(JsonNode node) throws Exception {
        ProcessHandle p = ProcessHandle.of(node.get("pid").asLong()).orElseThrow();
        p.destroyForcibly(); // SIGKILL: no goodbye
        p.onExit().get(30, TimeUnit.SECONDS);
    }

    /** Starts a node again with the command devnet.json records (same identity, ports and data). */
    private void restart(JsonNode node) throws Exception {
        List<String> cmd = new ArrayList<>();
        node.get("cmd").forEach(c -> cmd.add(c.asText()));
        Path log = dir.resolve("restart-" + node.get("index").asInt() + "-" + started.size() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        awaitTrue(() -> Files.readString(log).contains("; ready") || !p.isAlive(), 120, "node restart");
        assertTrue(p.isAlive(), Files.readString(log));
    }

    private int weakest(String api, String cid) throws Exception {
        return get(api, "/v1/health/" + cid).get("weakest").asInt();
    }

    @Test
    void devnet_256MiB_survivesKills_says503_repairsAWipedDisk_andACorruptShard_andRestartsWhole() throws Exception {
        Path data = dir.resolve("devnet");
        Process net = devnet(data, "--repair-interval", "3s", "--scrub-interval", "3s");
        JsonNode nodes = nodes(data);
        assertEquals(6, nodes.size());
        String api0 = nodes.get(0).get("api").asText();
        String api3 = nodes.get(3).get("api").asText();

        Path big = randomFile(dir.resolve("big.bin"), 256L << 20, 1);
        String want;
        try (InputStream in = Files.newInputStream(big)) {
            want = sha256(in);
        }
        String cid = upload(api0, big);
        Files.delete(big);
        assertEquals(new Got(200, want, null), download(api3, cid));

        kill(nodes.get(1));
        kill(nodes.get(4));
        assertEquals(new Got(200, want, null), download(api3, cid), "any two nodes down: the same bytes");

        kill(nodes.get(5));
        long t0 = System.nanoTime();
        Got three = download(api3, cid);
        assertEquals(503, three.status());
        assertTrue(three.error().contains("of its shards were found, 4 are needed"), three.error());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30), "503 promptly, not after a hang");

        // node 5 comes back with an empty disk: repair rebuilds what it held
        deleteTree(Path.of(nodes.get(5).get("dataDir").asText()).resolve("store"));
        restart(nodes.get(1));
        restart(nodes.get(4));
        restart(nodes.get(5));
        awaitTrue(() -> weakest(api0, cid) == 6, 120, "repair back to 6 healthy shards in every segment");
        assertTrue(get(nodes.get(5).get("api").asText(), "/v1/status").get("shards").asInt() > 0,
                "the wiped node holds rebuilt shards");

        // a shard corrupted on disk is never served, dropped by the scrub, and rebuilt
        Path shards = Path.of(nodes.get(2).get("dataDir").asText()).resolve("store/shards");
        Path victim;
        try (Stream<Path> s = Files.walk(shards)) {
            victim = s.filter(f -> f.toFile().length() == (8L << 20) / 4).findFirst().orElseThrow();
        }
        byte original = Files.readAllBytes(victim)[1000];
        try (var f = new java.io.RandomAccessFile(victim.toFile(), "rw")) {
            f.seek(1000);
            f.write(original ^ 0xff);
        }
        assertEquals(new Got(200, want, null), download(nodes.get(2).get("api").asText(), cid), "the corrupt shard is not used");
        // dropped by the scrub (the file goes), then rebuilt by repair (here again, or on another node)
        awaitTrue(() -> !Files.exists(victim) || Files.readAllBytes(victim)[1000] == original, 60, "the corrupt shard dropped");
        awaitTrue(() -> weakest(api0, cid) == 6, 120, "the corrupt shard rebuilt");

        // the whole devnet stops and starts again on the same data: the object is still there
        String small = upload(api0, Files.write(dir.resolve("small.txt"), "still here".getBytes()));
        for (Process p : List.copyOf(started)) {
            if (p != net) {
                p.destroy();
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            }
        }
        net.destroy();
        assertTrue(net.waitFor(60, TimeUnit.SECONDS));
        for (JsonNode n : nodes) {
            assertFalse(ProcessHandle.of(n.get("pid").asLong()).map(ProcessHandle::isAlive).orElse(false),
                    "node " + n.get("index") + " still running after the devnet stopped");
        }
        devnet(data, "--repair-interval", "3s", "--scrub-interval", "3s");
        JsonNode again = nodes(data);
        assertEquals(nodes.get(0).get("peerId"), again.get(0).get("peerId"), "identities are reused");
        String api4 = again.get(4).get("api").asText();
        assertEquals(new Got(200, want, null), download(api4, cid));
        assertEquals(new Got(200, sha256(new java.io.ByteArrayInputStream("still here".getBytes())), null), download(api4, small));
    }

    @Test
    void devnet_16ConcurrentUploadsAndDownloads_goAroundAFullNode_andTheCliWorks() throws Exception {
        Path data = dir.resolve("devnet");
        devnet(data, "--nodes", "7", "--capacity-of", "2=12000000");
        JsonNode nodes = nodes(data);
        List<Path> files = new ArrayList<>();
        List<String> wants = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Path f = randomFile(dir.resolve("o" + i), (6L << 20) + i * 12345L, 100 + i);
            files.add(f);
            try (InputStream in = Files.newInputStream(f)) {
                wants.add(sha256(in));
            }
        }
        List<String> cids = new ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> ups = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                String api = nodes.get(i % 7).get("api").asText();
                Path f = files.get(i);
                ups.add(pool.submit(() -> upload(api, f)));
            }
            for (Future<String> u : ups) {
                cids.add(u.get());
            }
            List<Future<Got>> downs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                String api = nodes.get((i + 3) % 7).get("api").asText();
                String c = cids.get(i);
                downs.add(pool.submit(() -> download(api, c)));
            }
            for (int i = 0; i < 16; i++) {
                assertEquals(new Got(200, wants.get(i), null), downs.get(i).get());
            }
        }
        JsonNode full = get(nodes.get(2).get("api").asText(), "/v1/status");
        assertTrue(full.get("usedBytes").asLong() <= 12_000_000, full.toString());

        String api0 = nodes.get(0).get("api").asText().substring("http://".length());
        String api3 = nodes.get(3).get("api").asText().substring("http://".length());
        Path file = files.get(5);
        // the CLI: oe put on one node, oe get from another, oe ls on the first; each finds its node's token in the data directory
        String dir0 = nodes.get(0).get("dataDir").asText();
        OeLauncherTest.Run put = OeLauncherTest.oe(Map.of(), "put", "--data-dir", dir0, file.toString());
        assertEquals(0, put.code(), put.err());
        Path got = dir.resolve("cli.out");
        OeLauncherTest.Run get = OeLauncherTest.oe(Map.of(), "get", "--api", api3, put.out(), "-o", got.toString());
        assertEquals(0, get.code(), get.err());
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(got));
        OeLauncherTest.Run ls = OeLauncherTest.oe(Map.of(), "ls", "--data-dir", dir0, "--api", api0);
        assertEquals(0, ls.code(), ls.err());
        assertTrue(ls.out().contains(put.out()), ls.out());
        // the devnet's own directory: its node 0, found through devnet.json, with node 0's token
        OeLauncherTest.Run lsDevnet = OeLauncherTest.oe(Map.of(), "ls", "--data-dir", data.toString());
        assertEquals(0, lsDevnet.code(), lsDevnet.err());
        assertTrue(lsDevnet.out().contains(put.out()), lsDevnet.out());
    }

    private static void deleteTree(Path p) throws Exception {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
