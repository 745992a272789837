package io.oecloud.chain.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The chain's API views against canned CometBFT answers (a JDK HTTP server on loopback standing
 * in for CometBFT's RPC): what each reshapes, and the statuses it calls for.
 */
@Timeout(60)
class ChainViewsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Canned answers by the start of the request's path and query (first match wins). */
    private final Map<String, String> answers = new LinkedHashMap<>();
    private HttpServer rpcServer;
    private CometRpc rpc;
    private ChainViews views;

    @BeforeEach
    void start() throws Exception {
        rpcServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        rpcServer.createContext("/", exchange -> {
            String uri = exchange.getRequestURI().toString();
            String body = answers.entrySet().stream().filter(e -> uri.startsWith(e.getKey())).map(Map.Entry::getValue).findFirst()
                    .orElse("{\"error\": {\"code\": -32601, \"message\": \"Method not found\", \"data\": \"" + uri + "\"}}");
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        rpcServer.start();
        rpc = new CometRpc(rpcServer.getAddress(), 10_000);
        views = new ChainViews(rpc);
    }

    @AfterEach
    void stop() {
        rpc.close();
        rpcServer.stop(0);
    }

    private ChainViews.View get(java.util.concurrent.CompletableFuture<ChainViews.View> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    /** The body as the API writes it, read back (so numbers compare as JSON numbers, whatever Java type made them). */
    private static JsonNode body(ChainViews.View v) throws Exception {
        return JSON.readTree(JSON.writeValueAsString(v.body()));
    }

    private static String signedTransfer() {
        Identity from = Identity.generate();
        byte[] tx = Ledger.sign(from, TxBody.newBuilder().setChainId("oechain-views").setSender(ByteString.copyFrom(from.publicKey()))
                .setNonce(3).setFee(ByteString.copyFrom(Amounts.encode(BigInteger.valueOf(181_000))))
                .setTransfer(Transfer.newBuilder().setTo(Ledger.address(Identity.generate().publicKey()))
                        .setAmount(ByteString.copyFrom(Amounts.encode(BigInteger.TWO)))).build());
        return Base64.getEncoder().encodeToString(tx);
    }

    private static String committedTx(String hash, long height, int index, String tx) {
        return "{\"hash\": \"" + hash + "\", \"height\": \"" + height + "\", \"index\": " + index
                + ", \"tx_result\": {\"code\": 0, \"log\": \"\"}, \"tx\": \"" + tx + "\"}";
    }

    @Test
    void status_takesTheLedgersTermsFromCometStatus() throws Exception {
        answers.put("/status", "{\"result\": {\"node_info\": {\"network\": \"oechain-views\"}, \"sync_info\": {\"latest_block_height\": \"42\","
                + " \"latest_app_hash\": \"AB12\", \"latest_block_time\": \"2026-12-06T09:00:00Z\", \"catching_up\": false},"
                + " \"validator_info\": {\"address\": \"C0FFEE\", \"voting_power\": \"7\"}}}");
        ChainViews.View v = get(views.status());
        assertEquals(200, v.status());
        assertEquals(JSON.readTree("{\"chainId\": \"oechain-views\", \"height\": 42, \"appHash\": \"AB12\", \"blockTime\": \"2026-12-06T09:00:00Z\","
                + " \"catchingUp\": false, \"validatorAddress\": \"C0FFEE\", \"votingPower\": 7}"), body(v));
        assertEquals("{\"chainId\":\"oechain-views\",\"height\":42,\"appHash\":\"AB12\",\"blockTime\":\"2026-12-06T09:00:00Z\","
                + "\"catchingUp\":false,\"validatorAddress\":\"C0FFEE\",\"votingPower\":7}", JSON.writeValueAsString(v.body()));
    }

    @Test
    void validators_listAddressPowerAndKeyWithTheHeight() throws Exception {
        answers.put("/validators", "{\"result\": {\"block_height\": \"9\", \"validators\": [{\"address\": \"AA\", \"voting_power\": \"10\","
                + " \"pub_key\": {\"type\": \"tendermint/PubKeyEd25519\", \"value\": \"a2V5\"}}]}}");
        ChainViews.View v = get(views.validators());
        assertEquals(200, v.status());
        assertEquals(JSON.readTree("{\"height\": 9, \"validators\": [{\"address\": \"AA\", \"power\": 10, \"pubKey\": \"a2V5\"}]}"), body(v));
    }

    @Test
    void tx_notCommitted_404NamingTheHashAsGiven() throws Exception {
        String hash = "0x" + "ab".repeat(32);
        answers.put("/tx?hash=0x" + "ab".repeat(32), "{\"error\": {\"code\": -32603, \"message\": \"Internal error\"}}");
        ChainViews.View v = get(views.tx(hash));
        assertEquals(404, v.status());
        assertEquals(Map.of("error", "no committed transaction " + hash), v.body());
    }

    @Test
    void tx_committed_describesTheTransaction() throws Exception {
        String tx = signedTransfer();
        answers.put("/tx?hash=0x", "{\"result\": " + committedTx("H1", 12, 0, tx) + "}");
        ChainViews.View v = get(views.tx("cd".repeat(32)));
        assertEquals(200, v.status());
        JsonNode b = body(v);
        assertEquals("H1", b.path("hash").asText());
        assertEquals(12, b.path("height").asLong());
        assertEquals("transfer", b.path("kind").asText());
        assertEquals(3, b.path("nonce").asLong());
        assertEquals("181000", b.path("fee").asText());
    }

    @Test
    void history_mergesSentAndReceived_newestFirst_eachOnce() throws Exception {
        String tx = signedTransfer();
        answers.put("/tx_search?query=%22oe.sender", "{\"result\": {\"txs\": [" + committedTx("S5", 5, 1, tx) + ", "
                + committedTx("S2", 2, 0, tx) + "]}}");
        answers.put("/tx_search?query=%22oe.receiver", "{\"result\": {\"txs\": [" + committedTx("R7", 7, 0, "bm90IGEgdHg=") + ", "
                + committedTx("S5", 5, 1, tx) + "]}}");
        ChainViews.View v = get(views.history("12D3KooWAddress"));
        assertEquals(200, v.status());
        JsonNode b = body(v);
        assertEquals("12D3KooWAddress", b.path("address").asText());
        assertEquals(3, b.path("txs").size());
        assertEquals(List.of("R7", "S5", "S2"), List.of(b.at("/txs/0/hash").asText(), b.at("/txs/1/hash").asText(), b.at("/txs/2/hash").asText()));
        assertEquals("not an OEChain transaction", b.at("/txs/0/error").asText());
        assertEquals("transfer", b.at("/txs/1/kind").asText());
    }

    @Test
    void cid_unregistered_404_andProvedAbsence_404WithTheProof() throws Exception {
        answers.put("/abci_query?path=%22/cid%22&data=0x626166&prove=true", "{\"result\": {\"response\": {\"code\": 2, \"log\": \"baf is not registered\","
                + " \"height\": \"8\", \"proofOps\": {\"ops\": [{\"type\": \"oe/state/v1\", \"data\": \"cHJvb2Y=\"}]}}}}");
        answers.put("/abci_query?path=%22/cid%22&data=0x626166", "{\"result\": {\"response\": {\"code\": 2, \"log\": \"baf is not registered\"}}}");
        ChainViews.View plain = get(views.cid("baf", false));
        assertEquals(404, plain.status());
        assertEquals(Map.of("error", "baf is not registered"), plain.body());
        ChainViews.View proved = get(views.cid("baf", true));
        assertEquals(404, proved.status());
        assertEquals(JSON.readTree("{\"error\": \"baf is not registered\", \"height\": 8, \"proof\": \"cHJvb2Y=\"}"), body(proved));
    }

    @Test
    void account_proved_valueAndProof_butAnAnswerThatIsNotJson_is502() throws Exception {
        String value = Base64.getEncoder().encodeToString("{\"balance\": \"5\"}".getBytes(StandardCharsets.UTF_8));
        answers.put("/abci_query?path=%22/account%22&data=0x676f6f64", "{\"result\": {\"response\": {\"code\": 0, \"value\": \"" + value
                + "\", \"height\": \"4\", \"proofOps\": {\"ops\": [{\"data\": \"cA==\"}]}}}}");
        String junk = Base64.getEncoder().encodeToString("{not json".getBytes(StandardCharsets.UTF_8));
        answers.put("/abci_query?path=%22/account%22&data=0x626164", "{\"result\": {\"response\": {\"code\": 0, \"value\": \"" + junk
                + "\", \"height\": \"4\"}}}");
        ChainViews.View good = get(views.account("good", true));
        assertEquals(200, good.status());
        assertEquals(JSON.readTree("{\"value\": {\"balance\": \"5\"}, \"height\": 4, \"proof\": \"cA==\"}"), body(good));
        ChainViews.View bad = get(views.account("bad", true));
        assertEquals(502, bad.status());
        assertEquals(Map.of("error", "the ledger answered something that is not JSON"), bad.body());
    }

    @Test
    void light_passesCometsResult_andItsErrorDataAs404() throws Exception {
        answers.put("/commit?height=3", "{\"result\": {\"signed_header\": {\"header\": {\"height\": \"3\"}}}}");
        answers.put("/validators?height=99&per_page=100", "{\"error\": {\"code\": -32603, \"message\": \"Internal error\","
                + " \"data\": \"height 99 must be less than or equal to the current blockchain height 5\"}}");
        ChainViews.View commit = get(views.lightCommit(3));
        assertEquals(200, commit.status());
        assertEquals(JSON.readTree("{\"signed_header\": {\"header\": {\"height\": \"3\"}}}"), body(commit));
        ChainViews.View missing = get(views.lightValidators(99));
        assertEquals(404, missing.status());
        assertEquals(Map.of("error", "height 99 must be less than or equal to the current blockchain height 5"), missing.body());
    }

    @Test
    void storageFaults_passesThePage_andAMalformedCursorIs400() throws Exception {
        String page = "{\"height\": 70, \"period\": 3, \"retainPeriods\": 4, \"faults\": [{\"node\": \"12D3KooWx\", \"period\": 2,"
                + " \"missed\": true, \"cids\": [], \"provenAfter\": null}], \"next\": null}";
        // first match wins: the cursor "z" (0x7a) before the empty one
        answers.put("/abci_query?path=%22/storage-faults%22&data=0x7a", "{\"result\": {\"response\": {\"code\": 1,"
                + " \"log\": \"a /storage-faults cursor is empty or ADDRESS/PERIOD\"}}}");
        answers.put("/abci_query?path=%22/storage-faults%22&data=0x", "{\"result\": {\"response\": {\"code\": 0, \"value\": \""
                + Base64.getEncoder().encodeToString(page.getBytes(StandardCharsets.UTF_8)) + "\"}}}");
        ChainViews.View v = get(views.storageFaults(""));
        assertEquals(200, v.status());
        assertEquals(JSON.readTree(page), body(v));
        ChainViews.View bad = get(views.storageFaults("z"));
        assertEquals(400, bad.status());
        assertEquals(Map.of("error", "'z' is not a cursor of /storage-faults (\"next\" of the page before)"), bad.body());
    }
    @Test
    void contractPicks_readsTheRootOfThePeriod_andIsEmptyForAnUnregisteredNode() throws Exception {
        String root = "ab".repeat(32);
        String node = "{\"address\": \"n\", \"roots\": [{\"period\": 6, \"contractPicks\": []}, {\"period\": 7, \"contractPicks\": ["
                + "{\"object\": \"bafo\", \"payer\": \"p1\", \"root\": \"" + root + "\", \"count\": 32, \"entry\": 5, \"j\": 0,"
                + " \"chunkHigh\": -2, \"chunkLow\": 9223372036854775807},"
                + "{\"object\": \"bafo\", \"payer\": \"p1\", \"root\": \"" + root + "\", \"count\": 32, \"entry\": 31, \"j\": 1,"
                + " \"chunkHigh\": 0, \"chunkLow\": 1}]}]}";
        String value = Base64.getEncoder().encodeToString(node.getBytes(StandardCharsets.UTF_8));
        answers.put("/abci_query?path=%22/storage-node%22&data=0x6e", "{\"result\": {\"response\": {\"code\": 0, \"value\": \"" + value
                + "\"}}}");
        answers.put("/abci_query?path=%22/storage-node%22&data=0x78", "{\"result\": {\"response\": {\"code\": 2, \"log\": \"x is not registered\"}}}");
        byte[] r = java.util.HexFormat.of().parseHex(root);
        List<io.oecloud.chain.ledger.Storage.ContractPick> picks = views.contractPicks("n", 7).get(20, TimeUnit.SECONDS);
        assertEquals(List.of(new io.oecloud.chain.ledger.Storage.ContractPick("bafo", "p1", r, 32, new io.oecloud.proofs.storage.Challenge(0, 5, -2,
                Long.MAX_VALUE)), new io.oecloud.chain.ledger.Storage.ContractPick("bafo", "p1", r, 32,
                new io.oecloud.proofs.storage.Challenge(1, 31, 0, 1))), picks);
        assertEquals(List.of(), views.contractPicks("n", 6).get(20, TimeUnit.SECONDS), "a root without picks");
        assertEquals(List.of(), views.contractPicks("n", 8).get(20, TimeUnit.SECONDS), "no root of the period");
        assertEquals(List.of(), views.contractPicks("x", 7).get(20, TimeUnit.SECONDS), "unregistered");
    }
}
