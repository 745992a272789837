package io.oecloud.dht;

import java.time.Duration;

/**
 * Kademlia settings, validated on construction.
 *
 * @param k bucket size and replication factor (20)
 * @param alpha parallel requests per lookup (3)
 * @param server whether we answer /ipfs/kad/1.0.0 (client mode: we only ask)
 * @param requestTimeout one RPC
 * @param providerTtl how long a provider record lives unless republished (48 h)
 * @param republishInterval how often we re-announce what we provide (22 h)
 * @param recordTtl how long a stored value lives (36 h)
 * @param refreshInterval buckets not looked up this long are refreshed (10 min)
 * @param maxProvidersPerPeer provider records one peer may make us hold
 * @param maxRecords values we hold
 * @param maxInboundRequestsPerPeer concurrent inbound kad streams per peer; more are reset
 */
public record DhtConfig(
        int k,
        int alpha,
        boolean server,
        Duration requestTimeout,
        Duration providerTtl,
        Duration republishInterval,
        Duration recordTtl,
        Duration refreshInterval,
        int maxProvidersPerPeer,
        int maxRecords,
        int maxInboundRequestsPerPeer) {

    public DhtConfig {
        if (k < 1 || alpha < 1) {
            throw new IllegalArgumentException("k and alpha must be >= 1, were " + k + ", " + alpha);
        }
        for (Duration d : new Duration[] {requestTimeout, providerTtl, republishInterval, recordTtl, refreshInterval}) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("DHT durations must be positive, got " + d);
            }
        }
        if (republishInterval.compareTo(providerTtl) >= 0) {
            throw new IllegalArgumentException("republishInterval " + republishInterval
                    + " must be shorter than providerTtl " + providerTtl);
        }
        if (maxProvidersPerPeer < 1 || maxRecords < 1 || maxInboundRequestsPerPeer < 1) {
            throw new IllegalArgumentException("DHT limits must be >= 1");
        }
    }

    public static DhtConfig defaults() {
        return new DhtConfig(20, 3, true, Duration.ofSeconds(10), Duration.ofHours(48), Duration.ofHours(22),
                Duration.ofHours(36), Duration.ofMinutes(10), 10_000, 100_000, 64);
    }

    public DhtConfig withServer(boolean s) {
        return new DhtConfig(k, alpha, s, requestTimeout, providerTtl, republishInterval, recordTtl,
                refreshInterval, maxProvidersPerPeer, maxRecords, maxInboundRequestsPerPeer);
    }

    public DhtConfig withIntervals(Duration providerTtl, Duration republish, Duration refresh) {
        return new DhtConfig(k, alpha, server, requestTimeout, providerTtl, republish, recordTtl,
                refresh, maxProvidersPerPeer, maxRecords, maxInboundRequestsPerPeer);
    }

    public DhtConfig withRequestTimeout(Duration t) {
        return new DhtConfig(k, alpha, server, t, providerTtl, republishInterval, recordTtl,
                refreshInterval, maxProvidersPerPeer, maxRecords, maxInboundRequestsPerPeer);
    }

    public DhtConfig withLimits(int providersPerPeer, int records, int inboundPerPeer) {
        return new DhtConfig(k, alpha, server, requestTimeout, providerTtl, republishInterval, recordTtl,
                refreshInterval, providersPerPeer, records, inboundPerPeer);
    }
}
