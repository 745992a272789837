package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 25 on bin/oe devnet, the payer's side: an upload through node 0's API buys the object's
 * storage contract from node 0's account (the answer says what it costs a period and through when
 * it is paid), the chain holds it with exactly cost x periods in escrow and names the nodes that
 * hold the object's blocks; oe contracts lists it; oe renew extends it; deleting the object ends it and refunds exactly
 * the paid periods after the current one, by the ledger's rule. A stranger (a node outside the
 * devnet) cannot store without passes, and its blocks stored with passes but no contract are
 * dropped after the grace.
 */
@Timeout(600)
class DevnetPaidStorageTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PERIODS = 40;

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

    /** The txs {@code addr} sent, newest first, as the super-node at {@code api} shows them. */
    private List<JsonNode> sent(String api, String addr) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        JsonNode h = get(api, null, "/v1/chain/accounts/" + addr + "/txs");
        for (JsonNode t : h.isArray() ? h : h.path("txs")) {
            if (addr.equals(t.path("sender").asText())) {
                out.add(t);
            }
        }
        return out;
    }

    @Test
    void anUploadBuysItsContract_theEscrowIsCostTimesPeriods_rmEndsItAndRefundsExactly_aStrangersUnpaidBlocksAreDropped() throws Exception {
        ChainDevnet devnet = ChainDevnet.start(dir, started, "--repair-interval", "1h", "--no-edge");
        JsonNode nodes = devnet.nodes();
        String api0 = devnet.apis().get(0);
        String token0 = devnet.tokens().get(0);
        String payer = nodes.get(0).get("peerId").asText();

        // every node registers (its ask included) before it can be paid
        DevnetTest.awaitTrue(() -> {
            Map<String, JsonNode> r = ChainDevnet.records(http, api0);
            return r.size() == nodes.size() && r.values().stream().allMatch(n -> n.path("active").asBoolean());
        }, 120, "every node registered and active");

        Path file = DevnetTest.randomFile(dir.resolve("f.bin"), 3_000_000, 25);
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(api0 + "/v1/objects?periods=" + PERIODS))
                .header("Authorization", "Bearer " + token0).timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
        JsonNode answer = JSON.readTree(put.body());
        String cid = answer.path("cid").asText();
        JsonNode bought = answer.path("contract");
        assertEquals(PERIODS, bought.path("periods").asLong(), put.body());
        BigInteger cost = new BigInteger(bought.path("costPerPeriod").asText());
        assertTrue(cost.signum() > 0, put.body());

        // answered when the chain's mempool admitted the purchase; a block holds it a moment later:
        // paid periods [p+1, p+1+PERIODS) for the period p of that block, cost x PERIODS put in escrow
        assertTrue(bought.path("pending").asBoolean(), "answered at admission: " + put.body());
        JsonNode c = ChainDevnet.awaitContract(http, api0, cid, payer);
        long start = c.path("start").asLong();
        long end = c.path("end").asLong(); // changed by the renewal below
        assertEquals(PERIODS, end - start, c.toString());
        assertEquals(cost.toString(), c.path("costPerPeriod").asText());
        long told = bought.path("paidThrough").asLong(); // as predicted from the period of admission: the block's may be the next
        assertTrue(told == start + PERIODS - 1 || told == start + PERIODS - 2, "told " + told + ", the chain holds " + c);
        JsonNode create = sent(api0, payer).stream().filter(t -> "create_contract".equals(t.path("kind").asText())).findFirst().orElseThrow();
        assertEquals(0, create.path("code").asInt(), create.toString());
        long createdIn = create.path("height").asLong();
        long periodBlocks = get(api0, null, "/v1/chain/params").path("storage").path("periodBlocks").asLong();
        assertEquals(createdIn / periodBlocks + 1, start, "paid from the period after the one it was bought in");
        // what it still holds: every period not settled yet (a period is settled at its last block)
        long height = get(api0, null, "/v1/chain/status").path("height").asLong(-1);
        if (height >= 0 && height / periodBlocks < start) {
            assertEquals(cost.multiply(BigInteger.valueOf(PERIODS)).toString(), c.path("escrow").asText(), c.toString());
        }
        // it names the nodes that hold the object's blocks, each for the bytes of the blocks it holds
        Set<String> holders = new HashSet<>();
        long bytes = 0;
        for (JsonNode h : c.path("holders")) {
            holders.add(h.path("holder").asText());
            bytes += h.path("bytes").asLong();
        }
        assertEquals(c.path("bytes").asLong(), bytes);
        assertTrue(holders.contains(payer), "the uploading node keeps a manifest copy and signs its own receipt: " + holders);
        assertTrue(holders.size() >= 4, "at least k + 1 holders: " + holders);
        assertTrue(bytes > 3_000_000, "shards with parity and the manifest copies: " + bytes);

        // oe contracts lists it
        OeLauncherTest.Run list = OeLauncherTest.oe(Map.of(), "contracts", "--api", api0.substring("http://".length()),
                "--token-file", nodes.get(0).get("apiToken").asText());
        assertEquals(0, list.code(), list.err());
        assertTrue(list.out().contains(cid), list.out());

        // oe renew adds periods after its end, at the current price
        OeLauncherTest.Run renew = OeLauncherTest.oe(Map.of(), "renew", cid, "--periods", "5", "--api", api0.substring("http://".length()),
                "--token-file", nodes.get(0).get("apiToken").asText());
        assertEquals(0, renew.code(), renew.err());
        JsonNode renewed = get(api0, null, "/v1/chain/contract/" + cid + "?payer=" + payer);
        assertEquals(end + 5, renewed.path("end").asLong(), renewed.toString());
        assertTrue(renew.out().contains("paid through period " + (end + 4)), renew.out());
        end = renewed.path("end").asLong();
        BigInteger renewedCost = new BigInteger(renewed.path("terms").get(renewed.path("terms").size() - 1).path("cost").asText());

        // deleting it ends the contract: every paid period after the current one comes back
        HttpResponse<String> rm = http.send(HttpRequest.newBuilder(URI.create(api0 + "/v1/objects/" + cid))
                .header("Authorization", "Bearer " + token0).timeout(Duration.ofMinutes(2)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, rm.statusCode(), () -> rm.body() + "; node 0 says:\n"
                + ChainDevnet.tail(Path.of(nodes.get(0).get("dataDir").asText()).resolve("node.log"), 80));
        JsonNode ended = JSON.readTree(rm.body()).path("contract");
        JsonNode endTx = sent(api0, payer).stream().filter(t -> "end_contract".equals(t.path("kind").asText())).findFirst().orElseThrow();
        assertEquals(0, endTx.path("code").asInt(), endTx.toString());
        long q = endTx.path("height").asLong() / periodBlocks;
        BigInteger refund = BigInteger.ZERO;
        for (JsonNode t : renewed.path("terms")) { // each term's periods after q, at its own cost
            long from = Math.max(t.path("start").asLong(), q + 1);
            if (t.path("end").asLong() > from) {
                refund = refund.add(new BigInteger(t.path("cost").asText()).multiply(BigInteger.valueOf(t.path("end").asLong() - from)));
            }
        }
        assertEquals(cost, renewedCost, "the price did not change on the devnet (no node's ask moved it)");
        assertEquals(refund.toString(), ended.path("refund").asText(), rm.body());
        assertTrue(refund.signum() > 0);
        JsonNode after = get(api0, null, "/v1/chain/contract/" + cid + "?payer=" + payer);
        assertEquals(q + 1, after.path("end").asLong(), "paid through the period it was ended in: " + after);
        assertFalse(JSON.readTree(rm.body()).path("unpinned").asInt() < 0);

        // a stranger (a node outside the devnet, trusted by none, buying no contracts) cannot store
        // without passes, and what it stores with passes but no contract is dropped after the grace
        Map<String, List<String>> conf = devnet.settingsOf(nodes.size() - 1);
        conf.keySet().removeAll(List.of("trust-owner", "prove", "capacity"));
        conf.put("paid-storage", List.of("false"));
        conf.put("repair-interval", List.of("1h")); // its repair would place the dropped blocks again (each time for a grace only)
        ChainDevnet.Outside stranger = devnet.startOutside(dir.resolve("stranger"), conf, started);
        Path small = DevnetTest.randomFile(dir.resolve("s.bin"), 1_000_000, 26);
        HttpResponse<String> poor = upload(stranger, small);
        assertEquals(402, poor.statusCode(), "a stranger without passes: " + poor.body());
        assertTrue(poor.body().contains("cannot pay"), poor.body());
        System.out.println("a stranger without passes: " + poor.statusCode() + " " + poor.body());
        JsonNode chainDoc = JSON.readTree(dir.resolve("devnet/devnet.json").toFile()).path("chain");
        OeLauncherTest.Run fund = OeLauncherTest.oe(Map.of(), "wallet", "send", "--key", chainDoc.path("devnetKey").asText(),
                "--api", api0.substring("http://".length()), stranger.peerId(), "5");
        assertEquals(0, fund.code(), fund.err());
        // the holders remember an account that could not pay for a few seconds (SECURITY.md): a client tries again
        HttpResponse<String>[] paid = new HttpResponse[1];
        DevnetTest.awaitTrue(() -> (paid[0] = upload(stranger, small)).statusCode() == 201, 60, "the funded stranger's upload");
        // the holders count them as provisional at their next coverage pass (every 5 s on a devnet)
        List<Integer> took = new ArrayList<>();
        DevnetTest.awaitTrue(() -> {
            took.clear();
            for (int i = 0; i < nodes.size(); i++) {
                if (ChainDevnet.metric(http, devnet.apis().get(i), devnet.tokens().get(i), "oe_paid_provisional_bytes", null) > 0) {
                    took.add(i);
                }
            }
            return took.size() >= 4;
        }, 40, "devnet nodes holding the stranger's blocks provisionally (k = 4 of them at least)");
        long t0 = System.nanoTime();
        DevnetTest.awaitTrue(() -> {
            for (int i : took) {
                String api = devnet.apis().get(i);
                String token = devnet.tokens().get(i);
                if (ChainDevnet.metric(http, api, token, "oe_paid_provisional_bytes", null) > 0
                        || ChainDevnet.metric(http, api, token, "oe_paid_pins_dropped_total", "no-contract") < 1) {
                    return false;
                }
            }
            return true;
        }, 180, "the stranger's blocks dropped after the grace");
        System.out.printf("nodes %s dropped the stranger's blocks %.0f s after its upload (grace 1 min)%n", took, (System.nanoTime() - t0) / 1e9);
    }

    private HttpResponse<String> upload(ChainDevnet.Outside node, Path file) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(node.api() + "/v1/objects"))
                .header("Authorization", "Bearer " + node.token()).timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
