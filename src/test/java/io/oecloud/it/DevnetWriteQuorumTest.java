package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, "an upload survives a node dying under it", on bin/oe devnet as a user runs it: six
 * node processes, RS(4,2), so every segment needs all six. During each of three uploads (24, 48
 * and 96 MiB) one node is killed with SIGKILL when a seeded random share of the body has been sent;
 * each upload must still be acknowledged (write quorum k + 1 = 5), read back identical while the
 * node is down, be repaired to six shards per segment once the node returns (repair interval left
 * at its 5 minutes, so the catch-up queue does it), read back from the returned node, and read back
 * after the whole devnet restarts.
 */
@Timeout(600)
class DevnetWriteQuorumTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run leaves its nodes' logs
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        ChainDevnet.stopAll(started);
    }

    /**
     * Every HTTP call of this test goes through here, so what the API requires of a caller (such as
     * an {@code Authorization} header) is added in one place.
     */
    private <T> HttpResponse<T> call(HttpRequest.Builder request, HttpResponse.BodyHandler<T> body) throws Exception {
        HttpRequest r = request.build();
        String token = tokens.get(r.uri().getScheme() + "://" + r.uri().getAuthority());
        if (token != null) { // each node's API token (devnet.json names its file): uploads and health need it
            r = HttpRequest.newBuilder(r, (name, value) -> true).header("Authorization", "Bearer " + token).build();
        }
        return http.send(r, body);
    }

    /** Each node's API token, by API URL. */
    private final java.util.Map<String, String> tokens = new java.util.concurrent.ConcurrentHashMap<>();

    private Process devnet(Path data) throws Exception {
        List<String> cmd = List.of(OeLauncherTest.ROOT.resolve("bin/oe").toString(), "devnet", "--data-dir", data.toString(),
                "--p2p-port", "0", "--api-port", "0", "--no-chain");
        Files.deleteIfExists(data.resolve("devnet.json"));
        Path log = dir.resolve("devnet-" + started.size() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        DevnetTest.awaitTrue(() -> Files.exists(data.resolve("devnet.json")) || !p.isAlive(), 180, "devnet start");
        assertTrue(p.isAlive(), "devnet exited: " + Files.readString(log));
        assertTrue(Files.readString(log).contains("write quorum 5"), Files.readString(log));
        return p;
    }

    private JsonNode nodes(Path data) throws Exception {
        JsonNode nodes = JSON.readTree(data.resolve("devnet.json").toFile()).get("nodes");
        for (JsonNode n : nodes) {
            tokens.put(n.get("api").asText(), Files.readString(Path.of(n.get("apiToken").asText())).strip());
        }
        return nodes;
    }

    private static String api(JsonNode node) {
        return node.get("api").asText();
    }

    private static void kill(JsonNode node) {
        ProcessHandle p = ProcessHandle.of(node.get("pid").asLong()).orElseThrow();
        p.destroyForcibly(); // SIGKILL: no goodbye
        try {
            p.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("node " + node.get("index") + " did not die", e);
        }
    }

    /** Starts a node again with the command devnet.json records (same identity, ports and data). */
    private void restart(JsonNode node) throws Exception {
        List<String> cmd = new ArrayList<>();
        node.get("cmd").forEach(c -> cmd.add(c.asText()));
        Path log = dir.resolve("restart-" + node.get("index").asInt() + "-" + started.size() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        DevnetTest.awaitTrue(() -> Files.readString(log).contains("; ready") || !p.isAlive(), 120, "node restart");
        assertTrue(p.isAlive(), Files.readString(log));
    }

    /** The file's bytes; {@code at} runs once when {@code offset} of them have been handed to the HTTP client. */
    private static InputStream faultAt(Path file, long offset, Runnable at) throws IOException {
        return new FilterInputStream(Files.newInputStream(file)) {
            private long read;
            private boolean fired;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (!fired && read >= offset) {
                    fired = true;
                    at.run();
                }
                int want = fired ? len : (int) Math.min(len, Math.max(1, offset - read));
                int n = super.read(b, off, want);
                read += Math.max(0, n);
                return n;
            }
        };
    }

    private record Upload(int status, String body) {}

    private Upload upload(String api, Path file, long killAt, JsonNode victim) throws Exception {
        HttpResponse<String> r = call(HttpRequest.newBuilder(URI.create(api + "/v1/objects")).timeout(Duration.ofMinutes(5))
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> {
                    try {
                        return faultAt(file, killAt, () -> kill(victim));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }), Files.size(file))), HttpResponse.BodyHandlers.ofString());
        return new Upload(r.statusCode(), r.body());
    }

    private String download(String api, String cid) throws Exception {
        HttpResponse<InputStream> r = call(HttpRequest.newBuilder(URI.create(api + "/v1/objects/" + cid)).timeout(Duration.ofMinutes(5)),
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            return r.statusCode() == 200 ? DevnetTest.sha256(in) : r.statusCode() + " " + new String(in.readAllBytes());
        }
    }

    private int weakest(String api, String cid) throws Exception {
        HttpResponse<String> r = call(HttpRequest.newBuilder(URI.create(api + "/v1/health/" + cid)).timeout(Duration.ofMinutes(2)),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? JSON.readTree(r.body()).get("weakest").asInt() : -1;
    }

    @Test
    void devnet_nodeKilledDuringEachOfThreeUploads_everyUploadIsAcknowledged_repairedWhenItReturns_andReadsBackAfterARestart()
            throws Exception {
        Path data = dir.resolve("devnet");
        Process net = devnet(data);
        JsonNode nodes = nodes(data);
        assertEquals(6, nodes.size());
        Random rnd = new Random(2222);
        Map<String, String> acknowledged = new LinkedHashMap<>(); // CID -> SHA-256
        long[] sizes = {24L << 20, 48L << 20, 96L << 20};
        for (int round = 0; round < sizes.length; round++) {
            // Node 0 is not a victim: restarted without --bootstrap it joins through the peers it
            // saved at its last clean stop, which a SIGKILL never reaches (a devnet matter, not the upload's).
            int victim = 1 + rnd.nextInt(5);
            int via = (victim + 1 + rnd.nextInt(5)) % 6;
            long killAt = (long) (sizes[round] * (0.1 + 0.8 * rnd.nextDouble()));
            String what = "round " + round + ": " + (sizes[round] >> 20) + " MiB through node " + via + ", node " + victim
                    + " killed after " + killAt + " bytes";
            Path file = DevnetTest.randomFile(dir.resolve("o" + round), sizes[round], 300 + round);
            String want;
            try (InputStream in = Files.newInputStream(file)) {
                want = DevnetTest.sha256(in);
            }
            long t0 = System.nanoTime();
            Upload up = upload(api(nodes.get(via)), file, killAt, nodes.get(victim));
            assertEquals(201, up.status(), what + ": " + up.body());
            String cid = JSON.readTree(up.body()).get("cid").asText();
            acknowledged.put(cid, want);
            System.out.printf("%s: acknowledged in %.1f s%n", what, (System.nanoTime() - t0) / 1e9);
            Files.delete(file);
            String reader = api(nodes.get((via + 1) % 6 == victim ? (via + 2) % 6 : (via + 1) % 6));
            assertEquals(want, download(reader, cid), what + ": reads back while the node is down");

            restart(nodes.get(victim));
            long t1 = System.nanoTime();
            DevnetTest.awaitTrue(() -> weakest(api(nodes.get(via)), cid) == 6, 120, what + ": repair back to 6 shards per segment");
            System.out.printf("%s: whole again %.1f s after the node returned%n", what, (System.nanoTime() - t1) / 1e9);
            assertEquals(want, download(api(nodes.get(victim)), cid), what + ": reads back from the node that returned");
        }

        // the whole devnet stops (the restarted nodes too) and starts again on the same data
        for (Process p : List.copyOf(started)) {
            if (p != net) {
                p.destroy();
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            }
        }
        net.destroy();
        assertTrue(net.waitFor(60, TimeUnit.SECONDS));
        devnet(data);
        JsonNode again = nodes(data);
        int i = 0;
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
            assertEquals(e.getValue(), download(api(again.get(i++ % 6)), e.getKey()), "after a full restart: " + e.getKey());
        }
    }
}
