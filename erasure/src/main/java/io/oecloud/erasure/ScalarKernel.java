package io.oecloud.erasure;

import java.lang.foreign.MemorySegment;

/** Table-driven kernel: one 256-byte row of {@link Gf256#MUL} per coefficient, a byte at a time. */
final class ScalarKernel implements CodingKernel {
    /** Column block that keeps every input's slice in L1/L2 while all output rows consume it. */
    private static final int BLOCK = 8 * 1024;

    static final ScalarKernel INSTANCE = new ScalarKernel();

    private ScalarKernel() {}

    @Override
    public ErasureBackend backend() {
        return ErasureBackend.SCALAR;
    }

    @Override
    public CodingTables prepare(byte[] matrix, int rows, int cols) {
        byte[][] tables = new byte[rows * cols][];
        for (int i = 0; i < tables.length; i++) {
            tables[i] = Gf256.MUL[matrix[i] & 0xff];
        }
        return new Tables(rows, cols, tables);
    }

    private static final class Tables extends CodingTables {
        private final byte[][] mul;

        Tables(int rows, int cols, byte[][] mul) {
            super(rows, cols);
            this.mul = mul;
        }

        @Override
        void code(byte[][] src, int[] srcIdx, int srcOff, byte[][] dst, int[] dstIdx, int dstOff, int len) {
            for (int blk = 0; blk < len; blk += BLOCK) {
                int n = Math.min(BLOCK, len - blk);
                for (int r = 0; r < rows; r++) {
                    byte[] out = dst[dstIdx[r]];
                    int o = dstOff + blk;
                    byte[] t = mul[r * cols];
                    byte[] in = src[srcIdx[0]];
                    int s = srcOff + blk;
                    for (int i = 0; i < n; i++) {
                        out[o + i] = t[in[s + i] & 0xff];
                    }
                    for (int c = 1; c < cols; c++) {
                        t = mul[r * cols + c];
                        in = src[srcIdx[c]];
                        for (int i = 0; i < n; i++) {
                            out[o + i] ^= t[in[s + i] & 0xff];
                        }
                    }
                }
            }
        }

        @Override
        void code(MemorySegment[] src, int[] srcIdx, long srcOff,
                  MemorySegment[] dst, int[] dstIdx, long dstOff, int len) {
            Gf256Tail.code(mul, rows, cols, src, srcIdx, srcOff, dst, dstIdx, dstOff, 0, len);
        }
    }
}
