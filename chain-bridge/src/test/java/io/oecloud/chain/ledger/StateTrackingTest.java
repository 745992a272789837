package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a block changed is recorded for every write to the state's maps, and nothing can write around the record. */
class StateTrackingTest {
    @Test
    void writesAndRemovalsAreRecordedAsEntryKeys_andACopyRecordsNothingUntilTracked() {
        LedgerState s = new LedgerState();
        s.accounts.put("a", new LedgerState.Account(BigInteger.ONE, 0));
        s.validators.put("v1", 10L);
        LedgerState w = s.copy();
        w.accounts.put("b", new LedgerState.Account(BigInteger.TWO, 0)); // before track(): not recorded
        Set<String> changed = w.track();
        w.accounts.put("a", new LedgerState.Account(BigInteger.TEN, 1));
        w.accounts.remove("nobody");
        w.cids.remove("b");
        w.validators.clear();
        w.validators.putAll(java.util.Map.of("v2", 5L));
        w.delegations.merge("c/d", BigInteger.ONE, BigInteger::add);
        w.cids.put("q", new LedgerState.CidRecord("o", 1, 1, "", ""));
        w.cids.pollFirstEntry();
        assertEquals(Set.of("account/a", "validator/v1", "validator/v2", "delegation/c/d", "cid/q"), changed);
        w.untrack();
        w.accounts.put("z", LedgerState.Account.EMPTY);
        assertEquals(5, changed.size(), "nothing after untrack");
        assertEquals(1, s.accounts.size(), "the copy's writes are its own");
        assertTrue(java.util.Arrays.equals(new LedgerState.Account(BigInteger.TEN, 1).encode(), w.entry("account/a")));
        assertEquals(null, w.entry("account/nobody"));
    }

    @Test
    void theMapsViewsAreReadOnly_soNoWriteGoesAroundTheRecord() {
        LedgerState s = new LedgerState();
        s.unbondings.put("00000000000000000001/c/d", new LedgerState.Unbonding("d", "c", BigInteger.ONE, 0, 1));
        assertThrows(UnsupportedOperationException.class, () -> s.unbondings.headMap("1").clear());
        assertThrows(UnsupportedOperationException.class, () -> s.unbondings.values().clear());
        assertThrows(UnsupportedOperationException.class, () -> s.unbondings.keySet().removeIf(k -> true));
        assertThrows(UnsupportedOperationException.class, () -> s.unbondings.entrySet().iterator().next().setValue(null));
        assertEquals(1, s.unbondings.size());
    }
}
