package io.oecloud.node.api;

import io.netty.handler.codec.http.HttpMethod;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Who may do what through the node's HTTP API (ARCHITECTURE.md, "Access"). Three kinds of route:
 *
 * <ul>
 *   <li>{@link Need#OPEN}: anyone: {@code GET /v1/id} (what libp2p's identify tells any peer),
 *       the dashboard's static files {@code /ui/*} (they hold no data: the page reads the rest with the token)
 *       and {@code /v1/chain/*} (a super-node's public face; a transaction's authority is its
 *       signature, checked by the ledger);</li>
 *   <li>{@link Need#CONTENT}: {@code GET}/{@code HEAD /v1/objects/{cid}[/path]}: open while
 *       {@code publicReads} holds and the object is not encrypted (content addressed by CID is
 *       public by design); the token otherwise;</li>
 *   <li>{@link Need#TOKEN}: everything else, routes not yet written included, so the next one
 *       is private until someone decides otherwise.</li>
 * </ul>
 *
 * Host and Origin: a request must name this API in its {@code Host} (the bound address; for a
 * loopback bind also {@code localhost}, {@code 127.0.0.1} and {@code [::1]} with the bound port; for a
 * wildcard bind any IP literal with the bound port) or one of {@code hosts}; a name that resolves to
 * this machine but is not listed is how DNS rebinding reaches a loopback API, so it is refused. A
 * browser's {@code Origin} must be this API's own or one of {@code corsOrigins}, except for open
 * and content reads; only listed origins get CORS headers.
 *
 * @param token the API token (required: there is no API without one)
 * @param publicReads whether unencrypted objects are readable without the token
 * @param hosts extra names this API answers to ({@code name} for any port, or {@code name:port})
 * @param corsOrigins browser origins allowed to call the API ({@code https://app.example:8443})
 */
public record ApiAccess(ApiToken token, boolean publicReads, List<String> hosts, List<String> corsOrigins) {
    private static final Pattern HOST_NAME = Pattern.compile("(?i)[a-z0-9]([a-z0-9-]{0,62})(\\.[a-z0-9]([a-z0-9-]{0,62}))*\\.?(:\\d{1,5})?");
    private static final Pattern IP_LITERAL = Pattern.compile("(\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}|\\[[0-9a-f:.]+\\])");
    private static final Pattern ORIGIN = Pattern.compile("(?i)https?://[a-z0-9.\\-\\[\\]:]+");

    /** What a route needs. */
    public enum Need { OPEN, CONTENT, TOKEN }

    public ApiAccess {
        if (token == null) {
            throw new IllegalArgumentException("the API needs a token: there is no way to run it without one");
        }
        List<String> h = new ArrayList<>();
        for (String name : hosts) {
            h.add(named("api-host", name, ApiAccess::hostName));
        }
        hosts = List.copyOf(h);
        List<String> o = new ArrayList<>();
        for (String origin : corsOrigins) {
            o.add(named("api-cors-origin", origin, ApiAccess::corsOrigin));
        }
        corsOrigins = List.copyOf(o);
    }

    private static String named(String key, String value, UnaryOperator<String> check) {
        try {
            return check.apply(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " " + e.getMessage(), e);
        }
    }

    /**
     * An extra name the API answers to, lower-cased; the error says what is wrong with it but not
     * where it came from (a flag or node.conf), which the caller adds.
     */
    public static String hostName(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        if (!HOST_NAME.matcher(n).matches() && !IP_LITERAL.matcher(hostPart(n)).matches()) {
            throw new IllegalArgumentException("must be a host name, optionally with :PORT, like node.example.com; was '" + name + "'");
        }
        return n;
    }

    /** A browser origin allowed to call the API, lower-cased and without a trailing slash; errors as {@link #hostName}. */
    public static String corsOrigin(String origin) {
        String n = origin.strip().toLowerCase(Locale.ROOT);
        if (n.endsWith("/")) {
            n = n.substring(0, n.length() - 1);
        }
        if (!ORIGIN.matcher(n).matches()) {
            throw new IllegalArgumentException("must be an origin like https://app.example.com or http://localhost:3000"
                    + " (scheme, host, optional port; no path, no *); was '" + origin + "'");
        }
        return n;
    }

    /** Only the token: public reads, no extra host names, no CORS. */
    public static ApiAccess of(ApiToken token) {
        return new ApiAccess(token, true, List.of(), List.of());
    }

    /** What {@code method path} needs (path without the query). */
    public static Need need(HttpMethod method, String path) {
        boolean read = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
        if (path.startsWith("/v1/chain/") && (read || method.equals(HttpMethod.POST))) {
            return Need.OPEN;
        }
        if (read && (path.equals("/v1/id") || path.equals("/ui") || path.startsWith("/ui/"))) { // the dashboard's files hold no data
            return Need.OPEN;
        }
        if (read && path.startsWith("/v1/objects/") && path.length() > "/v1/objects/".length()) {
            return Need.CONTENT;
        }
        return Need.TOKEN;
    }

    /** Whether an {@code Authorization} header value carries this token. */
    public boolean authorized(String authorization) {
        if (authorization == null || authorization.length() < 7 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return token.matches(authorization.substring(7).strip());
    }

    /** The Host header values an API bound to {@code bound} answers to. */
    public Hosts hostsFor(InetSocketAddress bound) {
        return new Hosts(bound, hosts);
    }

    /**
     * Whether a request from a browser page at {@code origin} may go on: no Origin (not a browser,
     * or a same-origin GET), this API's own origin, or a configured one.
     */
    public boolean originAllowed(String origin, String host) {
        if (origin == null) {
            return true;
        }
        String o = origin.strip().toLowerCase(Locale.ROOT);
        if (corsOrigins.contains(o)) {
            return true;
        }
        String h = host == null ? "" : host.strip().toLowerCase(Locale.ROOT);
        return !h.isEmpty() && (o.equals("http://" + h) || o.equals("https://" + h));
    }

    /** Whether {@code origin} gets CORS headers (only configured ones do). */
    public boolean cors(String origin) {
        return origin != null && corsOrigins.contains(origin.strip().toLowerCase(Locale.ROOT));
    }

    private static String hostPart(String hostPort) {
        if (hostPort.startsWith("[")) {
            int end = hostPort.indexOf(']');
            return end < 0 ? hostPort : hostPort.substring(0, end + 1);
        }
        int colon = hostPort.lastIndexOf(':');
        return colon < 0 ? hostPort : hostPort.substring(0, colon);
    }

    /** The Host header check of one bound API. */
    public static final class Hosts {
        private final int port;
        private final Set<String> exact; // host:port
        private final Set<String> anyPort; // configured names without a port
        private final boolean anyIpLiteral;

        Hosts(InetSocketAddress bound, List<String> configured) {
            this.port = bound.getPort();
            java.util.HashSet<String> e = new java.util.HashSet<>();
            java.util.HashSet<String> a = new java.util.HashSet<>();
            String literal = bound.getAddress().getHostAddress().toLowerCase(Locale.ROOT);
            if (literal.contains(":")) {
                int zone = literal.indexOf('%');
                literal = "[" + (zone < 0 ? literal : literal.substring(0, zone)) + "]";
            }
            e.add(literal + ":" + port);
            if (bound.getAddress().isLoopbackAddress() || bound.getAddress().isAnyLocalAddress()) {
                for (String l : List.of("localhost", "127.0.0.1", canonical("[::1]"))) {
                    e.add(l + ":" + port);
                }
            }
            this.anyIpLiteral = bound.getAddress().isAnyLocalAddress();
            for (String c : configured) {
                if (c.startsWith("[") ? c.contains("]:") : c.contains(":")) {
                    String name = hostPart(c);
                    e.add(canonical(name) + c.substring(name.length()));
                } else if (c.startsWith("[")) {
                    a.add(canonical(c));
                } else {
                    a.add(c.endsWith(".") ? c.substring(0, c.length() - 1) : c);
                }
            }
            this.exact = Set.copyOf(e);
            this.anyPort = Set.copyOf(a);
        }

        /** Whether a request with this Host header is meant for this API. */
        public boolean allowed(String host) {
            if (host == null) {
                return false;
            }
            String h = host.strip().toLowerCase(Locale.ROOT);
            String name = hostPart(h);
            String portText = h.substring(name.length());
            int p;
            if (portText.isEmpty()) {
                p = 80;
            } else if (portText.matches(":\\d{1,5}")) {
                p = Integer.parseInt(portText.substring(1));
            } else {
                return false;
            }
            if (name.endsWith(".")) {
                name = name.substring(0, name.length() - 1);
            }
            name = canonical(name);
            return exact.contains(name + ":" + p) || anyPort.contains(name)
                    || anyIpLiteral && p == port && IP_LITERAL.matcher(name).matches();
        }

        /** An IPv6 literal in one spelling ([::1] and [0:0:0:0:0:0:0:1] are one address); anything else as it is. */
        private static String canonical(String name) {
            if (name.length() > 2 && name.startsWith("[") && name.endsWith("]")) {
                try {
                    String a = java.net.InetAddress.ofLiteral(name.substring(1, name.length() - 1)).getHostAddress();
                    int zone = a.indexOf('%');
                    return "[" + (zone < 0 ? a : a.substring(0, zone)) + "]";
                } catch (IllegalArgumentException notAnAddress) {
                    return name;
                }
            }
            return name;
        }

        /** The names listed in a refusal, so the operator sees what would be accepted. */
        String describe() {
            List<String> all = new ArrayList<>(exact);
            all.addAll(anyPort);
            if (anyIpLiteral) {
                all.add("any IP address:" + port);
            }
            java.util.Collections.sort(all);
            return String.join(", ", all);
        }
    }
}
