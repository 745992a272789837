package io.oecloud.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ManualClockTest {
    @Test
    void standsStill_untilAdvanced() {
        ManualClock c = new ManualClock(Instant.parse("2026-12-01T00:00:00Z"));
        assertEquals(c.millis(), c.millis());
        c.advance(Duration.ofHours(24)).advance(Duration.ofMillis(1));
        assertEquals(Instant.parse("2026-12-02T00:00:00.001Z"), c.instant());
        assertEquals(c.instant().toEpochMilli(), c.millis());
    }

    @Test
    void advance_backwards_isRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ManualClock().advance(Duration.ofSeconds(-1)));
        assertEquals("a manual clock moves forward only, was asked to move PT-1S", e.getMessage());
    }
}
