package io.oecloud.node.api;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.http.Json;
import io.oecloud.http.Route;
import io.oecloud.http.Router;
import io.oecloud.node.DhtOps;
import io.oecloud.proofs.Cid;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * This node and its DHT, the routes of the {@code oe id/ping/dht} commands:
 * <pre>
 *   GET  /v1/id                          this node: peer ID, addresses, protocols
 *   POST /v1/ping?addr=MULTIADDR         {"peerId", "rttMs"}
 *   POST /v1/dht/provide/{cid}           {"cid", "peers"}   (peers told)
 *   GET  /v1/dht/providers/{cid}?max=N   {"providers": [{"peerId", "addrs"}]}
 *   GET  /v1/dht/peers/{peerId}          {"peerId", "addrs"}
 *   PUT  /v1/dht/values/{name}           body = value; signed as /oe/PEER/name; {"key"}
 *   GET  /v1/dht/values?key=KEY          the value's bytes
 * </pre>
 */
final class DhtRoutes {
    private final DhtOps ops;

    DhtRoutes(DhtOps ops) {
        this.ops = ops;
    }

    void addTo(Router<Route> router) {
        router.add(HttpMethod.GET, "/v1/id", r -> ops.id().thenApply(i -> Json.response(HttpResponseStatus.OK, Map.of(
                        "peerId", i.peerId(), "addrs", i.addrs(), "protocols", i.protocols(), "agentVersion", i.agentVersion()))))
                .add(HttpMethod.POST, "/v1/ping", r -> {
                    Multiaddr addr = Params.multiaddr(r.query("addr"));
                    return ops.ping(addr).thenApply(d -> Json.response(HttpResponseStatus.OK, Map.of(
                            "peerId", addr.peerId().toString(), "rttMs", d.toNanos() / 1e6)));
                })
                .add(HttpMethod.POST, "/v1/dht/provide/{cid...}", r -> {
                    Cid cid = Params.cid(r.param("cid"));
                    return ops.provide(cid).thenApply(n -> Json.response(HttpResponseStatus.OK, Map.of("cid", cid.toString(), "peers", n)));
                })
                .add(HttpMethod.GET, "/v1/dht/providers/{cid...}", r -> {
                    Cid cid = Params.cid(r.param("cid"));
                    int max = r.query().parameters().containsKey("max") ? Params.max(r.query("max")) : 20;
                    return ops.findProviders(cid, max).thenApply(ps -> Json.response(HttpResponseStatus.OK, Map.of("providers", providers(ps))));
                })
                .add(HttpMethod.GET, "/v1/dht/peers/{peer...}", r -> {
                    PeerId p = Params.peerId(r.param("peer"));
                    return ops.findPeer(p).thenApply(a -> Json.response(HttpResponseStatus.OK, Map.of(
                            "peerId", p.toString(), "addrs", a.stream().map(Multiaddr::toString).toList())));
                })
                .add(HttpMethod.PUT, "/v1/dht/values/{name...}", r ->
                        ops.put(r.param("name"), r.body()).thenApply(k -> Json.response(HttpResponseStatus.OK, Map.of("key", k))))
                .add(HttpMethod.GET, "/v1/dht/values", r -> ops.get(r.query("key")).thenApply(v -> {
                    FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(v));
                    resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
                    return resp;
                }));
    }

    private static List<Map<String, Object>> providers(List<Provider> ps) {
        return ps.stream().map(p -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("peerId", p.peer().toString());
            e.put("addrs", p.addrs().stream().map(Multiaddr::toString).toList());
            return e;
        }).toList();
    }
}
