package io.oecloud.proofs;

import static jdk.incubator.vector.VectorOperators.ROR;
import static jdk.incubator.vector.VectorOperators.XOR;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * BLAKE3 over 16 chunks at once on the Vector API: one chunk per lane of a 512-bit IntVector.
 *
 * <p>Each 64-byte block of the 16 chunks is loaded as 16 row vectors and transposed in registers
 * (four rounds of two-source zips, {@code vpermi2d}), so vector w holds message word w of every
 * chunk. Chaining values stay in that transposed layout ({@link #cvs}: plane w holds word w of
 * every chunk), so parents are formed 16 at a time by an even/odd zip of two loads. The round
 * function reads message words through the schedule table, which keeps the method small enough
 * for C2 (a fully unrolled one is not compiled and every vector ends up on the heap).
 * Nothing is allocated per call. Instances hold scratch space and are not thread-safe.
 */
final class Blake3Simd {
    static final VectorSpecies<Integer> S = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_512;
    static final int LANES = 16;
    /** Largest subtree hashed in one call; bounds the chaining-value scratch. */
    static final int MAX_SUBTREE_CHUNKS = 512;
    private static final int CHUNK = Blake3.CHUNK_LEN;
    private static final int CAP = MAX_SUBTREE_CHUNKS + 2 * LANES;
    private static final int[] SCHEDULE = Blake3.SCHEDULE;
    private static final IntVector ZIP_LO = indexes(i -> (i & 1) == 0 ? i / 2 : 16 + i / 2);
    private static final IntVector ZIP_HI = indexes(i -> (i & 1) == 0 ? 8 + i / 2 : 24 + i / 2);
    private static final IntVector EVEN = indexes(i -> 2 * i);
    private static final IntVector ODD = indexes(i -> 2 * i + 1);
    private static final IntVector IOTA = indexes(i -> i);
    private static final int[] IV_LANES = new int[8 * LANES];
    private static final int[] ZERO_LANES = new int[2 * LANES];

    static {
        for (int w = 0; w < 8; w++) {
            java.util.Arrays.fill(IV_LANES, w * LANES, (w + 1) * LANES, Blake3.IV[w]);
        }
    }

    /** Chaining values, transposed: word w of node i at cvs[w * CAP + i]. */
    private final int[] cvs = new int[8 * CAP];
    /** The current block's message words, transposed: word w of lane l at msg[w * 16 + l]. */
    private final int[] msg = new int[16 * LANES];
    /** Chaining values of the 16 chunks in progress, transposed. */
    private final int[] state = new int[8 * LANES];
    /** Chunk counters of the 16 lanes: low words, then high words. */
    private final int[] counters = new int[2 * LANES];

    static boolean hardwareSupported() {
        return IntVector.SPECIES_PREFERRED.length() >= LANES;
    }

    private static IntVector indexes(java.util.function.IntUnaryOperator f) {
        int[] a = new int[LANES];
        for (int i = 0; i < LANES; i++) {
            a[i] = f.applyAsInt(i);
        }
        return IntVector.fromArray(S, a, 0);
    }

    /**
     * Writes to {@code out[0..8)} and {@code out[8..16)} the chaining values of the two children of
     * the root of the subtree of {@code chunks} whole chunks
     * (a power of two, 16 to {@link #MAX_SUBTREE_CHUNKS}) starting at {@code off}, whose first chunk
     * has index {@code counter} in the whole input.
     */
    void subtree(MemorySegment seg, long off, int chunks, long counter, int[] out) {
        for (int g = 0; g < chunks; g += LANES) {
            chunks16(seg, off + (long) g * CHUNK, counter + g, g);
        }
        for (int n = chunks; n > 2; n >>>= 1) {
            for (int p = 0; p < n / 2; p += LANES) {
                parents16(2 * p, p);
            }
        }
        for (int w = 0; w < 8; w++) {
            out[w] = cvs[w * CAP];
            out[8 + w] = cvs[w * CAP + 1];
        }
    }

    /**
     * Writes the chaining values of the {@code chunks / levelChunks} consecutive nodes of
     * {@code levelChunks} chunks each (a power of two, 1 to {@code chunks}) inside the subtree of
     * {@code chunks} whole chunks (as in {@link #subtree}) to {@code out}, 8 words a node from
     * {@code outOff}. None of them is flagged ROOT. For outboards: node CVs below a subtree's root.
     */
    void subtreeLevel(MemorySegment seg, long off, int chunks, long counter, int levelChunks, int[] out, int outOff) {
        for (int g = 0; g < chunks; g += LANES) {
            chunks16(seg, off + (long) g * CHUNK, counter + g, g);
        }
        int nodes = chunks / levelChunks;
        for (int n = chunks; n > nodes; n >>>= 1) {
            for (int p = 0; p < n / 2; p += LANES) {
                parents16(2 * p, p);
            }
        }
        for (int i = 0; i < nodes; i++) {
            for (int w = 0; w < 8; w++) {
                out[outOff + 8 * i + w] = cvs[w * CAP + i];
            }
        }
    }

    private void chunks16(MemorySegment seg, long off, long counter, int dst) {
        // counter is a multiple of 16, so counter + lane never carries into the high word.
        IntVector.broadcast(S, (int) counter).add(IOTA).intoArray(counters, 0);
        IntVector.broadcast(S, (int) (counter >>> 32)).intoArray(counters, LANES);
        System.arraycopy(IV_LANES, 0, state, 0, IV_LANES.length);
        for (int b = 0; b < 16; b++) {
            transpose(seg, off + b * Blake3.BLOCK_LEN);
            int flags = (b == 0 ? Blake3.CHUNK_START : 0) | (b == 15 ? Blake3.CHUNK_END : 0);
            if (b < 15) {
                compress(state, 0, LANES, counters, flags, state, 0, LANES);
            } else {
                compress(state, 0, LANES, counters, flags, cvs, dst, CAP);
            }
        }
    }

    /** Parents of children [child, child + 32) into [dst, dst + 16). */
    private void parents16(int child, int dst) {
        for (int w = 0; w < 8; w++) {
            IntVector a = IntVector.fromArray(S, cvs, w * CAP + child);
            IntVector b = IntVector.fromArray(S, cvs, w * CAP + child + LANES);
            EVEN.selectFrom(a, b).intoArray(msg, w * LANES);
            ODD.selectFrom(a, b).intoArray(msg, (8 + w) * LANES);
        }
        compress(IV_LANES, 0, LANES, ZERO_LANES, Blake3.PARENT, cvs, dst, CAP);
    }

    /** Loads block {@code off} of 16 consecutive chunks and stores it transposed into msg. */
    private void transpose(MemorySegment seg, long off) {
        IntVector r0 = ByteVector.fromMemorySegment(B, seg, off + 0 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r1 = ByteVector.fromMemorySegment(B, seg, off + 1 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r2 = ByteVector.fromMemorySegment(B, seg, off + 2 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r3 = ByteVector.fromMemorySegment(B, seg, off + 3 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r4 = ByteVector.fromMemorySegment(B, seg, off + 4 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r5 = ByteVector.fromMemorySegment(B, seg, off + 5 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r6 = ByteVector.fromMemorySegment(B, seg, off + 6 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r7 = ByteVector.fromMemorySegment(B, seg, off + 7 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r8 = ByteVector.fromMemorySegment(B, seg, off + 8 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r9 = ByteVector.fromMemorySegment(B, seg, off + 9 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r10 = ByteVector.fromMemorySegment(B, seg, off + 10 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r11 = ByteVector.fromMemorySegment(B, seg, off + 11 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r12 = ByteVector.fromMemorySegment(B, seg, off + 12 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r13 = ByteVector.fromMemorySegment(B, seg, off + 13 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r14 = ByteVector.fromMemorySegment(B, seg, off + 14 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector r15 = ByteVector.fromMemorySegment(B, seg, off + 15 * CHUNK, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
        IntVector t0 = ZIP_LO.selectFrom(r0, r8);
        IntVector t1 = ZIP_HI.selectFrom(r0, r8);
        IntVector t2 = ZIP_LO.selectFrom(r1, r9);
        IntVector t3 = ZIP_HI.selectFrom(r1, r9);
        IntVector t4 = ZIP_LO.selectFrom(r2, r10);
        IntVector t5 = ZIP_HI.selectFrom(r2, r10);
        IntVector t6 = ZIP_LO.selectFrom(r3, r11);
        IntVector t7 = ZIP_HI.selectFrom(r3, r11);
        IntVector t8 = ZIP_LO.selectFrom(r4, r12);
        IntVector t9 = ZIP_HI.selectFrom(r4, r12);
        IntVector t10 = ZIP_LO.selectFrom(r5, r13);
        IntVector t11 = ZIP_HI.selectFrom(r5, r13);
        IntVector t12 = ZIP_LO.selectFrom(r6, r14);
        IntVector t13 = ZIP_HI.selectFrom(r6, r14);
        IntVector t14 = ZIP_LO.selectFrom(r7, r15);
        IntVector t15 = ZIP_HI.selectFrom(r7, r15);
        r0 = ZIP_LO.selectFrom(t0, t8);
        r1 = ZIP_HI.selectFrom(t0, t8);
        r2 = ZIP_LO.selectFrom(t1, t9);
        r3 = ZIP_HI.selectFrom(t1, t9);
        r4 = ZIP_LO.selectFrom(t2, t10);
        r5 = ZIP_HI.selectFrom(t2, t10);
        r6 = ZIP_LO.selectFrom(t3, t11);
        r7 = ZIP_HI.selectFrom(t3, t11);
        r8 = ZIP_LO.selectFrom(t4, t12);
        r9 = ZIP_HI.selectFrom(t4, t12);
        r10 = ZIP_LO.selectFrom(t5, t13);
        r11 = ZIP_HI.selectFrom(t5, t13);
        r12 = ZIP_LO.selectFrom(t6, t14);
        r13 = ZIP_HI.selectFrom(t6, t14);
        r14 = ZIP_LO.selectFrom(t7, t15);
        r15 = ZIP_HI.selectFrom(t7, t15);
        t0 = ZIP_LO.selectFrom(r0, r8);
        t1 = ZIP_HI.selectFrom(r0, r8);
        t2 = ZIP_LO.selectFrom(r1, r9);
        t3 = ZIP_HI.selectFrom(r1, r9);
        t4 = ZIP_LO.selectFrom(r2, r10);
        t5 = ZIP_HI.selectFrom(r2, r10);
        t6 = ZIP_LO.selectFrom(r3, r11);
        t7 = ZIP_HI.selectFrom(r3, r11);
        t8 = ZIP_LO.selectFrom(r4, r12);
        t9 = ZIP_HI.selectFrom(r4, r12);
        t10 = ZIP_LO.selectFrom(r5, r13);
        t11 = ZIP_HI.selectFrom(r5, r13);
        t12 = ZIP_LO.selectFrom(r6, r14);
        t13 = ZIP_HI.selectFrom(r6, r14);
        t14 = ZIP_LO.selectFrom(r7, r15);
        t15 = ZIP_HI.selectFrom(r7, r15);
        r0 = ZIP_LO.selectFrom(t0, t8);
        r1 = ZIP_HI.selectFrom(t0, t8);
        r2 = ZIP_LO.selectFrom(t1, t9);
        r3 = ZIP_HI.selectFrom(t1, t9);
        r4 = ZIP_LO.selectFrom(t2, t10);
        r5 = ZIP_HI.selectFrom(t2, t10);
        r6 = ZIP_LO.selectFrom(t3, t11);
        r7 = ZIP_HI.selectFrom(t3, t11);
        r8 = ZIP_LO.selectFrom(t4, t12);
        r9 = ZIP_HI.selectFrom(t4, t12);
        r10 = ZIP_LO.selectFrom(t5, t13);
        r11 = ZIP_HI.selectFrom(t5, t13);
        r12 = ZIP_LO.selectFrom(t6, t14);
        r13 = ZIP_HI.selectFrom(t6, t14);
        r14 = ZIP_LO.selectFrom(t7, t15);
        r15 = ZIP_HI.selectFrom(t7, t15);
        r0.intoArray(msg, 0);
        r1.intoArray(msg, 16);
        r2.intoArray(msg, 32);
        r3.intoArray(msg, 48);
        r4.intoArray(msg, 64);
        r5.intoArray(msg, 80);
        r6.intoArray(msg, 96);
        r7.intoArray(msg, 112);
        r8.intoArray(msg, 128);
        r9.intoArray(msg, 144);
        r10.intoArray(msg, 160);
        r11.intoArray(msg, 176);
        r12.intoArray(msg, 192);
        r13.intoArray(msg, 208);
        r14.intoArray(msg, 224);
        r15.intoArray(msg, 240);
    }

    /**
     * Compresses 16 lanes: chaining values from {@code in} (word w at inBase + w * inStride), the
     * message from msg, and writes the new chaining values to {@code out} the same way.
     */
    private void compress(int[] in, int inBase, int inStride, int[] ctr, int flags,
                          int[] out, int outBase, int outStride) {
        IntVector v0 = IntVector.fromArray(S, in, inBase);
        IntVector v1 = IntVector.fromArray(S, in, inBase + inStride);
        IntVector v2 = IntVector.fromArray(S, in, inBase + 2 * inStride);
        IntVector v3 = IntVector.fromArray(S, in, inBase + 3 * inStride);
        IntVector v4 = IntVector.fromArray(S, in, inBase + 4 * inStride);
        IntVector v5 = IntVector.fromArray(S, in, inBase + 5 * inStride);
        IntVector v6 = IntVector.fromArray(S, in, inBase + 6 * inStride);
        IntVector v7 = IntVector.fromArray(S, in, inBase + 7 * inStride);
        IntVector v8 = IntVector.broadcast(S, Blake3.IV[0]);
        IntVector v9 = IntVector.broadcast(S, Blake3.IV[1]);
        IntVector v10 = IntVector.broadcast(S, Blake3.IV[2]);
        IntVector v11 = IntVector.broadcast(S, Blake3.IV[3]);
        IntVector v12 = IntVector.fromArray(S, ctr, 0);
        IntVector v13 = IntVector.fromArray(S, ctr, LANES);
        IntVector v14 = IntVector.broadcast(S, Blake3.BLOCK_LEN);
        IntVector v15 = IntVector.broadcast(S, flags);
        for (int s = 0; s < 7 * 16; s += 16) {
            v0 = v0.add(v4).add(IntVector.fromArray(S, msg, SCHEDULE[s + 0] << 4));
            v12 = v12.lanewise(XOR, v0).lanewise(ROR, 16);
            v8 = v8.add(v12);
            v4 = v4.lanewise(XOR, v8).lanewise(ROR, 12);
            v0 = v0.add(v4).add(IntVector.fromArray(S, msg, SCHEDULE[s + 1] << 4));
            v12 = v12.lanewise(XOR, v0).lanewise(ROR, 8);
            v8 = v8.add(v12);
            v4 = v4.lanewise(XOR, v8).lanewise(ROR, 7);
            v1 = v1.add(v5).add(IntVector.fromArray(S, msg, SCHEDULE[s + 2] << 4));
            v13 = v13.lanewise(XOR, v1).lanewise(ROR, 16);
            v9 = v9.add(v13);
            v5 = v5.lanewise(XOR, v9).lanewise(ROR, 12);
            v1 = v1.add(v5).add(IntVector.fromArray(S, msg, SCHEDULE[s + 3] << 4));
            v13 = v13.lanewise(XOR, v1).lanewise(ROR, 8);
            v9 = v9.add(v13);
            v5 = v5.lanewise(XOR, v9).lanewise(ROR, 7);
            v2 = v2.add(v6).add(IntVector.fromArray(S, msg, SCHEDULE[s + 4] << 4));
            v14 = v14.lanewise(XOR, v2).lanewise(ROR, 16);
            v10 = v10.add(v14);
            v6 = v6.lanewise(XOR, v10).lanewise(ROR, 12);
            v2 = v2.add(v6).add(IntVector.fromArray(S, msg, SCHEDULE[s + 5] << 4));
            v14 = v14.lanewise(XOR, v2).lanewise(ROR, 8);
            v10 = v10.add(v14);
            v6 = v6.lanewise(XOR, v10).lanewise(ROR, 7);
            v3 = v3.add(v7).add(IntVector.fromArray(S, msg, SCHEDULE[s + 6] << 4));
            v15 = v15.lanewise(XOR, v3).lanewise(ROR, 16);
            v11 = v11.add(v15);
            v7 = v7.lanewise(XOR, v11).lanewise(ROR, 12);
            v3 = v3.add(v7).add(IntVector.fromArray(S, msg, SCHEDULE[s + 7] << 4));
            v15 = v15.lanewise(XOR, v3).lanewise(ROR, 8);
            v11 = v11.add(v15);
            v7 = v7.lanewise(XOR, v11).lanewise(ROR, 7);
            v0 = v0.add(v5).add(IntVector.fromArray(S, msg, SCHEDULE[s + 8] << 4));
            v15 = v15.lanewise(XOR, v0).lanewise(ROR, 16);
            v10 = v10.add(v15);
            v5 = v5.lanewise(XOR, v10).lanewise(ROR, 12);
            v0 = v0.add(v5).add(IntVector.fromArray(S, msg, SCHEDULE[s + 9] << 4));
            v15 = v15.lanewise(XOR, v0).lanewise(ROR, 8);
            v10 = v10.add(v15);
            v5 = v5.lanewise(XOR, v10).lanewise(ROR, 7);
            v1 = v1.add(v6).add(IntVector.fromArray(S, msg, SCHEDULE[s + 10] << 4));
            v12 = v12.lanewise(XOR, v1).lanewise(ROR, 16);
            v11 = v11.add(v12);
            v6 = v6.lanewise(XOR, v11).lanewise(ROR, 12);
            v1 = v1.add(v6).add(IntVector.fromArray(S, msg, SCHEDULE[s + 11] << 4));
            v12 = v12.lanewise(XOR, v1).lanewise(ROR, 8);
            v11 = v11.add(v12);
            v6 = v6.lanewise(XOR, v11).lanewise(ROR, 7);
            v2 = v2.add(v7).add(IntVector.fromArray(S, msg, SCHEDULE[s + 12] << 4));
            v13 = v13.lanewise(XOR, v2).lanewise(ROR, 16);
            v8 = v8.add(v13);
            v7 = v7.lanewise(XOR, v8).lanewise(ROR, 12);
            v2 = v2.add(v7).add(IntVector.fromArray(S, msg, SCHEDULE[s + 13] << 4));
            v13 = v13.lanewise(XOR, v2).lanewise(ROR, 8);
            v8 = v8.add(v13);
            v7 = v7.lanewise(XOR, v8).lanewise(ROR, 7);
            v3 = v3.add(v4).add(IntVector.fromArray(S, msg, SCHEDULE[s + 14] << 4));
            v14 = v14.lanewise(XOR, v3).lanewise(ROR, 16);
            v9 = v9.add(v14);
            v4 = v4.lanewise(XOR, v9).lanewise(ROR, 12);
            v3 = v3.add(v4).add(IntVector.fromArray(S, msg, SCHEDULE[s + 15] << 4));
            v14 = v14.lanewise(XOR, v3).lanewise(ROR, 8);
            v9 = v9.add(v14);
            v4 = v4.lanewise(XOR, v9).lanewise(ROR, 7);
        }
        v0.lanewise(XOR, v8).intoArray(out, outBase);
        v1.lanewise(XOR, v9).intoArray(out, outBase + outStride);
        v2.lanewise(XOR, v10).intoArray(out, outBase + 2 * outStride);
        v3.lanewise(XOR, v11).intoArray(out, outBase + 3 * outStride);
        v4.lanewise(XOR, v12).intoArray(out, outBase + 4 * outStride);
        v5.lanewise(XOR, v13).intoArray(out, outBase + 5 * outStride);
        v6.lanewise(XOR, v14).intoArray(out, outBase + 6 * outStride);
        v7.lanewise(XOR, v15).intoArray(out, outBase + 7 * outStride);
    }
}
