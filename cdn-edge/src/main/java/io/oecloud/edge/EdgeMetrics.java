package io.oecloud.edge;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The edge's meters ({@code /metrics}): chunks and bytes served by tier (the hit ratio of a tier
 * is its chunks over all chunks), origin fetches and their latency, requests that waited for
 * another's fetch (coalesced), verification failures, and what verification cost.
 */
public final class EdgeMetrics {
    /** Where a chunk came from. */
    public enum Tier {
        MEMORY, DISK, ORIGIN;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final MeterRegistry registry;
    private final Map<Tier, Counter> chunks = new EnumMap<>(Tier.class);
    private final Map<Tier, Counter> bytes = new EnumMap<>(Tier.class);
    private final Counter coalesced;
    private final Counter verificationFailures;
    private final Counter sliceBytes;
    private final Counter shardBytes;
    private final Counter fallbacks;
    private final Counter prefetches;
    private final Timer originFetch;

    public EdgeMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (Tier t : Tier.values()) {
            chunks.put(t, Counter.builder("oe_edge_chunks").tag("tier", t.label())
                    .description("Chunks served, by the tier that had them (origin: a miss)").register(registry));
            bytes.put(t, Counter.builder("oe_edge_served_bytes").tag("tier", t.label())
                    .description("Bytes of chunks served, by tier").register(registry));
        }
        for (Tier t : Tier.values()) {
            io.micrometer.core.instrument.Gauge.builder("oe_edge_hit_ratio", this, m -> m.ratio(t)).tag("tier", t.label())
                    .description("Share of the chunks served that came from this tier since start (origin: the miss ratio)").register(registry);
        }
        coalesced = Counter.builder("oe_edge_coalesced_requests")
                .description("Chunk misses that waited for a fetch another request had started").register(registry);
        verificationFailures = Counter.builder("oe_edge_verification_failures")
                .description("Origin answers that did not match their CIDs (never cached or served)").register(registry);
        sliceBytes = Counter.builder("oe_edge_slice_bytes")
                .description("Chunk bytes of verified slices fetched from the origin").register(registry);
        shardBytes = Counter.builder("oe_edge_shard_bytes")
                .description("Bytes of whole data shards fetched when slices could not be had").register(registry);
        fallbacks = Counter.builder("oe_edge_segment_fallbacks")
                .description("Reads that fell back from slices to a segment's data shards").register(registry);
        prefetches = Counter.builder("oe_edge_prefetches")
                .description("Chunks fetched ahead of a request (streaming or rising popularity)").register(registry);
        originFetch = Timer.builder("oe_edge_origin_fetch").publishPercentiles(0.5, 0.99)
                .description("Time to fetch and verify one chunk (or manifest) from the origin").register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    void served(Tier tier, int n) {
        chunks.get(tier).increment();
        bytes.get(tier).increment(n);
    }

    void coalesced() {
        coalesced.increment();
    }

    void verificationFailure() {
        verificationFailures.increment();
    }

    void sliceFetched(int n) {
        sliceBytes.increment(n);
    }

    void shardFetched(int n) {
        shardBytes.increment(n);
    }

    void wholeSegmentFallback() {
        fallbacks.increment();
    }

    void prefetched() {
        prefetches.increment();
    }

    void originFetch(long nanos) {
        originFetch.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Chunks served from {@code tier} so far. */
    public long chunks(Tier tier) {
        return (long) chunks.get(tier).count();
    }

    private double ratio(Tier t) {
        double all = 0;
        for (Counter c : chunks.values()) {
            all += c.count();
        }
        return all == 0 ? 0 : chunks.get(t).count() / all;
    }

    public long coalescedRequests() {
        return (long) coalesced.count();
    }

    public long verificationFailures() {
        return (long) verificationFailures.count();
    }

    /** Origin fetches so far (chunks and manifests). */
    public long originFetches() {
        return originFetch.count();
    }
}
