package io.oecloud.node.paying;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** How long an upload pays for, and what it costs, as the ledger computes it. */
class TermsTest {
    @Test
    void parse_neither_isThirtyDays() {
        assertEquals(new Terms(0, 30), Terms.parse(null, null));
    }

    @Test
    void parse_both_refusedNamingTheRule() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Terms.parse("3", "4"));
        assertTrue(e.getMessage().contains("not both"), e.getMessage());
    }

    @Test
    void parse_badNumbers_refusedNamingTheValue() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Terms.parse("x", null)).getMessage().contains("'x'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Terms.parse(null, "0")).getMessage().contains("days must be at least 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Terms.parse("-2", null)).getMessage().contains("periods"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Terms.parse(null, "40000")).getMessage().contains("36500"));
    }

    @Test
    void toPeriods_days_roundUpToWholePeriods() {
        // the devnet: 20-block periods of ~1 s blocks; 30 days are 129,600 periods of 20 s
        assertEquals(129_600, Terms.DEFAULT.toPeriods(20, 1_000));
        // production-like: 17,280 blocks of 5 s are a day a period
        assertEquals(30, Terms.DEFAULT.toPeriods(17_280, 5_000));
        // a day in 7-hour periods: 3.43 -> 4
        assertEquals(4, new Terms(0, 1).toPeriods(7 * 3600, 1_000));
        // periods are taken as given, whatever the pace
        assertEquals(7, new Terms(7, 0).toPeriods(1, 1));
    }

    @Test
    void costPerPeriod_isTheCeilingOfBytesTimesPricePerGib_atLeastOne() {
        BigInteger price = BigInteger.TEN.pow(15); // 1/1000 pass per GiB per period
        assertEquals(price, ContractBuyer.costPerPeriod(1L << 30, price));
        assertEquals(BigInteger.valueOf(931_322_575L), ContractBuyer.costPerPeriod(1_000, price)); // 10^18 / 2^30 = 931,322,574.6 -> up
        assertEquals(BigInteger.ONE, ContractBuyer.costPerPeriod(1, BigInteger.ONE));
        assertEquals(BigInteger.ONE, ContractBuyer.costPerPeriod(5, BigInteger.ZERO));
    }
}
