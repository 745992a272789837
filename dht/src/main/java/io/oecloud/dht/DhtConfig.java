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
 * @param maxProvidersPerPeer provider records one peer may make us hold (10,000)
 * @param maxRecords values we hold (100,000)
 * @param maxInboundRequestsPerPeer concurrent inbound kad streams per peer; more are reset (64)
 * @param maxProviderRecords provider records we hold for others in all (150,000; a record for a
 *     key of its own took 373 bytes of heap, one more for a held key 138)
 * @param maxProviderKeys distinct keys those records are for (100,000)
 * @param maxProviderPeers distinct peers those records are from (8,000; a peer with 1 KiB of
 *     addresses took 3.4 KB). Full to every limit, the store holds about 70 MB
 * @param maxRecordBytes bytes of values we hold, each counted as key + value + 200 bytes of
 *     bookkeeping (16 MiB: a flood of 64 KiB values from fresh identities stops at about 250)
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
        int maxInboundRequestsPerPeer,
        int maxProviderRecords,
        int maxProviderKeys,
        int maxProviderPeers,
        long maxRecordBytes) {

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
        atLeastOne("maxProvidersPerPeer", maxProvidersPerPeer);
        atLeastOne("maxRecords", maxRecords);
        atLeastOne("maxInboundRequestsPerPeer", maxInboundRequestsPerPeer);
        atLeastOne("maxProviderRecords", maxProviderRecords);
        atLeastOne("maxProviderKeys", maxProviderKeys);
        atLeastOne("maxProviderPeers", maxProviderPeers);
        atLeastOne("maxRecordBytes", maxRecordBytes);
    }

    private static void atLeastOne(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException("DHT limit " + name + " must be >= 1, was " + value);
        }
    }

    public static DhtConfig defaults() {
        return new DhtConfig(20, 3, true, Duration.ofSeconds(10), Duration.ofHours(48), Duration.ofHours(22),
                Duration.ofHours(36), Duration.ofMinutes(10), 10_000, 100_000, 64,
                150_000, 100_000, 8_000, 16L << 20);
    }

    public DhtConfig withServer(boolean s) {
        return new DhtConfig(k, alpha, s, requestTimeout, providerTtl, republishInterval, recordTtl,
                refreshInterval, maxProvidersPerPeer, maxRecords, maxInboundRequestsPerPeer,
                maxProviderRecords, maxProviderKeys, maxProviderPeers, maxRecordBytes);
    }

    public DhtConfig withIntervals(Duration providerTtl, Duration republish, Duration refresh) {
        return new DhtConfig(k, alpha, server, requestTimeout, providerTtl, republish, recordTtl,
                refresh, maxProvidersPerPeer, maxRecords, maxInboundRequestsPerPeer,
                maxProviderRecords, maxProviderKeys, maxProviderPeers, maxRecordBytes);
    }

    public DhtConfig withRequestTimeout(Duration t) {
        return new DhtConfig(k, alpha, server, t, providerTtl, republishInterval, recordTtl,
                refreshInterval, maxProvidersPerPeer, maxRecords, maxInboundRequestsPerPeer,
                maxProviderRecords, maxProviderKeys, maxProviderPeers, maxRecordBytes);
    }

    public DhtConfig withLimits(int providersPerPeer, int records, int inboundPerPeer) {
        return new DhtConfig(k, alpha, server, requestTimeout, providerTtl, republishInterval, recordTtl,
                refreshInterval, providersPerPeer, records, inboundPerPeer,
                maxProviderRecords, maxProviderKeys, maxProviderPeers, maxRecordBytes);
    }

    /** The provider store's limits: per provider peer, records in all, distinct keys, distinct provider peers. */
    public DhtConfig withProviderLimits(int perPeer, int records, int keys, int peers) {
        return new DhtConfig(k, alpha, server, requestTimeout, providerTtl, republishInterval, recordTtl,
                refreshInterval, perPeer, maxRecords, maxInboundRequestsPerPeer, records, keys, peers, maxRecordBytes);
    }

    /** The value store's limits: values, and their bytes as {@link #maxRecordBytes} counts them. */
    public DhtConfig withRecordLimits(int records, long bytes) {
        return new DhtConfig(k, alpha, server, requestTimeout, providerTtl, republishInterval, recordTtl,
                refreshInterval, maxProvidersPerPeer, records, maxInboundRequestsPerPeer,
                maxProviderRecords, maxProviderKeys, maxProviderPeers, bytes);
    }
}
