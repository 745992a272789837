package io.oecloud.node.api;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.oecloud.http.Json;
import io.oecloud.http.Route;
import io.oecloud.http.Router;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The node's state and upkeep:
 * <pre>
 *   GET  /v1/status    shards, bytes used and capacity, connections, RS parameters; on a node with a chain
 *                      link "paidStorage": contracts paid and held, bytes, earnings, collateral, penalties
 *   GET  /metrics      Prometheus (Micrometer): store, connections, DHT, JVM memory
 *   POST /v1/repair    scrub and repair now -> {"corrupt", "rebuilt"}
 * </pre>
 */
final class StatusRoutes {
    private final NodeApiServer.StatusSource status;
    private final Duration repairEvery;
    private final Executor work;
    private final AtomicBoolean repairing = new AtomicBoolean();
    private volatile long lastRepairNanos = System.nanoTime() - Duration.ofDays(1).toNanos();
    private final java.util.function.Supplier<Map<String, Object>> paidStorage;

    StatusRoutes(NodeApiServer.StatusSource status, Duration repairEvery, Executor work) {
        this(status, repairEvery, work, null);
    }

    /** @param paidStorage the paid-storage view shown under "paidStorage" (answered from memory), or null */
    StatusRoutes(NodeApiServer.StatusSource status, Duration repairEvery, Executor work,
                 java.util.function.Supplier<Map<String, Object>> paidStorage) {
        this.paidStorage = paidStorage;
        this.status = status;
        this.repairEvery = repairEvery;
        this.work = work;
    }

    void addTo(Router<Route> router) {
        router.add(HttpMethod.GET, "/v1/status", r -> CompletableFuture.completedFuture(Json.response(HttpResponseStatus.OK, statusNow())))
                .add(HttpMethod.GET, "/metrics", r -> {
                    FullHttpResponse m = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                            Unpooled.copiedBuffer(status.metrics(), StandardCharsets.UTF_8));
                    m.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                    return CompletableFuture.completedFuture(m);
                })
                .add(HttpMethod.POST, "/v1/repair", r -> repairNow());
    }

    private Map<String, Object> statusNow() {
        Map<String, Object> m = status.status();
        if (paidStorage == null) {
            return m;
        }
        Map<String, Object> out = new java.util.LinkedHashMap<>(m);
        out.put("paidStorage", paidStorage.get());
        return out;
    }

    /**
     * Scrub and repair now: one at a time and at most once per {@code repairEvery} (a scrub
     * re-reads every stored byte), on its own thread, 429 with Retry-After otherwise.
     */
    private CompletableFuture<FullHttpResponse> repairNow() {
        long wait = repairEvery.toNanos() - (System.nanoTime() - lastRepairNanos);
        if (wait > 0 || !repairing.compareAndSet(false, true)) {
            FullHttpResponse r = Json.response(HttpResponseStatus.TOO_MANY_REQUESTS, Map.of("error", repairing.get()
                    ? "a scrub and repair is running; one runs at a time"
                    : "a scrub and repair ran moments ago; at most one every " + repairEvery.toSeconds() + " s"));
            r.headers().set(HttpHeaderNames.RETRY_AFTER, String.valueOf(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(Math.max(wait, 0)) + 1)));
            return CompletableFuture.completedFuture(r);
        }
        lastRepairNanos = System.nanoTime();
        return CompletableFuture.supplyAsync(() -> {
            try {
                return Json.response(HttpResponseStatus.OK, status.upkeepNow());
            } finally {
                lastRepairNanos = System.nanoTime();
                repairing.set(false);
            }
        }, work);
    }
}
