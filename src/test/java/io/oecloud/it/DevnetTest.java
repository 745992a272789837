package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** bin/oe devnet as a user runs it: six node processes, uploads and downloads over HTTP, kill -9. */
@Timeout(300)
class DevnetTest {
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void sixNodeDevnet_survivesTwoKilledNodes_andSays503WithCountsAfterThree() throws Exception {
        Path data = dir.resolve("devnet");
        Process devnet = new ProcessBuilder(OeLauncherTest.ROOT.resolve("bin/oe").toString(), "devnet",
                "--data-dir", data.toString(), "--p2p-port", "0", "--api-port", "0", "--capacity", String.valueOf(1L << 30))
                .redirectErrorStream(true).redirectOutput(dir.resolve("devnet.log").toFile()).start();
        try {
            Path json = data.resolve("devnet.json");
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!Files.exists(json)) { // written once all six nodes are up
                assertTrue(devnet.isAlive(), "devnet exited: " + Files.readString(dir.resolve("devnet.log")));
                assertTrue(System.nanoTime() < end, "devnet did not start: " + Files.readString(dir.resolve("devnet.log")));
                Thread.sleep(200);
            }
            JsonNode nodes = new ObjectMapper().readTree(json.toFile()).get("nodes");
            assertEquals(6, nodes.size());
            String api0 = nodes.get(0).get("api").asText();
            String api3 = nodes.get(3).get("api").asText();

            byte[] object = new byte[32 << 20];
            new Random(9).nextBytes(object);
            HttpResponse<String> up = http.send(HttpRequest.newBuilder(URI.create(api0 + "/v1/objects"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(object)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, up.statusCode(), up.body());
            String cid = new ObjectMapper().readTree(up.body()).get("cid").asText();

            assertArrayEquals(object, download(api3, cid).body());

            // the same through the CLI: oe put on one node, oe get from another
            Path file = Files.write(dir.resolve("cli.bin"), java.util.Arrays.copyOf(object, 3_000_001));
            OeLauncherTest.Run put = OeLauncherTest.oe(java.util.Map.of(), "put", "--api", api0.substring("http://".length()), file.toString());
            assertEquals(0, put.code(), put.err());
            Path got = dir.resolve("cli.out");
            OeLauncherTest.Run get = OeLauncherTest.oe(java.util.Map.of(), "get", "--api", api3.substring("http://".length()), put.out(), "-o", got.toString());
            assertEquals(0, get.code(), get.err());
            assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(got));

            kill(nodes.get(1));
            kill(nodes.get(4));
            HttpResponse<byte[]> afterTwo = download(api3, cid);
            assertEquals(200, afterTwo.statusCode());
            assertArrayEquals(object, afterTwo.body());

            kill(nodes.get(5));
            long t0 = System.nanoTime();
            HttpResponse<byte[]> afterThree = download(api3, cid);
            assertEquals(503, afterThree.statusCode());
            assertTrue(new String(afterThree.body()).contains("of its shards were found, 4 are needed"), new String(afterThree.body()));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30), "503 promptly, not after a hang");
        } finally {
            devnet.destroy(); // SIGTERM: the devnet stops every node it started
            assertTrue(devnet.waitFor(60, TimeUnit.SECONDS));
        }
        JsonNode nodes = new ObjectMapper().readTree(data.resolve("devnet.json").toFile()).get("nodes");
        for (JsonNode n : nodes) {
            assertFalse(ProcessHandle.of(n.get("pid").asLong()).map(ProcessHandle::isAlive).orElse(false),
                    "node " + n.get("index") + " still running after the devnet stopped");
        }
    }

    private HttpResponse<byte[]> download(String api, String cid) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(api + "/v1/objects/" + cid)).timeout(Duration.ofSeconds(120)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static void kill(JsonNode node) throws Exception {
        ProcessHandle p = ProcessHandle.of(node.get("pid").asLong()).orElseThrow();
        p.destroyForcibly(); // SIGKILL: no goodbye
        p.onExit().get(30, TimeUnit.SECONDS);
    }
}
