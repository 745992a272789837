package io.oecloud.dht;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Settings of a {@link Host}, validated on construction.
 *
 * @param listen multiaddrs to listen on ({@code /ip4/127.0.0.1/tcp/0} picks a free port)
 * @param dataDir where the peer store is kept across restarts (null: memory only)
 * @param agentVersion what identify reports
 * @param dialTimeout TCP connect plus security and muxer upgrade
 * @param negotiationTimeout multistream-select on a stream
 * @param streamIdleTimeout a stream with no traffic for this long is reset
 * @param connectionIdleTimeout a connection without streams for this long is closed
 * @param pingTimeout a keep-alive ping unanswered this long closes the connection
 * @param maxStreamsPerConnection streams open at once on one connection (inbound beyond are reset)
 * @param lowWater connections kept when trimming
 * @param highWater connection count that triggers trimming
 * @param backoffBase first wait before redialing a peer that failed; doubles per failure
 * @param backoffMax longest wait before redialing
 */
public record HostConfig(
        List<Multiaddr> listen,
        Path dataDir,
        String agentVersion,
        Duration dialTimeout,
        Duration negotiationTimeout,
        Duration streamIdleTimeout,
        Duration connectionIdleTimeout,
        Duration pingTimeout,
        int maxStreamsPerConnection,
        int lowWater,
        int highWater,
        Duration backoffBase,
        Duration backoffMax) {

    public HostConfig {
        listen = List.copyOf(listen);
        for (Multiaddr m : listen) {
            if (m.toTcpSocketAddress() == null) {
                throw new IllegalArgumentException("listen address " + m + " is not /ip4|ip6/.../tcp/PORT");
            }
        }
        positive("dialTimeout", dialTimeout);
        positive("negotiationTimeout", negotiationTimeout);
        positive("streamIdleTimeout", streamIdleTimeout);
        positive("connectionIdleTimeout", connectionIdleTimeout);
        positive("pingTimeout", pingTimeout);
        positive("backoffBase", backoffBase);
        positive("backoffMax", backoffMax);
        if (maxStreamsPerConnection < 1) {
            throw new IllegalArgumentException("maxStreamsPerConnection must be >= 1, was " + maxStreamsPerConnection);
        }
        if (lowWater < 1 || highWater < lowWater) {
            throw new IllegalArgumentException("need 1 <= lowWater <= highWater, was " + lowWater + ", " + highWater);
        }
    }

    private static void positive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
    }

    /** Loopback on a free port, memory-only peer store, production timeouts. */
    public static HostConfig defaults() {
        return new HostConfig(List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")), null, "oecloud/0.1.0",
                Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(2), Duration.ofMinutes(5),
                Duration.ofSeconds(30), 512, 100, 400, Duration.ofSeconds(5), Duration.ofMinutes(5));
    }

    public HostConfig withListen(List<Multiaddr> l) {
        return new HostConfig(l, dataDir, agentVersion, dialTimeout, negotiationTimeout, streamIdleTimeout,
                connectionIdleTimeout, pingTimeout, maxStreamsPerConnection, lowWater, highWater, backoffBase, backoffMax);
    }

    public HostConfig withDataDir(Path d) {
        return new HostConfig(listen, d, agentVersion, dialTimeout, negotiationTimeout, streamIdleTimeout,
                connectionIdleTimeout, pingTimeout, maxStreamsPerConnection, lowWater, highWater, backoffBase, backoffMax);
    }

    public HostConfig withLimits(int maxStreams, int low, int high) {
        return new HostConfig(listen, dataDir, agentVersion, dialTimeout, negotiationTimeout, streamIdleTimeout,
                connectionIdleTimeout, pingTimeout, maxStreams, low, high, backoffBase, backoffMax);
    }

    public HostConfig withTimeouts(Duration dial, Duration negotiation, Duration streamIdle, Duration connectionIdle) {
        return new HostConfig(listen, dataDir, agentVersion, dial, negotiation, streamIdle,
                connectionIdle, pingTimeout, maxStreamsPerConnection, lowWater, highWater, backoffBase, backoffMax);
    }

    public HostConfig withBackoff(Duration base, Duration max) {
        return new HostConfig(listen, dataDir, agentVersion, dialTimeout, negotiationTimeout, streamIdleTimeout,
                connectionIdleTimeout, pingTimeout, maxStreamsPerConnection, lowWater, highWater, base, max);
    }
}
