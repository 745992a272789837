package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Timed retrieval audits on bin/oe devnet (issue 24): the chain draws a committee of super-nodes
 * each window, they audit the storage nodes holding data over /oe/proof/1.0.0 and record their
 * verdicts; honest nodes pass, and the records show in {@code oe chain storage-nodes} and
 * {@code /v1/status}.
 */
@Timeout(360)
class DevnetAuditTest {
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

    @Test
    void theCommitteeAuditsTheNodesHoldingDataAndHonestNodesPass() throws Exception {
        ChainDevnet devnet = ChainDevnet.start(dir, started, "--no-edge");
        JsonNode nodes = devnet.nodes();
        List<String> apis = devnet.apis();
        List<String> tokens = devnet.tokens();
        String api0 = apis.get(0);
        Path file = DevnetTest.randomFile(dir.resolve("f.bin"), 3_000_000, 24);
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(api0 + "/v1/objects"))
                .header("Authorization", "Bearer " + tokens.get(0)).timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
        long t0 = System.nanoTime();

        // every node holding shards has a non-empty root; the committee audits them, window after window
        List<String> holders = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (get(apis.get(i), tokens.get(i), "/v1/status").path("shards").asInt() > 0) {
                holders.add(nodes.get(i).get("peerId").asText());
            }
        }
        assertTrue(holders.size() >= 4, "RS(4,2) places 6 shards a segment: " + holders);
        Map<String, JsonNode>[] seen = new Map[1];
        try {
            DevnetTest.awaitTrue(() -> {
                Map<String, JsonNode> m = new java.util.HashMap<>();
                for (JsonNode n : get(api0, null, "/v1/chain/storage-nodes")) {
                    m.put(n.path("address").asText(), n);
                }
                seen[0] = m;
                return holders.stream().allMatch(h -> m.containsKey(h) && m.get(h).path("auditsPassed").asLong() >= 1);
            }, 180, "every node holding shards audited and passed");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; records: " + seen[0] + "; node 0 audits: "
                    + get(api0, tokens.get(0), "/v1/status").path("audits"), e);
        }
        System.out.printf("every holder passed an audit %.1f s after the upload%n", (System.nanoTime() - t0) / 1e9);
        for (String h : holders) {
            JsonNode r = seen[0].get(h);
            assertEquals(0, r.path("auditsFailed").asLong(), "an honest node fails no audit: " + r);
            assertTrue(!r.path("poorStanding").asBoolean(), r.toString());
        }
        long audited = 0;
        for (int i = 0; i < 4; i++) { // the super-nodes run the auditor role
            JsonNode a = get(apis.get(i), tokens.get(i), "/v1/status").path("audits");
            assertTrue(a.has("auditor"), a.toString());
            audited += a.path("auditor").path("windowsAudited").asLong();
        }
        assertTrue(audited >= 1, "the super-nodes audited windows");
        JsonNode answered = get(apis.get(nodes.size() - 1), tokens.get(nodes.size() - 1), "/v1/status").path("audits");
        assertTrue(answered.has("answered") && !answered.has("auditor"), "a storage node answers audits, it does not run them: " + answered);
        String metrics0 = http.send(HttpRequest.newBuilder(URI.create(api0 + "/metrics")).header("Authorization", "Bearer " + tokens.get(0))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics0.contains("oe_audits_sent_total") && metrics0.contains("oe_audits_answered_total"), "metrics");
        OeLauncherTest.Run list = OeLauncherTest.oe(Map.of(), "chain", "storage-nodes", "--api", api0.substring("http://".length()));
        assertEquals(0, list.code(), list.err());
        assertTrue(list.out().contains("audits passed"), list.out());
        System.out.println(list.out());
    }
}
