package io.oecloud.edge.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.oecloud.edge.EdgeException;
import io.oecloud.edge.NameResolver;
import io.oecloud.proofs.Cid;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which content a Host header asks for. On the edge's domain ({@code localhost} by default):
 * <ul>
 *   <li>{@code DOMAIN} itself (and 127.0.0.1, [::1]): the path gateway, {@code /c/{cid}/...};</li>
 *   <li>{@code {cid}.c.DOMAIN}: that object on its own origin, as IPFS subdomain gateways do, so
 *       one site's scripts cannot read another's storage or cookies (browsers resolve
 *       {@code *.localhost} to loopback). The CID is in base36 ({@code k...}, {@link Cid#toBase36}):
 *       a DNS label holds 63 characters and a BLAKE3 manifest CID is 64 in base32 (60 in base36),
 *       so browsers cannot resolve the base32 form; a base32 label that fits is taken too;</li>
 *   <li>{@code {name}.n.DOMAIN}: a site name of OEChain's registry, resolved (with a proof) by the
 *       {@link NameResolver} and kept for {@code nameTtl}, so an update is followed within it;</li>
 *   <li>a host mapped by the operator ({@code oe edge --site HOST=CID} or {@code HOST=NAME}).</li>
 * </ul>
 * Any other host is no site of this edge (404).
 */
public final class Sites {
    /** What a host names. */
    public sealed interface Target {}

    /** The path gateway: the path names the CID. */
    public record Gateway() implements Target {}

    /** Content by CID (subdomain or a static mapping): immutable. */
    public record Fixed(Cid root) implements Target {}

    /** A name of the registry: its root moves, so answers get a short max-age. */
    public record Named(String name) implements Target {}

    /** No site here. */
    public record Unknown(String host) implements Target {}

    private final String domain;
    private final Map<String, String> mapped;
    private final NameResolver names;
    private final Cache<String, Optional<Cid>> resolved;

    /**
     * @param domain the edge's own host name, lower case, without port
     * @param mapped hosts (lower case, no port) to a CID or a registry name
     * @param names the registry, or null when the edge has no chain (names are then unknown)
     * @param nameTtl how long a resolved name is used before it is asked again
     */
    public Sites(String domain, Map<String, String> mapped, NameResolver names, Duration nameTtl) {
        this.domain = domain.toLowerCase(Locale.ROOT);
        this.mapped = Map.copyOf(mapped);
        this.names = names;
        this.resolved = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(nameTtl).build();
    }

    /** The target of a request with {@code host} (the Host header, null when absent). */
    public Target target(String host) {
        if (host == null || host.isBlank()) {
            return new Gateway(); // HTTP/1.0 without Host: only the path gateway can answer
        }
        String h = stripPort(host.strip().toLowerCase(Locale.ROOT));
        String m = mapped.get(h);
        if (m != null) {
            Cid c = cidOrNull(m);
            return c != null ? new Fixed(c) : new Named(m);
        }
        if (h.equals(domain) || h.equals("127.0.0.1") || h.equals("[::1]") || h.equals("localhost")) {
            return new Gateway();
        }
        String cSuffix = ".c." + domain;
        if (h.endsWith(cSuffix) && h.length() > cSuffix.length()) {
            String label = h.substring(0, h.length() - cSuffix.length());
            Cid c = label.contains(".") ? null : cidOrNull(label);
            return c != null ? new Fixed(c) : new Unknown(host);
        }
        String nSuffix = ".n." + domain;
        if (h.endsWith(nSuffix) && h.length() > nSuffix.length()) {
            String label = h.substring(0, h.length() - nSuffix.length());
            return label.contains(".") ? new Unknown(host) : new Named(label);
        }
        return new Unknown(host);
    }

    /**
     * The root {@code name} points to, from the last {@code nameTtl} or the registry.
     *
     * @throws EdgeException NOT_FOUND for an unregistered name (or no registry); UNAVAILABLE from the registry
     */
    public Cid resolve(String name) throws EdgeException {
        if (names == null) {
            throw new EdgeException(EdgeException.Kind.NOT_FOUND, "this edge has no name registry: site names are not served here");
        }
        Optional<Cid> known = resolved.getIfPresent(name);
        if (known == null) {
            known = Optional.ofNullable(names.resolve(name));
            resolved.put(name, known);
        }
        return known.orElseThrow(() -> new EdgeException(EdgeException.Kind.NOT_FOUND, "no site is registered under the name '" + name + "'"));
    }

    /** The subdomain origin of {@code cid} on this edge ({@code {base36 cid}.c.DOMAIN}). */
    public String subdomain(Cid cid) {
        return cid.toBase36() + ".c." + domain;
    }

    private static String stripPort(String h) {
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(0, end + 1);
        }
        int colon = h.lastIndexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    private static Cid cidOrNull(String s) {
        try {
            return Cid.parse(s);
        } catch (IllegalArgumentException e) { // CidFormatException among them
            return null;
        }
    }
}
