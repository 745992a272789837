package io.oecloud.chain.ledger;

import io.oecloud.chain.ledger.Block.Evidence;
import io.oecloud.chain.ledger.Block.Update;
import io.oecloud.chain.ledger.Block.Vote;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.Ledger.Result;
import io.oecloud.chain.ledger.LedgerState.Candidate;
import io.oecloud.chain.ledger.LedgerState.Liveness;
import io.oecloud.chain.ledger.LedgerState.Unbonding;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Delegated proof of stake: candidates, bonds and delegations, unbonding, the choice of super-nodes
 * each epoch, block rewards and fees for the validators that signed, and slashing. Pure functions
 * of the state and the block (its height, votes and evidence): no clock, no randomness, integer
 * arithmetic only, every walk in key order.
 */
final class Staking {
    private Staking() {}

    private static final BigInteger PPM = BigInteger.valueOf(StakingParams.PPM);
    /** CometBFT refuses a validator power above 2^60 / 8 in total; one validator stays under 2^50. */
    static final long MAX_POWER = 1L << 50;

    // ---- transactions (the fee is charged by the caller once these return OK) ----

    /**
     * The state-free check of a candidate's beacon key and its proof of possession (two pairings:
     * run by {@link Ledger#check}, outside the ledger's lock, and by {@link Genesis}): null when
     * both are empty (no beacon key) or the key is valid and the proof verifies for {@code operator}.
     */
    static Result checkBeaconKey(String operator, byte[] beaconKey, byte[] pop) {
        if (beaconKey.length == 0 && pop.length == 0) {
            return null;
        }
        if (beaconKey.length == 0 || pop.length == 0) {
            return new Result(Code.BAD_KEY, "a beacon key needs its proof of possession, and a proof its key (both or neither)");
        }
        String bad = io.oecloud.chain.beacon.Bls.checkPublicKey(beaconKey);
        if (bad != null) {
            return new Result(Code.BAD_KEY, bad);
        }
        if (!io.oecloud.chain.beacon.Bls.verifyPop(beaconKey, operator, pop)) {
            return new Result(Code.BAD_KEY, "the beacon key's proof of possession does not verify for " + operator
                    + " (a BLS signature of the key and the operator's address under the PoP DST)");
        }
        return null;
    }

