package io.oecloud.chain.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.Windows;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The proof-of-storage rules, fixed at genesis ({@code app_state.storage}) and part of the state
 * ({@code storage-params/NAME}, so of the app hash). Periods and windows are counted in blocks;
 * fractions in parts per million.
 *
 * @param periodBlocks   P: blocks in a proving period (production: 24 h of blocks, 17,280 at 5 s)
 * @param windows        W: windows in a period, dividing P (production 48: 30 min each)
 * @param challenges     c: challenges per node per period (32)
 * @param minCollateral  a storage node's first registration bonds at least this; below it after a
 *                       penalty the node is inactive (placement avoids it, it may not commit roots)
 * @param penaltyPpm     cut of the node's collateral for a missed window (slashed: burned)
 * @param faultFee       base units per CID declared faulty, paid into the fee pool
 * @param commitDeadline a root for period p is accepted in blocks [(p-1)·P, p·P - commitDeadline]
 * @param retainPeriods  roots, fault lists and seeds of periods older than this are pruned
 * @param auditors       A: super-nodes drawn per window to run timed retrieval audits ({@link Audits}); 0 turns audits off
 * @param auditTargets   verdicts one auditor may record per window (the nodes it audits), at most 256
 * @param auditDeadlineMillis how long an audited node has to answer (kept off chain by the committee,
 *                       published here so every auditor and node uses one figure)
 * @param auditVerdictBlocks verdicts of a window are accepted up to this many blocks after its last
 * @param auditStandingPeriods failures counted for standing are those of the last this many periods
 * @param auditFailThreshold a node with at least this many failed audits (TIMEOUT or BAD) in those
 *                       periods is in poor standing (placement avoids it)
 * @param withdrawPeriods a node that unregisters in period p gets its collateral back at the first
 *                       block of period p + withdrawPeriods ({@link StorageExit}); at least 2, so
 *                       that the last period it can have committed a root for (p + 1) has ended and
 *                       its last window's penalty has been taken first
 * @param defaultPrice   base units per GiB (2^30 bytes) per period when no active node has an ask
 *                       ({@link Contracts}): 1/1000 pass by default (at the production period of a
 *                       day, 0.365 pass per GiB-year: a placeholder until operators publish asks)
 * @param maxContractPeriods the most periods one CreateContract or RenewContract buys (10,000,000 by
 *                       default: 30 days of devnet periods of a few seconds fit, and cost · periods
 *                       stays far from 2^128)
 * @param contractGracePeriods a contract's record stays this many periods after its end (so holders
 *                       see it expired before it disappears), then it is removed ({@code contract-end/} index)
 * @param contractChallenges k: contract picks per node and period, 0 to {@link #MAX_CONTRACT_CHALLENGES}
 *                       (0 turns them off): each names one of the node's contracts and one block of
 *                       it, answered under the holder's receipt root ({@link Storage#contractPicks})
 */
public record StorageParams(long periodBlocks, int windows, int challenges, BigInteger minCollateral, int penaltyPpm,
                            BigInteger faultFee, long commitDeadline, long retainPeriods, int auditors, int auditTargets,
                            long auditDeadlineMillis, long auditVerdictBlocks, int auditStandingPeriods, int auditFailThreshold,
                            long withdrawPeriods, BigInteger defaultPrice, long maxContractPeriods, long contractGracePeriods,
                            int contractChallenges) {
    /** Paid storage's default price (declared before DEFAULTS, which reads it). */
    public static final BigInteger DEFAULT_PRICE = Amounts.PASS.divide(BigInteger.valueOf(1000));
    /** Production: 17,280 blocks (24 h at 5 s), 48 windows of 360 blocks (30 min), c = 32. */
    public static final StorageParams DEFAULTS = new StorageParams(17_280, 48, Challenges.DEFAULT_PER_PERIOD, Amounts.PASS.multiply(BigInteger.valueOf(100)),
            100_000, Amounts.PASS.divide(BigInteger.valueOf(1000)), 1, 16);
    /** The audit defaults: 2 auditors a window, 4 targets each, 5 s to answer, verdicts within 360 blocks, 3 failures in 4 periods. */
    public static final int DEFAULT_AUDITORS = 2;
    public static final int DEFAULT_AUDIT_TARGETS = 4;
    public static final long DEFAULT_AUDIT_DEADLINE_MILLIS = 5_000;
    public static final long DEFAULT_AUDIT_VERDICT_BLOCKS = 360;
    public static final int DEFAULT_AUDIT_STANDING_PERIODS = 4;
    public static final int DEFAULT_AUDIT_FAIL_THRESHOLD = 3;
    /** The withdrawal delay's default: the least that covers every period a leaving node can have committed a root for. */
    public static final long DEFAULT_WITHDRAW_PERIODS = 2;
    /** Paid storage's defaults: at most 10,000,000 periods a purchase, 2 periods of grace. */
    public static final long DEFAULT_MAX_CONTRACT_PERIODS = 10_000_000;
    public static final long DEFAULT_CONTRACT_GRACE_PERIODS = 2;
    /** Contract picks a period by default, and at most (each adds a small answer to the window's last SubmitProof). */
    public static final int DEFAULT_CONTRACT_CHALLENGES = 2;
    public static final int MAX_CONTRACT_CHALLENGES = 16;

    /** The parameters before contract picks, with their default. */
    public StorageParams(long periodBlocks, int windows, int challenges, BigInteger minCollateral, int penaltyPpm,
                         BigInteger faultFee, long commitDeadline, long retainPeriods, int auditors, int auditTargets,
                         long auditDeadlineMillis, long auditVerdictBlocks, int auditStandingPeriods, int auditFailThreshold,
                         long withdrawPeriods, BigInteger defaultPrice, long maxContractPeriods, long contractGracePeriods) {
        this(periodBlocks, windows, challenges, minCollateral, penaltyPpm, faultFee, commitDeadline, retainPeriods, auditors, auditTargets,
                auditDeadlineMillis, auditVerdictBlocks, auditStandingPeriods, auditFailThreshold, withdrawPeriods, defaultPrice,
                maxContractPeriods, contractGracePeriods, DEFAULT_CONTRACT_CHALLENGES);
    }

    /** The parameters before paid storage, with its defaults. */
    public StorageParams(long periodBlocks, int windows, int challenges, BigInteger minCollateral, int penaltyPpm,
                         BigInteger faultFee, long commitDeadline, long retainPeriods, int auditors, int auditTargets,
                         long auditDeadlineMillis, long auditVerdictBlocks, int auditStandingPeriods, int auditFailThreshold,
                         long withdrawPeriods) {
        this(periodBlocks, windows, challenges, minCollateral, penaltyPpm, faultFee, commitDeadline, retainPeriods, auditors, auditTargets,
                auditDeadlineMillis, auditVerdictBlocks, auditStandingPeriods, auditFailThreshold, withdrawPeriods, DEFAULT_PRICE,
                DEFAULT_MAX_CONTRACT_PERIODS, DEFAULT_CONTRACT_GRACE_PERIODS);
    }

    /** The parameters before audits, with the audit defaults (the verdict bound at most one period). */
    public StorageParams(long periodBlocks, int windows, int challenges, BigInteger minCollateral, int penaltyPpm,
                         BigInteger faultFee, long commitDeadline, long retainPeriods) {
        this(periodBlocks, windows, challenges, minCollateral, penaltyPpm, faultFee, commitDeadline, retainPeriods, DEFAULT_AUDITORS,
                DEFAULT_AUDIT_TARGETS, DEFAULT_AUDIT_DEADLINE_MILLIS, Math.min(DEFAULT_AUDIT_VERDICT_BLOCKS, periodBlocks),
                DEFAULT_AUDIT_STANDING_PERIODS, DEFAULT_AUDIT_FAIL_THRESHOLD, DEFAULT_WITHDRAW_PERIODS);
    }
    /** The most challenges a period may ask: bounds the verification work of one node's period. */
    public static final int MAX_CHALLENGES = 256;

    public StorageParams {
        if (contractChallenges < 0 || contractChallenges > MAX_CONTRACT_CHALLENGES) {
            throw new IllegalArgumentException("storage parameter contractChallenges is 0 to " + MAX_CONTRACT_CHALLENGES + ", not "
                    + contractChallenges);
        }
        if (windows < 1 || windows > 10_000 || periodBlocks < windows || periodBlocks % windows != 0 || periodBlocks > 1L << 40
                || periodBlocks / windows < 2 || challenges < 1 || challenges > MAX_CHALLENGES
                || minCollateral == null || minCollateral.signum() <= 0 || minCollateral.compareTo(Amounts.LIMIT) >= 0
                || penaltyPpm < 0 || penaltyPpm > StakingParams.PPM || faultFee == null || faultFee.signum() < 0
                || faultFee.compareTo(Amounts.LIMIT) >= 0 || commitDeadline < 1 || commitDeadline >= periodBlocks
                || retainPeriods < 2 || retainPeriods > 10_000 || auditors < 0 || auditors > 64 || auditTargets < 1
                || auditTargets > 256 || auditDeadlineMillis < 100 || auditDeadlineMillis > 600_000 || auditVerdictBlocks < 1
                || auditVerdictBlocks > periodBlocks || auditStandingPeriods < 1 || auditStandingPeriods > retainPeriods
                || auditFailThreshold < 1 || auditFailThreshold > 1_000_000 || withdrawPeriods < 2 || withdrawPeriods > 10_000
                || defaultPrice == null || defaultPrice.signum() < 0 || defaultPrice.compareTo(Amounts.LIMIT) >= 0
                || maxContractPeriods < 1 || maxContractPeriods > 1L << 40 || contractGracePeriods < 1 || contractGracePeriods > 10_000) {
            throw new IllegalArgumentException("storage parameters out of range: " + StorageParams.this.toMap());
        }
    }

    /** The periods and windows these parameters cut the chain into. */
    public Windows windowing() {
        return new Windows(periodBlocks, windows);
    }

    /** Genesis {@code storage}: any field left out keeps its default. */
    public static StorageParams fromJson(JsonNode p) {
        StorageParams d = DEFAULTS;
        long period = p.path("periodBlocks").asLong(d.periodBlocks);
        long retain = p.path("retainPeriods").asLong(d.retainPeriods);
        return new StorageParams(period, p.path("windows").asInt(d.windows),
                p.path("challenges").asInt(d.challenges), new BigInteger(p.path("minCollateral").asText(d.minCollateral.toString())),
                p.path("penaltyPpm").asInt(d.penaltyPpm), new BigInteger(p.path("faultFee").asText(d.faultFee.toString())),
                p.path("commitDeadline").asLong(d.commitDeadline), retain, p.path("auditors").asInt(d.auditors),
                p.path("auditTargets").asInt(d.auditTargets), p.path("auditDeadlineMillis").asLong(d.auditDeadlineMillis),
                p.path("auditVerdictBlocks").asLong(Math.min(d.auditVerdictBlocks, period)),
                p.path("auditStandingPeriods").asInt((int) Math.min(d.auditStandingPeriods, retain)),
                p.path("auditFailThreshold").asInt(d.auditFailThreshold), p.path("withdrawPeriods").asLong(d.withdrawPeriods),
                new BigInteger(p.path("defaultPrice").asText(d.defaultPrice.toString())),
                p.path("maxContractPeriods").asLong(d.maxContractPeriods), p.path("contractGracePeriods").asLong(d.contractGracePeriods),
                p.path("contractChallenges").asInt(d.contractChallenges));
    }

    /** By name, values as decimal strings: the JSON form and the state entries ("storage-params/NAME"). */
    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("periodBlocks", Long.toString(periodBlocks));
        m.put("windows", Integer.toString(windows));
        m.put("challenges", Integer.toString(challenges));
        m.put("minCollateral", String.valueOf(minCollateral));
        m.put("penaltyPpm", Integer.toString(penaltyPpm));
        m.put("faultFee", String.valueOf(faultFee));
        m.put("commitDeadline", Long.toString(commitDeadline));
        m.put("retainPeriods", Long.toString(retainPeriods));
        m.put("auditors", Integer.toString(auditors));
        m.put("auditTargets", Integer.toString(auditTargets));
        m.put("auditDeadlineMillis", Long.toString(auditDeadlineMillis));
        m.put("auditVerdictBlocks", Long.toString(auditVerdictBlocks));
        m.put("auditStandingPeriods", Integer.toString(auditStandingPeriods));
        m.put("auditFailThreshold", Integer.toString(auditFailThreshold));
        m.put("withdrawPeriods", Long.toString(withdrawPeriods));
        m.put("defaultPrice", String.valueOf(defaultPrice));
        m.put("maxContractPeriods", Long.toString(maxContractPeriods));
        m.put("contractGracePeriods", Long.toString(contractGracePeriods));
        m.put("contractChallenges", Integer.toString(contractChallenges));
        return m;
    }

    static StorageParams fromMap(Map<String, String> m) {
        com.fasterxml.jackson.databind.node.ObjectNode o = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        m.forEach(o::put);
        return fromJson(o);
    }
}
