package io.oecloud.http;

import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Method + path pattern to a handler of type {@code H}. A pattern is literal segments and
 * parameters: {@code /v1/dht/peers/{peer}} takes one non-empty segment; a last
 * {@code {rest...}} takes everything after its slash, slashes and emptiness included (so
 * {@code /v1/dht/provide/a/b} reaches the handler, which answers 400 for a malformed CID
 * rather than the router a 404). Routes are tried in the order added; the first that matches
 * path and method wins. A path some route knows under other methods is {@link WrongMethod}
 * (405 with {@code Allow}); a path none knows is {@link NotFound}. Built once, then read by
 * any thread.
 *
 * @param <H> what a route leads to (a handler, a function)
 */
public final class Router<H> {
    /** What {@link #match} found. */
    public sealed interface Match<H> {}

    /** {@code handler} serves the request; {@code params} are the pattern's parameters, as sent (not decoded). */
    public record Found<H>(H handler, Map<String, String> params) implements Match<H> {
        /** The parameter {@code name}; the route's pattern must name it. */
        public String param(String name) {
            String v = params.get(name);
            if (v == null) {
                throw new IllegalArgumentException("the route has no parameter '" + name + "'");
            }
            return v;
        }
    }

    /** No route knows the path. */
    public record NotFound<H>() implements Match<H> {}

    /** Routes know the path, under the methods {@code allowed} (in the order added). */
    public record WrongMethod<H>(Set<HttpMethod> allowed) implements Match<H> {
        /** The {@code Allow} header's value. */
        public String allowHeader() {
            return String.join(", ", allowed.stream().map(HttpMethod::name).toList());
        }
    }

    private record Route<H>(HttpMethod method, String pattern, List<String> segments, boolean rest, H handler) {}

    private final List<Route<H>> routes = new ArrayList<>();

    /**
     * Adds a route.
     *
     * @throws IllegalArgumentException for a pattern that does not start with '/', has an empty
     *         parameter name, or a {@code {name...}} anywhere but last
     */
    public Router<H> add(HttpMethod method, String pattern, H handler) {
        if (!pattern.startsWith("/")) {
            throw new IllegalArgumentException("a route pattern starts with '/', was '" + pattern + "'");
        }
        List<String> segments = List.of(pattern.substring(1).split("/", -1));
        boolean rest = false;
        for (int i = 0; i < segments.size(); i++) {
            String s = segments.get(i);
            if (s.startsWith("{") && s.endsWith("}")) {
                String name = name(s);
                if (name.isEmpty() || s.endsWith("...}") && i != segments.size() - 1) {
                    throw new IllegalArgumentException("route pattern '" + pattern + "': bad parameter '" + s + "'");
                }
                rest = s.endsWith("...}");
            }
        }
        routes.add(new Route<>(method, pattern, segments, rest, handler));
        return this;
    }

    /** The route for {@code method} on {@code path} (a path only: no query). */
    public Match<H> match(HttpMethod method, String path) {
        Set<HttpMethod> allowed = new LinkedHashSet<>();
        for (Route<H> r : routes) {
            Map<String, String> params = params(r, path);
            if (params == null) {
                continue;
            }
            if (r.method.equals(method)) {
                return new Found<>(r.handler, params);
            }
            allowed.add(r.method);
        }
        return allowed.isEmpty() ? new NotFound<>() : new WrongMethod<>(java.util.Collections.unmodifiableSet(allowed));
    }

    /** The parameters when {@code path} fits the route, else null. */
    private static Map<String, String> params(Route<?> r, String path) {
        if (!path.startsWith("/")) {
            return null;
        }
        String[] parts = path.substring(1).split("/", -1);
        List<String> seg = r.segments;
        int fixed = r.rest ? seg.size() - 1 : seg.size();
        if (r.rest ? parts.length < seg.size() : parts.length != seg.size()) {
            return null;
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < fixed; i++) {
            String s = seg.get(i);
            if (s.startsWith("{") && s.endsWith("}")) {
                if (parts[i].isEmpty()) {
                    return null;
                }
                params.put(name(s), parts[i]);
            } else if (!s.equals(parts[i])) {
                return null;
            }
        }
        if (r.rest) {
            params.put(name(seg.get(fixed)), String.join("/", java.util.Arrays.asList(parts).subList(fixed, parts.length)));
        }
        return params;
    }

    private static String name(String segment) {
        String inner = segment.substring(1, segment.length() - 1);
        return inner.endsWith("...") ? inner.substring(0, inner.length() - 3) : inner;
    }
}
