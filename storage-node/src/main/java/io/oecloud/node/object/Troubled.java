package io.oecloud.node.object;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.dht.PeerId;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import java.time.Duration;

/**
 * Peers that failed us lately: a transfer that failed or found them full, a GET answered with
 * wrong bytes, an error or nothing. For {@link #MEMORY} they are placed last and asked last (and
 * never as a hedge), so one bad node costs each upload or download at most one try a minute. The
 * clock is a {@link Ticker}, so tests can move it.
 */
final class Troubled {
    /** How long a failure counts against a peer. */
    static final Duration MEMORY = Duration.ofMinutes(1);

    private final Cache<PeerId, String> peers;
    private final Counter failedGets;

    Troubled(Ticker ticker, MeterRegistry metrics) {
        this.peers = Caffeine.newBuilder().ticker(ticker).expireAfterWrite(MEMORY).maximumSize(10_000).build();
        this.failedGets = Counter.builder("oe_shard_failed_gets")
                .description("Shard GETs from peers that failed: wrong bytes, errors, timeouts").register(metrics);
    }

    /** A transfer to {@code peer} failed, for {@code reason} (words, for the log and error messages). */
    void mark(PeerId peer, String reason) {
        peers.put(peer, reason);
    }

    /** A shard GET from {@code peer} failed: noted, and counted ({@code oe_shard_failed_gets_total}). */
    void failedGet(PeerId peer, Throwable error) {
        peers.put(peer, String.valueOf(error.getMessage()));
        failedGets.increment();
    }

    /** Whether {@code peer} failed us within the last {@link #MEMORY}. */
    boolean test(PeerId peer) {
        return peers.getIfPresent(peer) != null;
    }

    /** Whether every listed holder of {@code shard} failed us lately (false for a shard with none listed). */
    boolean allHolders(Shard shard) {
        for (ByteString h : shard.getHoldersList()) {
            if (!test(PeerId.fromBytes(h.toByteArray()))) {
                return false;
            }
        }
        return shard.getHoldersCount() > 0;
    }
}
