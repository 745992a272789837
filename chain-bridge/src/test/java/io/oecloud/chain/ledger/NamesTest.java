package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The name registry's rules on a real genesis and real blocks (the supply invariant is checked
 * by {@link Block#end} at every block): the first registration wins and pays the registration
 * fee into the fee pool, only the owner updates or transfers, every bad name is refused with its
 * reason, refused transactions change nothing, and the record is a state entry the tree proves.
 */
class NamesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-names";
    private static final BigInteger MIN_FEE = BigInteger.valueOf(1000);
    private static final BigInteger REGISTER_FEE = Amounts.PASS.divide(BigInteger.TEN);
    private static final Cid SITE = Cid.raw("<html>site v1</html>".getBytes(StandardCharsets.UTF_8));
    private static final Cid SITE2 = Cid.raw("<html>site v2</html>".getBytes(StandardCharsets.UTF_8));

    private final Ledger ledger = new Ledger(CHAIN, new Fees(MIN_FEE, BigInteger.ZERO));
    private final Identity alice = Identity.generate();
    private final Identity bob = Identity.generate();
    private final Identity poor = Identity.generate();
    private LedgerState state;
    private long height;

    NamesTest() throws IOException {
        ObjectNode app = JSON.createObjectNode().put("minFee", MIN_FEE.toString()).put("feePerByte", "0");
        app.putObject("names").put("registerFee", REGISTER_FEE.toString());
        var accounts = app.putArray("accounts");
        accounts.addObject().put("address", addr(alice)).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        accounts.addObject().put("address", addr(bob)).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        // enough for the transaction's fee, not for the registration fee
        accounts.addObject().put("address", addr(poor)).put("balance", MIN_FEE.multiply(BigInteger.TEN).toString());
        Genesis g = Genesis.read(CHAIN, JSON.writeValueAsBytes(app), 1);
        state = g.state();
        height = 0;
    }

    private static String addr(Identity k) {
        return Ledger.address(k.publicKey());
    }

    private TxBody.Builder body(Identity k) {
        return TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(k.publicKey())).setNonce(state.account(addr(k)).nonce())
                .setFee(ByteString.copyFrom(Amounts.encode(MIN_FEE)));
    }

    private static ChainProto.RegisterName register(String name, Cid root) {
        return ChainProto.RegisterName.newBuilder().setName(name).setRoot(ByteString.copyFrom(root.toBytes())).build();
    }

    /** One block with {@code tx} in it (its end checks the supply invariant); the state after it. */
    private Ledger.Result block(Identity k, TxBody.Builder tx) {
        height++;
        Block b = Block.begin(state, height, 1_700_000_000_000L + height * 1000, List.of(), List.of());
        Ledger.Result r = b.apply(ledger, ledger.check(Ledger.sign(k, tx.build())));
        b.end();
        state = b.state();
        assertEquals(state.expectedSupply(), state.supply(), "supply invariant at height " + height);
        return r;
    }

    @Test
    void theFirstRegistrationWins_andPaysTheRegisterFeeIntoTheFeePool() {
        BigInteger before = state.account(addr(alice)).balance();
        BigInteger poolBefore = state.feePool();
        Ledger.Result r = block(alice, body(alice).setRegisterName(register("my-site", SITE)));
        assertEquals(Ledger.Code.OK, r.code(), r.log());
        Names.Record rec = state.name("my-site");
        assertEquals(addr(alice), rec.owner());
        assertEquals(SITE, rec.root());
        assertEquals(1, rec.sinceHeight());
        assertEquals(1, rec.updatedHeight());
        assertEquals(1_700_000_001_000L, rec.updatedMillis());
        assertEquals(before.subtract(MIN_FEE).subtract(REGISTER_FEE), state.account(addr(alice)).balance(), "fee and registration fee paid");
        assertEquals(1, state.account(addr(alice)).nonce());
        assertEquals("register_name", r.tags().get("kind"));

        Ledger.Result second = block(bob, body(bob).setRegisterName(register("my-site", SITE2)));
        assertEquals(Ledger.Code.NAME_TAKEN, second.code());
        assertTrue(second.log().contains(addr(alice)), "names the owner: " + second.log());
        assertEquals(SITE, state.name("my-site").root(), "the first registration stands");
        assertEquals(0, state.account(addr(bob)).nonce(), "a refused transaction takes no nonce");
        assertEquals(Amounts.PASS.multiply(BigInteger.TEN), state.account(addr(bob)).balance(), "and no fee");
        // what the pool holds here is paid out to signers at the next block; the fee pool got both fees at this one
        assertTrue(state.feePool().compareTo(poolBefore) >= 0);
    }

    @Test
    void theRegistrationFee_movesExactlyIntoTheFeePool() {
        LedgerState s = state.copyAt(5, 1_700_000_005_000L);
        BigInteger pool = s.feePool();
        BigInteger supply = s.supply();
        Ledger.Result r = ledger.apply(s, Ledger.sign(alice, body(alice).setRegisterName(register("fee-check", SITE)).build()));
        assertEquals(Ledger.Code.OK, r.code(), r.log());
        assertEquals(pool.add(MIN_FEE).add(REGISTER_FEE), s.feePool());
        assertEquals(supply, s.supply(), "nothing made or lost");
    }

    @Test
    void aRegistrationTheSenderCannotPayFor_isInsufficientFunds_andChangesNothing() {
        Ledger.Result r = block(poor, body(poor).setRegisterName(register("poor-site", SITE)));
        assertEquals(Ledger.Code.INSUFFICIENT_FUNDS, r.code());
        assertTrue(r.log().contains("names.registerFee"), r.log());
        assertNull(state.name("poor-site"));
        assertEquals(0, state.account(addr(poor)).nonce());
        assertEquals(MIN_FEE.multiply(BigInteger.TEN), state.account(addr(poor)).balance());
    }

    @Test
    void onlyTheOwner_updatesTheRoot() {
        assertEquals(Ledger.Code.OK, block(alice, body(alice).setRegisterName(register("blog", SITE))).code());
        Ledger.Result stolen = block(bob, body(bob).setUpdateName(ChainProto.UpdateName.newBuilder().setName("blog")
                .setRoot(ByteString.copyFrom(SITE2.toBytes()))));
        assertEquals(Ledger.Code.NOT_OWNER, stolen.code());
        assertTrue(stolen.log().contains(addr(alice)) && stolen.log().contains(addr(bob)), stolen.log());
        assertEquals(SITE, state.name("blog").root());

        BigInteger before = state.account(addr(alice)).balance();
        Ledger.Result moved = block(alice, body(alice).setUpdateName(ChainProto.UpdateName.newBuilder().setName("blog")
                .setRoot(ByteString.copyFrom(SITE2.toBytes()))));
        assertEquals(Ledger.Code.OK, moved.code(), moved.log());
        Names.Record rec = state.name("blog");
        assertEquals(SITE2, rec.root());
        assertEquals(1, rec.sinceHeight());
        assertEquals(3, rec.updatedHeight());
        assertEquals(1_700_000_003_000L, rec.updatedMillis());
        assertEquals(before.subtract(MIN_FEE), state.account(addr(alice)).balance(), "an update pays the fee only");

        Ledger.Result unknown = block(alice, body(alice).setUpdateName(ChainProto.UpdateName.newBuilder().setName("nobody-has-it")
                .setRoot(ByteString.copyFrom(SITE2.toBytes()))));
        assertEquals(Ledger.Code.UNKNOWN_NAME, unknown.code());
        assertTrue(unknown.log().contains("nobody-has-it"), unknown.log());
    }

    @Test
    void onlyTheOwner_transfers_andTheNewOwnerThenUpdates() {
        assertEquals(Ledger.Code.OK, block(alice, body(alice).setRegisterName(register("shop", SITE))).code());
        ChainProto.TransferName.Builder toBob = ChainProto.TransferName.newBuilder().setName("shop").setTo(addr(bob));
        assertEquals(Ledger.Code.NOT_OWNER, block(bob, body(bob).setTransferName(toBob)).code());
        Ledger.Result self = block(alice, body(alice).setTransferName(ChainProto.TransferName.newBuilder().setName("shop").setTo(addr(alice))));
        assertEquals(Ledger.Code.BAD_ADDRESS, self.code());
        Ledger.Result junk = block(alice, body(alice).setTransferName(ChainProto.TransferName.newBuilder().setName("shop").setTo("not-an-address")));
        assertEquals(Ledger.Code.BAD_ADDRESS, junk.code());
        assertTrue(junk.log().contains("not-an-address"), junk.log());

        Ledger.Result given = block(alice, body(alice).setTransferName(toBob));
        assertEquals(Ledger.Code.OK, given.code(), given.log());
        assertEquals(addr(bob), given.tags().get("receiver"));
        Names.Record rec = state.name("shop");
        assertEquals(addr(bob), rec.owner());
        assertEquals(SITE, rec.root(), "the root stays");
        assertEquals(1, rec.sinceHeight());
        assertEquals(height, rec.updatedHeight());

        ChainProto.UpdateName.Builder v2 = ChainProto.UpdateName.newBuilder().setName("shop").setRoot(ByteString.copyFrom(SITE2.toBytes()));
        assertEquals(Ledger.Code.NOT_OWNER, block(alice, body(alice).setUpdateName(v2)).code(), "the old owner no longer can");
        assertEquals(Ledger.Code.OK, block(bob, body(bob).setUpdateName(v2)).code());
        assertEquals(SITE2, state.name("shop").root());
        assertEquals(Ledger.Code.UNKNOWN_NAME, block(bob, body(bob).setTransferName(
                ChainProto.TransferName.newBuilder().setName("no-such-name").setTo(addr(alice)))).code());
    }

    @Test
    void everyBadName_isRefusedWithItsReason_beforeAnythingElse() {
        Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put("", "0 bytes");
        bad.put("ab", "2 bytes");
        bad.put("a".repeat(64), "64 bytes");
        bad.put("My-site", "uppercase letter 'M' at position 0");
        bad.put("my.site", "a dot");
        bad.put("my_site", "'_' at position 2");
        bad.put("my site", "' ' at position 2");
        bad.put("sité", "'é' at position 3");
        bad.put("-site", "starts with '-'");
        bad.put("site-", "ends with '-'");
        bad.put("a\u0000b", "\\u0000");
        bad.put("é".repeat(32), "64 bytes");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            assertTrue(Names.problem(e.getKey()) != null && Names.problem(e.getKey()).contains(e.getValue()),
                    "'" + e.getKey() + "': " + Names.problem(e.getKey()));
            // checked before the root: an empty root is not what is reported
            for (TxBody.Builder tx : List.of(
                    body(alice).setRegisterName(ChainProto.RegisterName.newBuilder().setName(e.getKey())),
                    body(alice).setUpdateName(ChainProto.UpdateName.newBuilder().setName(e.getKey())),
                    body(alice).setTransferName(ChainProto.TransferName.newBuilder().setName(e.getKey()).setTo("x")))) {
                Ledger.Result r = block(alice, tx);
                assertEquals(Ledger.Code.BAD_NAME, r.code(), e.getKey());
                assertEquals(Names.problem(e.getKey()), r.log());
            }
        }
        for (String good : List.of("abc", "a-b", "0-9", "xn--bcher-kva", "a".repeat(63), "123")) {
            assertNull(Names.problem(good), good);
        }
        assertEquals(0, state.account(addr(alice)).nonce(), "nothing refused took a nonce");
    }

    @Test
    void aRootThatIsNotACidV1_isBadCid() {
        byte[] cidV0 = new byte[34];
        cidV0[0] = 0x12;
        cidV0[1] = 0x20;
        for (byte[] root : List.of(new byte[0], new byte[] {1, 2, 3}, cidV0)) {
            Ledger.Result r = block(alice, body(alice).setRegisterName(ChainProto.RegisterName.newBuilder().setName("rooted")
                    .setRoot(ByteString.copyFrom(root))));
            assertEquals(Ledger.Code.BAD_CID, r.code(), r.log());
            assertTrue(r.log().contains("root"), r.log());
        }
        assertNull(state.name("rooted"));
        assertEquals(Ledger.Code.OK, block(alice, body(alice).setRegisterName(register("rooted", SITE))).code());
        Ledger.Result r = block(alice, body(alice).setUpdateName(ChainProto.UpdateName.newBuilder().setName("rooted")
                .setRoot(ByteString.copyFrom(new byte[] {9}))));
        assertEquals(Ledger.Code.BAD_CID, r.code());
        assertEquals(SITE, state.name("rooted").root());
    }

    @Test
    void nonceAndFee_behaveAsForEveryTransaction() {
        TxBody.Builder tx = body(alice).setRegisterName(register("nonce-site", SITE));
        byte[] signed = Ledger.sign(alice, tx.build());
        LedgerState s = state.copyAt(1, 1_700_000_001_000L);
        assertEquals(Ledger.Code.OK, ledger.apply(s, signed).code());
        Ledger.Result replay = ledger.apply(s, signed);
        assertEquals(Ledger.Code.BAD_NONCE, replay.code());
        assertTrue(replay.log().contains("replay"), replay.log());
        Ledger.Result cheap = ledger.apply(s, Ledger.sign(alice, body(alice).setNonce(1).setFee(ByteString.copyFrom(Amounts.encode(BigInteger.ONE)))
                .setRegisterName(register("cheap-site", SITE)).build()));
        assertEquals(Ledger.Code.FEE_TOO_LOW, cheap.code());
        assertNull(s.name("cheap-site"));
        // an unknown field in the operation is refused, not carried along unsigned
        ChainProto.RegisterName withExtra = register("extra-site", SITE).toBuilder()
                .setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
                        .addField(9, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build()).build();
        assertEquals(Ledger.Code.MALFORMED, ledger.apply(s, Ledger.sign(alice, body(alice).setNonce(1).setRegisterName(withExtra).build())).code());
    }

    @Test
    void theRecord_isAStateEntry_provenPresentAndAbsent_andSurvivesTheStore() throws Exception {
        assertEquals(Ledger.Code.OK, block(alice, body(alice).setRegisterName(register("proven", SITE))).code());
        Map<String, byte[]> entries = state.entries();
        assertArrayEquals(state.name("proven").encode(), entries.get("name/proven"));
        assertArrayEquals(state.name("proven").encode(), state.entry("name/proven"));
        assertArrayEquals(REGISTER_FEE.toString().getBytes(StandardCharsets.US_ASCII), entries.get("names-params/registerFee"));
        StateTree tree = new StateTree(entries);
        byte[] value = StateTree.verify(tree.prove("name/proven", height), "name/proven", tree.root());
        assertEquals(state.name("proven"), Names.Record.decode(value));
        assertNull(StateTree.verify(tree.prove("name/absent", height), "name/absent", tree.root()), "absence is proven");
        // a forged root is caught by the tree
        byte[] forged = new Names.Record(addr(alice), SITE2, 1, 1, 0).encode();
        var p = tree.prove("name/proven", height);
        var tampered = p.toBuilder().setEntries(0, p.getEntries(0).toBuilder().setValue(ByteString.copyFrom(forged))).build();
        assertThrows(StateTree.ProofException.class, () -> StateTree.verify(tampered, "name/proven", tree.root()));

        LedgerState back = LedgerState.fromEntries(entries, height);
        assertEquals(state.name("proven"), back.name("proven"));
        assertEquals(REGISTER_FEE, back.nameRegisterFee());
        assertArrayEquals(state.appHash(), back.appHash());
    }

    @Test
    void theGenesis_setsTheRegisterFee_defaultsTo1Pass_andRefusesABadOne() throws Exception {
        assertEquals(REGISTER_FEE, state.nameRegisterFee());
        assertEquals(Amounts.PASS, Genesis.read(CHAIN, new byte[0], 1).state().nameRegisterFee());
        assertEquals(BigInteger.ZERO, Genesis.read(CHAIN, "{\"names\":{\"registerFee\":\"0\"}}".getBytes(StandardCharsets.UTF_8), 1)
                .state().nameRegisterFee());
        for (String bad : List.of("\"-1\"", "\"lots\"", "\"" + Amounts.LIMIT + "\"")) {
            IOException e = assertThrows(IOException.class, () -> Genesis.read(CHAIN,
                    ("{\"names\":{\"registerFee\":" + bad + "}}").getBytes(StandardCharsets.UTF_8), 1));
            assertTrue(e.getMessage().contains("names.registerFee"), e.getMessage());
        }
    }

    @Test
    void aRecord_decodesOnlyWhatItEncoded() {
        Names.Record r = new Names.Record(addr(alice), SITE, 3, 9, 1_700_000_000_000L);
        assertEquals(r, Names.Record.decode(r.encode()));
        byte[] b = r.encode();
        assertThrows(IllegalArgumentException.class, () -> Names.Record.decode(java.util.Arrays.copyOf(b, b.length - 1)));
        assertThrows(IllegalArgumentException.class, () -> Names.Record.decode(java.util.Arrays.copyOf(b, b.length + 1)));
        assertThrows(IllegalArgumentException.class, () -> Names.Record.decode(new byte[5]));
    }
}
