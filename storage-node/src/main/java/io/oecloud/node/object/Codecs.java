package io.oecloud.node.object;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.oecloud.erasure.ReedSolomon;

/**
 * One Reed-Solomon codec per RS(k, m), shared by uploads, downloads and repair. A codec caches
 * its decode plans (the inverted matrix of each erasure pattern), and until 2026-12 a new codec was
 * built for every segment that needed decoding, so every such segment paid for building a codec
 * and a plan again. The codecs are thread-safe. At most {@link #SHAPES} are kept: a manifest may name
 * any RS(k, m) with k + m up to 256, and a peer's manifests must not grow this without bound.
 */
final class Codecs {
    /** Codecs kept: this node's own RS(k, m) and a few others read or repaired here. */
    static final int SHAPES = 16;

    private final Cache<Long, ReedSolomon> byShape = Caffeine.newBuilder().maximumSize(SHAPES).build();

    /**
     * The codec for RS(k, m).
     *
     * @throws IllegalArgumentException unless 1 <= k, 0 <= m and k + m <= 256
     */
    ReedSolomon of(int k, int m) {
        return byShape.get(((long) k << 32) | (m & 0xffffffffL), shape -> ReedSolomon.of(k, m));
    }
}
