package io.oecloud.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringEncoder;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.http.HttpCaller;
import io.oecloud.node.DhtOps;
import io.oecloud.node.api.NodeApiServer;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * {@link DhtOps} against a running node's HTTP API (one request per connection, through http's
 * {@link HttpCaller}), with the endpoint's Host header and, when it has one, its API token.
 */
final class ApiClient implements DhtOps {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_RESPONSE = 16 << 20;

    private final ApiEndpoint endpoint;
    private final InetSocketAddress api;
    /** A node answers every route within its deadline (a 504 after it); 10 s more for the way back. */
    private final HttpCaller http;

    ApiClient(ApiEndpoint endpoint) {
        this.endpoint = endpoint;
        this.api = endpoint.address();
        this.http = new HttpCaller(api, "the node", TimeUnit.SECONDS.toMillis(NodeApiServer.DEADLINE_SECONDS + 10), MAX_RESPONSE);
    }

    /** An HTTP answer: status and body. */
    record Answer(int status, byte[] body) {}

    /** {@code method uri} with the endpoint's Host header and token; a request without a body says Content-Length 0. */
    CompletableFuture<Answer> call(HttpMethod method, String uri, byte[] body) {
        Map<String, String> headers = new HashMap<>();
        headers.put(HttpHeaderNames.HOST.toString(), endpoint.hostHeader());
        if (endpoint.authorization() != null) {
            headers.put(HttpHeaderNames.AUTHORIZATION.toString(), endpoint.authorization());
        }
        return http.call(method, uri, body == null ? new byte[0] : body, null, headers)
                .handle((a, e) -> {
                    Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (c instanceof HttpCaller.Unreachable u) {
                        throw new CompletionException(new IOException("no node answers at " + api.getHostString() + ":"
                                + api.getPort() + " (" + u.getCause().getMessage() + ")"));
                    }
                    if (c != null) {
                        throw c instanceof CompletionException ce ? ce : new CompletionException(c);
                    }
                    return new Answer(a.status(), a.body());
                });
    }

    private CompletableFuture<JsonNode> json(HttpMethod method, String uri) {
        return call(method, uri, null).thenApply(this::parse);
    }

    private JsonNode parse(Answer a) {
        JsonNode n;
        try {
            n = JSON.readTree(a.body());
        } catch (IOException e) {
            throw new java.util.concurrent.CompletionException(new IOException("the node sent a malformed answer (HTTP " + a.status() + ")"));
        }
        if (a.status() != 200) {
            throw new java.util.concurrent.CompletionException(new ApiError(a.status(), endpoint.explain(a.status(), n.path("error").asText())));
        }
        return n;
    }

    /** The error text of a non-2xx answer, with the endpoint's hint about tokens. */
    String errorOf(Answer a) {
        String text;
        try {
            text = JSON.readTree(a.body()).path("error").asText("HTTP " + a.status());
        } catch (IOException e) {
            text = "HTTP " + a.status();
        }
        return endpoint.explain(a.status(), text);
    }

    /** A non-200 answer from the node. */
    static final class ApiError extends IOException {
        private static final long serialVersionUID = 1L;
        final int status;

        ApiError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private static String enc(String path, String name, String value) {
        QueryStringEncoder q = new QueryStringEncoder(path);
        q.addParam(name, value);
        return q.toString();
    }

    private static List<String> strings(JsonNode arr) {
        List<String> l = new ArrayList<>();
        arr.forEach(x -> l.add(x.asText()));
        return l;
    }

    @Override
    public CompletableFuture<NodeInfo> id() {
        return json(HttpMethod.GET, "/v1/id").thenApply(n -> new NodeInfo(n.path("peerId").asText(),
                strings(n.path("addrs")), strings(n.path("protocols")), n.path("agentVersion").asText()));
    }

    @Override
    public CompletableFuture<Duration> ping(Multiaddr addr) {
        return json(HttpMethod.POST, enc("/v1/ping", "addr", addr.toString()))
                .thenApply(n -> Duration.ofNanos((long) (n.path("rttMs").asDouble() * 1e6)));
    }

    @Override
    public CompletableFuture<Integer> provide(Cid cid) {
        return json(HttpMethod.POST, "/v1/dht/provide/" + cid).thenApply(n -> n.path("peers").asInt());
    }

    @Override
    public CompletableFuture<List<Provider>> findProviders(Cid cid, int max) {
        return json(HttpMethod.GET, "/v1/dht/providers/" + cid + "?max=" + max).thenApply(n -> {
            List<Provider> out = new ArrayList<>();
            for (JsonNode p : n.path("providers")) {
                out.add(new Provider(PeerId.parse(p.path("peerId").asText()),
                        strings(p.path("addrs")).stream().map(Multiaddr::parse).toList()));
            }
            return out;
        });
    }

    @Override
    public CompletableFuture<List<Multiaddr>> findPeer(PeerId peer) {
        return json(HttpMethod.GET, "/v1/dht/peers/" + peer)
                .thenApply(n -> strings(n.path("addrs")).stream().map(Multiaddr::parse).toList());
    }

    @Override
    public CompletableFuture<String> put(String name, byte[] value) {
        return call(HttpMethod.PUT, "/v1/dht/values/" + name, value).thenApply(this::parse)
                .thenApply(n -> n.path("key").asText());
    }

    @Override
    public CompletableFuture<byte[]> get(String key) {
        return call(HttpMethod.GET, enc("/v1/dht/values", "key", key), null).thenApply(a -> {
            if (a.status() != 200) {
                parse(a); // throws with the node's message
            }
            return a.body();
        });
    }

    @Override
    public void close() {
        http.close();
    }
}
