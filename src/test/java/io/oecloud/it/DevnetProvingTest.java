package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 24 on bin/oe devnet: every node proves its storage on the chain by itself (periods of 20
 * blocks), and a node whose shard files are deleted on disk is caught by its next challenge and
 * penalized, while the object still downloads and repair rebuilds the lost shards.
 */
@Timeout(360)
class DevnetProvingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run leaves its nodes' logs
    Path dir;

    private final List<Process> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        ChainDevnet.stopAll(started);
    }

    private JsonNode get(String api, String token, String path) throws Exception {
        return ChainDevnet.get(http, api, token, path);
    }

    /** A Prometheus sample's value (the first line naming it without labels), or -1. */
    static double metric(String text, String name) {
        return text.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1).trim()))
                .findFirst().orElse(-1);
    }

    /** The chain's records of the storage nodes, by address, through a super-node. */
    private Map<String, JsonNode> records(String api) throws Exception {
        return ChainDevnet.records(http, api);
    }

    @Test
    void everyNodeProves_aNodeWhoseShardsWereDeletedIsPenalized_andTheObjectIsRepaired() throws Exception {
        // scrub as by default (hourly): the deleted files are found by the chain's challenge, not by the scrub
        ChainDevnet devnet = ChainDevnet.start(dir, started, "--repair-interval", "3s", "--no-edge");
        JsonNode nodes = devnet.nodes();
        List<String> apis = devnet.apis();
        List<String> tokens = devnet.tokens();
        String api0 = apis.get(0);

        Path file = DevnetTest.randomFile(dir.resolve("f.bin"), 3_000_000, 24);
        String want;
        try (InputStream in = Files.newInputStream(file)) {
            want = DevnetTest.sha256(in);
        }
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(api0 + "/v1/objects"))
                .header("Authorization", "Bearer " + tokens.get(0)).timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
        String cid = JSON.readTree(put.body()).get("cid").asText();
        long t0 = System.nanoTime();

        // every node registers by itself, commits roots over what it holds and proves its windows
        DevnetTest.awaitTrue(() -> {
            Map<String, JsonNode> r = records(api0);
            return r.size() == nodes.size() && r.values().stream().allMatch(n -> n.path("proven").asLong() >= 1);
        }, 120, "every node proving a period");
        System.out.printf("every node proved a period %.1f s after the upload%n", (System.nanoTime() - t0) / 1e9);
        OeLauncherTest.Run list = OeLauncherTest.oe(Map.of(), "chain", "storage-nodes", "--api", api0.substring("http://".length()));
        assertEquals(0, list.code(), list.err());
        assertEquals(nodes.size(), list.out().lines().filter(l -> l.contains("proven") && l.contains("active")).count(), list.out());
        for (JsonNode r : records(api0).values()) {
            assertEquals(0, r.path("missed").asLong(), "an honest node misses nothing: " + r);
        }
        // a super-node counts and times the proofs it verified in FinalizeBlock; a node counts what it proved
        String metrics0 = http.send(HttpRequest.newBuilder(URI.create(api0 + "/metrics")).header("Authorization", "Bearer " + tokens.get(0))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metric(metrics0, "oe_chain_proofs_verified_total") >= nodes.size(), "proofs verified: " + metrics0);
        assertTrue(metric(metrics0, "oe_chain_proof_verify_seconds_total") > 0, "verify time: " + metrics0);
        assertTrue(metric(metrics0, "oe_proofs_accepted_total") >= 1, "node 0's accepted proofs: " + metrics0);
        JsonNode status5 = get(apis.get(5), tokens.get(5), "/v1/status");
        assertTrue(status5.path("proving").path("registered").asBoolean(), status5.toString());
        assertTrue(status5.path("proving").path("proven").asLong() >= 1, status5.toString());

        // a storage node (not a super-node) holding shards loses them on disk, behind the node's back
        int victim = -1;
        for (int i = nodes.size() - 1; i >= 4 && victim < 0; i--) {
            if (get(apis.get(i), tokens.get(i), "/v1/status").path("shards").asInt() > 0) {
                victim = i;
            }
        }
        assertTrue(victim >= 0, "a storage node holds shards");
        int v = victim;
        String victimAddr = nodes.get(v).get("peerId").asText();
        Path shards = Path.of(nodes.get(v).get("dataDir").asText()).resolve("store/shards");
        long faultsBefore = records(api0).get(victimAddr).path("faultsDeclared").asLong();
        List<Path> lost;
        try (Stream<Path> s = Files.walk(shards)) {
            lost = s.filter(Files::isRegularFile).toList();
        }
        for (Path f : lost) {
            Files.delete(f);
        }
        int deleted = lost.size();
        assertTrue(deleted > 0);
        long t1 = System.nanoTime();
        // within two periods it is caught: its window's challenges name a lost shard it cannot answer (the window is
        // missed: a penalty), or something read the lost file first (a repair probe, a read), the store dropped it and the
        // node declared it before its window's seed (a fault in its record, paid for); a root committed after the drop
        // still names the lost blocks its contract pays for, and they are declared too (ProvingRoleLostBlocksTest). With
        // paid storage there is a third outcome: the loss came after the victim's window, and the payer's repair (every 3 s
        // here) rebuilt the blocks and moved its share away before its next root, which then owes them no more: it is paid
        // for no period after the one it lost them in. And a fourth: a repair probe found the files gone, the store dropped
        // them after the windows of the periods holding them had begun (too late to declare), and repair (which places a
        // rebuilt shard on a node holding no other shard of its segment) put every one back on the victim itself before a
        // window needed them: nothing is missing any more, on the chain or on disk
        String payer = nodes.get(0).get("peerId").asText();
        JsonNode[] seen = new JsonNode[1];
        try {
            DevnetTest.awaitTrue(() -> {
                seen[0] = records(api0).get(victimAddr);
                return seen[0].path("missed").asLong() >= 1 || seen[0].path("faultsDeclared").asLong() > faultsBefore
                        || !get(api0, null, "/v1/chain/contract/" + cid + "?payer=" + payer).path("holders").toString().contains(victimAddr)
                        || lost.stream().allMatch(Files::exists);
            }, 90, "the node whose shards were deleted caught, its share moved, or its shards put back by repair");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; its record: " + seen[0] + "; its status: "
                    + get(apis.get(v), tokens.get(v), "/v1/status").path("proving"), e);
        }
        JsonNode r = records(api0).get(victimAddr);
        boolean missed = r.path("missed").asLong() >= 1;
        boolean declared = r.path("faultsDeclared").asLong() > faultsBefore;
        System.out.printf("node %d %s %.1f s after its %d shard files were deleted: %s%n", v, missed ? "missed a window"
                : declared ? "declared the lost shards" : lost.stream().allMatch(Files::exists) ? "had its shards put back by repair"
                : "lost its share of the contract to the repairer",
                (System.nanoTime() - t1) / 1e9, deleted, r);
        if (missed) {
            assertTrue(new BigInteger(r.path("penalties").asText("0")).signum() > 0, "a missed window is penalized: " + r);
            DevnetTest.awaitTrue(() -> get(apis.get(v), tokens.get(v), "/v1/status").path("proving").path("missed").asLong() >= 1,
                    30, "the node's own status shows the miss");
        }

        // the object still downloads whole, and repair rebuilds the dropped shards
        HttpResponse<InputStream> got = http.send(HttpRequest.newBuilder(URI.create(apis.get(1) + "/v1/objects/" + cid))
                .timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, got.statusCode());
        try (InputStream in = got.body()) {
            assertEquals(want, DevnetTest.sha256(in));
        }
        DevnetTest.awaitTrue(() -> get(api0, tokens.get(0), "/v1/health/" + cid).path("weakest").asInt() == 6, 90,
                "repair back to 6 healthy shards");
        System.out.printf("repaired %.1f s after the deletion%n", (System.nanoTime() - t1) / 1e9);

        // a penalty takes the collateral below the minimum (1 pass): the node tops it up by itself; either way it proves again
        if (!missed) {
            return; // declared (nothing penalized) or its share moved: what remains is the penalty's course
        }
        long provenBefore = r.path("proven").asLong();
        DevnetTest.awaitTrue(() -> {
            JsonNode now = records(api0).get(victimAddr);
            return now.path("active").asBoolean() && now.path("proven").asLong() > provenBefore;
        }, 90, "the penalized node active again and proving");
        System.out.printf("node %d active and proving again %.1f s after the deletion%n", v, (System.nanoTime() - t1) / 1e9);
    }
}
