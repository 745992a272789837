package io.oecloud.proofs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class Blake3Test {
    record Vector(int length, String digest, String xof) {}

    static List<Vector> vectors() throws IOException {
        List<Vector> out = new ArrayList<>();
        try (var r = new BufferedReader(new InputStreamReader(
                Blake3Test.class.getResourceAsStream("/blake3-vectors.txt"), StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null; ) {
                String[] f = line.split(" ");
                out.add(new Vector(Integer.parseInt(f[0]), f[1], f[2]));
            }
        }
        return out;
    }

    static byte[] input(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 251);
        }
        return b;
    }

    @Test
    void simdPath_isActiveInTheTestJvm() {
        assertTrue(Blake3.isVectorized(), "surefire runs with the Vector API on an AVX-512 machine");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void digestAndXof_matchReference_onBothPaths(Vector v) {
        byte[] in = input(v.length());
        for (boolean simd : new boolean[] {false, Blake3.isVectorized()}) {
            Blake3 h = new Blake3(simd);
            h.update(in, 0, in.length);
            assertEquals(v.digest(), HexFormat.of().formatHex(h.digest()), "simd=" + simd);
            byte[] xof = new byte[131];
            h.digest(xof, 0, xof.length);
            assertEquals(v.xof(), HexFormat.of().formatHex(xof), "xof simd=" + simd);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void update_inRandomPieces_andDirectBuffers_givesTheSameDigest(Vector v) {
        byte[] in = input(v.length());
        Random rnd = new Random(v.length());
        Blake3 pieces = new Blake3();
        for (int at = 0; at < in.length; ) {
            int n = Math.min(in.length - at, rnd.nextInt(3) == 0 ? rnd.nextInt(70) : rnd.nextInt(300_000));
            pieces.update(in, at, n);
            at += n;
        }
        assertEquals(v.digest(), HexFormat.of().formatHex(pieces.digest()));

        ByteBuffer direct = ByteBuffer.allocateDirect(in.length).put(in).flip();
        Blake3 d = new Blake3();
        d.update(direct);
        assertEquals(direct.limit(), direct.position(), "buffer consumed");
        assertEquals(v.digest(), HexFormat.of().formatHex(d.digest()));
    }

    @Test
    void simdAndScalar_agreeOnRandomLengthsAndOffsets() {
        Random rnd = new Random(99);
        for (int i = 0; i < 40; i++) {
            int len = rnd.nextInt(1 << rnd.nextInt(21));
            byte[] data = new byte[len + 37];
            rnd.nextBytes(data);
            int off = rnd.nextInt(37);
            Blake3 a = new Blake3(false);
            a.update(data, off, len);
            Blake3 b = new Blake3(Blake3.isVectorized());
            b.update(data, off, len);
            assertArrayEquals(a.digest(), b.digest(), "len " + len);
        }
    }

    @Test
    void reset_startsOver() {
        Blake3 h = new Blake3();
        h.update(input(5000), 0, 5000);
        h.reset();
        assertArrayEquals(Blake3.hash(new byte[0]), h.digest());
    }
}
