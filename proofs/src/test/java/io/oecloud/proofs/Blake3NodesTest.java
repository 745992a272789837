package io.oecloud.proofs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Blake3NodesTest {
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 16 * 1024, 16 * 1024 + 1, 31744, 102400,
            524288, 524289, 1048576, 3145745})
    void subtreeCvAsRoot_equalsTheDigest_onBothPaths(int n) {
        byte[] in = Blake3Test.input(n);
        MemorySegment seg = MemorySegment.ofArray(in);
        for (boolean simd : new boolean[] {false, Blake3.isVectorized()}) {
            assertArrayEquals(Blake3.hash(in), new Blake3Nodes(simd).subtreeCv(seg, 0, n, 0, true), "simd=" + simd);
        }
        if (n <= 1024) {
            assertArrayEquals(Blake3.hash(in), Blake3Nodes.chunkCv(in, 0, n, 0, true));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 16, 32, 512})
    void levelCvs_equalTheSubtreeCvsOfEachNode_onBothPaths(int level) {
        int n = 1_000_000 + 17; // 977 chunks, the last one short
        byte[] in = Blake3Test.input(n);
        MemorySegment seg = MemorySegment.ofArray(in);
        long chunks = Blake3Nodes.chunkCount(n);
        int nodes = (int) ((chunks + level - 1) / level);
        byte[] scalar = new byte[nodes * 32];
        byte[] simd = new byte[nodes * 32];
        new Blake3Nodes(false).levelCvs(seg, 0, n, 0, level, scalar, 0);
        new Blake3Nodes(Blake3.isVectorized()).levelCvs(seg, 0, n, 0, level, simd, 0);
        assertArrayEquals(scalar, simd);
        Blake3Nodes one = new Blake3Nodes(false);
        for (int i = 0; i < nodes; i++) {
            long off = (long) i * level * 1024;
            long len = Math.min((long) level * 1024, n - off);
            assertArrayEquals(one.subtreeCv(seg, off, len, (long) i * level, false),
                    Arrays.copyOfRange(simd, i * 32, (i + 1) * 32), "node " + i);
        }
    }

    @Test
    void parentOfTwoChunks_isTheDigestOf2KiB() {
        byte[] in = Blake3Test.input(2048);
        byte[] left = Blake3Nodes.chunkCv(in, 0, 1024, 0, false);
        byte[] right = Blake3Nodes.chunkCv(in, 1024, 1024, 1, false);
        assertArrayEquals(Blake3.hash(in), Blake3Nodes.parentCv(left, right, true));
    }

    @Test
    void misplacedNodes_throw() {
        MemorySegment seg = MemorySegment.ofArray(new byte[8192]);
        Blake3Nodes n = new Blake3Nodes();
        assertThrows(IllegalArgumentException.class, () -> n.subtreeCv(seg, 0, 4096, 2, false)); // 4 chunks at 2
        assertThrows(IllegalArgumentException.class, () -> n.subtreeCv(seg, 0, 3072, 2, false)); // 3 chunks at 2
        assertThrows(IllegalArgumentException.class, () -> n.chunkCv(seg, 0, 1024, 1, true));
        assertThrows(IllegalArgumentException.class, () -> n.chunkCv(seg, 0, 1025, 0, false));
        assertThrows(IllegalArgumentException.class, () -> Blake3Nodes.parentCv(new byte[32], new byte[31], false));
    }
}
