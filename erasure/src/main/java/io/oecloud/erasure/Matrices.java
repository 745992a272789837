package io.oecloud.erasure;

/** Row-major matrices over GF(2^8), stored as {@code byte[rows * cols]}. */
final class Matrices {
    private Matrices() {}

    /**
     * The systematic generator of ISA-L's {@code gf_gen_cauchy1_matrix}: the k x k identity on top
     * of the Cauchy rows {@code a[i][j] = 1 / (i XOR j)} for i in [k, k + m), j in [0, k). Every
     * square submatrix of a Cauchy matrix is invertible, so any k rows of this matrix are too (MDS).
     */
    static byte[] cauchyGenerator(int k, int m) {
        int n = k + m;
        byte[] a = new byte[n * k];
        for (int i = 0; i < k; i++) {
            a[i * k + i] = 1;
        }
        for (int i = k; i < n; i++) {
            for (int j = 0; j < k; j++) {
                a[i * k + j] = (byte) Gf256.inverse(i ^ j);
            }
        }
        return a;
    }

    /** Returns the inverse of the n x n matrix {@code a} (Gauss-Jordan); {@code a} is unchanged. */
    static byte[] invert(byte[] a, int n) {
        byte[] work = a.clone();
        byte[] inv = new byte[n * n];
        for (int i = 0; i < n; i++) {
            inv[i * n + i] = 1;
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            while (pivot < n && work[pivot * n + col] == 0) {
                pivot++;
            }
            if (pivot == n) {
                throw new ArithmeticException("singular matrix at column " + col);
            }
            if (pivot != col) {
                swapRows(work, n, pivot, col);
                swapRows(inv, n, pivot, col);
            }
            int scale = Gf256.inverse(work[col * n + col] & 0xff);
            scaleRow(work, n, col, scale);
            scaleRow(inv, n, col, scale);
            for (int row = 0; row < n; row++) {
                int factor = work[row * n + col] & 0xff;
                if (row != col && factor != 0) {
                    addScaledRow(work, n, col, row, factor);
                    addScaledRow(inv, n, col, row, factor);
                }
            }
        }
        return inv;
    }

    /** Returns {@code a (r x n) * b (n x c)}. */
    static byte[] multiply(byte[] a, int r, int n, byte[] b, int c) {
        byte[] out = new byte[r * c];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                int acc = 0;
                for (int t = 0; t < n; t++) {
                    acc ^= Gf256.mul(a[i * n + t] & 0xff, b[t * c + j] & 0xff);
                }
                out[i * c + j] = (byte) acc;
            }
        }
        return out;
    }

    private static void swapRows(byte[] m, int n, int a, int b) {
        for (int j = 0; j < n; j++) {
            byte t = m[a * n + j];
            m[a * n + j] = m[b * n + j];
            m[b * n + j] = t;
        }
    }

    private static void scaleRow(byte[] m, int n, int row, int factor) {
        for (int j = 0; j < n; j++) {
            m[row * n + j] = Gf256.MUL[factor][m[row * n + j] & 0xff];
        }
    }

    private static void addScaledRow(byte[] m, int n, int from, int to, int factor) {
        for (int j = 0; j < n; j++) {
            m[to * n + j] ^= Gf256.MUL[factor][m[from * n + j] & 0xff];
        }
    }
}
