package io.oecloud.erasure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class Gf256Test {
    @Test
    void mul_byInverse_isOne_forEveryNonZeroElement() {
        for (int a = 1; a < 256; a++) {
            assertEquals(1, Gf256.mul(a, Gf256.inverse(a)), "a=" + a);
        }
        assertThrows(ArithmeticException.class, () -> Gf256.inverse(0));
    }

    @Test
    void mul_matchesCarrylessMultiplyModulo0x11d() {
        for (int a = 0; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                int p = 0;
                for (int i = 0; i < 8; i++) {
                    if ((b & (1 << i)) != 0) {
                        p ^= a << i;
                    }
                }
                for (int bit = 15; bit >= 8; bit--) {
                    if ((p & (1 << bit)) != 0) {
                        p ^= Gf256.POLYNOMIAL << (bit - 8);
                    }
                }
                assertEquals(p, Gf256.mul(a, b));
                assertEquals((byte) p, Gf256.MUL[a][b]);
            }
        }
    }

    @Test
    void invert_timesOriginal_isIdentity() {
        Random rnd = new Random(1);
        for (int k : new int[] {1, 2, 5, 10, 17}) {
            byte[] gen = Matrices.cauchyGenerator(k, 4);
            // rows 2..k+2: a mix of identity and Cauchy rows, always invertible
            byte[] sub = java.util.Arrays.copyOfRange(gen, 2 * k, 2 * k + k * k);
            byte[] inv = Matrices.invert(sub, k);
            byte[] id = new byte[k * k];
            for (int i = 0; i < k; i++) {
                id[i * k + i] = 1;
            }
            assertArrayEquals(id, Matrices.multiply(sub, k, k, inv, k), "k=" + k);
        }
        assertThrows(ArithmeticException.class, () -> Matrices.invert(new byte[4], 2));
        rnd.nextInt();
    }
}
