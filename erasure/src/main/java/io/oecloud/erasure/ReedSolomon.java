package io.oecloud.erasure;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Systematic Reed-Solomon RS(k, m) over GF(2^8) (polynomial 0x11d): k data shards, m parity
 * shards, and any k of the k + m rebuild the rest.
 *
 * <p>The generator is the identity on top of ISA-L's Cauchy rows ({@code gf_gen_cauchy1_matrix}),
 * so parity is byte-identical to ISA-L's {@code ec_encode_data} and to Hadoop's and Ozone's RS
 * codec for the same data.
 *
 * <p>Instances are immutable and thread-safe. Every operation works on the byte range
 * {@code [offset, offset + length)} of each shard and touches nothing outside it; buffers'
 * positions and limits are not changed (the limit bounds the range). Shards must be distinct
 * arrays or buffers of equal length. Decode plans (inverted matrices, expanded for the backend)
 * are cached per erasure pattern.
 *
 * <pre>{@code
 * ReedSolomon rs = ReedSolomon.of(4, 2);
 * byte[][] shards = new byte[6][shardSize];   // fill shards[0..4) with data
 * rs.encode(shards, 0, shardSize);            // computes shards[4..6)
 * rs.reconstruct(shards, present, 0, shardSize);  // refills every shard whose present[i] is false
 * }</pre>
 */
public final class ReedSolomon {
    /** k + m may not exceed the number of distinct Cauchy rows GF(2^8) offers. */
    public static final int MAX_TOTAL_SHARDS = 256;
    private static final int DECODE_PLAN_CACHE_SIZE = 512;
    private static final int VERIFY_BLOCK = 16 * 1024;
    private static final int[] NO_OUTPUTS = {};

    private final int k;
    private final int m;
    private final CodingKernel kernel;
    private final byte[] generator;
    private final CodingTables parityTables;
    private final int[] dataIdx;
    private final int[] parityIdx;
    private final int[] identity;
    private final Cache<ErasurePattern, DecodePlan> plans =
            Caffeine.newBuilder().maximumSize(DECODE_PLAN_CACHE_SIZE).build();
    private final ThreadLocal<byte[][]> verifyScratch;

    private ReedSolomon(int k, int m, CodingKernel kernel) {
        this.k = k;
        this.m = m;
        this.kernel = kernel;
        this.generator = Matrices.cauchyGenerator(k, m);
        this.parityTables = kernel.prepare(Arrays.copyOfRange(generator, k * k, (k + m) * k), m, k);
        this.dataIdx = range(0, k);
        this.parityIdx = range(k, k + m);
        this.identity = range(0, m);
        this.verifyScratch = ThreadLocal.withInitial(() -> new byte[m][VERIFY_BLOCK]);
    }

    /**
     * Returns a codec with k data and m parity shards on the default backend
     * ({@link ErasureBackend#active()}).
     *
     * @throws IllegalArgumentException unless 1 <= k, 0 <= m and k + m <= 256
     */
    public static ReedSolomon of(int k, int m) {
        return of(k, m, ErasureBackend.active());
    }

    /**
     * Returns a codec on the given backend.
     *
     * @throws IllegalArgumentException if k or m is out of range
     * @throws IllegalStateException if the backend cannot run in this JVM
     */
    public static ReedSolomon of(int k, int m, ErasureBackend backend) {
        if (k < 1) {
            throw new IllegalArgumentException("k (data shards) must be at least 1, was " + k);
        }
        if (m < 0) {
            throw new IllegalArgumentException("m (parity shards) must be at least 0, was " + m);
        }
        if (k + m > MAX_TOTAL_SHARDS) {
            throw new IllegalArgumentException("k + m must be at most " + MAX_TOTAL_SHARDS + ", was "
                    + k + " + " + m + " = " + (k + m));
        }
        if (backend == null) {
            throw new IllegalArgumentException("backend is null");
        }
        return new ReedSolomon(k, m, Kernels.of(backend));
    }

    public int dataShards() {
        return k;
    }

    public int parityShards() {
        return m;
    }

    public int totalShards() {
        return k + m;
    }

    public ErasureBackend backend() {
        return kernel.backend();
    }

    /** Computes shards[k..k+m) from shards[0..k) over {@code [offset, offset + length)}. */
    public void encode(byte[][] shards, int offset, int length) {
        ShardChecks.arrays(shards, k + m, offset, length, parityIdx);
        parityTables.code(shards, dataIdx, offset, shards, parityIdx, offset, length);
    }

    /** {@link #encode(byte[][], int, int)} over heap or direct buffers. */
    public void encode(ByteBuffer[] shards, int offset, int length) {
        MemorySegment[] segs = ShardChecks.buffers(shards, k + m, offset, length, parityIdx);
        parityTables.code(segs, dataIdx, offset, segs, parityIdx, offset, length);
    }

