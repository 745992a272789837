package io.oecloud.node.paying;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RenewalTest {
    private static final Renewal TEN_MINUTES = new Renewal(c -> true, Duration.ofMinutes(10), Terms.DEFAULT);

    @Test
    void due_whenTheBlocksLeftTakeAtMostTheMargin() {
        // periods of 100 blocks of 1 s; paid through period 9 = up to block 1,000
        assertTrue(TEN_MINUTES.due(10, 100, 400, 1_000), "600 s left");
        assertFalse(TEN_MINUTES.due(10, 100, 399, 1_000), "601 s left");
        assertTrue(TEN_MINUTES.due(10, 100, 1_200, 1_000), "already past its end");
        assertFalse(TEN_MINUTES.due(Long.MAX_VALUE / 50, 100, 1, 1), "an end beyond any margin, no overflow");
    }

    @Test
    void aMarginThatIsNotPositive_isRefusedNamingIt() {
        String m = assertThrows(IllegalArgumentException.class, () -> new Renewal(c -> true, Duration.ZERO, Terms.DEFAULT)).getMessage();
        assertTrue(m.contains("margin") && m.contains("PT0S"), m);
        assertThrows(IllegalArgumentException.class, () -> new Renewal(c -> true, Duration.ofSeconds(-1), Terms.DEFAULT));
        assertThrows(NullPointerException.class, () -> new Renewal(null, Duration.ofDays(7), Terms.DEFAULT));
    }
}
