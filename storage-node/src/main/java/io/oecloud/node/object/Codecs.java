package io.oecloud.node.object;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.oecloud.erasure.ReedSolomon;

/**
 * Reed-Solomon codecs for uploads, downloads and repair, one kept per RS(k, m) that nodes use. A
 * codec caches its decode plans (the inverted matrix of each erasure pattern); until 2026-12 a new
 * codec was built for every segment that needed decoding, so each such segment, read or repaired,
 * paid for the codec and its plan again. {@code benchmarks/run.sh codec} (2-core Xeon, 2026-12-06):
 * rebuilding data shard 0 of 4 KiB shards took 5.0 µs with a codec built for it and 0.68 µs with
 * a kept one under RS(4, 2), 8.5 and 2.4 µs under RS(10, 4); with 2 MiB shards the decode itself
 * dominates (794 against 781 µs, 1,858 against 1,805 µs, within the error). So this matters for
 * small objects' degraded reads and for repair's many segments, not for a large object's
 * bandwidth. Codecs are thread-safe.
 *
 * <p>Memory: a codec keeps up to 512 plans, each about 132 bytes per coefficient (the vector
 * kernel's tables with 512-bit vectors) for up to m x k coefficients, and a manifest (anyone's) chooses RS(k, m) with
 * k + m up to 256 and, through holders that do not answer, the erasure patterns: a kept RS(128,
 * 128) could grow to a gigabyte. So only shapes with k x m <= {@value #MAX_KEPT_COEFFICIENTS} are
 * kept (RS(4, 2), RS(10, 4), RS(16, 4): at most 4.3 MB each), at most {@value #SHAPES} of them;
 * any other is built for the one segment that needs it, as before.
 */
final class Codecs {
    /** Shapes kept at once: a network uses one or two. */
    static final int SHAPES = 4;
    /** Largest k x m kept. */
    static final int MAX_KEPT_COEFFICIENTS = 64;

    private final Cache<Long, ReedSolomon> byShape = Caffeine.newBuilder().maximumSize(SHAPES).build();

    /**
     * The codec for RS(k, m).
     *
     * @throws IllegalArgumentException unless 1 <= k, 0 <= m and k + m <= 256
     */
    ReedSolomon of(int k, int m) {
        if ((long) k * m > MAX_KEPT_COEFFICIENTS || k < 1 || m < 0) {
            return ReedSolomon.of(k, m);
        }
        return byShape.get(((long) k << 32) | m, shape -> ReedSolomon.of(k, m));
    }
}
