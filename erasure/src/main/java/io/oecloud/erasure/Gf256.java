package io.oecloud.erasure;

/**
 * Arithmetic in GF(2^8) with the reduction polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d) and
 * generator 2, the field of ISA-L, Hadoop and Ozone. Elements are ints in [0, 255].
 */
final class Gf256 {
    static final int POLYNOMIAL = 0x11d;

    private static final int[] EXP = new int[512];
    private static final int[] LOG = new int[256];
    /** MUL[a][b] = a * b; 64 KiB, shared by the scalar kernel and every tail loop. */
    static final byte[][] MUL = new byte[256][256];

    static {
        int x = 1;
        for (int i = 0; i < 255; i++) {
            EXP[i] = x;
            LOG[x] = i;
            x <<= 1;
            if ((x & 0x100) != 0) {
                x ^= POLYNOMIAL;
            }
        }
        // Doubling the table lets mul() skip a modulo.
        for (int i = 255; i < EXP.length; i++) {
            EXP[i] = EXP[i - 255];
        }
        for (int a = 0; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                MUL[a][b] = (byte) mul(a, b);
            }
        }
    }

    private Gf256() {}

    static int mul(int a, int b) {
        if (a == 0 || b == 0) {
            return 0;
        }
        return EXP[LOG[a] + LOG[b]];
    }

    static int inverse(int a) {
        if (a == 0) {
            throw new ArithmeticException("0 has no inverse in GF(2^8)");
        }
        return EXP[255 - LOG[a]];
    }
}
