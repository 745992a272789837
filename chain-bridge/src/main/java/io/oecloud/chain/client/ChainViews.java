package io.oecloud.chain.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The chain as a super-node's API shows it ({@code GET /v1/chain/...}): CometBFT's RPC answers
 * reshaped into the ledger's terms. Each view completes with a {@link View}, the status it calls
 * for and a body of plain maps, lists and JSON values for the caller to serialize; the caller
 * checks the arguments (an address is a peer ID, a hash 64 hex digits, a CID a CID) before asking.
 * Failures of the RPC itself complete the future exceptionally, as {@link CometRpc} does.
 *
 * <p>The {@link CometRpc} stays its owner's to close.
 */
public final class ChainViews {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A view's HTTP status and body. */
    public record View(int status, Object body) {
        static View ok(Object body) {
            return new View(200, body);
        }

        static View error(int status, String words) {
            return new View(status, Map.of("error", words));
        }
    }

    private final CometRpc rpc;

    public ChainViews(CometRpc rpc) {
        this.rpc = rpc;
    }

    /** The chain's ID, height, app hash, block time, whether this node catches up, and its validator's address and power. */
    public CompletableFuture<View> status() {
        return rpc.get("/status").thenApply(r -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("chainId", r.at("/result/node_info/network").asText());
            out.put("height", r.at("/result/sync_info/latest_block_height").asLong());
            out.put("appHash", r.at("/result/sync_info/latest_app_hash").asText());
            out.put("blockTime", r.at("/result/sync_info/latest_block_time").asText());
            out.put("catchingUp", r.at("/result/sync_info/catching_up").asBoolean());
            out.put("validatorAddress", r.at("/result/validator_info/address").asText());
            out.put("votingPower", r.at("/result/validator_info/voting_power").asLong());
            return View.ok(out);
        });
    }

    /** The current validator set: each validator's address, power and public key, with the height. */
    public CompletableFuture<View> validators() {
        return rpc.get("/validators").thenApply(r -> {
            List<Map<String, Object>> vs = new ArrayList<>();
            for (JsonNode v : r.at("/result/validators")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("address", v.path("address").asText());
                o.put("power", v.path("voting_power").asLong());
                o.put("pubKey", v.at("/pub_key/value").asText());
                vs.add(o);
            }
            return View.ok(Map.of("height", r.at("/result/block_height").asLong(), "validators", vs));
        });
    }

    /** The ledger's candidates (its {@code /candidates} query). */
    public CompletableFuture<View> candidates() {
        return rpc.query("/candidates", "").thenApply(View::ok);
    }

    /** The chain's randomness beacon: the seed after the last block and its height (the {@code /beacon} query). */
    public CompletableFuture<View> beacon() {
        return rpc.query("/beacon", "").thenApply(View::ok);
    }

    /** The registered storage nodes with their collateral and records (the {@code /storage-nodes} query). */
    public CompletableFuture<View> storageNodes() {
        return rpc.query("/storage-nodes", "").thenApply(View::ok);
    }

    /** One storage node with its roots and fault lists (the {@code /storage-node} query): 404 when unregistered. */
    public CompletableFuture<View> storageNode(String address) {
        return rpc.query("/storage-node", address).thenApply(v -> v == null ? View.error(404, address + " is not a registered storage node")
                : View.ok(v));
    }

    /**
     * {@code node}'s contract picks for {@code period} (from the {@code /storage-node} query; see
     * {@link #contractPicks(JsonNode, long)}): empty when it is unregistered, has no root for the
     * period, its window's seed is not recorded yet, or it has no contract.
     */
    public CompletableFuture<List<io.oecloud.chain.ledger.Storage.ContractPick>> contractPicks(String node, long period) {
        return rpc.query("/storage-node", node).thenApply(v -> v == null ? List.of() : contractPicks(v, period));
    }

    /**
     * The contract picks of {@code period} in a {@code /storage-node} answer: its root of that
     * period's {@code contractPicks}, each {@code {"object", "payer", "root" (hex), "count",
     * "entry", "j", "chunkHigh", "chunkLow"}}, as the chain's {@link io.oecloud.chain.ledger.Storage.ContractPick}s
     * (empty when the answer has no root of the period, or no picks).
     */
    public static List<io.oecloud.chain.ledger.Storage.ContractPick> contractPicks(JsonNode storageNode, long period) {
        List<io.oecloud.chain.ledger.Storage.ContractPick> l = new ArrayList<>();
        for (JsonNode r : storageNode.path("roots")) {
            if (r.path("period").asLong(-1) != period) {
                continue;
            }
            for (JsonNode p : r.path("contractPicks")) {
                l.add(new io.oecloud.chain.ledger.Storage.ContractPick(p.path("object").asText(), p.path("payer").asText(),
                        java.util.HexFormat.of().parseHex(p.path("root").asText()), p.path("count").asLong(),
                        new io.oecloud.proofs.storage.Challenge(p.path("j").asInt(), p.path("entry").asLong(), p.path("chunkHigh").asLong(),
                                p.path("chunkLow").asLong())));
            }
        }
        return List.copyOf(l);
    }

    /**
     * The fault lists the chain still holds, a page at a time (the {@code /storage-faults} query):
     * {@code after} is "" or the {@code next} of the page before; 400 for a malformed one.
     */
    public CompletableFuture<View> storageFaults(String after) {
        return rpc.query("/storage-faults", after).thenApply(v -> v == null
                ? View.error(400, "'" + after + "' is not a cursor of /storage-faults (\"next\" of the page before)") : View.ok(v));
    }

    /** The storage price of the current period, and the asks it came from (the {@code /price} query). */
    public CompletableFuture<View> price() {
        return rpc.query("/price", "").thenApply(View::ok);
    }

    /** The contract of {@code cid} paid by {@code payer} (the {@code /contract} query): 404 when there is none. */
    public CompletableFuture<View> contract(String cid, String payer) {
        return rpc.query("/contract", cid + "/" + payer).thenApply(v -> v == null
                ? View.error(404, payer + " has no contract for " + cid) : View.ok(v));
    }

    /**
     * A page of the contracts {@code payer} pays ({@code byPayer}) or {@code address} holds
     * (the {@code /contracts-paid} and {@code /contracts-held} queries); {@code cursor} is "" or the
     * {@code next} of the page before.
     */
    public CompletableFuture<View> contracts(String address, boolean byPayer, String cursor) {
        String data = cursor.isEmpty() ? address : address + "/" + cursor;
        return rpc.query(byPayer ? "/contracts-paid" : "/contracts-held", data).thenApply(v -> v == null
                ? View.error(400, "the chain did not answer the contracts of " + address) : View.ok(v));
    }

    /** A storage node's rate and its recent payments, newest first (the {@code /payments} query). */
    public CompletableFuture<View> payments(String address) {
        return rpc.query("/payments", address).thenApply(View::ok);
    }

    /** The supply invariant of the committed state, part by part (its {@code /supply} query). */
    public CompletableFuture<View> supply() {
        return rpc.query("/supply", "").thenApply(View::ok);
    }

    /** The ledger's parameters, pools and supply counters (its {@code /params} query). */
    public CompletableFuture<View> params() {
        return rpc.query("/params", "").thenApply(View::ok);
    }

    /** A committed transaction by its hash (64 hex digits, "0x" allowed): 404 when no block holds it. */
    public CompletableFuture<View> tx(String hash) {
        return rpc.get("/tx?hash=0x" + hash.replaceFirst("(?i)^0x", "")).thenApply(r -> r.has("error")
                ? View.error(404, "no committed transaction " + hash)
                : View.ok(txView(r.path("result"))));
    }

    /**
     * The committed transactions {@code address} sent or received, newest first, from CometBFT's
     * index (the ledger tags each with {@code oe.sender} and {@code oe.receiver}; at most 100 of each),
     * and its storage payments ({@link #payments}).
     */
    public CompletableFuture<View> history(String address) {
        String sent = "/tx_search?query=%22oe.sender%3D%27" + address + "%27%22&per_page=100&order_by=%22desc%22";
        String received = "/tx_search?query=%22oe.receiver%3D%27" + address + "%27%22&per_page=100&order_by=%22desc%22";
        return rpc.get(sent).thenCombine(rpc.get(received), (a, b) -> txs(address, a, b))
                .thenCompose(v -> payments(address, MAX_PAYMENTS_SHOWN).thenApply(p -> {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = new java.util.LinkedHashMap<>((Map<String, Object>) v.body());
                    m.put("payments", p);
                    return View.ok(m);
                }));
    }

    /** Payments one history shows: each costs one block_results read. */
    static final int MAX_PAYMENTS_SHOWN = 50;

    /**
     * The storage payments of {@code address}, newest first, at most {@code max}: the blocks whose
     * settlement emitted an {@code oe-payment} event for it (CometBFT's block index), and each
     * event's period, amount and whether it was paid (not paid: the window was not proven and the
     * amount went to the fee pool).
     */
    CompletableFuture<List<Map<String, Object>>> payments(String address, int max) {
        String q = "/block_search?query=%22oe-payment.node%3D%27" + address + "%27%22&per_page=" + max + "&order_by=%22desc%22";
        return rpc.get(q).thenCompose(r -> {
            List<Long> heights = new java.util.ArrayList<>();
            for (JsonNode blk : r.at("/result/blocks")) {
                heights.add(blk.at("/block/header/height").asLong());
            }
            List<CompletableFuture<List<Map<String, Object>>>> reads = new java.util.ArrayList<>();
            for (long h : heights.subList(0, Math.min(max, heights.size()))) {
                reads.add(rpc.get("/block_results?height=" + h).thenApply(br -> paymentsIn(address, h, br)));
            }
            return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(x -> {
                List<Map<String, Object>> out = new java.util.ArrayList<>();
                reads.forEach(f -> out.addAll(f.join()));
                return out;
            });
        });
    }

    private static List<Map<String, Object>> paymentsIn(String address, long height, JsonNode blockResults) {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (JsonNode e : blockResults.at("/result/finalize_block_events")) {
            if (!"oe-payment".equals(e.path("type").asText())) {
                continue;
            }
            Map<String, String> attrs = new java.util.HashMap<>();
            for (JsonNode a : e.path("attributes")) {
                attrs.put(a.path("key").asText(), a.path("value").asText());
            }
            if (address.equals(attrs.get("node"))) {
                Map<String, Object> p = new java.util.LinkedHashMap<>();
                p.put("height", height);
                p.put("period", Long.parseLong(attrs.getOrDefault("period", "0")));
                p.put("amount", attrs.getOrDefault("amount", "0"));
                p.put("paid", Boolean.parseBoolean(attrs.get("paid")));
                out.add(p);
            }
        }
        return out;
    }

    /** The transactions of two tx_search answers (sent, received), newest first, each once. */
    private static View txs(String address, JsonNode sent, JsonNode received) {
        TreeMap<String, Map<String, Object>> byKey = new TreeMap<>(Comparator.reverseOrder());
        for (JsonNode answer : List.of(sent, received)) {
            for (JsonNode t : answer.at("/result/txs")) {
                byKey.put(String.format("%020d/%06d", t.path("height").asLong(), t.path("index").asInt()), txView(t));
            }
        }
        return View.ok(Map.of("address", address, "txs", List.copyOf(byKey.values())));
    }

    /** An account (its {@code /account} query); with {@code prove}, the value with its state proof. */
    public CompletableFuture<View> account(String address, boolean prove) {
        if (prove) {
            return rpc.queryProved("/account", address).thenApply(r -> proved(r, 200));
        }
        return rpc.query("/account", address).thenApply(View::ok);
    }

    /** A CID's registration (its {@code /cid} query): 404 when unregistered, with a proof of absence when proved. */
    public CompletableFuture<View> cid(String cid, boolean prove) {
        if (prove) {
            return rpc.queryProved("/cid", cid).thenApply(r -> proved(r, r.path("code").asInt() == 0 ? 200 : 404));
        }
        return rpc.query("/cid", cid).thenApply(v -> v == null ? View.error(404, cid + " is not registered") : View.ok(v));
    }

    /** A name's record (its {@code /name} query): 404 when unregistered, with a proof of absence when proved. */
    public CompletableFuture<View> name(String name, boolean prove) {
        if (prove) {
            return rpc.queryProved("/name", name).thenApply(r -> proved(r, r.path("code").asInt() == 0 ? 200 : 404));
        }
        return rpc.query("/name", name).thenApply(v -> v == null ? View.error(404, "name '" + name + "' is not registered") : View.ok(v));
    }

    /** CometBFT's {@code /commit} at {@code height}, for a light client (404 when there is none). */
    public CompletableFuture<View> lightCommit(long height) {
        return light("/commit?height=" + height);
    }

    /** CometBFT's {@code /validators} at {@code height}, for a light client (404 when there is none). */
    public CompletableFuture<View> lightValidators(long height) {
        return light("/validators?height=" + height + "&per_page=100");
    }

    private CompletableFuture<View> light(String path) {
        return rpc.get(path).thenApply(r -> r.has("error")
                ? View.error(404, r.at("/error/data").asText(r.at("/error/message").asText()))
                : View.ok(r.path("result")));
    }

    /** A proved query answer: the JSON value (when there is one) and the state proof, as base64. */
    private static View proved(JsonNode r, int status) {
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            if (r.path("code").asInt() == 0) {
                out.put("value", JSON.readTree(Base64.getDecoder().decode(r.path("value").asText())));
            } else {
                out.put("error", r.path("log").asText());
            }
        } catch (IOException e) {
            return View.error(502, "the ledger answered something that is not JSON");
        }
        out.put("height", r.path("height").asLong());
        out.put("proof", r.at("/proofOps/ops/0/data").asText());
        return new View(status, out);
    }

    /** A committed transaction from CometBFT's /tx or /tx_search: where, its result, and what it says. */
    private static Map<String, Object> txView(JsonNode t) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("hash", t.path("hash").asText());
        out.put("height", t.path("height").asLong());
        out.put("code", t.at("/tx_result/code").asInt());
        out.put("log", t.at("/tx_result/log").asText());
        try {
            out.putAll(TxView.describe(Base64.getDecoder().decode(t.path("tx").asText())));
        } catch (com.google.protobuf.InvalidProtocolBufferException | IllegalArgumentException e) {
            out.put("error", "not an OEChain transaction");
        }
        return out;
    }
}
