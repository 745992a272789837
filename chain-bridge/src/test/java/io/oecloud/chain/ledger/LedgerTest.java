package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.Tx;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The ledger's rules alone: random sequences of valid and invalid transactions. */
class LedgerTest {
    private static final String CHAIN = "oechain-test";
    private static final BigInteger MIN_FEE = BigInteger.valueOf(1000);

    private final List<Identity> keys = new ArrayList<>();
    /** A fixed fee per transaction here (the exact amounts below follow it); the per-byte part has its own tests. */
    private final Ledger ledger = new Ledger(CHAIN, new Fees(MIN_FEE, BigInteger.ZERO));

    private LedgerState genesis(int accounts, BigInteger each) {
        LedgerState s = new LedgerState();
        for (int i = 0; i < accounts; i++) {
            Identity k = Identity.generate();
            keys.add(k);
            s.accounts.put(Ledger.address(k.publicKey()), new LedgerState.Account(each, 0));
        }
        s.genesisSupply = each.multiply(BigInteger.valueOf(accounts));
        return s;
    }

    private static TxBody.Builder body(Identity from, long nonce, BigInteger fee, String to, BigInteger amount) {
        return TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(from.publicKey())).setNonce(nonce)
                .setFee(ByteString.copyFrom(Amounts.encode(fee)))
                .setTransfer(Transfer.newBuilder().setTo(to).setAmount(ByteString.copyFrom(Amounts.encode(amount))));
    }

    private static String addr(Identity k) {
        return Ledger.address(k.publicKey());
    }

    @Test
    void aTransfer_movesExactlyTheAmount_andTheFeeGoesToThePool() {
        LedgerState s = genesis(2, Amounts.PASS.multiply(BigInteger.TEN));
        Identity a = keys.get(0);
        Identity b = keys.get(1);
        BigInteger amount = Amounts.parsePasses("1.5");
        Ledger.Result r = ledger.apply(s, Ledger.sign(a, body(a, 0, MIN_FEE, addr(b), amount).build()));
        assertEquals(Ledger.Code.OK, r.code(), r.log());
        assertEquals(Amounts.PASS.multiply(BigInteger.TEN).subtract(amount).subtract(MIN_FEE), s.account(addr(a)).balance());
        assertEquals(Amounts.PASS.multiply(BigInteger.TEN).add(amount), s.account(addr(b)).balance());
        assertEquals(MIN_FEE, s.feePool());
        assertEquals(1, s.account(addr(a)).nonce());
        // the same bytes again: a replay, refused with its code
        Ledger.Result again = ledger.apply(s, Ledger.sign(a, body(a, 0, MIN_FEE, addr(b), amount).build()));
        assertEquals(Ledger.Code.BAD_NONCE, again.code());
        assertTrue(again.log().contains("replay"), again.log());
    }

    @Test
    void badInput_isRefusedWithACodeAndAMessage_andChangesNothing() {
        LedgerState s = genesis(2, Amounts.PASS);
        Identity a = keys.get(0);
        Identity b = keys.get(1);
        byte[] before = s.appHash();
        byte[] good = Ledger.sign(a, body(a, 0, MIN_FEE, addr(b), BigInteger.ONE).build());

        byte[] forged = Ledger.sign(b, body(a, 0, MIN_FEE, addr(b), BigInteger.ONE).build()); // b signs as a
        assertEquals(Ledger.Code.BAD_SIGNATURE, ledger.apply(s, forged).code());
        byte[] flipped = good.clone();
        flipped[flipped.length - 1] ^= 1;
        assertEquals(Ledger.Code.BAD_SIGNATURE, ledger.apply(s, flipped).code());
        assertEquals(Ledger.Code.WRONG_CHAIN, ledger.apply(s, Ledger.sign(a, body(a, 0, MIN_FEE, addr(b), BigInteger.ONE)
                .setChainId("other").build())).code());
        assertEquals(Ledger.Code.FEE_TOO_LOW, ledger.apply(s, Ledger.sign(a, body(a, 0, BigInteger.TEN, addr(b), BigInteger.ONE).build())).code());
        assertEquals(Ledger.Code.INSUFFICIENT_FUNDS, ledger.apply(s, Ledger.sign(a, body(a, 0, MIN_FEE, addr(b), Amounts.PASS).build())).code());
        BigInteger huge = Amounts.LIMIT.subtract(BigInteger.ONE);
        Ledger.Result overflow = ledger.apply(s, Ledger.sign(a, body(a, 0, MIN_FEE, addr(b), huge).build()));
        assertEquals(Ledger.Code.BAD_AMOUNT, overflow.code(), overflow.log());
        assertTrue(overflow.log().contains("overflow"), overflow.log());
        byte[] tooWide = new byte[17];
        tooWide[0] = 1;
        assertEquals(Ledger.Code.BAD_AMOUNT, ledger.apply(s, Ledger.sign(a, body(a, 0, MIN_FEE, addr(b), BigInteger.ONE)
                .setTransfer(Transfer.newBuilder().setTo(addr(b)).setAmount(ByteString.copyFrom(tooWide))).build())).code());
        assertEquals(Ledger.Code.BAD_AMOUNT, ledger.apply(s, Ledger.sign(a, body(a, 0, MIN_FEE, addr(b), BigInteger.ONE)
                .setTransfer(Transfer.newBuilder().setTo(addr(b)).setAmount(ByteString.copyFrom(new byte[] {0, 1}))).build())).code(),
                "a leading zero byte is not canonical");
        assertEquals(Ledger.Code.BAD_ADDRESS, ledger.apply(s, Ledger.sign(a, body(a, 0, MIN_FEE, "nobody", BigInteger.ONE).build())).code());
        assertEquals(Ledger.Code.MALFORMED, ledger.apply(s, new byte[] {1, 2, 3}).code());
        assertEquals(Ledger.Code.TOO_LARGE, ledger.apply(s, new byte[Ledger.MAX_TX_BYTES + 1]).code());
        assertTrue(Arrays.equals(before, s.appHash()), "refused transactions change nothing");
    }

    @Test
    void randomSequences_keepTheSupply_neverGoNegative_andAgreeOnTheHash() {
        Random rnd = new Random(42);
        LedgerState s = genesis(8, Amounts.PASS.multiply(BigInteger.valueOf(100)));
        LedgerState replica = s.copy();
        long[] nonces = new long[keys.size()];
        int ok = 0;
        for (int i = 0; i < 5000; i++) {
            int from = rnd.nextInt(keys.size());
            int to = rnd.nextInt(keys.size());
            Identity k = keys.get(from);
            long nonce = rnd.nextInt(10) == 0 ? nonces[from] - 1 + rnd.nextInt(3) : nonces[from]; // some replays and gaps
            BigInteger fee = MIN_FEE.multiply(BigInteger.valueOf(rnd.nextInt(3)));
            BigInteger amount = new BigInteger(rnd.nextInt(80), rnd);
            byte[] tx = switch (rnd.nextInt(20)) {
                case 0 -> {
                    byte[] t = Ledger.sign(k, body(k, nonce, fee, addr(keys.get(to)), amount).build());
                    t[rnd.nextInt(t.length)] ^= (byte) (1 + rnd.nextInt(255)); // corrupted on the way
                    yield t;
                }
                case 1 -> Ledger.sign(keys.get(to), body(k, nonce, fee, addr(keys.get(to)), amount).build()); // forged
                case 2 -> {
                    byte[] junk = new byte[rnd.nextInt(200)];
                    rnd.nextBytes(junk);
                    yield junk;
                }
                default -> Ledger.sign(k, body(k, nonce, fee, addr(keys.get(to)), amount).build());
            };
            Ledger.Result r = ledger.apply(s, tx);
            Ledger.Result r2 = ledger.apply(replica, tx);
            assertEquals(r, r2, "two validators decide alike");
            if (r.ok()) {
                ok++;
                nonces[from]++;
            } else {
                assertTrue(!r.log().isEmpty(), "every refusal says why");
            }
            assertEquals(s.genesisSupply(), s.supply(), "supply invariant after tx " + i);
            for (LedgerState.Account acc : s.accounts.values()) {
                assertTrue(acc.balance().signum() >= 0);
            }
        }
        assertTrue(ok > 1000, "enough valid transfers were exercised: " + ok);
        assertTrue(Arrays.equals(s.appHash(), replica.appHash()));
        for (int i = 0; i < keys.size(); i++) {
            assertEquals(nonces[i], s.account(addr(keys.get(i))).nonce());
        }
    }

    @Test
    void fuzzedBytes_neverCrash_andAreRefusedWithACode() {
        Random rnd = new Random(7);
        LedgerState s = genesis(2, Amounts.PASS);
        byte[] good = Ledger.sign(keys.get(0), body(keys.get(0), 0, MIN_FEE, addr(keys.get(1)), BigInteger.ONE).build());
        for (int i = 0; i < 100_000; i++) {
            byte[] t;
            if (rnd.nextBoolean()) {
                t = new byte[rnd.nextInt(300)];
                rnd.nextBytes(t);
            } else {
                t = good.clone();
                for (int j = 0; j < 1 + rnd.nextInt(4); j++) {
                    t[rnd.nextInt(t.length)] = (byte) rnd.nextInt(256);
                }
            }
            Ledger.Result r = ledger.apply(s.copy(), t);
            assertTrue(r.ok() || !r.log().isEmpty());
        }
        assertEquals(Tx.class, Tx.getDefaultInstance().getClass());
    }

    @Test
    void theFirstRegistrationOfACidWins_andOnlyItsOwnerCanTransferIt() {
        LedgerState s = genesis(3, Amounts.PASS);
        s.height = 7;
        s.timeMillis = 1_700_000_000_000L;
        Identity a = keys.get(0);
        Identity b = keys.get(1);
        Identity c = keys.get(2);
        io.oecloud.proofs.Cid cid = io.oecloud.proofs.Cid.raw("a work".getBytes());
        java.util.function.BiFunction<Identity, Long, TxBody.Builder> base = (k, n) -> TxBody.newBuilder().setChainId(CHAIN)
                .setSender(ByteString.copyFrom(k.publicKey())).setNonce(n).setFee(ByteString.copyFrom(Amounts.encode(MIN_FEE)));
        Ledger.Result first = ledger.apply(s, Ledger.sign(a, base.apply(a, 0L).setRegisterCid(
                io.oecloud.chain.pb.ChainProto.RegisterCid.newBuilder().setCid(ByteString.copyFrom(cid.toBytes()))
                        .setTitle("A work").setLicense("CC-BY-4.0")).build()));
        assertEquals(Ledger.Code.OK, first.code(), first.log());
        LedgerState.CidRecord r = s.cid(cid.toString());
        assertEquals(addr(a), r.owner());
        assertEquals(7, r.sinceHeight());
        assertEquals(1_700_000_000_000L, r.sinceMillis());
        assertEquals(Amounts.PASS.subtract(MIN_FEE), s.account(addr(a)).balance(), "the fee is charged");

        Ledger.Result second = ledger.apply(s, Ledger.sign(b, base.apply(b, 0L).setRegisterCid(
                io.oecloud.chain.pb.ChainProto.RegisterCid.newBuilder().setCid(ByteString.copyFrom(cid.toBytes()))).build()));
        assertEquals(Ledger.Code.CID_TAKEN, second.code());
        assertTrue(second.log().contains(addr(a)), second.log());

        Ledger.Result stolen = ledger.apply(s, Ledger.sign(b, base.apply(b, 0L).setTransferCid(
                io.oecloud.chain.pb.ChainProto.TransferCid.newBuilder().setCid(ByteString.copyFrom(cid.toBytes())).setTo(addr(b))).build()));
        assertEquals(Ledger.Code.NOT_CID_OWNER, stolen.code());

        s.height = 9;
        Ledger.Result moved = ledger.apply(s, Ledger.sign(a, base.apply(a, 1L).setTransferCid(
                io.oecloud.chain.pb.ChainProto.TransferCid.newBuilder().setCid(ByteString.copyFrom(cid.toBytes())).setTo(addr(c))).build()));
        assertEquals(Ledger.Code.OK, moved.code(), moved.log());
        assertEquals(addr(c), s.cid(cid.toString()).owner());
        assertEquals(9, s.cid(cid.toString()).sinceHeight());
        assertEquals("A work", s.cid(cid.toString()).title());

        io.oecloud.proofs.Cid other = io.oecloud.proofs.Cid.raw("unknown".getBytes());
        assertEquals(Ledger.Code.UNKNOWN_CID, ledger.apply(s, Ledger.sign(a, base.apply(a, 2L).setTransferCid(
                io.oecloud.chain.pb.ChainProto.TransferCid.newBuilder().setCid(ByteString.copyFrom(other.toBytes())).setTo(addr(c))).build())).code());
        assertEquals(Ledger.Code.BAD_CID, ledger.apply(s, Ledger.sign(a, base.apply(a, 2L).setRegisterCid(
                io.oecloud.chain.pb.ChainProto.RegisterCid.newBuilder().setCid(ByteString.copyFrom(new byte[] {1, 2, 3}))).build())).code());
        assertEquals(s.genesisSupply(), s.supply());
    }
}
