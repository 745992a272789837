package io.oecloud.node.paying;

import io.oecloud.proofs.Cid;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * When {@link ContractKeeper} renews a contract of its account: its object is still {@code wanted}
 * and the paid periods end within {@code margin} (the chain's recent block time turns the blocks
 * left into time); it is then renewed by {@code terms}.
 *
 * <p>Why an owner's predicate: a contract says nothing of whether its object is still in use. The
 * owner does (the S3 gateway: a key or a multipart part refers to the piece), and it ends the
 * contract itself when the object goes, so an object not wanted is simply left to run out.
 *
 * <p>{@code margin} should leave room for a few keeper runs (a refused renewal is tried again at the
 * next run) and {@code terms} should come to more than {@code margin}: else a contract is renewed
 * at every run until its end lies beyond the margin.
 *
 * @param wanted whether the object (a contract's CID) is still wanted; called on the keeper's thread, must not block for long
 * @param margin renew when the last paid period ends within this (positive)
 * @param terms how long each renewal pays for
 */
public record Renewal(Predicate<Cid> wanted, Duration margin, Terms terms) {
    public Renewal {
        Objects.requireNonNull(wanted, "wanted");
        Objects.requireNonNull(terms, "terms");
        if (margin == null || margin.isNegative() || margin.isZero()) {
            throw new IllegalArgumentException("a renewal margin must be a positive duration, was " + margin);
        }
    }

    /**
     * Whether a contract paid through period {@code end - 1} is due: its last paid period ends at
     * block {@code end · periodBlocks}, and the blocks from {@code height} to it, at
     * {@code blockMillis} each, take at most {@link #margin}.
     */
    boolean due(long end, long periodBlocks, long height, long blockMillis) {
        if (end > Long.MAX_VALUE / periodBlocks) {
            return false; // ends beyond any margin
        }
        long blocksLeft = end * periodBlocks - height;
        // blocksLeft · blockMillis <= margin, without the product's overflow
        return blocksLeft <= margin.toMillis() / Math.max(1, blockMillis);
    }
}
