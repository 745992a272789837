package io.oecloud.node.shard;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.oecloud.dht.PeerId;
import java.time.Duration;
import java.time.InstantSource;

/**
 * A token bucket per peer: {@code perSecond} requests a second on average, {@code burst} at once.
 * Time is read from {@code clock} (the node's: tests move it). Buckets of peers not seen for a
 * minute are forgotten (a fresh bucket is full, which is what a minute's refill gives anyway);
 * at most {@link #MAX_PEERS} are kept, the least recently used going first.
 */
final class PeerRate {
    static final int MAX_PEERS = 100_000;

    private final double perMilli;
    private final double burst;
    private final InstantSource clock;
    private final Cache<PeerId, double[]> buckets = Caffeine.newBuilder().maximumSize(MAX_PEERS)
            .expireAfterAccess(Duration.ofMinutes(1)).build();

    PeerRate(double perSecond, int burst, InstantSource clock) {
        if (!(perSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("a rate needs a positive rate and a burst of at least 1, had " + perSecond
                    + " a second and " + burst);
        }
        this.perMilli = perSecond / 1000;
        this.burst = burst;
        this.clock = clock;
    }

    /** Takes one token of {@code peer}'s; false when its bucket is empty (nothing taken). */
    boolean take(PeerId peer) {
        long now = clock.millis();
        double[] b = buckets.get(peer, p -> new double[] {burst, now}); // {tokens, last refill (ms)}
        synchronized (b) {
            double elapsed = Math.max(0, now - b[1]);
            b[0] = Math.min(burst, b[0] + elapsed * perMilli);
            b[1] = Math.max(b[1], now);
            if (b[0] < 1) {
                return false;
            }
            b[0] -= 1;
            return true;
        }
    }
}