    /** Registers a candidate; {@code beaconKey} is empty (none) or checked by {@link #checkBeaconKey} before. */
    static Result registerCandidate(LedgerState s, String from, BigInteger spendable, byte[] key, int commissionPpm,
                                    String moniker, BigInteger selfBond, byte[] beaconKey) {
        if (s.candidates.containsKey(from)) {
            return new Result(Code.CANDIDATE_EXISTS, from + " is already a candidate");
        }
        if (key.length != 32 || !org.bouncycastle.math.ec.rfc8032.Ed25519.validatePublicKeyFull(key, 0)) {
            return new Result(Code.BAD_KEY, "the validator key must be a 32-byte Ed25519 public key");
        }
        String va = LedgerState.consensusAddress(key);
        if (s.byValidatorAddress.containsKey(va)) {
            return new Result(Code.KEY_TAKEN, "validator key " + va + " belongs to candidate " + s.byValidatorAddress.get(va));
        }
        if (beaconKey.length > 0 && s.beaconKeyHolder(beaconKey) != null) {
            return new Result(Code.KEY_TAKEN, "beacon key belongs to candidate " + s.beaconKeyHolder(beaconKey));
        }
        if (commissionPpm < 0 || commissionPpm > StakingParams.PPM) {
            return new Result(Code.BAD_AMOUNT, "commission " + commissionPpm + " ppm is not within 0..1000000");
        }
        if (moniker.getBytes(StandardCharsets.UTF_8).length > 64) {
            return new Result(Code.MALFORMED, "moniker is limited to 64 bytes");
        }
        if (spendable.compareTo(selfBond) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " can spend " + spendable + " after the fee, the self-bond is " + selfBond);
        }
        s.candidates.put(from, new Candidate(key, commissionPpm, moniker, BigInteger.ZERO, false, 0, 0, s.height));
        s.byValidatorAddress.put(va, from);
        if (beaconKey.length > 0) {
            s.beaconKeys.put(from, new LedgerState.BeaconKey(beaconKey.clone(), s.height));
        }
        if (selfBond.signum() > 0) {
            debit(s, from, selfBond);
            addStake(s, from, from, selfBond);
        }
        return Result.OK;
    }

    static Result editCandidate(LedgerState s, String from, int commissionPpm, String moniker) {
        Candidate c = s.candidates.get(from);
        if (c == null) {
            return new Result(Code.NOT_CANDIDATE, from + " is not a candidate");
        }
        if (commissionPpm < 0 || commissionPpm > StakingParams.PPM) {
            return new Result(Code.BAD_AMOUNT, "commission " + commissionPpm + " ppm is not within 0..1000000");
        }
        if (moniker.getBytes(StandardCharsets.UTF_8).length > 64) {
            return new Result(Code.MALFORMED, "moniker is limited to 64 bytes");
        }
        if (commissionPpm != c.commissionPpm() && s.height - c.commissionHeight() < s.params.epochBlocks()) {
            return new Result(Code.TOO_SOON, "the commission was changed at height " + c.commissionHeight()
                    + "; it may change once per epoch (" + s.params.epochBlocks() + " blocks)");
        }
        s.candidates.put(from, c.edit(commissionPpm, moniker, s.height));
        return Result.OK;
    }

    /** Bond (candidate == from) or Delegate: moves {@code amount} from the balance to the stake. */
    static Result delegate(LedgerState s, String from, BigInteger spendable, String candidate, BigInteger amount) {
        if (!s.candidates.containsKey(candidate)) {
            return new Result(Code.NOT_CANDIDATE, candidate + " is not a candidate");
        }
        if (amount.signum() == 0) {
            return new Result(Code.BAD_AMOUNT, "the amount must be above zero");
        }
        if (spendable.compareTo(amount) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " can spend " + spendable + " after the fee, needs " + amount);
        }
        try {
            Amounts.add(s.candidates.get(candidate).stake(), amount);
        } catch (Amounts.AmountException e) {
            return new Result(Code.BAD_AMOUNT, e.getMessage());
        }
        debit(s, from, amount);
        addStake(s, candidate, from, amount);
        return Result.OK;
    }

    /** Unbond (candidate == from) or Undelegate: the stake starts its way back. */
    static Result undelegate(LedgerState s, String from, String candidate, BigInteger amount) {
        BigInteger held = s.delegation(candidate, from);
        if (amount.signum() == 0) {
            return new Result(Code.BAD_AMOUNT, "the amount must be above zero");
        }
        if (held.compareTo(amount) < 0) {
            return new Result(Code.INSUFFICIENT_STAKE, from + " has " + held + " bonded to " + candidate + ", not " + amount);
        }
        addStake(s, candidate, from, amount.negate());
        long complete = s.height + s.params.unbondingBlocks();
        String key = Unbonding.key(complete, candidate, from);
        Unbonding prior = s.unbondings.get(key);
        s.unbondings.put(key, new Unbonding(from, candidate, prior == null ? amount : prior.amount().add(amount),
                s.height, complete));
        return Result.OK;
    }

    static Result unjail(LedgerState s, String from) {
        Candidate c = s.candidates.get(from);
        if (c == null) {
            return new Result(Code.NOT_CANDIDATE, from + " is not a candidate");
        }
        if (!c.jailed()) {
            return new Result(Code.NOT_JAILED, from + " is not jailed");
        }
        if (s.height < c.jailedUntil()) {
            return new Result(Code.TOO_SOON, from + " is jailed until height " + c.jailedUntil() + " (now " + s.height + ")");
        }
        s.candidates.put(from, c.unjail());
        return Result.OK;
    }

    private static void debit(LedgerState s, String from, BigInteger amount) {
        LedgerState.Account a = s.account(from);
        s.accounts.put(from, new LedgerState.Account(a.balance().subtract(amount), a.nonce()));
    }

    private static void credit(LedgerState s, String to, BigInteger amount) {
        if (amount.signum() == 0) {
            return;
        }
        LedgerState.Account a = s.account(to);
        s.accounts.put(to, new LedgerState.Account(a.balance().add(amount), a.nonce()));
    }

    /** Adds (or with a negative amount removes) stake of {@code delegator} on {@code candidate}. */
    private static void addStake(LedgerState s, String candidate, String delegator, BigInteger amount) {
        String k = candidate + "/" + delegator;
        BigInteger d = s.delegations.getOrDefault(k, BigInteger.ZERO).add(amount);
        if (d.signum() == 0) {
            s.delegations.remove(k);
        } else {
            s.delegations.put(k, d);
        }
        Candidate c = s.candidates.get(candidate);
        s.candidates.put(candidate, c.withStake(c.stake().add(amount)));
    }

    // ---- the block ----

    /**
     * The start of a block: pays the previous block's signers (the fees collected in it and this
     * height's reward), counts their liveness and punishes evidence. Returns whether someone was
     * jailed (the set must change now, not at the epoch).
     */
    static boolean beginBlock(LedgerState s, List<Vote> lastCommit, List<Evidence> evidence) {
        distribute(s, lastCommit);
        boolean jailed = false;
        for (Evidence e : evidence) {
            String op = s.byValidatorAddress.get(e.validatorAddress());
            Candidate c = op == null ? null : s.candidates.get(op);
            // one punishment per offence: evidence from before the last punishment is already paid for
            if (c != null && e.height() > c.lastPunished()) {
                slash(s, op, s.params.doubleSignSlashPpm(), e.height());
                s.candidates.put(op, s.candidates.get(op).jail(s.height + s.params.doubleSignJailBlocks(), s.height));
                s.liveness.remove(op);
                jailed = true;
            }
        }
        int window = s.params.downtimeWindow();
        for (Vote v : lastCommit) {
            String op = s.byValidatorAddress.get(v.validatorAddress());
            if (op == null || !s.validators.containsKey(op) || s.candidates.get(op).jailed()) {
                continue; // not ours to count, or already leaving the set
            }
            Liveness l = s.liveness.getOrDefault(op, Liveness.fresh(window)).record(v.absent(), window);
            if (l.counted() >= window && l.missed() > s.params.downtimeMaxMissed()) {
                slash(s, op, s.params.downtimeSlashPpm(), s.height - 1);
                s.candidates.put(op, s.candidates.get(op).jail(s.height + s.params.downtimeJailBlocks(), s.candidates.get(op).lastPunished()));
                s.liveness.remove(op);
                jailed = true;
            } else {
                s.liveness.put(op, l);
            }
        }
        return jailed;
    }

    /**
     * Block reward and fee pool to the validators whose votes committed the last block, in
     * proportion to their power; each validator's share to its delegators in proportion to their
     * stake after the commission. Integer division throughout: a validator's share is
     * floor(total * power / signed power) and what the floors leave stays in the fee pool for the
     * next block; a delegator's share is floor(rest * stake / candidate stake), and what those
     * floors leave goes to the operator with the commission (floor(share * commission / 10^6)).
     */
    private static void distribute(LedgerState s, List<Vote> lastCommit) {
        long signedPower = 0;
        for (Vote v : lastCommit) {
            if (v.signedBlock() && s.byValidatorAddress.containsKey(v.validatorAddress())) {
                signedPower += v.power();
            }
        }
        if (signedPower == 0) {
            return; // nobody to pay: fees wait in the pool, nothing is minted
        }
        BigInteger reward = s.params.rewardAt(s.height);
        if (s.expectedSupply().add(reward).compareTo(Amounts.LIMIT) >= 0) {
            reward = BigInteger.ZERO; // the supply stays below 2^128: emission ends there
        }
        s.minted = s.minted.add(reward);
        BigInteger total = s.feePool.add(reward);
        BigInteger paid = BigInteger.ZERO;
        BigInteger sp = BigInteger.valueOf(signedPower);
        for (Vote v : lastCommit) {
            String op = v.signedBlock() ? s.byValidatorAddress.get(v.validatorAddress()) : null;
            if (op == null) {
                continue;
            }
            BigInteger share = total.multiply(BigInteger.valueOf(v.power())).divide(sp);
            paid = paid.add(share);
            payValidator(s, op, share);
        }
        s.feePool = total.subtract(paid);
    }

    private static void payValidator(LedgerState s, String operator, BigInteger share) {
        Candidate c = s.candidates.get(operator);
        BigInteger commission = share.multiply(BigInteger.valueOf(c.commissionPpm())).divide(PPM);
        BigInteger rest = share.subtract(commission);
        BigInteger given = BigInteger.ZERO;
        if (c.stake().signum() > 0) {
            for (Map.Entry<String, BigInteger> d : s.delegationsTo(operator).entrySet()) {
                BigInteger part = rest.multiply(d.getValue()).divide(c.stake());
                credit(s, d.getKey(), part);
                given = given.add(part);
            }
        }
        credit(s, operator, commission.add(rest.subtract(given)));
    }

    /**
     * Cuts {@code ppm} of the candidate's bonded stake and of the stake that left it at or after
     * the offence ({@code infractionHeight}) and is still unbonding; burned (counted in slashed).
     */
    static BigInteger slash(LedgerState s, String operator, int ppm, long infractionHeight) {
        BigInteger f = BigInteger.valueOf(ppm);
        BigInteger cut = BigInteger.ZERO;
        for (Map.Entry<String, BigInteger> d : s.delegationsTo(operator).entrySet()) {
            BigInteger c = d.getValue().multiply(f).divide(PPM);
            if (c.signum() > 0) {
                addStake(s, operator, d.getKey(), c.negate());
                cut = cut.add(c);
            }
        }
        for (Map.Entry<String, Unbonding> e : new ArrayList<>(s.unbondings.entrySet())) {
            Unbonding u = e.getValue();
            if (u.candidate().equals(operator) && u.createdHeight() >= infractionHeight) {
                BigInteger c = u.amount().multiply(f).divide(PPM);
                if (c.signum() > 0) {
                    BigInteger left = u.amount().subtract(c);
                    if (left.signum() == 0) {
                        s.unbondings.remove(e.getKey());
                    } else {
                        s.unbondings.put(e.getKey(), new Unbonding(u.delegator(), u.candidate(), left, u.createdHeight(), u.completeHeight()));
                    }
                    cut = cut.add(c);
                }
            }
        }
        s.slashed = s.slashed.add(cut);
        return cut;
    }

    /**
     * The end of a block: pays back matured unbonding stake, and at an epoch boundary (or when
     * someone was jailed) chooses the validator set. Returns the changes CometBFT must apply.
     */
    static List<Update> endBlock(LedgerState s, boolean jailedNow) {
        Map<String, Unbonding> due = new TreeMap<>(s.unbondings.headMap(String.format("%020d0", s.height)));
        for (Unbonding u : due.values()) {
            credit(s, u.delegator(), u.amount());
        }
        due.keySet().forEach(s.unbondings::remove);
        if (s.height % s.params.epochBlocks() == 0) {
            return apply(s, elect(s));
        }
        if (jailedNow) {
            TreeMap<String, Long> kept = new TreeMap<>(s.validators);
            kept.keySet().removeIf(op -> s.candidates.get(op).jailed());
            return apply(s, kept);
        }
        return List.of();
    }

    /** The first validator set, chosen from the genesis candidates. */
    static List<Update> endBlockAtGenesis(LedgerState s) {
        return apply(s, elect(s));
    }

    /**
     * The next set: the top {@code maxValidators} candidates that are not jailed, hold at least the
     * minimum self-bond and one pass of stake, by stake (ties by address); power as {@link #powers}.
     */
    static TreeMap<String, Long> elect(LedgerState s) {
        List<Map.Entry<String, Candidate>> eligible = new ArrayList<>();
        for (Map.Entry<String, Candidate> e : s.candidates.entrySet()) {
            Candidate c = e.getValue();
            if (!c.jailed() && s.delegation(e.getKey(), e.getKey()).compareTo(s.params.minSelfBond()) >= 0
                    && c.stake().compareTo(Amounts.PASS) >= 0) {
                eligible.add(e);
            }
        }
        eligible.sort(Comparator.comparing((Map.Entry<String, Candidate> e) -> e.getValue().stake()).reversed()
                .thenComparing(Map.Entry::getKey));
        TreeMap<String, BigInteger> stakes = new TreeMap<>();
        for (Map.Entry<String, Candidate> e : eligible.subList(0, Math.min(eligible.size(), s.params.maxValidators()))) {
            stakes.put(e.getKey(), e.getValue().stake());
        }
        return powers(stakes);
    }

    /**
     * Voting power: stake in whole passes (at most 2^50), then capped at the largest c for which a
     * validator holding c still has less than a third of the total power, so no single super-node
     * can stop the chain alone. The total, as a function of c, minus 3c is concave and zero at 0, so
     * the c that keep it positive are one interval found by bisection. Fewer than four validators
     * cannot meet the rule whatever the cap, and are left uncapped.
     */
    static TreeMap<String, Long> powers(TreeMap<String, BigInteger> stakes) {
        TreeMap<String, Long> p = new TreeMap<>();
        for (Map.Entry<String, BigInteger> e : stakes.entrySet()) {
            p.put(e.getKey(), e.getValue().divide(Amounts.PASS).min(BigInteger.valueOf(MAX_POWER)).longValueExact());
        }
        long max = p.values().stream().mapToLong(Long::longValue).max().orElse(0);
        if (p.size() < 4 || max == 0 || thirdRuleHolds(p, max)) {
            return p;
        }
        long lo = 1;
        long hi = max; // holds at lo (four or more validators of power >= 1), fails at hi
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (thirdRuleHolds(p, mid)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        long cap = lo;
        p.replaceAll((k, v) -> Math.min(v, cap));
        return p;
    }

    private static boolean thirdRuleHolds(Map<String, Long> p, long cap) {
        long total = 0;
        long top = 0;
        for (long v : p.values()) {
            total += Math.min(v, cap);
            top = Math.max(top, Math.min(v, cap));
        }
        return 3 * top < total;
    }

    /** Records {@code next} as the set and returns the differences from the current one. */
    private static List<Update> apply(LedgerState s, TreeMap<String, Long> next) {
        if (next.isEmpty()) {
            return List.of(); // never an empty set: CometBFT cannot go on without validators
        }
        List<Update> updates = new ArrayList<>();
        for (Map.Entry<String, Long> e : s.validators.entrySet()) {
            if (!next.containsKey(e.getKey())) {
                updates.add(new Update(e.getKey(), s.candidates.get(e.getKey()).validatorKey(), 0));
                s.liveness.remove(e.getKey());
            }
        }
        for (Map.Entry<String, Long> e : next.entrySet()) {
            if (!e.getValue().equals(s.validators.get(e.getKey()))) {
                updates.add(new Update(e.getKey(), s.candidates.get(e.getKey()).validatorKey(), e.getValue()));
            }
        }
        s.validators.clear();
        s.validators.putAll(next);
        return updates;
    }
}
