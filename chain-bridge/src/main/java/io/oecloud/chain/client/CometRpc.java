package io.oecloud.chain.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.http.HttpCaller;
import io.oecloud.http.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * CometBFT's RPC (URI over HTTP, JSON answers), through the project's HTTP client helper
 * ({@link HttpCaller}): status, blocks, ABCI queries. Every call has a deadline and an answer
 * size limit.
 */
public final class CometRpc implements AutoCloseable {
    private static final int MAX_ANSWER = 16 << 20;

    private final HttpCaller http;

    public CometRpc(InetSocketAddress rpc, long timeoutMillis) {
        this.http = new HttpCaller(rpc, "CometBFT RPC", timeoutMillis, MAX_ANSWER);
    }

    /** GET {@code path} (with its query), the answer's JSON. */
    public CompletableFuture<JsonNode> get(String path) {
        return http.getJson(path);
    }

    /** abci_query with a proof: CometBFT's whole {@code response} (code, value, height, proofOps). */
    public CompletableFuture<JsonNode> queryProved(String path, String data) {
        String hex = HexFormat.of().formatHex(data.getBytes(StandardCharsets.UTF_8));
        return get("/abci_query?path=%22" + path + "%22&data=0x" + hex + "&prove=true").thenApply(r -> r.at("/result/response"));
    }

    /** abci_query; completes with the decoded JSON value, or null when the code is not 0. */
    public CompletableFuture<JsonNode> query(String path, String data) {
        String hex = HexFormat.of().formatHex(data.getBytes(StandardCharsets.UTF_8));
        return get("/abci_query?path=%22" + path + "%22&data=0x" + hex).thenApply(r -> {
            JsonNode resp = r.at("/result/response");
            if (resp.path("code").asInt(0) != 0 || resp.path("value").isMissingNode() || resp.path("value").isNull()) {
                return null;
            }
            try {
                return Json.MAPPER.readTree(Base64.getDecoder().decode(resp.path("value").asText()));
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    @Override
    public void close() {
        http.close();
    }
}
