package io.oecloud.node.api;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.CidFormatException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** One of the API's JSON routes (bodies held whole): a request in, an answer later. */
@FunctionalInterface
interface Route {
    /**
     * Answers {@code r}; may throw (or complete exceptionally) with anything {@link Failures}
     * maps. The returned response is the caller's to write.
     */
    CompletableFuture<FullHttpResponse> handle(Request r);

    /** A request to a route: the whole request (the handler releases it), its query and path parameters. */
    record Request(FullHttpRequest http, QueryStringDecoder query, Map<String, String> params) {
        /** The path parameter {@code name} of the route's pattern. */
        String param(String name) {
            return params.get(name);
        }

        /** The query parameter {@code name}; 400 when missing. */
        String query(String name) {
            List<String> v = query.parameters().get(name);
            if (v == null || v.isEmpty()) {
                throw new ApiException(HttpResponseStatus.BAD_REQUEST, "missing query parameter '" + name + "'");
            }
            return v.get(0);
        }

        /** Whether the query has {@code name=value}. */
        boolean flag(String name, String value) {
            return query.parameters().getOrDefault(name, List.of()).contains(value);
        }

        /** A copy of the body. */
        byte[] body() {
            return ByteBufUtil.getBytes(http.content());
        }
    }

    /** Parsers of request text that answer 400 naming the bad value. */
    final class Parse {
        private Parse() {}

        static int max(String s) {
            try {
                int v = Integer.parseInt(s);
                if (v < 1 || v > 1000) {
                    throw new NumberFormatException();
                }
                return v;
            } catch (NumberFormatException e) {
                throw new ApiException(HttpResponseStatus.BAD_REQUEST, "max must be a number from 1 to 1000, was '" + s + "'");
            }
        }

        static Cid cid(String s) {
            try {
                return Cid.parse(s);
            } catch (CidFormatException e) {
                throw new ApiException(HttpResponseStatus.BAD_REQUEST, "malformed CID '" + s + "': " + e.getMessage());
            }
        }

        static PeerId peerId(String s) {
            try {
                return PeerId.parse(s);
            } catch (IllegalArgumentException e) {
                throw new ApiException(HttpResponseStatus.BAD_REQUEST, "malformed peer ID '" + s + "': " + e.getMessage());
            }
        }

        static Multiaddr multiaddr(String s) {
            try {
                return Multiaddr.parse(s);
            } catch (IllegalArgumentException e) {
                throw new ApiException(HttpResponseStatus.BAD_REQUEST, "malformed multiaddr '" + s + "': " + e.getMessage());
            }
        }
    }
}
