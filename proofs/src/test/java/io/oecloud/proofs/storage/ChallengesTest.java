package io.oecloud.proofs.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChallengesTest {
    private static final byte[] SEED = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    private static final byte[] NODE = Reference.ascii("node-1");

    private static StorageProofException.Kind kindOf(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(StorageProofException.class, e).kind();
    }

    @Test
    void derive_matchesByteByByteReference() {
        Random r = new Random(21);
        for (int t = 0; t < 200; t++) {
            byte[] seed = new byte[32];
            r.nextBytes(seed);
            byte[] node = new byte[1 + r.nextInt(255)];
            r.nextBytes(node);
            long period = t < 100 ? r.nextInt(1000) : r.nextLong() >>> 1;
            long count = t % 3 == 0 ? NodeRoot.MAX_COUNT - r.nextInt(10) : 1 + r.nextInt(100_000);
            long size = t % 5 == 0 ? r.nextLong() >>> 1 : r.nextInt(1 << 26);
            List<Challenge> cs = Challenges.derive(seed, node, period, count, 8);
            for (Challenge c : cs) {
                byte[] h = Reference.challengeHash(seed, node, period, c.j());
                assertEquals(Reference.pick(h, 0, count), c.entry());
                assertEquals(Reference.pick(h, 16, Challenges.chunks(size)), c.chunk(size));
                assertEquals(c, Challenges.one(seed, node, period, count, c.j()));
            }
        }
    }

    @Test
    void derive_knownInputs_givePinnedChallenges() {
        // Pinned: a change here changes which entries every node must prove (a consensus rule).
        List<Challenge> cs = Challenges.derive(SEED, NODE, 7, 100_000, 4);
        StringBuilder s = new StringBuilder();
        for (Challenge c : cs) {
            s.append(c.entry()).append('/').append(c.chunk(8L << 20)).append(' ');
        }
        assertEquals(KNOWN, s.toString().strip());
    }

    /** entry/chunk of challenges 0..3, from an independent Python BLAKE3 and big-integer arithmetic. */
    static final String KNOWN = "44903/833 32413/5071 45268/7714 11077/709";

    @Test
    void derive_sameInputs_sameChallengesAndEachInputMatters() {
        List<Challenge> a = Challenges.derive(SEED, NODE, 7, 100_000, 32);
        assertEquals(a, Challenges.derive(SEED.clone(), NODE.clone(), 7, 100_000, 32));
        byte[] seed2 = SEED.clone();
        seed2[31] ^= 1;
        assertNotEquals(a, Challenges.derive(seed2, NODE, 7, 100_000, 32));
        assertNotEquals(a, Challenges.derive(SEED, Reference.ascii("node-2"), 7, 100_000, 32));
        assertNotEquals(a, Challenges.derive(SEED, NODE, 8, 100_000, 32));
        // The node ID's length is hashed: "node-1" + period bytes cannot shift into the ID.
        assertNotEquals(a, Challenges.derive(SEED, Reference.ascii("node-1\0"), 7, 100_000, 32));
        assertEquals(32, a.size());
        for (int j = 0; j < 32; j++) {
            assertEquals(j, a.get(j).j());
        }
    }

    @Test
    void pick_matchesBigIntegerArithmetic() {
        Random r = new Random(5);
        BigInteger two64 = BigInteger.ONE.shiftLeft(64);
        for (int t = 0; t < 20_000; t++) {
            long hi = r.nextLong();
            long lo = r.nextLong();
            long n = switch (t % 4) {
                case 0 -> 1 + r.nextInt(1000);
                case 1 -> 1 + (r.nextLong() >>> 1);
                case 2 -> Long.MAX_VALUE - r.nextInt(3);
                default -> NodeRoot.MAX_COUNT;
            };
            BigInteger x = new BigInteger(Long.toUnsignedString(hi)).multiply(two64).add(new BigInteger(Long.toUnsignedString(lo)));
            long expected = x.multiply(BigInteger.valueOf(n)).shiftRight(128).longValueExact();
            long got = Challenges.pick(hi, lo, n);
            assertEquals(expected, got, "hi=" + hi + " lo=" + lo + " n=" + n);
            assertTrue(got >= 0 && got < n);
        }
        assertEquals(0, Challenges.pick(0, 0, 12345));
        assertEquals(12344, Challenges.pick(-1, -1, 12345));
        assertEquals(0, Challenges.pick(-1, -1, 1));
        assertEquals(6172, Challenges.pick(Long.MIN_VALUE, 0, 12345)); // x = 2^127: floor(n / 2)
    }

    @ParameterizedTest
    @CsvSource({"0, 1", "1, 1", "1023, 1", "1024, 1", "1025, 2", "2047, 2", "2048, 2", "2049, 3",
        "8388608, 8192", "8388609, 8193", "9223372036854775807, 9007199254740992"})
    void chunks_sizes_ceilOf1KiBAtLeastOne(long size, long chunks) {
        assertEquals(chunks, Challenges.chunks(size));
    }

    @Test
    void chunk_alwaysInsideTheEntry() {
        List<Challenge> cs = Challenges.derive(SEED, NODE, 1, 10, 1000);
        for (Challenge c : cs) {
            assertEquals(0, c.chunk(0));
            assertEquals(0, c.chunk(1024));
            assertTrue(c.chunk(1025) < 2);
            assertTrue(c.chunk(Long.MAX_VALUE) < Challenges.chunks(Long.MAX_VALUE));
            assertTrue(c.entry() < 10);
        }
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> cs.get(0).chunk(-1)));
    }

    /**
     * 10^5 draws (1,000 periods × 100 challenges): entries over 100 and 3 buckets, chunks over 37,
     * each below chi-square's 0.999 quantile (148.23 for 99 degrees of freedom, 13.82 for 2,
     * 67.99 for 36). The seeds are fixed, so the outcome is too.
     */
    @Test
    void derive_100000Draws_passChiSquare() {
        long[] entries100 = new long[100];
        long[] entries3 = new long[3];
        long[] chunks37 = new long[37];
        long size = 37 * 1024 - 5;
        Random r = new Random(99);
        byte[] node = new byte[32];
        r.nextBytes(node);
        for (int p = 0; p < 1000; p++) {
            byte[] seed = new byte[32];
            r.nextBytes(seed);
            for (Challenge c : Challenges.derive(seed, node, p, 100, 100)) {
                entries100[(int) c.entry()]++;
                entries3[(int) Challenges.pick(c.chunkLow(), c.chunkHigh(), 3)]++; // other bytes, another n
                chunks37[(int) c.chunk(size)]++;
            }
        }
        double c100 = chiSquare(entries100);
        double c3 = chiSquare(entries3);
        double c37 = chiSquare(chunks37);
        System.out.printf("chi-square: entries/100 %.1f (df 99), picks/3 %.2f (df 2), chunks/37 %.1f (df 36)%n", c100, c3, c37);
        assertTrue(c100 < 148.23, "entries: " + c100);
        assertTrue(c3 < 13.82, "3 buckets: " + c3);
        assertTrue(c37 < 67.99, "chunks: " + c37);
    }

    static double chiSquare(long[] counts) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        double expected = (double) total / counts.length;
        double x = 0;
        for (long c : counts) {
            x += (c - expected) * (c - expected) / expected;
        }
        return x;
    }

    @Test
    void derive_badArguments_argumentOrCount() {
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> Challenges.derive(new byte[31], NODE, 0, 1, 1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> Challenges.derive(null, NODE, 0, 1, 1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> Challenges.derive(SEED, new byte[0], 0, 1, 1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> Challenges.derive(SEED, new byte[256], 0, 1, 1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> Challenges.derive(SEED, NODE, -1, 1, 1)));
        assertEquals(StorageProofException.Kind.COUNT, kindOf(() -> Challenges.derive(SEED, NODE, 0, 0, 1)));
        assertEquals(StorageProofException.Kind.COUNT, kindOf(() -> Challenges.derive(SEED, NODE, 0, NodeRoot.MAX_COUNT + 1, 1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> Challenges.derive(SEED, NODE, 0, 1, 0)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> Challenges.derive(SEED, NODE, 0, 1, Challenges.MAX_PER_PERIOD + 1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> Challenges.one(SEED, NODE, 0, 1, -1)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> Challenges.chunks(-1)));
        // The limits themselves are accepted: a 255-byte ID, one entry, the most challenges.
        assertEquals(0, Challenges.derive(SEED, new byte[255], 0, 1, 1).get(0).entry());
        assertEquals(Challenges.MAX_PER_PERIOD, Challenges.derive(SEED, NODE, 0, NodeRoot.MAX_COUNT, Challenges.MAX_PER_PERIOD).size());
    }
}
