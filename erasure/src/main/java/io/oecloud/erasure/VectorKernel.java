package io.oecloud.erasure;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Split-nibble kernel on the Vector API.
 *
 * <p>For a coefficient c, {@code c * b = c * (b & 0x0f) XOR c * (b & 0xf0)}: two 16-entry tables
 * indexed by the low and the high nibble of b. {@code selectFrom} looks up a whole vector of
 * nibbles at once (one {@code vpermb} with AVX-512 VBMI, {@code vpshufb} on narrower CPUs). Each
 * input vector is loaded and split into nibbles once and then feeds up to four output
 * accumulators held in registers; wider codes run in groups of four rows over column blocks that
 * stay in cache between groups. Nothing is allocated per call.
 */
final class VectorKernel implements CodingKernel {
    private static final VectorSpecies<Byte> SPECIES = ByteVector.SPECIES_PREFERRED;
    private static final int V = SPECIES.length();
    /** Column block for codes with more than 4 output rows: k inputs of this size stay in L2. */
    private static final int BLOCK = 16 * 1024;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    static final VectorKernel INSTANCE = new VectorKernel();

    private VectorKernel() {}

    @Override
    public ErasureBackend backend() {
        return ErasureBackend.VECTOR;
    }

    /** The vector width in bytes that this JVM and CPU give us. */
    static int vectorBytes() {
        return V;
    }

    @Override
    public CodingTables prepare(byte[] matrix, int rows, int cols) {
        // Per coefficient: V bytes of low-nibble products, then V bytes of high-nibble products
        // (the 16 entries repeated so that per-128-bit-lane shuffles see them too).
        byte[] t = new byte[rows * cols * 2 * V];
        for (int rc = 0; rc < rows * cols; rc++) {
            byte[] mul = Gf256.MUL[matrix[rc] & 0xff];
            int base = rc * 2 * V;
            for (int i = 0; i < V; i++) {
                t[base + i] = mul[i & 0x0f];
                t[base + V + i] = mul[(i & 0x0f) << 4];
            }
        }
        return new Tables(rows, cols, t, Gf256Tail.prepare(matrix, rows, cols));
    }

    private static final class Tables extends CodingTables {
        private final byte[] t;
        private final byte[][] tail;

        Tables(int rows, int cols, byte[] t, byte[][] tail) {
            super(rows, cols);
            this.t = t;
            this.tail = tail;
        }

        @Override
        void code(byte[][] src, int[] srcIdx, int srcOff, byte[][] dst, int[] dstIdx, int dstOff, int len) {
            int vecLen = len - len % V;
            int block = rows <= 4 ? Math.max(vecLen, 1) : BLOCK;
            for (int from = 0; from < vecLen; from += block) {
                int to = Math.min(vecLen, from + block);
                int r = 0;
                for (; rows - r >= 4; r += 4) {
                    rows4(t, r, cols, src, srcIdx, srcOff, dst[dstIdx[r]], dst[dstIdx[r + 1]],
                            dst[dstIdx[r + 2]], dst[dstIdx[r + 3]], dstOff, from, to);
                }
                switch (rows - r) {
                    case 3 -> rows3(t, r, cols, src, srcIdx, srcOff, dst[dstIdx[r]], dst[dstIdx[r + 1]],
                            dst[dstIdx[r + 2]], dstOff, from, to);
                    case 2 -> rows2(t, r, cols, src, srcIdx, srcOff, dst[dstIdx[r]], dst[dstIdx[r + 1]],
                            dstOff, from, to);
                    case 1 -> rows1(t, r, cols, src, srcIdx, srcOff, dst[dstIdx[r]], dstOff, from, to);
                    default -> { }
                }
            }
            Gf256Tail.code(tail, rows, cols, src, srcIdx, srcOff, dst, dstIdx, dstOff, vecLen, len);
        }

        @Override
        void code(MemorySegment[] src, int[] srcIdx, long srcOff,
                  MemorySegment[] dst, int[] dstIdx, long dstOff, int len) {
            int vecLen = len - len % V;
            int block = rows <= 4 ? Math.max(vecLen, 1) : BLOCK;
            for (int from = 0; from < vecLen; from += block) {
                int to = Math.min(vecLen, from + block);
                int r = 0;
                for (; rows - r >= 4; r += 4) {
                    rows4(t, r, cols, src, srcIdx, srcOff, dst[dstIdx[r]], dst[dstIdx[r + 1]],
                            dst[dstIdx[r + 2]], dst[dstIdx[r + 3]], dstOff, from, to);
                }
                switch (rows - r) {
                    case 3 -> rows3(t, r, cols, src, srcIdx, srcOff, dst[dstIdx[r]], dst[dstIdx[r + 1]],
                            dst[dstIdx[r + 2]], dstOff, from, to);
                    case 2 -> rows2(t, r, cols, src, srcIdx, srcOff, dst[dstIdx[r]], dst[dstIdx[r + 1]],
                            dstOff, from, to);
                    case 1 -> rows1(t, r, cols, src, srcIdx, srcOff, dst[dstIdx[r]], dstOff, from, to);
                    default -> { }
                }
            }
            Gf256Tail.code(tail, rows, cols, src, srcIdx, srcOff, dst, dstIdx, dstOff, vecLen, len);
        }
    }

