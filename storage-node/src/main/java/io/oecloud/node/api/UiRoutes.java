package io.oecloud.node.api;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.oecloud.http.Route;
import io.oecloud.http.Router;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The dashboard ({@code GET /ui/}): three static files from the classpath, open to anyone since
 * they hold no data; the page reads {@code /v1/status} and {@code /v1/contracts} with the API
 * token, which it takes from the link's fragment or a form and keeps in the tab's sessionStorage.
 *
 * <p>Every other answer of this API carries {@code Content-Security-Policy: sandbox} (an object's
 * HTML runs in an opaque origin), so no script but the dashboard's own can read that storage. The
 * dashboard's answers carry a policy that lets only its own script and style load and only this
 * origin be fetched, and that forbids framing.
 */
final class UiRoutes {
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
            + "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "style.css", "text/css; charset=utf-8");
    private static final Map<String, byte[]> BYTES = load();

    private UiRoutes() {}

    static void addTo(Router<Route> router) {
        router.add(HttpMethod.GET, "/ui", r -> {
            FullHttpResponse m = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.MOVED_PERMANENTLY);
            m.headers().set(HttpHeaderNames.LOCATION, "/ui/").setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            return CompletableFuture.completedFuture(m);
        }).add(HttpMethod.GET, "/ui/{file...}", r -> CompletableFuture.completedFuture(file(r.param("file"))));
    }

    private static FullHttpResponse file(String name) {
        String file = name.isEmpty() ? "index.html" : name;
        byte[] body = BYTES.get(file);
        if (body == null) {
            FullHttpResponse m = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                    Unpooled.copiedBuffer("no such dashboard file\n", java.nio.charset.StandardCharsets.UTF_8));
            m.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, m.content().readableBytes());
            return m;
        }
        FullHttpResponse m = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
        m.headers().set(HttpHeaderNames.CONTENT_TYPE, FILES.get(file))
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONTENT_SECURITY_POLICY, CSP)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set("X-Frame-Options", "DENY")
                .set("Referrer-Policy", "no-referrer");
        return m;
    }

    private static Map<String, byte[]> load() {
        Map<String, byte[]> m = new java.util.HashMap<>();
        for (String f : FILES.keySet()) {
            try (InputStream in = UiRoutes.class.getResourceAsStream("/io/oecloud/node/ui/" + f)) {
                if (in == null) {
                    throw new IllegalStateException("the dashboard file " + f + " is missing from the build");
                }
                m.put(f, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Map.copyOf(m);
    }
}
