package io.oecloud.node.contracts;

import java.time.Duration;

/**
 * The holder side of paid storage: how much a node admits before a contract pays for it, and for
 * how long (node settings {@code paid-storage}, {@code provisional-grace},
 * {@code provisional-per-owner}, {@code provisional-total}, {@code coverage-interval}).
 *
 * @param enabled whether a node with a chain link sells its storage (admission, coverage, proving
 *     only covered blocks); a node without a chain link never does
 * @param grace how long a block admitted provisionally (or whose contract ended) is kept without a
 *     contract covering it
 * @param perOwner provisional bytes one owner may have on this node
 * @param total provisional bytes all owners together may have on this node
 * @param every how often the node reads its contracts from the chain
 * @param minPeriods periods of storage an owner's balance must cover for its provisional bytes
 * @param gracePeriods periods after a contract's end that its blocks still count as covered
 */
public record PaidConfig(boolean enabled, Duration grace, long perOwner, long total, Duration every, int minPeriods,
                         int gracePeriods) {
    /** 10 minutes: an upload's contract is made within seconds of its last shard. */
    public static final Duration DEFAULT_GRACE = Duration.ofMinutes(10);
    /** 1 GiB of provisional blocks per owner. */
    public static final long DEFAULT_PER_OWNER = 1L << 30;
    /** 30 s between reads of the node's contracts. */
    public static final Duration DEFAULT_EVERY = Duration.ofSeconds(30);
    /**
     * One period: a contract is paid for at least one period ahead, so an owner that can pay one
     * period of what it has pending here can make the contract that covers it. More would refuse
     * small accounts for no safety: the balance is not locked until the contract, whatever is asked.
     */
    public static final int DEFAULT_MIN_PERIODS = 1;
    /** One period after its end a contract's blocks are still kept (then the provisional grace runs). */
    public static final int DEFAULT_GRACE_PERIODS = 1;

    public PaidConfig {
        if (grace.isNegative() || every.isNegative() || every.isZero()) {
            throw new IllegalArgumentException("the provisional grace must not be negative and the coverage interval must be"
                    + " positive, were " + grace + " and " + every);
        }
        if (perOwner < 0 || total < 0 || perOwner > total) {
            throw new IllegalArgumentException("provisional bytes per owner (" + perOwner + ") and in total (" + total
                    + ") must not be negative, and one owner's no more than the total");
        }
        if (minPeriods < 1 || gracePeriods < 0) {
            throw new IllegalArgumentException("minimum periods must be at least 1 and grace periods not negative, were "
                    + minPeriods + " and " + gracePeriods);
        }
    }

    /** The defaults for a node of {@code capacity} bytes: provisional bytes at most an eighth of it in total. */
    public static PaidConfig defaults(long capacity) {
        long total = Math.max(DEFAULT_PER_OWNER, capacity / 8);
        return new PaidConfig(true, DEFAULT_GRACE, DEFAULT_PER_OWNER, total, DEFAULT_EVERY, DEFAULT_MIN_PERIODS,
                DEFAULT_GRACE_PERIODS);
    }

    /** Off: the node stores as before paid storage (quotas only). */
    public static PaidConfig off() {
        return new PaidConfig(false, DEFAULT_GRACE, DEFAULT_PER_OWNER, DEFAULT_PER_OWNER, DEFAULT_EVERY, DEFAULT_MIN_PERIODS,
                DEFAULT_GRACE_PERIODS);
    }
}
