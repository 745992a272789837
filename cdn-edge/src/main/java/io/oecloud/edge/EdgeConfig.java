package io.oecloud.edge;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * An edge's settings.
 *
 * @param bind where the HTTP front listens (127.0.0.1:9080 by default)
 * @param domain the edge's host name: {@code {cid}.c.DOMAIN} and {@code {name}.n.DOMAIN} are its sites
 * @param sites hosts the operator maps to a CID or a registry name ({@code --site HOST=CID|NAME})
 * @param dataDir where the disk tier lives ({@code DIR/cache}); null: memory only
 * @param chunkSize bytes a cached chunk holds (1 MiB)
 * @param memoryBytes the memory tier's bound
 * @param diskBytes the disk tier's bound
 * @param token the admin token ({@code DELETE /cache/{cid}}); null: purges are refused
 * @param originDeadline how long one origin read may take in all
 * @param writeDeadline how long a client may take to accept one chunk before its connection is closed
 * @param nameTtl how long a resolved name is used (an update is followed within it)
 * @param connections open connections at once
 * @param perAddress open connections from one address at once
 * @param tls the certificate to serve HTTPS with (HTTP/2 and HTTP/1.1 by ALPN), or null for plain HTTP
 * @param headDeadline a request head must be whole within this of its first byte ({@link #HEAD_DEADLINE}); an idle
 *     keep-alive connection and a long download are not held to it
 */
public record EdgeConfig(InetSocketAddress bind, String domain, Map<String, String> sites, Path dataDir, int chunkSize,
                         long memoryBytes, long diskBytes, String token, Duration originDeadline, Duration writeDeadline,
                         Duration nameTtl, int connections, int perAddress, Tls tls, Duration headDeadline) {
    public static final int DEFAULT_PORT = 9080;
    /** A request head must be whole within this of its first byte (the slowloris bound). */
    public static final Duration HEAD_DEADLINE = Duration.ofSeconds(10);

    /** A certificate chain and its private key, both PEM files (the key in PKCS#8, as openssl writes it). */
    public record Tls(java.nio.file.Path certificateChain, java.nio.file.Path privateKey) {}

    public EdgeConfig {
        sites = Map.copyOf(sites);
        if (chunkSize < 1024 || chunkSize > (16 << 20)) {
            throw new IllegalArgumentException("--chunk-size must be 1 KiB to 16 MiB, was " + chunkSize);
        }
        if (memoryBytes < 4L * chunkSize) {
            throw new IllegalArgumentException("--memory must hold at least 4 chunks (" + 4L * chunkSize + " bytes), was " + memoryBytes);
        }
        if (headDeadline.toMillis() < 1) {
            throw new IllegalArgumentException("the head deadline must be positive, was " + headDeadline);
        }
        if (perAddress < 1 || connections < perAddress) {
            throw new IllegalArgumentException("connections per address must be 1 to the connection limit, were "
                    + perAddress + " of " + connections);
        }
    }

    /** The defaults on {@code bind}: 1 MiB chunks, 256 MiB of memory, 10 GiB of disk under {@code dataDir}. */
    public static EdgeConfig defaults(InetSocketAddress bind, Path dataDir, String token) {
        return new EdgeConfig(bind, "localhost", Map.of(), dataDir, 1 << 20, 256L << 20, 10L << 30, token,
                Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(5), 4096, 64, null, HEAD_DEADLINE);
    }

    public EdgeConfig withSites(Map<String, String> s) {
        return new EdgeConfig(bind, domain, s, dataDir, chunkSize, memoryBytes, diskBytes, token, originDeadline, writeDeadline,
                nameTtl, connections, perAddress, tls, headDeadline);
    }
}
