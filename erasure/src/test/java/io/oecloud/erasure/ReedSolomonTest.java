package io.oecloud.erasure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ReedSolomonTest {

    static Stream<ErasureBackend> backends() {
        return Shards.backends();
    }

    @Test
    void everyBackend_isAvailableInTheTestJvm_exceptIsalWithoutTheLibrary() {
        assertTrue(ErasureBackend.SCALAR.isAvailable());
        assertTrue(ErasureBackend.VECTOR.isAvailable(), "surefire runs with --add-modules=jdk.incubator.vector");
        if (System.getenv("CI") != null) {
            assertTrue(ErasureBackend.ISAL.isAvailable(), ".ci/run installs libisal2: " + IsalKernel.unavailableReason());
        }
    }

    record Vector(int k, int m, int len, int seed, byte[] parity) {}

    static List<Vector> isalVectors() throws IOException {
        List<Vector> out = new ArrayList<>();
        try (var in = ReedSolomonTest.class.getResourceAsStream("/isal-vectors.txt");
             var r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null; ) {
                String[] f = line.split(" ");
                byte[] parity = f[4].equals("-") ? new byte[0] : HexFormat.of().parseHex(f[4]);
                out.add(new Vector(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                        Integer.parseUnsignedInt(f[3]), parity));
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void encode_matchesParityComputedByIsal(ErasureBackend backend) throws IOException {
        List<Vector> vectors = isalVectors();
        assertTrue(vectors.size() > 100, "vectors file read");
        for (Vector v : vectors) {
            ReedSolomon rs = ReedSolomon.of(v.k(), v.m(), backend);
            byte[][] shards = Shards.xorshiftData(v.k(), v.m(), v.len(), v.seed());
            rs.encode(shards, 0, v.len());
            byte[] parity = new byte[v.m() * v.len()];
            for (int p = 0; p < v.m(); p++) {
                System.arraycopy(shards[v.k() + p], 0, parity, p * v.len(), v.len());
            }
            assertArrayEquals(v.parity(), parity, () -> "RS(" + v.k() + "," + v.m() + ") len " + v.len());

            ByteBuffer[] direct = Shards.buffers(Shards.xorshiftData(v.k(), v.m(), v.len(), v.seed()), true);
            rs.encode(direct, 0, v.len());
            assertTrue(Arrays.deepEquals(shards, Shards.arrays(direct)), "direct buffers, " + rs);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void reconstruct_everyPatternOfUpToMErasures_smallCodes(ErasureBackend backend) {
        Random rnd = new Random(42);
        for (int k = 1; k <= 5; k++) {
            for (int m = 0; m <= 4; m++) {
                int n = k + m;
                ReedSolomon rs = ReedSolomon.of(k, m, backend);
                byte[][] original = Shards.random(rnd, k, n, 131);
                rs.encode(original, 0, 131);
                for (int mask = 0; mask < (1 << n); mask++) {
                    if (Integer.bitCount(mask) > m) {
                        continue;
                    }
                    boolean[] present = new boolean[n];
                    byte[][] damaged = Shards.copy(original);
                    for (int i = 0; i < n; i++) {
                        present[i] = (mask & (1 << i)) == 0;
                        if (!present[i]) {
                            Arrays.fill(damaged[i], (byte) 0x5a);
                        }
                    }
                    rs.reconstruct(damaged, present, 0, 131);
                    assertTrue(Arrays.deepEquals(original, damaged),
                            "RS(" + k + "," + m + ") erased mask " + Integer.toBinaryString(mask));
                }
            }
        }
    }

    static Stream<Arguments> randomCases() {
        Random rnd = new Random(20261125);
        List<Arguments> cases = new ArrayList<>();
        int[] lengths = {0, 1, 7, 63, 64, 65, 127, 1000, 4096 + 31, 70_001};
        for (int i = 0; i < 60; i++) {
            int k = 1 + rnd.nextInt(i < 50 ? 20 : 120);
            int m = rnd.nextInt(Math.min(12, 256 - k) + 1);
            int len = lengths[rnd.nextInt(lengths.length)];
            int offset = rnd.nextInt(70);
            cases.add(Arguments.of(k, m, offset, len, rnd.nextLong()));
        }
        return cases.stream();
    }

    /** Every backend, on arrays and on heap and direct buffers, agrees with the scalar reference. */
    @ParameterizedTest(name = "RS({0},{1}) offset {2} length {3}")
    @MethodSource("randomCases")
    void allBackendsAndBufferKinds_agreeAndReconstructRandomErasures(int k, int m, int offset, int len, long seed) {
        Random rnd = new Random(seed);
        int size = offset + len + rnd.nextInt(9);
        byte[][] reference = Shards.random(rnd, k, k + m, size);
        byte[][] untouched = Shards.copy(reference);
        ReedSolomon.of(k, m, ErasureBackend.SCALAR).encode(reference, offset, len);
        for (int i = 0; i < k + m; i++) {
            // bytes outside the range keep their old values
            assertArrayEquals(Arrays.copyOf(untouched[i], offset), Arrays.copyOf(reference[i], offset));
            assertArrayEquals(Arrays.copyOfRange(untouched[i], offset + len, size),
                    Arrays.copyOfRange(reference[i], offset + len, size));
        }
        boolean[] present = new boolean[k + m];
        Arrays.fill(present, true);
        int erasures = rnd.nextInt(m + 1);
        for (int e = 0; e < erasures; ) {
            int i = rnd.nextInt(k + m);
            if (present[i]) {
                present[i] = false;
                e++;
            }
        }
        for (ErasureBackend backend : backends().toList()) {
            ReedSolomon rs = ReedSolomon.of(k, m, backend);
            String what = rs + " offset " + offset + " len " + len;

            byte[][] arrays = Shards.copy(untouched);
            rs.encode(arrays, offset, len);
            assertTrue(Arrays.deepEquals(reference, arrays), "encode arrays " + what);
            assertTrue(rs.verify(arrays, offset, len), "verify arrays " + what);

            for (boolean direct : new boolean[] {false, true}) {
                ByteBuffer[] bufs = Shards.buffers(untouched, direct);
                rs.encode(bufs, offset, len);
                assertTrue(Arrays.deepEquals(reference, Shards.arrays(bufs)), "encode buffers direct=" + direct + " " + what);
                assertTrue(rs.verify(bufs, offset, len));
                for (int i = 0; i < k + m; i++) {
                    if (!present[i]) {
                        for (int b = offset; b < offset + len; b++) {
                            bufs[i].put(b, (byte) 0);
                        }
                    }
                }
                rs.reconstruct(bufs, present, offset, len);
                assertTrue(Arrays.deepEquals(reference, Shards.arrays(bufs)), "reconstruct buffers direct=" + direct + " " + what);
            }

            for (int i = 0; i < k + m; i++) {
                if (!present[i]) {
                    Arrays.fill(arrays[i], offset, offset + len, (byte) 0);
                }
            }
            rs.reconstruct(arrays, present, offset, len);
            assertTrue(Arrays.deepEquals(reference, arrays), "reconstruct arrays " + what);
        }
    }

    /** Uploads reuse shard arrays without zeroing them: encoding must overwrite what parity held. */
    @ParameterizedTest
    @MethodSource("backends")
    void encode_overwritesWhateverTheParityArraysHeld(ErasureBackend backend) {
        ReedSolomon rs = ReedSolomon.of(4, 2, backend);
        int len = 100_003;
        byte[][] clean = Shards.random(new Random(3), 4, 6, len);
        byte[][] dirty = new byte[6][];
        for (int i = 0; i < 6; i++) {
            dirty[i] = clean[i].clone(); // the parity of random() is random bytes: stale content
        }
        for (int p = 4; p < 6; p++) {
            Arrays.fill(clean[p], (byte) 0);
        }
        rs.encode(clean, 0, len);
        rs.encode(dirty, 0, len);
        assertTrue(Arrays.deepEquals(clean, dirty), backend.name());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void verify_anyFlippedByte_returnsFalse(ErasureBackend backend) {
        ReedSolomon rs = ReedSolomon.of(6, 3, backend);
        byte[][] shards = Shards.random(new Random(7), 6, 9, 40_000);
        rs.encode(shards, 0, 40_000);
        assertTrue(rs.verify(shards, 0, 40_000));
        for (int shard : new int[] {0, 5, 6, 8}) {
            for (int at : new int[] {0, 16_383, 16_384, 39_999}) {
                shards[shard][at] ^= 0x01;
                assertFalse(rs.verify(shards, 0, 40_000), "flip in shard " + shard + " at " + at);
                ByteBuffer[] direct = Shards.buffers(shards, true);
                assertFalse(rs.verify(direct, 0, 40_000));
                shards[shard][at] ^= 0x01;
            }
        }
        assertTrue(rs.verify(shards, 0, 40_000));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void reconstruct_fewerThanKPresent_throwsWithCounts(ErasureBackend backend) {
        ReedSolomon rs = ReedSolomon.of(4, 2, backend);
        byte[][] shards = new byte[6][10];
        boolean[] present = {true, false, true, false, false, true};
        ErasureException e = assertThrows(ErasureException.class, () -> rs.reconstruct(shards, present, 0, 10));
        assertEquals(ErasureException.Code.NOT_ENOUGH_SHARDS, e.code());
        assertEquals(3, e.present());
        assertEquals(4, e.needed());
        assertTrue(e.getMessage().contains("3 shards present, 4 needed"), e.getMessage());
    }

    @Test
    void reconstruct_samePatternTwice_reusesTheCachedPlan() {
        ReedSolomon rs = ReedSolomon.of(10, 4, ErasureBackend.SCALAR);
        boolean[] present = new boolean[14];
        Arrays.fill(present, true);
        present[2] = false;
        present[11] = false;
        var first = rs.planFor(present);
        assertSame(first, rs.planFor(present.clone()));
        assertArrayEquals(new int[] {2, 11}, first.missing());
        assertArrayEquals(new int[] {0, 1, 3, 4, 5, 6, 7, 8, 9, 10}, first.sources());
    }

    @Test
    void reconstruct_nothingMissing_changesNothing() {
        ReedSolomon rs = ReedSolomon.of(3, 2);
        byte[][] shards = Shards.random(new Random(3), 3, 5, 100);
        byte[][] before = Shards.copy(shards);
        boolean[] all = {true, true, true, true, true};
        rs.reconstruct(shards, all, 0, 100);
        assertTrue(Arrays.deepEquals(before, shards));
    }

    @Test
    void noParity_encodeAndVerify_succeed() {
        ReedSolomon rs = ReedSolomon.of(3, 0);
        byte[][] shards = Shards.random(new Random(5), 3, 3, 50);
        rs.encode(shards, 0, 50);
        assertTrue(rs.verify(shards, 0, 50));
    }
}
