package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.StorageChain;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** The {@code /audits} query (a window's committee, parameters and targets) and the audit fields of {@code /storage-node}. */
class AuditQueriesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void auditsShowTheWindowTheCommitteeAndTheTargets() throws Exception {
        Identity a = Identity.fromSeed(new byte[32]);
        StorageChain c = new StorageChain(5, a);
        StorageChain.Shards shards = new StorageChain.Shards(5, 4);
        assertEquals(Ledger.Code.OK, c.submit(a, StorageChain.register(1L << 30, BigInteger.valueOf(5_000_000))).code());
        assertEquals(Ledger.Code.OK, c.submit(a, StorageChain.commit(1, shards.tree.root(), shards.tree.count())).code());
        c.runTo(27);
        JsonNode now = JSON.valueToTree(Queries.audits(c.state, ""));
        assertEquals(1, now.path("period").asLong());
        assertEquals(1, now.path("window").asInt()); // block 26: window 1 of period 1 (blocks 25..29)
        assertEquals(25, now.path("firstBlock").asLong());
        assertTrue(now.path("committee").isNull(), "no validator with a beacon key in this chain: no committee");
        assertEquals(2, now.path("auditors").asInt());
        assertEquals(5000, now.path("deadlineMillis").asLong());
        assertEquals(1, now.path("targets").size());
        assertEquals(StorageChain.addr(a), now.path("targets").get(0).path("address").asText());
        assertEquals(shards.tree.count(), now.path("targets").get(0).path("count").asLong());
        assertEquals(java.util.HexFormat.of().formatHex(shards.tree.root()), now.path("targets").get(0).path("root").asText());
        JsonNode other = JSON.valueToTree(Queries.audits(c.state, "0/3"));
        assertEquals(0, other.path("period").asLong());
        assertEquals(0, other.path("targets").size(), "no root in period 0");
        for (String bad : new String[] {"x", "1/4", "-1/0", "1/", "/1"}) {
            assertNull(Queries.audits(c.state, bad), bad);
        }
        JsonNode n = JSON.valueToTree(Queries.storageNode(c.state, StorageChain.addr(a)));
        assertEquals(0, n.path("auditsPassed").asLong());
        assertEquals(0, n.path("auditsFailed").asLong());
        assertFalse(n.path("poorStanding").asBoolean());
        // leaving does not end the audits of a period it committed (it is still challenged for it)
        assertEquals(Ledger.Code.OK, c.submit(a, io.oecloud.chain.pb.ChainProto.TxBody.newBuilder()
                .setUnregisterStorageNode(io.oecloud.chain.pb.ChainProto.UnregisterStorageNode.getDefaultInstance())).code());
        JsonNode leaving = JSON.valueToTree(Queries.audits(c.state, "1/3"));
        assertEquals(1, leaving.path("targets").size(), leaving.toString());
        assertEquals(StorageChain.addr(a), leaving.path("targets").get(0).path("address").asText());
    }
}
