package io.oecloud.proofs.storage;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cheating strategy 1: a node keeps its committed root but silently drops a fraction f of its
 * entries. Each period it is challenged c = 32 times; it is caught in a period when at least one
 * challenge lands on a dropped entry. Over 10^4 simulated periods (seeds from a fixed Random) the
 * caught fraction must be within 1 % (absolute) of 1 - (1 - f)^c, what uniform independent
 * draws give.
 */
class CatchRateSimulationTest {
    private static final int ENTRIES = 10_000;
    private static final int PERIODS = 10_000;
    private static final int C = Challenges.DEFAULT_PER_PERIOD;

    @ParameterizedTest
    @ValueSource(doubles = {0.01, 0.05, 0.1, 0.3})
    void droppedFraction_caughtAsOftenAsTheBinomialSays(double f) {
        Random r = new Random(0xca7c4L + (long) (f * 1000));
        BitSet dropped = new BitSet(ENTRIES);
        int drop = (int) Math.round(f * ENTRIES);
        while (dropped.cardinality() < drop) {
            dropped.set(r.nextInt(ENTRIES));
        }
        byte[] node = new byte[32];
        r.nextBytes(node);
        byte[] seed = new byte[32];
        int caught = 0;
        for (int p = 0; p < PERIODS; p++) {
            r.nextBytes(seed);
            for (Challenge ch : Challenges.derive(seed, node, p, ENTRIES, C)) {
                if (dropped.get((int) ch.entry())) {
                    caught++;
                    break;
                }
            }
        }
        double rate = (double) caught / PERIODS;
        double expected = 1 - Math.pow(1 - f, C);
        System.out.printf("f=%.2f: caught in %.4f of %d periods, 1-(1-f)^%d = %.4f%n", f, rate, PERIODS, C, expected);
        assertTrue(Math.abs(rate - expected) <= 0.01, "f=" + f + ": caught " + rate + ", expected " + expected);
    }
}
