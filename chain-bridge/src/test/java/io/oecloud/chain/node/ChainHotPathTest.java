package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.ExecTxResult;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.TxSignatures;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-transaction shortcuts that won back the CPU the chain's hardening cost (benchmarks/README.md,
 * "2026-12-06: what the hardening cost, and what was won back"): each gives the answer the long way gives. Rates compared on long products,
 * fees checked without BigInteger products, a block's transactions taken over from the mempool's
 * checks; the fee's decoding error, found once by {@link Ledger#check}, still reported after the nonce.
 */
@Timeout(60)
class ChainHotPathTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-hot";
    private static final Fees FEES = new Fees(BigInteger.valueOf(1000), Fees.DEFAULT_PER_BYTE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    @TempDir
    Path dir;

    private LedgerStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    /** Fees and sizes from the edges (0, 1, around 2^31 and 2^63, up to 2^128 - 1) and at random. */
    private static BigInteger fee(Random rnd) {
        return switch (rnd.nextInt(8)) {
            case 0 -> BigInteger.valueOf(rnd.nextInt(3));
            case 1 -> LONG_MAX.subtract(BigInteger.valueOf(rnd.nextInt(3)));
            case 2 -> LONG_MAX.add(BigInteger.valueOf(rnd.nextInt(3)));
            case 3 -> new BigInteger(128, rnd);
            case 4 -> new BigInteger(1 + rnd.nextInt(62), rnd);
            default -> BigInteger.valueOf(100_000 + rnd.nextInt(1_000_000));
        };
    }

    private static int size(Random rnd) {
        return switch (rnd.nextInt(5)) {
            case 0 -> rnd.nextInt(3);
            case 1 -> Integer.MAX_VALUE - rnd.nextInt(3);
            case 2 -> 1 + rnd.nextInt(Ledger.MAX_TX_BYTES);
            default -> 150 + rnd.nextInt(60);
        };
    }

    @Test
    void compareRate_onLongProducts_ordersExactlyAsBigIntegerProducts() {
        Random rnd = new Random(22);
        for (int i = 0; i < 200_000; i++) {
            BigInteger feeA = fee(rnd);
            BigInteger feeB = rnd.nextInt(4) == 0 ? feeA : fee(rnd);
            int sizeA = size(rnd);
            int sizeB = rnd.nextInt(4) == 0 ? sizeA : size(rnd);
            int exact = Integer.signum(feeA.multiply(BigInteger.valueOf(sizeB)).compareTo(feeB.multiply(BigInteger.valueOf(sizeA))));
            assertEquals(exact, Integer.signum(TxPool.compareRate(feeA, sizeA, feeB, sizeB)),
                    () -> feeA + "/" + sizeA + " vs " + feeB + "/" + sizeB);
            if (feeA.bitLength() < 63 && feeB.bitLength() < 63) {
                assertEquals(exact, Integer.signum(TxPool.compareRate(feeA.longValue(), sizeA, feeB.longValue(), sizeB)),
                        () -> "long products: " + feeA + "/" + sizeA + " vs " + feeB + "/" + sizeB);
            }
        }
    }

    @Test
    void covers_answersExactlyAsRequired_alsoWhereTheLongProductWouldOverflow() {
        Random rnd = new Random(22);
        for (int i = 0; i < 100_000; i++) {
            BigInteger min = fee(rnd).min(Amounts.LIMIT.subtract(BigInteger.ONE));
            BigInteger perByte = fee(rnd);
            perByte = perByte.bitLength() > 64 ? perByte.shiftRight(perByte.bitLength() - 64) : perByte;
            Fees fees = new Fees(min, perByte);
            long bytes = rnd.nextInt(4) == 0 ? Long.MAX_VALUE / (1 + rnd.nextInt(1000)) : size(rnd);
            BigInteger need = fees.required(bytes);
            BigInteger paid = switch (rnd.nextInt(4)) {
                case 0 -> need;
                case 1 -> need.subtract(BigInteger.ONE).max(BigInteger.ZERO);
                case 2 -> need.add(BigInteger.ONE);
                default -> fee(rnd);
            };
            assertEquals(paid.compareTo(need) >= 0, fees.covers(paid, bytes), () -> paid + " for " + fees + " x " + bytes + " bytes");
        }
    }

    private Identity alice = Identity.generate();
    private Identity bob = Identity.generate();
    private final String sink = Ledger.address(Identity.generate().publicKey());

    private LedgerApp ledger() throws Exception {
        store = LedgerStore.open(dir.resolve("ledger"));
        LedgerApp app = new LedgerApp(store);
        ObjectNode state = JSON.createObjectNode().put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString());
        ArrayNode accounts = state.putArray("accounts");
        for (Identity k : List.of(alice, bob)) {
            accounts.addObject().put("address", Ledger.address(k.publicKey())).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        }
        app.handle(Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(CHAIN).setInitialHeight(1)
                .setAppStateBytes(ByteString.copyFrom(JSON.writeValueAsBytes(state)))).build());
        return app;
    }

    private TxBody.Builder transfer(Identity from, long nonce) {
        return TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(from.publicKey())).setNonce(nonce)
                .setTransfer(Transfer.newBuilder().setTo(sink).setAmount(ByteString.copyFrom(Amounts.encode(BigInteger.ONE))));
    }

    private static String signature(byte[] tx) {
        return HexFormat.of().formatHex(java.util.Arrays.copyOfRange(tx, tx.length - 64, tx.length));
    }

    @Test
    void aBlock_takesOverTheMempoolsChecks_checksWhatTheMempoolDoesNotHold_andReportsEachAsBefore() throws Exception {
        LedgerApp app = ledger();
        Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        app.verifier((sig, pk, msg) -> {
            calls.computeIfAbsent(HexFormat.of().formatHex(sig), k -> new AtomicInteger()).incrementAndGet();
            return TxSignatures.verify(sig, pk, msg);
        });
        byte[] pooled = FEES.sign(alice, transfer(alice, 0));
        assertTrue(app.submit(pooled, false, false).admission().ok());
        byte[] stranger = FEES.sign(bob, transfer(bob, 0)); // valid, never offered to this node's mempool
        // a fee with a leading zero byte is not canonical: refused after the nonce, as before, with check's words
        byte[] badFee = Ledger.sign(alice, transfer(alice, 1).setFee(ByteString.copyFrom(new byte[] {0, 0x10, 0, 0})).build());
        byte[] badFeeWrongNonce = Ledger.sign(bob, transfer(bob, 7).setFee(ByteString.copyFrom(new byte[] {0, 0x10, 0, 0})).build());
        byte[] garbage = {0x0a, 0x03, 1, 2};

        List<ExecTxResult> results = app.handle(Request.newBuilder().setFinalizeBlock(RequestFinalizeBlock.newBuilder().setHeight(1)
                        .addTxs(ByteString.copyFrom(pooled)).addTxs(ByteString.copyFrom(stranger)).addTxs(ByteString.copyFrom(badFee))
                        .addTxs(ByteString.copyFrom(badFeeWrongNonce)).addTxs(ByteString.copyFrom(garbage))
                        .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L))).build())
                .getFinalizeBlock().getTxResultsList();
        app.handle(Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build());

        assertEquals(List.of(Ledger.Code.OK.value(), Ledger.Code.OK.value(), Ledger.Code.BAD_AMOUNT.value(), Ledger.Code.BAD_NONCE.value(),
                Ledger.Code.MALFORMED.value()), results.stream().map(ExecTxResult::getCode).toList(), results.toString());
        assertEquals("fee has a leading zero byte (not canonical)", results.get(2).getLog());
        assertEquals(1, calls.get(signature(pooled)).get(), "the pooled one was verified at admission only");
        assertEquals(1, calls.get(signature(stranger)).get(), "the one the mempool did not hold was verified for the block");
        assertEquals(1, app.committed().account(Ledger.address(alice.publicKey())).nonce());
        assertEquals(1, app.committed().account(Ledger.address(bob.publicKey())).nonce());
        assertEquals(0, app.pending(), "the block took the pooled one out of the mempool");
    }
}
