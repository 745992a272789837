package io.oecloud.proofs.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.proofs.Blake3;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WindowsTest {
    private static StorageProofException.Kind kindOf(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(StorageProofException.class, e).kind();
    }

    @Test
    void constructor_badShapes_argument() {
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new Windows(48, 0)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new Windows(47, 48)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new Windows(100, 48)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new Windows(0, 1)));
        StorageProofException e = assertThrows(StorageProofException.class, () -> new Windows(100, 48));
        assertTrue(e.getMessage().contains("100") && e.getMessage().contains("48"), e.getMessage());
        assertEquals(1, new Windows(48, 48).windowBlocks());
        assertEquals(7, new Windows(7, 1).windowBlocks());
        assertEquals(300, new Windows(14_400, 48).windowBlocks());
    }

    @Test
    void periodAndWindow_atBoundaries() {
        Windows w = new Windows(14_400, 48); // 24 h of 6 s blocks, 30-minute windows
        assertEquals(0, w.period(0));
        assertEquals(0, w.window(0));
        assertEquals(0, w.window(299));
        assertEquals(1, w.window(300));
        assertEquals(47, w.window(14_399));
        assertEquals(0, w.period(14_399));
        assertEquals(1, w.period(14_400));
        assertEquals(0, w.window(14_400));
        assertEquals(new Windows.BlockRange(14_400, 14_700), w.blocks(1, 0));
        assertEquals(new Windows.BlockRange(14_100, 14_400), w.blocks(0, 47));
        assertEquals(14_399, w.blocks(0, 47).last());
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.period(-1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.window(-1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.blocks(0, 48)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.blocks(0, -1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.blocks(-1, 0)));
    }

    @Test
    void blocks_containExactlyTheHeightsThatMapToThem() {
        for (Windows w : new Windows[] {new Windows(12, 4), new Windows(12, 12), new Windows(12, 1), new Windows(10, 5)}) {
            for (long h = 0; h < 5 * w.periodBlocks(); h++) {
                long p = w.period(h);
                int win = w.window(h);
                assertTrue(win >= 0 && win < w.windows());
                for (long q = 0; q < 5; q++) {
                    for (int x = 0; x < w.windows(); x++) {
                        assertEquals(q == p && x == win, w.blocks(q, x).contains(h), w + " h=" + h + " q=" + q + " x=" + x);
                    }
                }
            }
        }
    }

    @Test
    void blocks_nearLongMax_argumentNotOverflow() {
        Windows w = new Windows(14_400, 48);
        long lastPeriod = w.period(Long.MAX_VALUE);
        assertEquals(w.window(Long.MAX_VALUE), w.window(Long.MAX_VALUE)); // no overflow
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.blocks(lastPeriod + 1, 0)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.blocks(Long.MAX_VALUE, 0)));
        Windows.BlockRange r = w.blocks(lastPeriod - 1, 47);
        assertTrue(r.end() > r.first());
    }

    @Test
    void nodeWindow_isFirst8BytesOfTaggedHashModW() {
        Random r = new Random(8);
        Windows w = new Windows(14_400, 48);
        for (int t = 0; t < 200; t++) {
            byte[] id = new byte[1 + r.nextInt(255)];
            r.nextBytes(id);
            byte[] h = Blake3.hash(Reference.concat(Reference.ascii("oe/node-window/v1"), id));
            long v = ByteBuffer.wrap(h).getLong();
            assertEquals(Long.remainderUnsigned(v, 48), w.nodeWindow(id));
            assertEquals(w.blocks(7, w.nodeWindow(id)), w.nodeBlocks(id, 7));
        }
        assertEquals(44, w.nodeWindow(Reference.ascii("node-1"))); // pinned, from an independent Python BLAKE3
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.nodeWindow(new byte[0])));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.nodeWindow(new byte[256])));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> w.nodeWindow(null)));
    }

    /** 48,000 random IDs over 48 windows: chi-square below its 0.999 quantile for 47 degrees of freedom (82.72). */
    @Test
    void nodeWindow_randomIds_spreadEvenly() {
        Random r = new Random(9);
        Windows w = new Windows(14_400, 48);
        long[] counts = new long[48];
        for (int i = 0; i < 48_000; i++) {
            byte[] id = new byte[32];
            r.nextBytes(id);
            counts[w.nodeWindow(id)]++;
        }
        double x = ChallengesTest.chiSquare(counts);
        assertTrue(x < 82.72, "chi-square " + x);
    }

    @Test
    void blockRange_emptyOrNegative_argument() {
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new Windows.BlockRange(5, 5)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new Windows.BlockRange(-1, 5)));
        assertFalse(new Windows.BlockRange(5, 6).contains(6));
        assertTrue(new Windows.BlockRange(5, 6).contains(5));
    }
}
