package io.oecloud.chain.ledger;

import io.oecloud.chain.beacon.Beacon;
import java.util.List;
import java.util.Set;

/**
 * One block under the ledger's rules, on a copy of the committed state: {@link #begin} (the last
 * commit's signers paid, liveness counted, evidence punished), the transactions in the block's
 * order ({@link #apply}), then {@link #end} (matured unbondings paid back, the validator set
 * chosen at an epoch or after a jail) and the supply invariant. The committed state is never
 * touched: the caller commits {@link #state()} or drops it.
 *
 * <p>Usage, as FinalizeBlock runs it:
 * <pre>{@code
 * Block b = Block.begin(committed, height, blockTimeMillis, lastCommitVotes, misbehavior);
 * b.beacon(chainId, committed, lastCommitVotes, firstEntryWhenABeacon); // throws when refused
 * for (Ledger.Checked tx : txs) results.add(b.apply(ledger, tx));
 * List<Block.Update> validatorUpdates = b.end(); // throws when the supply invariant breaks
 * }</pre>
 *
 * <p>Not thread-safe: one thread drives a block from begin to end.
 */
public final class Block {
    /** A vote of the last block's commit: the validator (its CometBFT address), its power, what it did. */
    public record Vote(String validatorAddress, long power, boolean signedBlock, boolean absent) {}

    /** Evidence of misbehavior (double-signing or a light-client attack) at {@code height}. */
    public record Evidence(String validatorAddress, long height) {}

    /** A change of the validator set for CometBFT: power 0 removes. */
    public record Update(String operator, byte[] validatorKey, long power) {}

    private final LedgerState state;
    private final Set<String> changed;
    private final boolean jailed;
    private Contracts.Settlement settlement;

    private Block(LedgerState state, Set<String> changed, boolean jailed) {
        this.state = state;
        this.changed = changed;
        this.jailed = jailed;
    }

    /**
     * Starts block {@code height} on a copy of {@code committed}: its time is the block's (from
     * CometBFT, never the clock), and from here on every entry written or removed is recorded.
     */
    public static Block begin(LedgerState committed, long height, long timeMillis, List<Vote> lastCommit, List<Evidence> evidence) {
        LedgerState working = committed.copyAt(height, timeMillis);
        Set<String> changed = working.track(); // what this block writes: the entries, tree and store follow only that
        boolean jailed = Staking.beginBlock(working, lastCommit, evidence);
        Contracts.beginBlock(working); // the period's storage price, at its first block
        return new Block(working, changed, jailed);
    }

    /**
     * Checks block {@code height}'s beacon entry ({@code entry}, null when its block carries none)
     * against its last commit on {@code committed} (the state after {@code height - 1}); returns
     * the entry, or null when there is none and none is required.
     *
     * @throws Beacon.BeaconException when the entry is refused, or missing while the last
     *     commit's validators with beacon keys that committed hold more than 2/3 of the power
     */
    public static Beacon.Entry checkBeacon(String chainId, LedgerState committed, long height, List<Vote> lastCommit, byte[] entry)
            throws Beacon.BeaconException {
        List<Beacon.Voter> voters = committed.beaconVoters(lastCommit, height);
        if (entry == null) {
            if (Beacon.required(voters)) {
                throw new Beacon.BeaconException("block " + height + " carries no beacon, but validators with beacon keys that"
                        + " committed block " + (height - 1) + " hold more than 2/3 of the power");
            }
            return null;
        }
        byte[] seed = committed.beaconSeed != null ? committed.beaconSeed : Beacon.seed0(chainId);
        byte[] before = committed.beaconPrevious != null ? committed.beaconPrevious : seed;
        return Beacon.verify(entry, voters, Beacon.message(chainId, height - 1, before));
    }

    /**
     * The block's beacon, checked again here (FinalizeBlock never trusts ProcessProposal alone):
     * the seed advances ({@code seed_h = Beacon.nextSeed(seed_{h-1}, entry)}) when the block
     * carries one, and stays when it carries none. Call right after {@link #begin}.
     *
     * @param committed the state after the previous block (what {@link #begin} copied)
     * @return the entry, or null when the block carries none (the seed kept)
     */
    public Beacon.Entry beacon(String chainId, LedgerState committed, List<Vote> lastCommit, byte[] entry) throws Beacon.BeaconException {
        Beacon.Entry e = checkBeacon(chainId, committed, state.height, lastCommit, entry);
        beaconChecked(chainId, committed, e);
        return e;
    }

    /**
     * The seed after this block, from what {@link #checkBeacon} returned for it on
     * {@code committed} (the caller ran the check, e.g. before taking a lock): the entry, or null
     * when the block carries none.
     */
    public void beaconChecked(String chainId, LedgerState committed, Beacon.Entry e) {
        byte[] seed = committed.beaconSeed != null ? committed.beaconSeed : Beacon.seed0(chainId);
        state.beaconPrevious = seed;
        if (e != null) {
            state.beaconSeed = Beacon.nextSeed(seed, e);
            state.beaconHeight = state.height;
        } else {
            state.beaconSeed = seed;
        }
    }

    /** Applies one of the block's transactions (refused ones change nothing and pay nothing). */
    public Ledger.Result apply(Ledger ledger, Ledger.Checked tx) {
        return ledger.apply(state, tx);
    }

    /**
     * Ends the block: the validator set changes CometBFT must apply. Throws IllegalStateException
     * when the supply invariant is broken, so the chain stops rather than commit such a block.
     */
    public List<Update> end() {
        List<Update> updates = Staking.endBlock(state, jailed);
        Storage.endBlock(state); // window seeds, missed windows' penalties (slashed: in the invariant below)
        Audits.endBlock(state); // the window's audit committee, old verdicts pruned
        settlement = Contracts.endBlock(state); // at a period's last block: its settlement, after the last window's penalties
        if (!state.supply().equals(state.expectedSupply())) { // the invariant, at every block
            throw new IllegalStateException("supply invariant broken at height " + state.height + ": balances, stake and pools "
                    + state.supply() + " != genesis + minted - slashed " + state.expectedSupply());
        }
        state.untrack();
        return updates;
    }

    /** The paid-storage settlement this block did (its period's last block), or null. */
    public Contracts.Settlement settlement() {
        return settlement;
    }

    /** The state after the block (after {@link #end}: what is committed). */
    public LedgerState state() {
        return state;
    }

    /** The entry keys the block wrote or removed (the pools and counters are always written, and not listed). */
    public Set<String> changed() {
        return changed;
    }
}
