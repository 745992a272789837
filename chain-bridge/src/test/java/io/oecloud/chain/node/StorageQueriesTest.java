package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.Storage;
import io.oecloud.chain.ledger.StorageChain;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code /storage-nodes} and {@code /storage-node} queries on a ledger where one node proves and one misses. */
class StorageQueriesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void storageNodes_showCollateralRecordRootsAndFaults() throws Exception {
        Identity a = Identity.fromSeed(new byte[32]);
        byte[] sb = new byte[32];
        sb[0] = 9;
        Identity b = Identity.fromSeed(sb);
        StorageChain c = new StorageChain(31, a, b);
        StorageChain.Shards shards = new StorageChain.Shards(31, 10);
        String addrA = StorageChain.addr(a);
        String addrB = StorageChain.addr(b);
        c.runTo(5);
        for (Identity id : List.of(a, b)) {
            assertEquals(Ledger.Code.OK, c.submit(id, StorageChain.register(1L << 30, BigInteger.valueOf(5_000_000))).code());
            assertEquals(Ledger.Code.OK, c.submit(id, StorageChain.commit(1, shards.tree.root(), shards.tree.count())).code());
        }
        Cid lost = shards.tree.entries().get(0).cid();
        assertEquals(Ledger.Code.OK, c.submit(b, StorageChain.declare(1, List.of(lost))).code());
        byte[] idA = Storage.nodeId(addrA);
        var w = c.windows().nodeBlocks(idA, 1);
        c.runTo(w.first() + 1);
        byte[] seed = c.state.storageSeed(1, c.windows().nodeWindow(idA));
        assertEquals(Ledger.Code.OK, c.submit(a, StorageChain.proof(1, 0, shards.answers(seed, idA, 1, 0, 32, shards.content))).code());
        c.runTo(41);

