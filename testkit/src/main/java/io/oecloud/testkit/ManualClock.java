package io.oecloud.testkit;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that stands still until a test moves it, for code that takes an {@link InstantSource}:
 * a test of a grace period or an expiry moves it past the bound instead of waiting for the wall
 * clock. Millisecond resolution; thread-safe.
 */
public final class ManualClock implements InstantSource {
    private final AtomicLong millis;

    /** A clock showing the current time, standing still. */
    public ManualClock() {
        this(Instant.now());
    }

    public ManualClock(Instant start) {
        this.millis = new AtomicLong(start.toEpochMilli());
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
        return millis.get();
    }

    /**
     * Moves the clock forward.
     *
     * @throws IllegalArgumentException when {@code d} is negative (a clock that goes back is another test)
     */
    public ManualClock advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("a manual clock moves forward only, was asked to move " + d);
        }
        millis.addAndGet(d.toMillis());
        return this;
    }
}
