package io.oecloud.chain.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The chain's staking rules, fixed at genesis ({@code app_state.params}) and part of the state
 * (so of the app hash). Counts are in blocks; fractions in parts per million, so no rule needs a
 * float.
 *
 * @param epochBlocks         the validator set is chosen again at every multiple of this height
 * @param maxValidators       super-nodes per epoch (the top candidates by stake)
 * @param unbondingBlocks     how long unbonded stake stays slashable before it is paid back
 * @param minSelfBond         a candidate's own stake must be at least this to be chosen
 * @param blockReward         base units minted per block for the validators that signed
 * @param halvingBlocks       the reward halves every this many blocks (0: never)
 * @param doubleSignSlashPpm  cut of stake (bonded and unbonding) for signing two blocks at a height
 * @param doubleSignJailBlocks jail term after double-signing
 * @param downtimeWindow      blocks over which signing is counted
 * @param downtimeMaxMissed   more misses than this in the window slash and jail
 * @param downtimeSlashPpm    cut of bonded stake for downtime
 * @param downtimeJailBlocks  jail term after downtime
 */
public record StakingParams(long epochBlocks, int maxValidators, long unbondingBlocks, BigInteger minSelfBond,
                            BigInteger blockReward, long halvingBlocks, int doubleSignSlashPpm, long doubleSignJailBlocks,
                            int downtimeWindow, int downtimeMaxMissed, int downtimeSlashPpm, long downtimeJailBlocks) {
    public static final int PPM = 1_000_000;
    /** At most this many validators: keeps the total power far below CometBFT's limit (2^60 / 8). */
    public static final int MAX_VALIDATORS = 100;

    public static final StakingParams DEFAULTS = new StakingParams(100, 21, 1_000, Amounts.PASS,
            Amounts.PASS, 0, 50_000, 10_000, 1_000, 500, 1_000, 600);

    public StakingParams {
        if (epochBlocks < 1 || maxValidators < 1 || maxValidators > MAX_VALIDATORS || unbondingBlocks < 0 || halvingBlocks < 0
                || doubleSignSlashPpm < 0 || doubleSignSlashPpm > PPM || downtimeSlashPpm < 0 || downtimeSlashPpm > PPM
                || downtimeWindow < 1 || downtimeWindow > 100_000 || downtimeMaxMissed < 0 || downtimeMaxMissed >= downtimeWindow
                || doubleSignJailBlocks < 0 || downtimeJailBlocks < 0 || minSelfBond.signum() < 0 || blockReward.signum() < 0
                || blockReward.compareTo(Amounts.LIMIT) >= 0 || minSelfBond.compareTo(Amounts.LIMIT) >= 0) {
            throw new IllegalArgumentException("staking parameters out of range: " + StakingParams.this.toMap());
        }
    }

    /** The reward minted at {@code height}. */
    public BigInteger rewardAt(long height) {
        if (halvingBlocks == 0) {
            return blockReward;
        }
        long halvings = height / halvingBlocks;
        return halvings >= 128 ? BigInteger.ZERO : blockReward.shiftRight((int) halvings);
    }

    /** Genesis {@code params}: any field left out keeps its default. */
    public static StakingParams fromJson(JsonNode p) {
        StakingParams d = DEFAULTS;
        return new StakingParams(p.path("epochBlocks").asLong(d.epochBlocks), p.path("maxValidators").asInt(d.maxValidators),
                p.path("unbondingBlocks").asLong(d.unbondingBlocks),
                new BigInteger(p.path("minSelfBond").asText(d.minSelfBond.toString())),
                new BigInteger(p.path("blockReward").asText(d.blockReward.toString())), p.path("halvingBlocks").asLong(d.halvingBlocks),
                p.path("doubleSignSlashPpm").asInt(d.doubleSignSlashPpm), p.path("doubleSignJailBlocks").asLong(d.doubleSignJailBlocks),
                p.path("downtimeWindow").asInt(d.downtimeWindow), p.path("downtimeMaxMissed").asInt(d.downtimeMaxMissed),
                p.path("downtimeSlashPpm").asInt(d.downtimeSlashPpm), p.path("downtimeJailBlocks").asLong(d.downtimeJailBlocks));
    }

    /** By name, values as decimal strings: the JSON form and the state entries ("params/NAME"). */
    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("epochBlocks", Long.toString(epochBlocks));
        m.put("maxValidators", Integer.toString(maxValidators));
        m.put("unbondingBlocks", Long.toString(unbondingBlocks));
        m.put("minSelfBond", String.valueOf(minSelfBond));
        m.put("blockReward", String.valueOf(blockReward));
        m.put("halvingBlocks", Long.toString(halvingBlocks));
        m.put("doubleSignSlashPpm", Integer.toString(doubleSignSlashPpm));
        m.put("doubleSignJailBlocks", Long.toString(doubleSignJailBlocks));
        m.put("downtimeWindow", Integer.toString(downtimeWindow));
        m.put("downtimeMaxMissed", Integer.toString(downtimeMaxMissed));
        m.put("downtimeSlashPpm", Integer.toString(downtimeSlashPpm));
        m.put("downtimeJailBlocks", Long.toString(downtimeJailBlocks));
        return m;
    }

    static StakingParams fromMap(Map<String, String> m) {
        com.fasterxml.jackson.databind.node.ObjectNode o = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        m.forEach(o::put);
        return fromJson(o);
    }
}
