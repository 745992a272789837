package io.oecloud.erasure;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Byte-at-a-time coding of the last {@code len % vectorWidth} bytes that a vector kernel leaves. */
final class Gf256Tail {
    private Gf256Tail() {}

    static byte[][] prepare(byte[] matrix, int rows, int cols) {
        byte[][] mul = new byte[rows * cols][];
        for (int i = 0; i < mul.length; i++) {
            mul[i] = Gf256.MUL[matrix[i] & 0xff];
        }
        return mul;
    }

    static void code(byte[][] mul, int rows, int cols, byte[][] src, int[] srcIdx, int srcOff,
                     byte[][] dst, int[] dstIdx, int dstOff, int from, int to) {
        for (int r = 0; r < rows; r++) {
            byte[] out = dst[dstIdx[r]];
            for (int i = from; i < to; i++) {
                int acc = 0;
                for (int c = 0; c < cols; c++) {
                    acc ^= mul[r * cols + c][src[srcIdx[c]][srcOff + i] & 0xff];
                }
                out[dstOff + i] = (byte) acc;
            }
        }
    }

    static void code(byte[][] mul, int rows, int cols, MemorySegment[] src, int[] srcIdx, long srcOff,
                     MemorySegment[] dst, int[] dstIdx, long dstOff, int from, int to) {
        for (int r = 0; r < rows; r++) {
            MemorySegment out = dst[dstIdx[r]];
            for (int i = from; i < to; i++) {
                int acc = 0;
                for (int c = 0; c < cols; c++) {
                    acc ^= mul[r * cols + c][src[srcIdx[c]].get(ValueLayout.JAVA_BYTE, srcOff + i) & 0xff];
                }
                out.set(ValueLayout.JAVA_BYTE, dstOff + i, (byte) acc);
            }
        }
    }
}
