package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.CommitInfo;
import io.oecloud.chain.abci.AbciTypesProto.Misbehavior;
import io.oecloud.chain.abci.AbciTypesProto.MisbehaviorType;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.Response;
import io.oecloud.chain.abci.AbciTypesProto.ResponseFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.Validator;
import io.oecloud.chain.abci.AbciTypesProto.ValidatorUpdate;
import io.oecloud.chain.abci.AbciTypesProto.VoteInfo;
import io.oecloud.chain.abci.TypesvalidatorProto.BlockIDFlag;
import io.oecloud.chain.node.LedgerApp;
import io.oecloud.chain.node.LedgerStore;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DPOS at the ABCI boundary: a real {@link LedgerApp} on RocksDB driven with the requests
 * CometBFT sends (InitChain, FinalizeBlock with the last commit's votes and misbehavior, Commit),
 * so epochs, rewards, slashing and jail are checked block by block with the supply invariant.
 */
class StakingTest {
    private static final String CHAIN = "oe-staking-test";
    private static final BigInteger FEE = BigInteger.valueOf(1000);
    private static final BigInteger PASS = Amounts.PASS;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private LedgerStore store;
    private LedgerApp app;
    private final List<Identity> operators = new ArrayList<>();
    private final List<Identity> validatorKeys = new ArrayList<>();
    private final Map<String, Long> nonces = new TreeMap<>();
    /** What CometBFT would hold: validator address (hex) to power, after the app's updates. */
    private final TreeMap<String, Long> engineSet = new TreeMap<>();
    private long height;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private static ObjectNode params() {
        return JSON.createObjectNode().put("epochBlocks", 10).put("maxValidators", 4).put("unbondingBlocks", 5)
                .put("minSelfBond", PASS.toString()).put("blockReward", PASS.toString()).put("halvingBlocks", 0)
                .put("doubleSignSlashPpm", 100_000).put("doubleSignJailBlocks", 20).put("downtimeWindow", 10)
                .put("downtimeMaxMissed", 5).put("downtimeSlashPpm", 10_000).put("downtimeJailBlocks", 5);
    }

    /** Genesis with {@code bonds.length} candidates (self-bond in passes, commission 10 %), each also funded with 1,000 passes. */
    private void start(long... bonds) throws Exception {
        start(params(), bonds);
    }

    private void start(ObjectNode params, long... bonds) throws Exception {
        // a fixed fee per transaction (no per-byte part): the exact reward and fee amounts below follow it
        ObjectNode app = JSON.createObjectNode().put("minFee", FEE.toString()).put("feePerByte", "0").put("reserve", PASS.multiply(BigInteger.valueOf(500)).toString());
        app.set("params", params);
        ArrayNode accounts = app.putArray("accounts");
        ArrayNode candidates = app.putArray("candidates");
        for (int i = 0; i < bonds.length + 3; i++) {
            Identity op = Identity.generate();
            operators.add(op);
            validatorKeys.add(Identity.generate());
            accounts.addObject().put("address", addr(op)).put("balance", PASS.multiply(BigInteger.valueOf(1000)).toString());
            if (i < bonds.length) {
                candidates.addObject().put("address", addr(op)).put("selfBond", PASS.multiply(BigInteger.valueOf(bonds[i])).toString())
                        .put("commissionPpm", 100_000).put("moniker", "v" + i)
                        .put("validatorKey", java.util.Base64.getEncoder().encodeToString(validatorKeys.get(i).publicKey()));
            }
        }
        store = LedgerStore.open(dir.resolve("ledger"));
        this.app = new LedgerApp(store);
        sentInit = Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(CHAIN).setInitialHeight(1)
                .setAppStateBytes(ByteString.copyFrom(JSON.writeValueAsBytes(app)))).build();
        Response r = this.app.handle(sentInit);
        for (ValidatorUpdate u : r.getInitChain().getValidatorsList()) {
            engineSet.put(LedgerState.consensusAddress(u.getPubKey().getEd25519().toByteArray()), u.getPower());
        }
    }

    private static String addr(Identity k) {
        return Ledger.address(k.publicKey());
    }

    private String va(int i) {
        return LedgerState.consensusAddress(validatorKeys.get(i).publicKey());
    }

    private LedgerState state() {
        return app.committed();
    }

    private byte[] tx(Identity from, UnaryOperator<TxBody.Builder> kind) {
        long n = nonces.getOrDefault(addr(from), 0L);
        nonces.put(addr(from), n + 1);
        return Ledger.sign(from, kind.apply(TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(from.publicKey()))
                .setNonce(n).setFee(ByteString.copyFrom(Amounts.encode(FEE)))).build());
    }

    private static ByteString amount(long passes) {
        return ByteString.copyFrom(Amounts.encode(PASS.multiply(BigInteger.valueOf(passes))));
    }

    /** One block: every validator of the engine's set signed the last one unless listed absent. */
    private ResponseFinalizeBlock block(List<byte[]> txs, List<String> absent, List<Misbehavior> evidence) throws Exception {
        height++;
        CommitInfo.Builder commit = CommitInfo.newBuilder();
        if (height > 1) {
            for (Map.Entry<String, Long> v : engineSet.entrySet()) {
                commit.addVotes(VoteInfo.newBuilder().setValidator(Validator.newBuilder()
                                .setAddress(ByteString.copyFrom(HexFormat.of().parseHex(v.getKey()))).setPower(v.getValue()))
                        .setBlockIdFlag(absent.contains(v.getKey()) ? BlockIDFlag.BLOCK_ID_FLAG_ABSENT : BlockIDFlag.BLOCK_ID_FLAG_COMMIT));
            }
        }
        RequestFinalizeBlock.Builder fb = RequestFinalizeBlock.newBuilder().setHeight(height).setDecidedLastCommit(commit)
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L + height));
        for (byte[] t : txs) {
            fb.addTxs(ByteString.copyFrom(t));
        }
        fb.addAllMisbehavior(evidence);
        Request finalize = Request.newBuilder().setFinalizeBlock(fb).build();
        Request commitIt = Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build();
        recorded.add(finalize);
        recorded.add(commitIt);
        ResponseFinalizeBlock res = app.handle(finalize).getFinalizeBlock();
        app.handle(commitIt);
        for (ValidatorUpdate u : res.getValidatorUpdatesList()) {
            String a = LedgerState.consensusAddress(u.getPubKey().getEd25519().toByteArray());
            if (u.getPower() == 0) {
                engineSet.remove(a);
            } else {
                engineSet.put(a, u.getPower());
            }
        }
        assertEquals(state().expectedSupply(), state().supply(), "supply invariant at height " + height);
        return res;
    }

    private ResponseFinalizeBlock block(byte[]... txs) throws Exception {
        return block(List.of(txs), List.of(), List.of());
    }

    private void blocksUntil(long h) throws Exception {
        while (height < h) {
            block();
        }
    }

    @Test
    void genesisCandidates_makeTheFirstSet_withPowerFromStake() throws Exception {
        start(200, 250, 300, 350);
        assertEquals(Map.of(va(0), 200L, va(1), 250L, va(2), 300L, va(3), 350L), engineSet);
        assertEquals(4, state().validators().size());
        assertEquals(PASS.multiply(BigInteger.valueOf(1000)), state().account(addr(operators.get(0))).balance(),
                "the genesis self-bond comes on top of the account's funds");
    }

    @Test
    void powerCap_keepsEveryValidatorUnderAThird() {
        TreeMap<String, BigInteger> stakes = new TreeMap<>();
        stakes.put("a", PASS.multiply(BigInteger.valueOf(10_000)));
        stakes.put("b", PASS.multiply(BigInteger.valueOf(10)));
        stakes.put("c", PASS.multiply(BigInteger.valueOf(10)));
        stakes.put("d", PASS.multiply(BigInteger.valueOf(10)));
        stakes.put("e", PASS.multiply(BigInteger.valueOf(10)));
        TreeMap<String, Long> p = Staking.powers(stakes);
        long total = p.values().stream().mapToLong(Long::longValue).sum();
        assertTrue(3 * p.get("a") < total, "capped: " + p);
        assertEquals(19L, p.get("a"), "the largest cap that keeps a third out of reach: 3c < c + 40");
        assertEquals(10L, p.get("b"));
        // balanced stakes are not touched
        stakes.put("a", PASS.multiply(BigInteger.valueOf(10)));
        assertEquals(10L, Staking.powers(stakes).get("a"));
    }

    @Test
    void rewardsAndFees_goToTheSigners_thenToDelegatorsAfterCommission() throws Exception {
        start(100, 100, 100, 100);
        Identity delegator = operators.get(5);
        block(tx(delegator, b -> b.setDelegate(ChainProto.Delegate.newBuilder().setCandidate(addr(operators.get(0))).setAmount(amount(100)))));
        BigInteger before0 = state().account(addr(operators.get(0))).balance();
        BigInteger beforeD = state().account(addr(delegator)).balance();
        BigInteger before3 = state().account(addr(operators.get(3))).balance();
        BigInteger pool = state().feePool();
        // the next block pays the signers of block 1 (validator 3 absent): reward 1 pass + the delegation's fee
        block(List.of(), List.of(va(3)), List.of());
        BigInteger total = PASS.add(pool);
        BigInteger share0 = total.multiply(BigInteger.valueOf(100)).divide(BigInteger.valueOf(300));
        BigInteger commission = share0.divide(BigInteger.TEN);
        BigInteger toDelegator = share0.subtract(commission).divide(BigInteger.TWO); // half of candidate 0's stake is the delegator's
        assertEquals(beforeD.add(toDelegator), state().account(addr(delegator)).balance());
        assertEquals(before0.add(share0.subtract(toDelegator)), state().account(addr(operators.get(0))).balance(),
                "commission and the rounding remainder go to the operator");
        assertEquals(before3, state().account(addr(operators.get(3))).balance(), "an absent validator earns nothing");
        assertEquals(total.subtract(share0.multiply(BigInteger.valueOf(3))), state().feePool(), "what the floors leave stays in the pool");
        assertEquals(PASS, state().minted(), "one pass minted per block with signers (block 1 had none)");
    }

    @Test
    void aFifthCandidate_withMoreVotes_joinsAtTheEpoch_andTheWeakestLeaves() throws Exception {
        start(200, 250, 300, 350);
        Identity fifth = operators.get(4);
        Identity voter = operators.get(5);
        block(tx(fifth, b -> b.setRegisterCandidate(ChainProto.RegisterCandidate.newBuilder()
                .setValidatorKey(ByteString.copyFrom(validatorKeys.get(4).publicKey())).setCommissionPpm(50_000).setSelfBond(amount(50)))),
                tx(voter, b -> b.setDelegate(ChainProto.Delegate.newBuilder().setCandidate(addr(fifth)).setAmount(amount(100)))));
        assertEquals(PASS.multiply(BigInteger.valueOf(150)), state().candidate(addr(fifth)).stake());
        block(tx(voter, b -> b.setDelegate(ChainProto.Delegate.newBuilder().setCandidate(addr(fifth)).setAmount(amount(100)))));
        ResponseFinalizeBlock beforeEpoch = null;
        while (height < 9) {
            beforeEpoch = block();
            assertEquals(0, beforeEpoch.getValidatorUpdatesCount(), "no change before the epoch");
        }
        ResponseFinalizeBlock epoch = block();
        assertEquals(10, height);
        assertEquals(2, epoch.getValidatorUpdatesCount(), epoch.getValidatorUpdatesList().toString());
        assertFalse(engineSet.containsKey(va(0)), "the weakest (200) left");
        assertEquals(250L, engineSet.get(va(4)), "the fifth joined with its stake as power");
        assertEquals(4, engineSet.size());
    }

    @Test
    void unbonding_paysBackAfterThePeriod_andLeavesTheSetAtTheEpoch() throws Exception {
        start(200, 250, 300, 350);
        Identity op = operators.get(1);
        BigInteger before = state().account(addr(op)).balance();
        block(tx(op, b -> b.setUnbond(ChainProto.Unbond.newBuilder().setAmount(amount(250)))));
        long unbondedAt = height;
        assertEquals(BigInteger.ZERO, state().delegation(addr(op), addr(op)));
        assertEquals(1, state().unbondingsOf(addr(op)).size());
        Ledger.Result tooMuch = new Ledger(CHAIN, new Fees(FEE, BigInteger.ZERO)).apply(state().copy(), tx(op, b -> b.setUnbond(ChainProto.Unbond.newBuilder().setAmount(amount(1)))));
        nonces.put(addr(op), nonces.get(addr(op)) - 1);
        assertEquals(Ledger.Code.INSUFFICIENT_STAKE, tooMuch.code(), tooMuch.log());
        blocksUntil(unbondedAt + 4);
        assertEquals(1, state().unbondingsOf(addr(op)).size(), "still unbonding (5 blocks)");
        block();
        assertTrue(state().unbondingsOf(addr(op)).isEmpty());
        assertTrue(state().account(addr(op)).balance().compareTo(before.add(PASS.multiply(BigInteger.valueOf(249)))) > 0,
                "the 250 passes are back (minus the fee, plus rewards earned while bonded)");
        blocksUntil(10);
        assertFalse(engineSet.containsKey(va(1)), "without stake it is not chosen again");
        assertEquals(3, engineSet.size());
    }

    @Test
    void doubleSignEvidence_slashesBondedAndLaterUnbondingStake_jailsAtOnce_andCountsOnce() throws Exception {
        start(200, 250, 300, 350);
        Identity delegator = operators.get(5);
        String target = addr(operators.get(2));
        block(tx(delegator, b -> b.setDelegate(ChainProto.Delegate.newBuilder().setCandidate(target).setAmount(amount(100)))));
        block();
        long infraction = height;
        block(tx(delegator, b -> b.setUndelegate(ChainProto.Undelegate.newBuilder().setCandidate(target).setAmount(amount(40)))));
        Misbehavior ev = Misbehavior.newBuilder().setType(MisbehaviorType.DUPLICATE_VOTE).setHeight(infraction)
                .setValidator(Validator.newBuilder().setAddress(ByteString.copyFrom(HexFormat.of().parseHex(va(2)))).setPower(300))
                .setTotalVotingPower(1100).build();
        BigInteger slashedBefore = state().slashed();
        ResponseFinalizeBlock r = block(List.of(), List.of(), List.of(ev));
        assertTrue(state().candidate(target).jailed());
        assertEquals(1, r.getValidatorUpdatesCount(), "removed in the same block, not at the epoch");
        assertEquals(0, r.getValidatorUpdates(0).getPower());
        assertFalse(engineSet.containsKey(va(2)));
        assertEquals(PASS.multiply(BigInteger.valueOf(270)), state().delegation(target, target), "10 % of the self-bond");
        assertEquals(PASS.multiply(BigInteger.valueOf(54)), state().delegation(target, addr(delegator)), "10 % of the delegation");
        assertEquals(PASS.multiply(BigInteger.valueOf(36)), state().unbondingsOf(addr(delegator)).get(0).amount(),
                "stake that left after the offence is cut too");
        assertEquals(PASS.multiply(BigInteger.valueOf(30 + 6 + 4)), state().slashed().subtract(slashedBefore));
        // the same offence reported again is not punished twice
        block(List.of(), List.of(), List.of(ev));
        assertEquals(PASS.multiply(BigInteger.valueOf(270)), state().delegation(target, target));
        // unjail: refused during the term, accepted after, back in the set at the next epoch
        Ledger.Result early = new Ledger(CHAIN, new Fees(FEE, BigInteger.ZERO)).apply(state().copy(), tx(operators.get(2), b -> b.setUnjail(ChainProto.Unjail.getDefaultInstance())));
        nonces.put(target, nonces.get(target) - 1);
        assertEquals(Ledger.Code.TOO_SOON, early.code(), early.log());
        blocksUntil(state().candidate(target).jailedUntil());
        block(tx(operators.get(2), b -> b.setUnjail(ChainProto.Unjail.getDefaultInstance())));
        assertFalse(state().candidate(target).jailed());
        blocksUntil((height / 10 + 1) * 10);
        assertTrue(engineSet.containsKey(va(2)), "chosen again at the epoch after unjail");
    }

    @Test
    void missingTooManyBlocks_slashesALittle_andJails() throws Exception {
        start(200, 250, 300, 350);
        String lazy = addr(operators.get(0));
        block();
        ResponseFinalizeBlock jailedAt = null;
        for (int i = 0; i < 12 && jailedAt == null; i++) {
            ResponseFinalizeBlock r = block(List.of(), List.of(va(0)), List.of());
            if (state().candidate(lazy).jailed()) {
                jailedAt = r;
            }
        }
        assertTrue(jailedAt != null, "jailed within the window");
        assertEquals(PASS.multiply(BigInteger.valueOf(198)), state().delegation(lazy, lazy), "1 % slashed");
        assertFalse(engineSet.containsKey(va(0)));
        assertEquals(3, engineSet.size(), "the others go on");
    }

    @Test
    void badStakingTransactions_areRefusedWithACode_andChangeNothing() throws Exception {
        start(200, 250, 300, 350);
        Ledger ledger = new Ledger(CHAIN, new Fees(FEE, BigInteger.ZERO));
        Identity a = operators.get(4);
        LedgerState s = state().copy();
        byte[] before = s.appHash();
        Map<Ledger.Code, byte[]> cases = new java.util.LinkedHashMap<>();
        cases.put(Ledger.Code.NOT_CANDIDATE, tx(a, b -> b.setDelegate(ChainProto.Delegate.newBuilder().setCandidate(addr(a)).setAmount(amount(1)))));
        nonces.put(addr(a), 0L);
        cases.put(Ledger.Code.KEY_TAKEN, tx(a, b -> b.setRegisterCandidate(ChainProto.RegisterCandidate.newBuilder()
                .setValidatorKey(ByteString.copyFrom(validatorKeys.get(0).publicKey())))));
        nonces.put(addr(a), 0L);
        cases.put(Ledger.Code.BAD_KEY, tx(a, b -> b.setRegisterCandidate(ChainProto.RegisterCandidate.newBuilder()
                .setValidatorKey(ByteString.copyFrom(new byte[31])))));
        nonces.put(addr(a), 0L);
        cases.put(Ledger.Code.BAD_AMOUNT, tx(a, b -> b.setRegisterCandidate(ChainProto.RegisterCandidate.newBuilder()
                .setValidatorKey(ByteString.copyFrom(validatorKeys.get(4).publicKey())).setCommissionPpm(1_000_001))));
        nonces.put(addr(a), 0L);
        cases.put(Ledger.Code.INSUFFICIENT_FUNDS, tx(a, b -> b.setRegisterCandidate(ChainProto.RegisterCandidate.newBuilder()
                .setValidatorKey(ByteString.copyFrom(validatorKeys.get(4).publicKey())).setSelfBond(amount(1001)))));
        nonces.put(addr(a), 0L);
        cases.put(Ledger.Code.INSUFFICIENT_STAKE, tx(a, b -> b.setUndelegate(ChainProto.Undelegate.newBuilder()
                .setCandidate(addr(operators.get(0))).setAmount(amount(1)))));
        nonces.put(addr(a), 0L);
        cases.put(Ledger.Code.NOT_JAILED, tx(operators.get(0), b -> b.setUnjail(ChainProto.Unjail.getDefaultInstance())));
        for (Map.Entry<Ledger.Code, byte[]> c : cases.entrySet()) {
            Ledger.Result r = ledger.apply(s, c.getValue());
            assertEquals(c.getKey(), r.code(), r.log());
            assertFalse(r.log().isEmpty());
        }
        assertArrayEquals(before, s.appHash(), "refused transactions change nothing");
    }

    @Test
    void randomStakingSequences_keepTheInvariant_andTwoLedgersAgree() throws Exception {
        start(200, 250, 300, 350);
        LedgerStore otherStore = LedgerStore.open(dir.resolve("replica"));
        try {
            // a second ledger replays the same blocks from its own store
            LedgerApp replica = new LedgerApp(otherStore);
            Random rnd = new Random(11);
            for (int b = 0; b < 60; b++) {
                List<byte[]> txs = new ArrayList<>();
                for (int t = 0; t < 5; t++) {
                    Identity from = operators.get(rnd.nextInt(operators.size()));
                    String cand = addr(operators.get(rnd.nextInt(5)));
                    long passes = rnd.nextInt(60);
                    txs.add(tx(from, x -> switch (rnd.nextInt(6)) {
                        case 0 -> x.setBond(ChainProto.Bond.newBuilder().setAmount(amount(passes)));
                        case 1 -> x.setUnbond(ChainProto.Unbond.newBuilder().setAmount(amount(passes)));
                        case 2 -> x.setDelegate(ChainProto.Delegate.newBuilder().setCandidate(cand).setAmount(amount(passes)));
                        case 3 -> x.setUndelegate(ChainProto.Undelegate.newBuilder().setCandidate(cand).setAmount(amount(passes)));
                        case 4 -> x.setUnjail(ChainProto.Unjail.getDefaultInstance());
                        default -> x.setTransfer(ChainProto.Transfer.newBuilder().setTo(cand).setAmount(amount(passes)));
                    }));
                }
                List<String> absent = rnd.nextInt(4) == 0 ? List.of(va(rnd.nextInt(4))) : List.of();
                block(txs, absent, List.of());
                // refused transactions did not take their nonce
                for (Identity k : operators) {
                    nonces.put(addr(k), state().account(addr(k)).nonce());
                }
                for (LedgerState.Account acc : state().accounts.values()) {
                    assertTrue(acc.balance().signum() >= 0);
                }
            }
            replica.handle(sentInit);
            for (Request r : recorded) {
                replica.handle(r);
            }
            assertArrayEquals(state().appHash(), replica.committed().appHash(), "the same blocks give the same state");
            assertTrue(state().minted().signum() > 0);
        } finally {
            otherStore.close();
        }
    }

    /** Every request sent to the ledger, to replay them on another. */
    private Request sentInit;
    private final List<Request> recorded = new ArrayList<>();

    @Test
    void theStore_reloadsTheSameState_afterDeletions() throws Exception {
        start(200, 250, 300, 350);
        Identity op = operators.get(1);
        block(tx(op, b -> b.setUnbond(ChainProto.Unbond.newBuilder().setAmount(amount(250)))));
        blocksUntil(height + 6); // the unbonding entry and the delegation are gone
        byte[] hash = state().appHash();
        store.close();
        store = LedgerStore.open(dir.resolve("ledger"));
        LedgerApp reopened = new LedgerApp(store);
        assertArrayEquals(hash, reopened.committed().appHash());
        assertEquals(height, reopened.committed().height());
        assertEquals(state().candidates().keySet(), reopened.committed().candidates().keySet());
    }
}
