package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.object.HolderRecords.Standing;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.IOException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The chain's records as repair and placement see them: the rule for suspects, standings, and hostile answers. */
class ChainRecordsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PeerId clean = Identity.generate().peerId();
    private final PeerId missed = Identity.generate().peerId();
    private final PeerId declared = Identity.generate().peerId();
    private final PeerId answered = Identity.generate().peerId();
    private final PeerId stranger = Identity.generate().peerId();
    private final Cid lost = cid(1);
    private final Cid kept = cid(2);

    /** The chain's answers, by path then cursor; a test changes them between reads. */
    private final Map<String, JsonNode> answers = new HashMap<>();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final ChainRecords records = new ChainRecords((path, data) -> {
        JsonNode a = answers.get(path + "?" + data);
        if (a == null) {
            throw new IOException("no answer for " + path + " " + data);
        }
        return a;
    }, InstantSource.system(), metrics);

    private static Cid cid(int i) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, new byte[] {(byte) i});
    }

    private ArrayNode nodes(PeerId... registered) {
        ArrayNode a = JSON.createArrayNode();
        for (PeerId p : registered) {
            a.addObject().put("address", p.toString()).put("active", true).put("collateral", "1000000");
        }
        return a;
    }

    private static ObjectNode list(PeerId node, long period, boolean missed, Long provenAfter, Cid... cids) {
        ObjectNode f = JSON.createObjectNode().put("node", node.toString()).put("period", period).put("missed", missed);
        ArrayNode c = f.putArray("cids");
        for (Cid x : cids) {
            c.add(x.toString());
        }
        if (provenAfter == null) {
            f.putNull("provenAfter");
        } else {
            f.put("provenAfter", provenAfter);
        }
        return f;
    }

    private static ObjectNode page(String next, ObjectNode... lists) {
        ObjectNode p = JSON.createObjectNode().put("height", 100).put("period", 5);
        ArrayNode a = p.putArray("faults");
        for (ObjectNode l : lists) {
            a.add(l);
        }
        if (next == null) {
            p.putNull("next");
        } else {
            p.put("next", next);
        }
        return p;
    }

    private void chainSays(ArrayNode nodes, ObjectNode... pages) {
        answers.clear();
        answers.put("/storage-nodes?", nodes);
        String cursor = "";
        for (ObjectNode p : pages) {
            answers.put("/storage-faults?" + cursor, p);
            cursor = p.path("next").asText("");
        }
    }

    @Test
    void openFaultLists_makeSuspects_aMissAllBlocks_aDeclarationItsCids_untilALaterPeriodIsProven() {
        chainSays(nodes(clean, missed, declared, answered),
                page(declared + "/3", list(missed, 3, true, null), list(declared, 3, false, null, lost)),
                page(null, list(answered, 2, true, 3L, lost)));
        records.refresh();

        assertTrue(records.suspect(missed, lost) && records.suspect(missed, kept), "a missed window: its whole root is suspect");
        assertTrue(records.suspect(declared, lost));
        assertFalse(records.suspect(declared, kept), "a declaration names its CIDs only");
        assertFalse(records.suspect(answered, lost), "proven in period 3 after the miss of period 2: answered for");
        assertFalse(records.suspect(clean, lost) || records.suspect(stranger, lost));
        assertTrue(records.suspectOfAny(declared) && records.suspectOfAny(missed));
        assertFalse(records.suspectOfAny(answered));

        assertEquals(Standing.CLEAN, records.standing(clean));
        assertEquals(Standing.RECORD, records.standing(answered), "a fault the chain still holds, even answered for, is a record");
        assertEquals(Standing.RECORD, records.standing(missed));
        assertEquals(Standing.UNKNOWN, records.standing(stranger), "not registered");
    }

    @Test
    void generation_changesOnlyWhenAFaultListOpensThatWasNotOpen() {
        chainSays(nodes(clean, missed), page(null));
        records.refresh();
        long g0 = records.generation();
        chainSays(nodes(clean, missed), page(null, list(missed, 3, true, null)));
        records.refresh();
        long g1 = records.generation();
        assertTrue(g1 != g0, "a miss: repair looks again");
        records.refresh();
        assertEquals(g1, records.generation(), "the same lists: nothing new to look for");
        chainSays(nodes(clean, missed), page(null, list(missed, 3, true, 4L)));
        records.refresh();
        assertEquals(g1, records.generation(), "a list answered for: nothing new to repair");
        assertFalse(records.suspect(missed, lost));
    }

    @Test
    void hostileOrFailedReads_keepTheLastView_areCounted_andSaySo() {
        chainSays(nodes(clean, missed), page(null, list(missed, 3, true, null)));
        records.refresh();
        assertTrue(records.suspect(missed, lost));
        List<ObjectNode> bad = new ArrayList<>();
        bad.add(page(null, list(missed, 3, true, null).put("node", "not-a-peer")));
        bad.add(page(null, list(missed, -1, true, null)));
        bad.add(page(null, list(missed, 3, true, 2L))); // proven "after" in an earlier period
        ObjectNode badCid = list(missed, 3, false, null);
        badCid.withArray("cids").add("bafy-nonsense");
        bad.add(page(null, badCid));
        ObjectNode many = list(missed, 3, false, null);
        for (int i = 0; i <= io.oecloud.chain.ledger.Storage.MAX_DECLARED_PER_PERIOD; i++) {
            many.withArray("cids").add(lost.toString());
        }
        bad.add(page(null, many));
        ObjectNode[] huge = new ObjectNode[ChainRecords.MAX_LISTS_PER_PAGE + 1];
        java.util.Arrays.fill(huge, list(missed, 3, true, null));
        bad.add(page(null, huge));
        for (ObjectNode p : bad) {
            chainSays(nodes(clean, missed), p);
            records.refresh();
            assertTrue(records.suspect(missed, lost), "the last good view is kept");
            assertTrue(records.status().containsKey("error"), records.status().toString());
        }
        // pages that never end: the same cursor again
        answers.clear();
        answers.put("/storage-nodes?", nodes(clean));
        answers.put("/storage-faults?", page("x/1"));
        answers.put("/storage-faults?x/1", page("x/1"));
        records.refresh();
        assertTrue(records.status().get("error").toString().contains("given before"), records.status().toString());
        answers.clear(); // the chain unreachable
        records.refresh();
        assertTrue(records.suspect(missed, lost));
        assertEquals(bad.size() + 2, metrics.counter("oe_chain_records_failures").count(), 0.0);
        chainSays(nodes(clean, missed), page(null));
        records.refresh();
        assertFalse(records.suspect(missed, lost), "a good read replaces the view");
        assertFalse(records.status().containsKey("error"));
    }

    @Test
    void theReadsGoOn_whateverTheListenerOrTheChainThrows() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        CountDownLatch three = new CountDownLatch(3);
        answers.clear(); // every read fails
        try (ChainRecords r = records.start(java.time.Duration.ofMillis(10), x -> {
            reads.incrementAndGet();
            three.countDown();
            throw new IllegalStateException("the listener fails too");
        })) {
            assertTrue(three.await(30, TimeUnit.SECONDS), "still reading after failures: " + reads.get());
        }
    }

    @Test
    void poorStandingWithTheAudits_isARecord_notASuspect() {
        ArrayNode n = nodes(clean, declared);
        ((ObjectNode) n.get(1)).put("poorStanding", true);
        chainSays(n, page(null));
        records.refresh();
        assertEquals(Standing.CLEAN, records.standing(clean));
        assertEquals(Standing.RECORD, records.standing(declared), "failed timed audits lately: placed after the clean nodes");
        assertFalse(records.suspectOfAny(declared), "an audit names no lost shard: its holdings still count");
    }
}