        JsonNode all = JSON.valueToTree(Queries.storageNodes(c.state));
        assertEquals(2, all.size());
        JsonNode na = JSON.valueToTree(Queries.storageNode(c.state, addrA));
        assertEquals(1, na.path("proven").asInt());
        assertEquals(0, na.path("missed").asInt());
        assertEquals("5000000", na.path("collateral").asText());
        assertEquals("proven", na.path("roots").get(0).path("status").asText());
        assertEquals(1, na.path("roots").get(0).path("period").asLong());
        assertEquals(shards.tree.count(), na.path("roots").get(0).path("count").asLong());
        assertEquals(java.util.HexFormat.of().formatHex(seed), na.path("roots").get(0).path("seed").asText()); // the window's seed, for the node's answers
        JsonNode nb = JSON.valueToTree(Queries.storageNode(c.state, addrB));
        assertEquals(1, nb.path("missed").asInt());
        assertEquals(1, nb.path("faultsDeclared").asInt());
        assertEquals("4500000", nb.path("collateral").asText());
        assertEquals("500000", nb.path("penalties").asText());
        assertEquals("missed", nb.path("roots").get(0).path("status").asText());
        assertEquals(true, nb.path("faults").get(0).path("missed").asBoolean());
        assertEquals(lost.toString(), nb.path("faults").get(0).path("cids").get(0).asText());
        assertNull(Queries.storageNode(c.state, "12D3KooWnobody"));
        JsonNode params = JSON.valueToTree(Queries.params(c.state, null));
        assertEquals(20, params.path("storage").path("periodBlocks").asInt());
        assertEquals("9500000", params.path("storageCollateral").asText());
    }

    /**
     * A root's contract picks as {@code /storage-node} shows them (object, payer, root, count, entry,
     * j, chunkHigh, chunkLow), read back over the wire by {@link io.oecloud.chain.client.ChainViews#contractPicks}
     * as exactly the ledger's picks, which the node then answers.
     */
    @Test
    void storageNode_showsARootsContractPicks_andChainViewsReadsThemBackAsTheLedgersPicks() throws Exception {
        Identity a = Identity.fromSeed(new byte[32]);
        byte[] sp = new byte[32];
        sp[0] = 5;
        Identity payer = Identity.fromSeed(sp);
        StorageChain c = new StorageChain(33, a, payer);
        StorageChain.Shards shards = new StorageChain.Shards(33, 10);
        StorageChain.Shards held = new StorageChain.Shards(34, 6);
        String addrA = StorageChain.addr(a);
        String u = StorageChain.addr(payer);
        c.runTo(5);
        assertEquals(Ledger.Code.OK, c.submit(a, StorageChain.register(1L << 30, BigInteger.valueOf(5_000_000))).code());
        assertEquals(Ledger.Code.OK, c.submit(a, StorageChain.commit(1, shards.tree.root(), shards.tree.count())).code());
        byte[] obj = Cid.compute(io.oecloud.proofs.ContentCodec.RAW, io.oecloud.proofs.HashFunction.BLAKE3, new byte[] {1}).toBytes();
        Ledger.Result made = c.submit(payer, io.oecloud.chain.client.ChainClient.createContractTx(obj, 3, List.of(
                io.oecloud.chain.client.ChainClient.receipt(a, StorageChain.CHAIN, obj, u, 6000, (int) held.tree.count(), held.tree.root(), 0)),
                null));
        assertEquals(Ledger.Code.OK, made.code(), made.log());
        byte[] idA = Storage.nodeId(addrA);
        var w = c.windows().nodeBlocks(idA, 1);
        c.runTo(w.first());
        JsonNode before = JSON.readTree(JSON.writeValueAsString(Queries.storageNode(c.state, addrA)));
        assertEquals(0, before.path("roots").get(0).path("contractPicks").size(), "none before the window's seed");
        c.runTo(w.first() + 1);
        List<Storage.ContractPick> picks = Storage.contractPicks(c.state, 1, addrA);
        assertEquals(2, picks.size());
        JsonNode na = JSON.readTree(JSON.writeValueAsString(Queries.storageNode(c.state, addrA)));
        JsonNode shown = na.path("roots").get(0).path("contractPicks");
        assertEquals(2, shown.size());
        for (int i = 0; i < 2; i++) {
            Storage.ContractPick p = picks.get(i);
            JsonNode x = shown.get(i);
            assertEquals(Cid.fromBytes(obj).toString(), x.path("object").asText());
            assertEquals(u, x.path("payer").asText());
            assertEquals(java.util.HexFormat.of().formatHex(held.tree.root()), x.path("root").asText());
            assertEquals(held.tree.count(), x.path("count").asLong());
            assertEquals(p.challenge().entry(), x.path("entry").asLong());
            assertEquals(i, x.path("j").asInt());
            assertEquals(p.challenge().chunkHigh(), x.path("chunkHigh").asLong());
            assertEquals(p.challenge().chunkLow(), x.path("chunkLow").asLong());
        }
        assertEquals(picks, io.oecloud.chain.client.ChainViews.contractPicks(na, 1));
        assertEquals(List.of(), io.oecloud.chain.client.ChainViews.contractPicks(na, 2));
        // what the storage node does with them: answer each under its root, with the window's answers
        List<io.oecloud.chain.pb.ChainProto.ContractAnswer> ca = new java.util.ArrayList<>();
        for (Storage.ContractPick p : io.oecloud.chain.client.ChainViews.contractPicks(na, 1)) {
            ca.add(StorageChain.contractAnswer(p, held, held.content));
        }
        byte[] seed = c.state.storageSeed(1, c.windows().nodeWindow(idA));
        Ledger.Result r = c.submit(a, StorageChain.proof(1, 0, shards.answers(seed, idA, 1, 0, 32, shards.content), ca));
        assertEquals(Ledger.Code.OK, r.code(), r.log());
    }

    @Test
    void storageNodes_showLeavingAndWithdrawAt_untilTheWithdrawalMatures() throws Exception {
        Identity a = Identity.fromSeed(new byte[32]);
        StorageChain c = new StorageChain(32, a);
        String addrA = StorageChain.addr(a);
        assertEquals(Ledger.Code.OK, c.submit(a, StorageChain.register(1L << 30, BigInteger.valueOf(5_000_000))).code());
        JsonNode staying = JSON.valueToTree(Queries.storageNode(c.state, addrA));
        assertEquals(false, staying.path("leaving").asBoolean());
        assertTrue(staying.path("withdrawAt").isNull());
        assertEquals("0", staying.path("withdrawing").asText());
        assertEquals(Ledger.Code.OK, c.submit(a, io.oecloud.chain.pb.ChainProto.TxBody.newBuilder()
                .setUnregisterStorageNode(io.oecloud.chain.pb.ChainProto.UnregisterStorageNode.getDefaultInstance())).code());
        JsonNode leaving = JSON.valueToTree(Queries.storageNodes(c.state)).get(0);
        assertEquals(addrA, leaving.path("address").asText());
        assertEquals(true, leaving.path("leaving").asBoolean());
        assertEquals(false, leaving.path("active").asBoolean());
        assertEquals(40, leaving.path("withdrawAt").asLong(), "unregistered in period 0: paid at period 2's first block");
        assertEquals("0", leaving.path("collateral").asText());
        assertEquals("5000000", leaving.path("withdrawing").asText());
        c.runTo(41);
        assertNull(Queries.storageNode(c.state, addrA), "unregistered once the withdrawal is paid");
        assertEquals(0, JSON.valueToTree(Queries.storageNodes(c.state)).size());
    }

    @Test
    void storageFaults_listEachFaultList_untilALaterPeriodIsProven() throws Exception {
        Identity a = Identity.fromSeed(new byte[32]);
        byte[] sb = new byte[32];
        sb[0] = 9;
        Identity b = Identity.fromSeed(sb);
        StorageChain c = new StorageChain(31, a, b);
        StorageChain.Shards shards = new StorageChain.Shards(31, 10);
        String addrA = StorageChain.addr(a);
        String addrB = StorageChain.addr(b);
        c.runTo(5);
        for (Identity id : List.of(a, b)) {
            assertEquals(Ledger.Code.OK, c.submit(id, StorageChain.register(1L << 30, BigInteger.valueOf(5_000_000))).code());
            assertEquals(Ledger.Code.OK, c.submit(id, StorageChain.commit(1, shards.tree.root(), shards.tree.count())).code());
        }
        Cid lost = shards.tree.entries().get(0).cid();
        assertEquals(Ledger.Code.OK, c.submit(b, StorageChain.declare(1, List.of(lost))).code());
        byte[] idB = Storage.nodeId(addrB);
        c.runTo(c.windows().nodeBlocks(idB, 1).end() + 1); // b's window of period 1 went by unanswered: missed
        assertEquals(Ledger.Code.OK, c.submit(b, StorageChain.commit(2, shards.tree.root(), shards.tree.count())).code());

        JsonNode page = JSON.valueToTree(Queries.storageFaults(c.state, ""));
        assertEquals(2, page.path("faults").size(), "both missed period 1 (neither answered): " + page);
        JsonNode fa = byNode(page, addrA);
        assertEquals(true, fa.path("missed").asBoolean());
        assertEquals(0, fa.path("cids").size());
        JsonNode f = byNode(page, addrB);
        assertEquals(addrB, f.path("node").asText());
        assertEquals(1, f.path("period").asLong());
        assertEquals(true, f.path("missed").asBoolean());
        assertEquals(List.of(lost.toString()), List.of(f.path("cids").get(0).asText()));
        assertTrue(f.path("provenAfter").isNull(), "no later period proven yet: " + f);
        assertTrue(page.path("next").isNull());
        assertEquals(4, page.path("retainPeriods").asLong());

        // b proves period 2: its fault list of period 1 is answered for
        var w = c.windows().nodeBlocks(idB, 2);
        c.runTo(w.first() + 1);
        byte[] seed = c.state.storageSeed(2, c.windows().nodeWindow(idB));
        assertEquals(Ledger.Code.OK, c.submit(b, StorageChain.proof(2, 0, shards.answers(seed, idB, 2, 0, 32, shards.content))).code());
        page = JSON.valueToTree(Queries.storageFaults(c.state, ""));
        assertEquals(2, byNode(page, addrB).path("provenAfter").asLong(), page.toString());
        assertTrue(byNode(page, addrA).path("provenAfter").isNull(), "a proved nothing since: " + page);

        // the cursor goes past the list it names; a malformed one is refused
        String first = page.path("faults").get(0).path("node").asText();
        String second = page.path("faults").get(1).path("node").asText();
        JsonNode rest = JSON.valueToTree(Queries.storageFaults(c.state, first + "/1"));
        assertEquals(1, rest.path("faults").size());
        assertEquals(second, rest.path("faults").get(0).path("node").asText());
        assertEquals(0, JSON.valueToTree(Queries.storageFaults(c.state, second + "/1")).path("faults").size());
        for (String bad : new String[] {"x", "/5", addrB + "/-1", addrB + "/x", addrB + "/99999999999999999999"}) {
            assertNull(Queries.storageFaultsCursor(bad), bad);
        }
    }

    private static JsonNode byNode(JsonNode page, String node) {
        for (JsonNode f : page.path("faults")) {
            if (f.path("node").asText().equals(node)) {
                return f;
            }
        }
        throw new AssertionError(node + " has no fault list in " + page);
    }
}
