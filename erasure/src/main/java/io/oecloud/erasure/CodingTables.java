package io.oecloud.erasure;

import java.lang.foreign.MemorySegment;

/**
 * A coefficient matrix C ({@code rows x cols}) prepared for one kernel. {@code code} writes
 * {@code dst[dstIdx[r]][dstOff + i] = sum over c of C[r][c] * src[srcIdx[c]][srcOff + i]} for
 * i in [0, len). Arguments are already validated by {@link ReedSolomon}; outputs never alias inputs.
 */
abstract class CodingTables {
    final int rows;
    final int cols;

    CodingTables(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    abstract void code(byte[][] src, int[] srcIdx, int srcOff,
                       byte[][] dst, int[] dstIdx, int dstOff, int len);

    abstract void code(MemorySegment[] src, int[] srcIdx, long srcOff,
                       MemorySegment[] dst, int[] dstIdx, long dstOff, int len);
}
