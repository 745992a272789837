package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 25 on bin/oe devnet, the holders' side and the books: an upload's contract pays each of
 * its holders exactly its share for every period it proves; a holder whose shard files were
 * deleted (and that is frozen across its window) is not paid for that period and is penalized;
 * the node's dashboard, loaded in headless
 * Chromium, shows the figures the chain holds; `oe wallet history` lists the payments; the contract
 * is renewed and then ended early (refund), and an object paid for one period expires and its
 * holders drop its blocks after the grace. All along,
 * the supply invariant (genesis + minted - slashed = balances + bonded + unbonding + pools +
 * collateral + withdrawals + escrow) is read from the chain as often as it can be: the ledger
 * checks it at the end of every block and would halt rather than commit a block that broke it,
 * so the chain going on through the whole test is that check passing at every block.
 */
@Timeout(600)
class DevnetPaymentsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run leaves its nodes' logs
    Path dir;

    private final List<Process> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private long frozen = -1;

    @AfterEach
    void stop() throws Exception {
        if (frozen > 0) {
            ChainDevnet.signal("CONT", frozen);
        }
        ChainDevnet.stopAll(started);
    }

    private JsonNode get(String api, String token, String path) throws Exception {
        return ChainDevnet.get(http, api, token, path);
    }

    /** The contracts the chain lists as held by {@code node}. */
    private List<JsonNode> held(String api, String node) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        get(api, null, "/v1/chain/contracts?holder=" + node).path("contracts").forEach(out::add);
        return out;
    }

    /** What {@code node} is due for {@code period} by the contracts listed: each contract's share in the term that covers it. */
    private static BigInteger due(List<JsonNode> contracts, String node, long period) {
        BigInteger sum = BigInteger.ZERO;
        for (JsonNode c : contracts) {
            BigInteger cost = BigInteger.ZERO;
            for (JsonNode t : c.path("terms")) {
                if (t.path("start").asLong() <= period && period < t.path("end").asLong()) {
                    cost = new BigInteger(t.path("cost").asText());
                }
            }
            if (cost.signum() == 0) {
                continue;
            }
            // shares as the ledger splits a term's cost: floor by bytes, the remainder to the most bytes (ties: lowest address)
            long total = c.path("bytes").asLong();
            BigInteger given = BigInteger.ZERO;
            String top = null;
            long topBytes = -1;
            Map<String, BigInteger> shares = new HashMap<>();
            for (JsonNode h : c.path("holders")) {
                String a = h.path("holder").asText();
                long b = h.path("bytes").asLong();
                BigInteger s = cost.multiply(BigInteger.valueOf(b)).divide(BigInteger.valueOf(total));
                shares.put(a, s);
                given = given.add(s);
                if (b > topBytes || (b == topBytes && a.compareTo(top) < 0)) {
                    top = a;
                    topBytes = b;
                }
            }
            shares.merge(top, cost.subtract(given), BigInteger::add);
            sum = sum.add(shares.getOrDefault(node, BigInteger.ZERO));
        }
        return sum;
    }

    /** {@code node}'s settled payment for {@code period}, or null when the chain lists none. */
    private JsonNode payment(String api, String node, long period) throws Exception {
        for (JsonNode p : get(api, null, "/v1/chain/payments/" + node).path("payments")) {
            if (p.path("period").asLong() == period) {
                return p;
            }
        }
        return null;
    }

    @Test
    void holdersArePaidExactlyForProvenPeriods_aFailedHolderIsNotAndIsPenalized_andTheDashboardShowsTheChain() throws Exception {
        ChainDevnet devnet = ChainDevnet.start(dir, started, "--nodes", "7", "--repair-interval", "20s", "--no-edge");
        JsonNode nodes = devnet.nodes();
        List<String> apis = devnet.apis();
        String api0 = apis.get(0);
        String token0 = devnet.tokens().get(0);
        String payer = nodes.get(0).get("peerId").asText();
        long periodBlocks = get(api0, null, "/v1/chain/params").path("storage").path("periodBlocks").asLong();
        long windowBlocks = periodBlocks / get(api0, null, "/v1/chain/params").path("storage").path("windows").asLong();

        // the books, read as often as the chain answers, from here to the end
        ConcurrentSkipListMap<Long, JsonNode> supply = new ConcurrentSkipListMap<>();
        AtomicBoolean reading = new AtomicBoolean(true);
        Thread books = Thread.ofVirtual().start(() -> {
            while (reading.get()) {
                try {
                    JsonNode s = get(api0, null, "/v1/chain/supply");
                    supply.putIfAbsent(s.path("height").asLong(), s);
                    Thread.sleep(100); // the pause of a poll, not a wait for a condition
                } catch (InterruptedException e) {
                    return;
                } catch (Exception | AssertionError e) {
                    // a read that failed under load: the next one comes
                }
            }
        });

        try {
            DevnetTest.awaitTrue(() -> {
                Map<String, JsonNode> r = ChainDevnet.records(http, api0);
                return r.size() == nodes.size() && r.values().stream().allMatch(n -> n.path("active").asBoolean());
            }, 120, "every node registered and active");
            // each published its ask (storage-ask) with its registration: the price comes from them from the next period on
            DevnetTest.awaitTrue(() -> get(api0, null, "/v1/chain/price").path("asks").size() == nodes.size(), 60, "every node's ask on the chain");
            DevnetTest.awaitTrue(() -> !get(api0, null, "/v1/chain/price").path("default").asBoolean(true), 120,
                    "a period priced from the nodes' asks");
            Path file = DevnetTest.randomFile(dir.resolve("f.bin"), 3_000_000, 2525);
            String cid = ChainDevnet.upload(http, api0, token0, file, "periods=500");
            // and an object paid for one period only: it expires during the test
            Path brief = DevnetTest.randomFile(dir.resolve("brief.bin"), 600_000, 2526);
            String briefCid = ChainDevnet.upload(http, api0, token0, brief, "periods=1");
            Set<String> briefHolders = new HashSet<>();
            ChainDevnet.awaitContract(http, api0, briefCid, payer).path("holders").forEach(h -> briefHolders.add(h.path("holder").asText()));
            JsonNode contract = ChainDevnet.awaitContract(http, api0, cid, payer);
            long start = contract.path("start").asLong();
            Set<String> holders = new HashSet<>();
            contract.path("holders").forEach(h -> holders.add(h.path("holder").asText()));
            System.out.println("contract " + contract);

            // the contracts as bought (the one-period object's record is pruned a grace after it ends)
            Map<String, List<JsonNode>> bought = new HashMap<>();
            for (JsonNode n : nodes) {
                bought.put(n.get("peerId").asText(), held(api0, n.get("peerId").asText()));
            }
            // every holder is paid exactly its share for each period it proves, from the first it can prove on
            long checkUpTo = start + 2;
            DevnetTest.awaitTrue(() -> get(api0, null, "/v1/chain/status").path("height").asLong() >= (checkUpTo + 1) * periodBlocks + 1,
                    240, "periods " + start + " to " + checkUpTo + " settled");
            for (String h : holders) {
                List<JsonNode> theirs = bought.get(h);
                BigInteger paidTotal = BigInteger.ZERO;
                for (long p = start; p <= checkUpTo; p++) {
                    JsonNode pay = payment(api0, h, p);
                    assertNotNull(pay, h + " has no payment record for period " + p);
                    assertEquals(due(theirs, h, p).toString(), pay.path("amount").asText(), h + " period " + p);
                    if (pay.path("paid").asBoolean()) {
                        paidTotal = paidTotal.add(new BigInteger(pay.path("amount").asText()));
                    }
                }
                JsonNode last = payment(api0, h, checkUpTo);
                assertTrue(last.path("paid").asBoolean(), h + " proved period " + checkUpTo + " and was paid for it: " + last);
                JsonNode root = null; // and it was paid having answered the chain's contract challenges, not its root's alone
                for (JsonNode r : get(api0, null, "/v1/chain/storage-nodes/" + h).path("roots")) {
                    root = r.path("period").asLong() == checkUpTo ? r : root;
                }
                assertNotNull(root, h + " has no root of period " + checkUpTo);
                assertEquals("proven", root.path("status").asText(), h + ": " + root);
                assertEquals(2, root.path("contractPicks").size(), h + " holds contracts: two were picked at its seed: " + root);
                assertTrue(new BigInteger(get(api0, null, "/v1/chain/payments/" + h).path("earned").asText()).compareTo(paidTotal) >= 0);
            }

            // a holder (not a super-node) loses its shard files and is frozen across its window
            int victim = -1;
            for (int i = nodes.size() - 1; i >= 4 && victim < 0; i--) {
                if (holders.contains(nodes.get(i).get("peerId").asText()) && !ChainDevnet.shardFiles(Path.of(nodes.get(i).get("dataDir").asText())).isEmpty()) {
                    victim = i;
                }
            }
            assertTrue(victim >= 0, "a storage node holds shards of the object");
            String victimAddr = nodes.get(victim).get("peerId").asText();
            long[] window = new long[2];
            DevnetTest.awaitTrue(() -> {
                long height = get(api0, null, "/v1/chain/status").path("height").asLong();
                for (JsonNode r : get(api0, null, "/v1/chain/storage-nodes/" + victimAddr).path("roots")) {
                    long first = r.path("period").asLong() * periodBlocks + r.path("window").asLong() * windowBlocks;
                    if (r.path("status").asText().equals("open") && first > height + 1 && r.path("count").asLong() > 0) {
                        window[0] = r.path("period").asLong();
                        window[1] = first;
                        return true;
                    }
                }
                return false;
            }, 60, "an open root of the victim with its window ahead");
            for (Path f : ChainDevnet.shardFiles(Path.of(nodes.get(victim).get("dataDir").asText()))) {
                Files.delete(f);
            }
            BigInteger penaltiesBefore = new BigInteger(ChainDevnet.records(http, api0).get(victimAddr).path("penalties").asText("0"));
            ChainDevnet.signal("STOP", nodes.get(victim).get("pid").asLong());
            frozen = nodes.get(victim).get("pid").asLong();
            long missedPeriod = window[0];
            DevnetTest.awaitTrue(() -> payment(api0, victimAddr, missedPeriod) != null, 180, "period " + missedPeriod + " settled");
            JsonNode unpaid = payment(api0, victimAddr, missedPeriod);
            assertFalse(unpaid.path("paid").asBoolean(), "a holder that missed its window is not paid for the period: " + unpaid);
            assertTrue(new BigInteger(ChainDevnet.records(http, api0).get(victimAddr).path("penalties").asText("0")).compareTo(penaltiesBefore) > 0,
                    "and is penalized");

            // (that repair then moves the victim's share to the new holder is DevnetChainRepairTest's:
            // it keeps the victim frozen until the rebuilt shard is placed; here it is thawed at once)
            ChainDevnet.signal("CONT", frozen);
            frozen = -1;

            // the dashboard shows what the chain holds: the node reads the chain every few seconds, the
            // page reads the node; loaded until they agree (the chain read before and after each load)
            Path profile = Files.createDirectories(dir.resolve("chromium"));
            String[] dom = {null};
            Map<String, String> shown = new HashMap<>();
            Map<String, String> chain = new HashMap<>();
            DevnetTest.awaitTrue(() -> {
                Map<String, String> before = dashboardFigures(api0, payer);
                dom[0] = Chromium.dumpDom(api0 + "/ui/#token=" + token0, profile, 15_000);
                Map<String, String> after = dashboardFigures(api0, payer);
                shown.clear();
                after.keySet().forEach(k -> shown.put(k, Chromium.value(dom[0], k)));
                chain.clear();
                chain.putAll(after);
                return before.equals(after) && shown.equals(after);
            }, 90, "the dashboard showing the chain's figures");
            assertTrue(dom[0].contains("data-loaded=\"true\""), "the page loaded its data");
            assertEquals(chain, shown);
            assertTrue(dom[0].contains("data-object=\"" + cid + "\""), "the payer's contract is in its table");
            System.out.println("the dashboard shows " + shown);

            // oe wallet history shows a holder's storage payments
            String paidHolder = holders.stream().filter(h -> !h.equals(victimAddr)).findFirst().orElseThrow();
            OeLauncherTest.Run history = OeLauncherTest.oe(Map.of(), "wallet", "history", paidHolder, "--api", api0.substring("http://".length()));
            assertEquals(0, history.code(), history.err());
            assertTrue(history.out().contains("storage payment  period " + checkUpTo), history.out());

            // the one-period object expired: its holders dropped its blocks after the grace (the only
            // blocks dropped so far; the victim, whose files were deleted, is left out)
            briefHolders.remove(victimAddr);
            DevnetTest.awaitTrue(() -> {
                for (int i = 0; i < nodes.size(); i++) {
                    if (briefHolders.contains(nodes.get(i).get("peerId").asText())
                            && metric(apis.get(i), devnet.tokens().get(i), "oe_paid_pins_dropped_total") < 1) {
                        return false;
                    }
                }
                return true;
            }, 240, "each holder of the expired object dropping its blocks");

            // renewal and early deletion, as the payer's account sees them
            String hostPort = api0.substring("http://".length());
            String tokenFile = nodes.get(0).get("apiToken").asText();
            long endBefore = get(api0, null, "/v1/chain/contract/" + cid + "?payer=" + payer).path("end").asLong();
            OeLauncherTest.Run renew = OeLauncherTest.oe(Map.of(), "renew", cid, "--periods", "10", "--api", hostPort, "--token-file", tokenFile);
            assertEquals(0, renew.code(), renew.err());
            assertEquals(endBefore + 10, get(api0, null, "/v1/chain/contract/" + cid + "?payer=" + payer).path("end").asLong());
            OeLauncherTest.Run rm = OeLauncherTest.oe(Map.of(), "rm", cid, "--api", hostPort, "--token-file", tokenFile);
            assertEquals(0, rm.code(), rm.err());
            assertTrue(rm.out().contains("contract ended: ") && rm.out().contains(" refunded"), rm.out());
            JsonNode endedContract = get(api0, null, "/v1/chain/contract/" + cid + "?payer=" + payer);
            assertTrue(endedContract.path("end").asLong() < endBefore, "ended early, the later periods refunded: " + endedContract);
            // (the refund's exact amount, by the ledger's rule: DevnetPaidStorageTest)
        } finally {
            reading.set(false); // the books' reader stops with the test, failed or not
            books.join(Duration.ofSeconds(30));
        }

        assertTrue(supply.size() >= 20, "the books were read at " + supply.size() + " heights");
        for (JsonNode s : supply.values()) {
            assertEquals(s.path("expected").asText(), s.path("supply").asText(), "supply at height " + s.path("height") + ": " + s);
        }
        long first = supply.firstKey();
        long last = supply.lastKey();
        System.out.printf("supply read at %d of the %d heights %d-%d, equal to genesis + minted - slashed at each%n",
                supply.size(), last - first + 1, first, last);
        assertTrue(new BigInteger(supply.lastEntry().getValue().path("parts").path("escrow").asText()).signum() > 0, "the escrow is in the books");
    }

    /** A counter's value in a node's Prometheus text, summed over its tags (0 when absent). */
    private double metric(String api, String token, String name) throws Exception {
        return ChainDevnet.metric(http, api, token, name, null);
    }

    /** The figures node 0's dashboard shows, as the chain holds them now (ids of the page's elements). */
    private Map<String, String> dashboardFigures(String api0, String addr) throws Exception {
        Map<String, String> m = new HashMap<>();
        JsonNode record = ChainDevnet.records(http, api0).get(addr);
        m.put("collateral", record.path("collateral").asText());
        m.put("penalties", record.path("penalties").asText());
        m.put("contracts-held", Integer.toString(held(api0, addr).size()));
        JsonNode pay = get(api0, null, "/v1/chain/payments/" + addr);
        m.put("earned-total", pay.path("earned").asText());
        m.put("rate", pay.path("rate").asText());
        return m;
    }
}
