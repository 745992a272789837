package io.oecloud.chain.ledger;

import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.Ledger.Result;
import io.oecloud.chain.ledger.LedgerState.StorageNode;
import io.oecloud.chain.ledger.LedgerState.StorageWithdrawal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A storage node leaving (chain-bridge/README.md, "Storage nodes and proofs"): UnregisterStorageNode
 * moves the node's whole collateral into a {@link StorageWithdrawal} and marks the node leaving;
 * the withdrawal returns to its balance at the first block of period {@code current +
 * withdrawPeriods}, and the node's record goes with it (it may register again, as a new node).
 *
 * <p>What leaving does not change: roots it committed before (for the current period and, when
 * committed already, the next) stay, it answers their windows as any node does, and a window it
 * misses is penalized by {@code penaltyPpm} of what its withdrawal still holds ({@link #cut}).
 * With {@code withdrawPeriods >= 2} the withdrawal matures only after the last such window has
 * ended, so leaving never dodges a challenge. What it does change: no root is accepted from it any
 * more, it is inactive (placement passes it by; the audits still target it for the periods it
 * committed), and registering again waits for the withdrawal to mature.
 *
 * <p>Supply: collateral, then the withdrawal, then the balance, each counted by
 * {@link LedgerState#supply()}; a cut is slashed (burned), as every storage penalty.
 */
final class StorageExit {
    private StorageExit() {}

    /** UnregisterStorageNode by {@code from}: every check, then the move. */
    static Result unregister(LedgerState s, String from) {
        StorageNode n = s.storageNodes.get(from);
        if (n == null) {
            return new Result(Code.NOT_STORAGE_NODE, from + " is not a registered storage node");
        }
        if (n.leaving()) {
            return new Result(Code.LEAVING, from + " is leaving already: its collateral returns at block " + n.withdrawAt());
        }
        StorageParams p = s.storageParams;
        long period = p.windowing().period(Math.max(0, s.height));
        // a root is committed in the period before its own, so the latest one it can hold is the next period's
        long last = s.storageRoot(period + 1, from) != null ? period + 1 : period;
        long maturePeriod = Math.max(period + p.withdrawPeriods(), last + 1);
        if (maturePeriod > Long.MAX_VALUE / p.periodBlocks()) {
            return new Result(Code.MALFORMED, "period " + maturePeriod + " is out of range");
        }
        long at = maturePeriod * p.periodBlocks();
        s.storageWithdrawals.put(StorageWithdrawal.key(at, from), new StorageWithdrawal(from, n.collateral(), s.height, at));
        s.storageNodes.put(from, new StorageNode(n.capacity(), BigInteger.ZERO, n.registeredHeight(), false, n.proven(), n.missed(),
                n.faultsDeclared(), n.penalties(), at));
        return Result.OK;
    }

    /**
     * A missed window's penalty on a leaving node: {@code penaltyPpm} of what its withdrawal holds,
     * taken from it (slashed). Returns the cut (0 when there is no withdrawal).
     */
    static BigInteger cut(LedgerState s, String node, StorageNode n) {
        String key = StorageWithdrawal.key(n.withdrawAt(), node);
        StorageWithdrawal w = s.storageWithdrawals.get(key);
        if (w == null) {
            return BigInteger.ZERO;
        }
        BigInteger cut = w.amount().multiply(BigInteger.valueOf(s.storageParams.penaltyPpm())).divide(BigInteger.valueOf(StakingParams.PPM));
        s.storageWithdrawals.put(key, w.withAmount(w.amount().subtract(cut)));
        s.slashed = s.slashed.add(cut);
        return cut;
    }

    /**
     * The end of block {@code s.height}, after the windows' penalties: every withdrawal due at or
     * before it is paid to its node's balance, and the node's record removed (it is unregistered).
     */
    static void endBlock(LedgerState s) {
        if (s.storageWithdrawals.isEmpty()) {
            return;
        }
        String to = String.format("%020d", s.height + 1);
        List<Map.Entry<String, StorageWithdrawal>> due = new ArrayList<>(s.storageWithdrawals.headMap(to).entrySet());
        for (Map.Entry<String, StorageWithdrawal> e : due) {
            StorageWithdrawal w = e.getValue();
            s.storageWithdrawals.remove(e.getKey());
            LedgerState.Account a = s.account(w.node());
            s.accounts.put(w.node(), new LedgerState.Account(a.balance().add(w.amount()), a.nonce()));
            StorageNode n = s.storageNodes.get(w.node());
            if (n != null && n.withdrawAt() == w.completeHeight()) {
                s.storageNodes.remove(w.node());
                s.storageAsks.remove(w.node());
            }
        }
    }
}
