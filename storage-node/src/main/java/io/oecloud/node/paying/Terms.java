package io.oecloud.node.paying;

/**
 * How long an upload (or a renewal) pays for: a number of periods, or of days converted with the
 * chain's period length and its recent block time.
 *
 * <p>The default is {@value #DEFAULT_DAYS} days. A month is the unit people already pay storage
 * by, long enough that an object uploaded and forgotten for a few weeks is still there, short
 * enough that little is locked in escrow for an object deleted soon (and {@code oe rm} refunds the
 * unspent periods anyway); {@code oe renew} extends it.
 *
 * @param periods periods asked for, or 0 when {@code days} is
 * @param days days asked for, or 0 when {@code periods} is
 */
public record Terms(long periods, long days) {
    /** Days an upload pays for when nothing is asked. */
    public static final long DEFAULT_DAYS = 30;
    /** Periods one contract may pay for at once (the chain has its own maximum; this bounds the request). */
    public static final long MAX_PERIODS = Integer.MAX_VALUE;
    /** Days one request may ask for (100 years). */
    public static final long MAX_DAYS = 36_500;
    public static final Terms DEFAULT = new Terms(0, DEFAULT_DAYS);

    public Terms {
        if ((periods == 0) == (days == 0)) {
            throw new IllegalArgumentException("give either periods or days, not " + (periods == 0 ? "neither" : "both"));
        }
        if (periods < 0 || periods > MAX_PERIODS) {
            throw new IllegalArgumentException("periods must be from 1 to " + MAX_PERIODS + ", was " + periods);
        }
        if (days < 0 || days > MAX_DAYS) {
            throw new IllegalArgumentException("days must be from 1 to " + MAX_DAYS + ", was " + days);
        }
    }

    /**
     * The terms a request asks for: {@code periods} or {@code days} (text, from a query; null when
     * absent), the default when neither.
     *
     * @throws IllegalArgumentException naming the bad value, or when both are given
     */
    public static Terms parse(String periods, String days) {
        if (periods != null && days != null) {
            throw new IllegalArgumentException("give periods or days, not both");
        }
        if (periods != null) {
            return new Terms(number("periods", periods), 0);
        }
        if (days != null) {
            return new Terms(0, number("days", days));
        }
        return DEFAULT;
    }

    private static long number(String name, String text) {
        try {
            long v = Long.parseLong(text.trim());
            if (v < 1) {
                throw new IllegalArgumentException(name + " must be at least 1, was " + text);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, was '" + text + "'");
        }
    }

    /**
     * Periods these terms come to: {@code periods}, or days rounded up to whole periods of
     * {@code periodBlocks} blocks of {@code blockMillis} ms each (at least 1).
     */
    public long toPeriods(long periodBlocks, long blockMillis) {
        if (periods > 0) {
            return periods;
        }
        if (periodBlocks < 1 || blockMillis < 1) {
            throw new IllegalArgumentException("a period needs at least one block of at least 1 ms, was " + periodBlocks
                    + " blocks of " + blockMillis + " ms");
        }
        java.math.BigInteger ms = java.math.BigInteger.valueOf(days).multiply(java.math.BigInteger.valueOf(86_400_000L));
        java.math.BigInteger per = java.math.BigInteger.valueOf(periodBlocks).multiply(java.math.BigInteger.valueOf(blockMillis));
        java.math.BigInteger[] qr = ms.divideAndRemainder(per);
        java.math.BigInteger n = qr[0].add(qr[1].signum() > 0 ? java.math.BigInteger.ONE : java.math.BigInteger.ZERO);
        return Math.max(1, n.min(java.math.BigInteger.valueOf(MAX_PERIODS)).longValueExact());
    }

    @Override
    public String toString() {
        return periods > 0 ? periods + " periods" : days + " days";
    }
}
