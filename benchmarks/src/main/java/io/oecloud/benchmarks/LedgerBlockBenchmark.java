package io.oecloud.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.node.LedgerApp;
import io.oecloud.chain.node.LedgerStore;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What one block costs the ledger as its state grows: FinalizeBlock and Commit of a block of 100
 * signed transfers (signatures not cached: as on a validator that never saw them) on a ledger
 * whose genesis holds {@code accounts} funded accounts, in RocksDB on disk; the transfers go to
 * one known account, or ({@code newAccounts}) each to an account that did not exist, which adds
 * keys to the state tree (chain-bridge/README.md, "App hash").
 *
 * <p>Run: {@code benchmarks/run.sh ledger}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class LedgerBlockBenchmark {
    private static final String CHAIN = "oechain-ledger-bench";
    /** 1,000 base units a transfer plus 1,000 per byte of it, as the genesis says. */
    private static final io.oecloud.chain.ledger.Fees FEES = new io.oecloud.chain.ledger.Fees(BigInteger.valueOf(1000), io.oecloud.chain.ledger.Fees.DEFAULT_PER_BYTE);
    private static final int TXS = 100;

    @Param({"1000", "10000", "100000"})
    public int accounts;

    @Param({"false", "true"})
    public boolean newAccounts;

    private Path dir;
    private LedgerStore store;
    private LedgerApp app;
    private final List<Identity> senders = new ArrayList<>();
    private final long[] nonces = new long[TXS];
    private final String receiver = Ledger.address(Identity.generate().publicKey());
    private long height;
    private Request finalize;

    @Setup(Level.Trial)
    public void genesis() throws Exception {
        dir = Files.createTempDirectory("ledger-bench");
        store = LedgerStore.open(dir.resolve("ledger"));
        app = new LedgerApp(store);
        ObjectMapper json = new ObjectMapper();
        ObjectNode state = json.createObjectNode().put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString());
        ArrayNode list = state.putArray("accounts");
        String balance = Amounts.PASS.multiply(BigInteger.valueOf(1000)).toString();
        for (int i = 0; i < accounts; i++) {
            Identity id = Identity.generate();
            if (i < TXS) {
                senders.add(id);
            }
            list.addObject().put("address", Ledger.address(id.publicKey())).put("balance", balance);
        }
        app.handle(Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(CHAIN).setInitialHeight(1)
                .setAppStateBytes(ByteString.copyFrom(json.writeValueAsBytes(state)))).build());
    }

    /** The next block's transfers, signed outside the measurement: one from each sender. */
    @Setup(Level.Invocation)
    public void nextBlock() {
        height++;
        RequestFinalizeBlock.Builder b = RequestFinalizeBlock.newBuilder().setHeight(height)
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L + height));
        for (int i = 0; i < TXS; i++) {
            Identity from = senders.get(i);
            b.addTxs(ByteString.copyFrom(FEES.sign(from, TxBody.newBuilder().setChainId(CHAIN)
                    .setSender(ByteString.copyFrom(from.publicKey())).setNonce(nonces[i]++)
                    .setTransfer(Transfer.newBuilder()
                            .setTo(newAccounts ? Ledger.address(Identity.generate().publicKey()) : receiver)
                            .setAmount(ByteString.copyFrom(Amounts.encode(BigInteger.ONE)))))));
        }
        finalize = Request.newBuilder().setFinalizeBlock(b).build();
    }

    @Benchmark
    public ByteString finalizeAndCommit() throws Exception {
        ByteString hash = app.handle(finalize).getFinalizeBlock().getAppHash();
        app.handle(Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build());
        return hash;
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        store.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
