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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 24, strategy 1 on bin/oe devnet, the deterministic path: a storage node whose shard files
 * were deleted is frozen (SIGSTOP) across its window, so it misses it and is penalized; the other
 * nodes read the chain's fault list and rebuild the shards it held on another node because the
 * chain says so. The periodic repair pass runs hourly here and the scrub too, so nothing else
 * repairs within the test: without the chain-driven repair the object stays at 5 healthy shards
 * and the test fails. Seven nodes, RS(4,2): a segment's six shards leave one node free to take the
 * rebuilt shard.
 */
@Timeout(420)
class DevnetChainRepairTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The devnet's storage parameters (DevnetChain): 20 blocks a period, 4 windows of 5 blocks. */
    private static final int PERIOD_BLOCKS = 20;
    private static final int WINDOW_BLOCKS = 5;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run leaves its nodes' logs
    Path dir;

    private final List<Process> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private long frozen = -1;

    @AfterEach
    void stop() throws Exception {
        if (frozen > 0) {
            ChainDevnet.signal("CONT", frozen); // a stopped process would not see the devnet's stop
        }
        ChainDevnet.stopAll(started);
    }

    private JsonNode get(String api, String token, String path) throws Exception {
        return ChainDevnet.get(http, api, token, path);
    }

    private Map<String, JsonNode> records(String api) throws Exception {
        return ChainDevnet.records(http, api);
    }

    /** A counter's value in a node's Prometheus text (0 when absent). */
    private double metric(String api, String token, String name) throws Exception {
        return ChainDevnet.metric(http, api, token, name, null);
    }

    @Test
    void aFrozenNodeWhoseShardsWereDeleted_missesItsWindow_isPenalized_andTheChainDrivesTheRepair() throws Exception {
        ChainDevnet devnet = ChainDevnet.start(dir, started, "--nodes", "7", "--repair-interval", "1h", "--no-edge");
        JsonNode nodes = devnet.nodes();
        List<String> apis = devnet.apis();
        List<String> tokens = devnet.tokens();
        String api0 = apis.get(0);

        Path file = DevnetTest.randomFile(dir.resolve("f.bin"), 3_000_000, 2424);
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
        // every node registers; the six holding the object's blocks prove (the seventh holds nothing to prove)
        DevnetTest.awaitTrue(() -> {
            Map<String, JsonNode> r = records(api0);
            return r.size() == nodes.size() && r.values().stream().filter(n -> n.path("proven").asLong() >= 1).count() >= nodes.size() - 1;
        }, 150, "the nodes holding blocks proving a period");
        System.out.printf("the nodes holding blocks proved a period %.1f s after the upload%n", (System.nanoTime() - t0) / 1e9);

        // the victim: a storage node (not a super-node) holding a shard of the object's segment
        int victim = -1;
        for (int i = nodes.size() - 1; i >= 4 && victim < 0; i--) {
            if (!ChainDevnet.shardFiles(Path.of(nodes.get(i).get("dataDir").asText())).isEmpty()) {
                victim = i;
            }
        }
        assertTrue(victim >= 0, "a storage node holds a shard");
        int v = victim;
        String victimAddr = nodes.get(v).get("peerId").asText();
        long victimPid = nodes.get(v).get("pid").asLong();
        List<Path> lost = ChainDevnet.shardFiles(Path.of(nodes.get(v).get("dataDir").asText()));
        double rebuiltBefore = 0;
        for (int i = 0; i < nodes.size(); i++) {
            rebuiltBefore += metric(apis.get(i), tokens.get(i), "oe_repair_chain_rebuilt_total");
        }
        assertEquals(0, rebuiltBefore, "nothing rebuilt by the chain's repair before the loss");
        // six of the seven proved; the victim, which holds blocks, proves once its own window comes (its
        // window may be the period's last: waiting for any six to prove does not wait for it)
        try {
            DevnetTest.awaitTrue(() -> records(api0).get(victimAddr).path("proven").asLong() >= 1, 90,
                    "the victim (" + victimAddr + ") proving a period");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; its record: " + get(api0, null, "/v1/chain/storage-nodes/" + victimAddr)
                    + "; its status: " + get(apis.get(v), tokens.get(v), "/v1/status").path("proving"), e);
        }
        JsonNode before = records(api0).get(victimAddr);
        assertEquals(0, before.path("missed").asLong(), "the victim missed no window before the loss: " + before);

        // wait until the victim has an open root whose window is still ahead, then delete its shards and freeze it
        long[] window = new long[2];
        DevnetTest.awaitTrue(() -> {
            long height = get(api0, null, "/v1/chain/status").path("height").asLong();
            for (JsonNode r : get(api0, null, "/v1/chain/storage-nodes/" + victimAddr).path("roots")) {
                long first = r.path("period").asLong() * PERIOD_BLOCKS + r.path("window").asLong() * WINDOW_BLOCKS;
                if (r.path("status").asText().equals("open") && first > height + 1) {
                    window[0] = first;
                    window[1] = first + WINDOW_BLOCKS - 1;
                    return true;
                }
            }
            return false;
        }, 60, "an open root of the victim with its window ahead");
        for (Path f : lost) {
            Files.delete(f);
        }
        ChainDevnet.signal("STOP", victimPid);
        frozen = victimPid;
        long t1 = System.nanoTime();
        System.out.printf("node %d: %d shard files deleted, frozen before its window (blocks %d-%d)%n", v, lost.size(), window[0], window[1]);
        DevnetTest.awaitTrue(() -> records(api0).get(victimAddr).path("missed").asLong() >= 1, 120, "the frozen node's window missed");
        JsonNode r = records(api0).get(victimAddr);
        System.out.printf("missed %.1f s after the freeze: %s%n", (System.nanoTime() - t1) / 1e9, r);
        assertTrue(new BigInteger(r.path("penalties").asText("0")).signum() > 0, "a missed window is penalized: " + r);
        JsonNode faults = get(api0, null, "/v1/chain/storage-faults");
        assertTrue(faults.path("faults").toString().contains(victimAddr), "the chain's fault lists name it: " + faults);

        // the others read the fault list and rebuild its shards elsewhere, while it is still frozen
        DevnetTest.awaitTrue(() -> {
            double rebuilt = 0;
            for (int i = 0; i < nodes.size(); i++) {
                if (i != v) {
                    rebuilt += metric(apis.get(i), tokens.get(i), "oe_repair_chain_rebuilt_total");
                }
            }
            return rebuilt >= lost.size();
        }, 90, "the chain-driven repair rebuilding the " + lost.size() + " lost shards");
        System.out.printf("the chain's repair rebuilt %d shards %.1f s after the freeze%n", lost.size(), (System.nanoTime() - t1) / 1e9);
        // the object is paid storage (the devnet's default): its owner's node moved the victim's share
        // of the contract to the nodes that took the rebuilt shards, with their receipts
        String payer = nodes.get(0).get("peerId").asText();
        JsonNode[] contract = {null};
        try {
            DevnetTest.awaitTrue(() -> {
                contract[0] = get(api0, null, "/v1/chain/contract/" + cid + "?payer=" + payer);
                return !contract[0].path("holders").toString().contains(victimAddr);
            }, 90, "the victim's share of the contract moved");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; contract " + contract[0] + "; node 0 says:\n"
                    + ChainDevnet.tail(Path.of(nodes.get(0).get("dataDir").asText()).resolve("node.log"), 60), e);
        }
        long heldBytes = 0;
        for (JsonNode h : contract[0].path("holders")) {
            heldBytes += h.path("bytes").asLong();
        }
        assertEquals(contract[0].path("bytes").asLong(), heldBytes, "every byte of the contract still has a paid holder: " + contract[0]);
        System.out.printf("the victim's share moved %.1f s after the freeze: %s%n", (System.nanoTime() - t1) / 1e9, contract[0].path("holders"));
        double caught = 0;
        for (int i = 0; i < nodes.size(); i++) {
            if (i != v) {
                caught += metric(apis.get(i), tokens.get(i), "oe_repair_chain_faults_total");
            }
        }
        assertTrue(caught >= lost.size(), "the shards listed on the caught node were counted: " + caught);
        JsonNode status1 = get(apis.get(1), tokens.get(1), "/v1/status").path("chainRecords");
        assertTrue(status1.path("suspects").toString().contains(victimAddr) || status1.path("faultLists").asInt() >= 1, status1.toString());

        ChainDevnet.signal("CONT", victimPid);
        frozen = -1;
        // healthy again without the victim (its files are gone: it answers no HAS for them), and whole
        DevnetTest.awaitTrue(() -> get(api0, tokens.get(0), "/v1/health/" + cid).path("weakest").asInt() == 6, 60,
                "6 healthy shards with the victim's on other nodes");
        HttpResponse<InputStream> got = http.send(HttpRequest.newBuilder(URI.create(apis.get(1) + "/v1/objects/" + cid))
                .timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, got.statusCode());
        try (InputStream in = got.body()) {
            assertEquals(want, DevnetTest.sha256(in));
        }
        System.out.printf("whole and byte-identical %.1f s after the freeze%n", (System.nanoTime() - t1) / 1e9);
    }
}