    /** acc ^ (c * in) for one coefficient whose tables start at {@code tOff}. */
    private static ByteVector mulAdd(ByteVector acc, ByteVector lo, ByteVector hi, byte[] t, int tOff) {
        ByteVector pl = lo.selectFrom(ByteVector.fromArray(SPECIES, t, tOff));
        ByteVector ph = hi.selectFrom(ByteVector.fromArray(SPECIES, t, tOff + V));
        return acc.lanewise(VectorOperators.XOR, pl).lanewise(VectorOperators.XOR, ph);
    }

    private static ByteVector low(ByteVector in) {
        return in.and((byte) 0x0f);
    }

    private static ByteVector high(ByteVector in) {
        return in.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f);
    }

    private static void rows4(byte[] t, int r, int cols, byte[][] src, int[] srcIdx, int srcOff,
                              byte[] o0, byte[] o1, byte[] o2, byte[] o3, int dstOff, int from, int to) {
        int stride = cols * 2 * V;
        int base = r * stride;
        for (int i = from; i < to; i += V) {
            ByteVector a0 = ByteVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0; c < cols; c++) {
                ByteVector in = ByteVector.fromArray(SPECIES, src[srcIdx[c]], srcOff + i);
                ByteVector lo = low(in), hi = high(in);
                int tc = base + c * 2 * V;
                a0 = mulAdd(a0, lo, hi, t, tc);
                a1 = mulAdd(a1, lo, hi, t, tc + stride);
                a2 = mulAdd(a2, lo, hi, t, tc + 2 * stride);
                a3 = mulAdd(a3, lo, hi, t, tc + 3 * stride);
            }
            a0.intoArray(o0, dstOff + i);
            a1.intoArray(o1, dstOff + i);
            a2.intoArray(o2, dstOff + i);
            a3.intoArray(o3, dstOff + i);
        }
    }

    private static void rows3(byte[] t, int r, int cols, byte[][] src, int[] srcIdx, int srcOff,
                              byte[] o0, byte[] o1, byte[] o2, int dstOff, int from, int to) {
        int stride = cols * 2 * V;
        int base = r * stride;
        for (int i = from; i < to; i += V) {
            ByteVector a0 = ByteVector.zero(SPECIES), a1 = a0, a2 = a0;
            for (int c = 0; c < cols; c++) {
                ByteVector in = ByteVector.fromArray(SPECIES, src[srcIdx[c]], srcOff + i);
                ByteVector lo = low(in), hi = high(in);
                int tc = base + c * 2 * V;
                a0 = mulAdd(a0, lo, hi, t, tc);
                a1 = mulAdd(a1, lo, hi, t, tc + stride);
                a2 = mulAdd(a2, lo, hi, t, tc + 2 * stride);
            }
            a0.intoArray(o0, dstOff + i);
            a1.intoArray(o1, dstOff + i);
            a2.intoArray(o2, dstOff + i);
        }
    }

    private static void rows2(byte[] t, int r, int cols, byte[][] src, int[] srcIdx, int srcOff,
                              byte[] o0, byte[] o1, int dstOff, int from, int to) {
        int stride = cols * 2 * V;
        int base = r * stride;
        for (int i = from; i < to; i += V) {
            ByteVector a0 = ByteVector.zero(SPECIES), a1 = a0;
            for (int c = 0; c < cols; c++) {
                ByteVector in = ByteVector.fromArray(SPECIES, src[srcIdx[c]], srcOff + i);
                ByteVector lo = low(in), hi = high(in);
                int tc = base + c * 2 * V;
                a0 = mulAdd(a0, lo, hi, t, tc);
                a1 = mulAdd(a1, lo, hi, t, tc + stride);
            }
            a0.intoArray(o0, dstOff + i);
            a1.intoArray(o1, dstOff + i);
        }
    }

    private static void rows1(byte[] t, int r, int cols, byte[][] src, int[] srcIdx, int srcOff,
                              byte[] o0, int dstOff, int from, int to) {
        int base = r * cols * 2 * V;
        for (int i = from; i < to; i += V) {
            ByteVector a0 = ByteVector.zero(SPECIES);
            for (int c = 0; c < cols; c++) {
                ByteVector in = ByteVector.fromArray(SPECIES, src[srcIdx[c]], srcOff + i);
                a0 = mulAdd(a0, low(in), high(in), t, base + c * 2 * V);
            }
            a0.intoArray(o0, dstOff + i);
        }
    }

    // The same loops over memory segments (heap or direct buffers, native memory).

    private static ByteVector load(MemorySegment s, long off) {
        return ByteVector.fromMemorySegment(SPECIES, s, off, ORDER);
    }

    private static void rows4(byte[] t, int r, int cols, MemorySegment[] src, int[] srcIdx, long srcOff,
                              MemorySegment o0, MemorySegment o1, MemorySegment o2, MemorySegment o3, long dstOff, int from, int to) {
        int stride = cols * 2 * V;
        int base = r * stride;
        for (int i = from; i < to; i += V) {
            ByteVector a0 = ByteVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0; c < cols; c++) {
                ByteVector in = load(src[srcIdx[c]], srcOff + i);
                ByteVector lo = low(in), hi = high(in);
                int tc = base + c * 2 * V;
                a0 = mulAdd(a0, lo, hi, t, tc);
                a1 = mulAdd(a1, lo, hi, t, tc + stride);
                a2 = mulAdd(a2, lo, hi, t, tc + 2 * stride);
                a3 = mulAdd(a3, lo, hi, t, tc + 3 * stride);
            }
            a0.intoMemorySegment(o0, dstOff + i, ORDER);
            a1.intoMemorySegment(o1, dstOff + i, ORDER);
            a2.intoMemorySegment(o2, dstOff + i, ORDER);
            a3.intoMemorySegment(o3, dstOff + i, ORDER);
        }
    }

    private static void rows3(byte[] t, int r, int cols, MemorySegment[] src, int[] srcIdx, long srcOff,
                              MemorySegment o0, MemorySegment o1, MemorySegment o2, long dstOff, int from, int to) {
        int stride = cols * 2 * V;
        int base = r * stride;
        for (int i = from; i < to; i += V) {
            ByteVector a0 = ByteVector.zero(SPECIES), a1 = a0, a2 = a0;
            for (int c = 0; c < cols; c++) {
                ByteVector in = load(src[srcIdx[c]], srcOff + i);
                ByteVector lo = low(in), hi = high(in);
                int tc = base + c * 2 * V;
                a0 = mulAdd(a0, lo, hi, t, tc);
                a1 = mulAdd(a1, lo, hi, t, tc + stride);
                a2 = mulAdd(a2, lo, hi, t, tc + 2 * stride);
            }
            a0.intoMemorySegment(o0, dstOff + i, ORDER);
            a1.intoMemorySegment(o1, dstOff + i, ORDER);
            a2.intoMemorySegment(o2, dstOff + i, ORDER);
        }
    }

    private static void rows2(byte[] t, int r, int cols, MemorySegment[] src, int[] srcIdx, long srcOff,
                              MemorySegment o0, MemorySegment o1, long dstOff, int from, int to) {
        int stride = cols * 2 * V;
        int base = r * stride;
        for (int i = from; i < to; i += V) {
            ByteVector a0 = ByteVector.zero(SPECIES), a1 = a0;
            for (int c = 0; c < cols; c++) {
                ByteVector in = load(src[srcIdx[c]], srcOff + i);
                ByteVector lo = low(in), hi = high(in);
                int tc = base + c * 2 * V;
                a0 = mulAdd(a0, lo, hi, t, tc);
                a1 = mulAdd(a1, lo, hi, t, tc + stride);
            }
            a0.intoMemorySegment(o0, dstOff + i, ORDER);
            a1.intoMemorySegment(o1, dstOff + i, ORDER);
        }
    }

    private static void rows1(byte[] t, int r, int cols, MemorySegment[] src, int[] srcIdx, long srcOff,
                              MemorySegment o0, long dstOff, int from, int to) {
        int base = r * cols * 2 * V;
        for (int i = from; i < to; i += V) {
            ByteVector a0 = ByteVector.zero(SPECIES);
            for (int c = 0; c < cols; c++) {
                ByteVector in = load(src[srcIdx[c]], srcOff + i);
                a0 = mulAdd(a0, low(in), high(in), t, base + c * 2 * V);
            }
            a0.intoMemorySegment(o0, dstOff + i, ORDER);
        }
    }
}