    /**
     * Fills every shard whose {@code present[i]} is false, data and parity alike, from the first k
     * present shards.
     *
     * @throws ErasureException with {@link ErasureException.Code#NOT_ENOUGH_SHARDS} when fewer
     *     than k shards are present
     */
    public void reconstruct(byte[][] shards, boolean[] present, int offset, int length) {
        DecodePlan plan = planFor(present);
        ShardChecks.arrays(shards, k + m, offset, length, plan.missing);
        if (plan.missing.length > 0) {
            plan.tables.code(shards, plan.sources, offset, shards, plan.missing, offset, length);
        }
    }

    /** {@link #reconstruct(byte[][], boolean[], int, int)} over heap or direct buffers. */
    public void reconstruct(ByteBuffer[] shards, boolean[] present, int offset, int length) {
        DecodePlan plan = planFor(present);
        MemorySegment[] segs = ShardChecks.buffers(shards, k + m, offset, length, plan.missing);
        if (plan.missing.length > 0) {
            plan.tables.code(segs, plan.sources, offset, segs, plan.missing, offset, length);
        }
    }

    /** Returns whether shards[k..k+m) are the parity of shards[0..k) over the range. */
    public boolean verify(byte[][] shards, int offset, int length) {
        ShardChecks.arrays(shards, k + m, offset, length, NO_OUTPUTS);
        byte[][] scratch = verifyScratch.get();
        for (int from = 0; from < length; from += VERIFY_BLOCK) {
            int n = Math.min(VERIFY_BLOCK, length - from);
            parityTables.code(shards, dataIdx, offset + from, scratch, identity, 0, n);
            for (int p = 0; p < m; p++) {
                int at = offset + from;
                if (!Arrays.equals(scratch[p], 0, n, shards[k + p], at, at + n)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** {@link #verify(byte[][], int, int)} over heap or direct buffers. */
    public boolean verify(ByteBuffer[] shards, int offset, int length) {
        MemorySegment[] segs = ShardChecks.buffers(shards, k + m, offset, length, NO_OUTPUTS);
        byte[][] scratch = verifyScratch.get();
        MemorySegment[] out = new MemorySegment[m];
        for (int p = 0; p < m; p++) {
            out[p] = MemorySegment.ofArray(scratch[p]);
        }
        for (int from = 0; from < length; from += VERIFY_BLOCK) {
            int n = Math.min(VERIFY_BLOCK, length - from);
            parityTables.code(segs, dataIdx, offset + from, out, identity, 0, n);
            for (int p = 0; p < m; p++) {
                long at = offset + from;
                if (MemorySegment.mismatch(out[p], 0, n, segs[k + p], at, at + n) != -1) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The plan for an erasure pattern; visible for tests of the cache. */
    DecodePlan planFor(boolean[] present) {
        if (present == null) {
            throw new IllegalArgumentException("present is null");
        }
        if (present.length != k + m) {
            throw new IllegalArgumentException("present.length must be k + m = " + (k + m)
                    + ", was " + present.length);
        }
        ErasurePattern pattern = ErasurePattern.of(present);
        int count = pattern.presentCount();
        if (count < k) {
            throw ErasureException.notEnoughShards(count, k);
        }
        return plans.get(pattern, this::newPlan);
    }

    private DecodePlan newPlan(ErasurePattern pattern) {
        int[] sources = new int[k];
        int[] missing = new int[k + m - pattern.presentCount()];
        for (int i = 0, s = 0, x = 0; i < k + m; i++) {
            if (!pattern.isPresent(i)) {
                missing[x++] = i;
            } else if (s < k) {
                sources[s++] = i;
            }
        }
        // Rows of the generator for the chosen sources; its inverse maps sources back to data.
        byte[] sub = new byte[k * k];
        for (int s = 0; s < k; s++) {
            System.arraycopy(generator, sources[s] * k, sub, s * k, k);
        }
        byte[] inverse = Matrices.invert(sub, k);
        byte[] rows = new byte[missing.length * k];
        for (int x = 0; x < missing.length; x++) {
            byte[] genRow = Arrays.copyOfRange(generator, missing[x] * k, missing[x] * k + k);
            System.arraycopy(Matrices.multiply(genRow, 1, k, inverse, k), 0, rows, x * k, k);
        }
        return new DecodePlan(sources, missing, kernel.prepare(rows, missing.length, k));
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    @Override
    public String toString() {
        return "RS(" + k + ", " + m + ") on " + kernel.backend().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Sources (the first k present shards), the missing shards and the matrix between them. */
    record DecodePlan(int[] sources, int[] missing, CodingTables tables) {}
}
