package io.oecloud.http;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A route whose request body arrives whole (behind an aggregator): a request in, an answer
 * later. Routes of different modules mount on one {@link Router}: storage-node's API serves
 * chain-bridge's chain routes this way.
 */
@FunctionalInterface
public interface Route {
    /**
     * Answers {@code r}; may throw (or complete exceptionally) with an {@link HttpError} or
     * whatever the server's error mapping knows. The response is the caller's to write; the
     * request is released after this returns, so a route copies what it keeps of it.
     */
    CompletableFuture<FullHttpResponse> handle(Request r);

    /** A request to a route: the whole request, its query and the path parameters its pattern matched. */
    record Request(FullHttpRequest http, QueryStringDecoder query, Map<String, String> params) {
        /** The path parameter {@code name} of the route's pattern (null when the pattern has none). */
        public String param(String name) {
            return params.get(name);
        }

        /** The query parameter {@code name}; 400 when missing. */
        public String query(String name) {
            List<String> v = query.parameters().get(name);
            if (v == null || v.isEmpty()) {
                throw new HttpError(HttpResponseStatus.BAD_REQUEST, "missing query parameter '" + name + "'");
            }
            return v.get(0);
        }

        /** Whether the query has {@code name=value}. */
        public boolean flag(String name, String value) {
            return query.parameters().getOrDefault(name, List.of()).contains(value);
        }

        /** A copy of the body. */
        public byte[] body() {
            return ByteBufUtil.getBytes(http.content());
        }
    }
}
