package io.oecloud.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Block;
import io.oecloud.chain.ledger.Contracts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Genesis;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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

/**
 * What settling one period of paid storage costs the ledger ({@link Contracts#settle}: the work
 * of a period's last block after the window penalties) with 1,000 storage nodes and
 * {@code contracts} contracts of 3 holders each, bought through real CreateContract transactions
 * (holders' receipts signed and verified) for 1 to 100 periods, so that the rate changes due each
 * period are spread as in a live chain. Settlement walks the nodes with a rate and the changes due
 * next period, never the contracts: the figure must not grow from 10,000 to 100,000 contracts.
 * Each iteration settles a fresh copy of the same state once (single shot: the copy is not measured).
 *
 * <p>No node proved the period here (proofs need real shards), so every rate goes to the fee
 * pool; a paid node costs one more account write, the same O(nodes).
 *
 * <p>Run: {@code benchmarks/run.sh settlement} (or as part of {@code benchmarks/run.sh ledger})
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SettlementBenchmark {
    private static final String CHAIN = "oechain-settlement-bench";
    private static final int NODES = 1000;
    private static final int PAYERS = 100;
    private static final int HOLDERS = 3;
    private static final int PER_BLOCK = 2000;

    @Param({"10000", "100000"})
    public int contracts;

    private LedgerState base;
    private LedgerState work;

    @Setup(Level.Trial)
    public void build() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode app = json.createObjectNode().put("minFee", "0").put("feePerByte", "0");
        app.putObject("storage").put("periodBlocks", 1_000_000).put("windows", 4).put("minCollateral", "1");
        ArrayNode accounts = app.putArray("accounts");
        List<Identity> nodes = new ArrayList<>();
        List<Identity> payers = new ArrayList<>();
        String balance = Amounts.PASS.multiply(BigInteger.valueOf(1_000_000)).toString();
        for (int i = 0; i < NODES + PAYERS; i++) {
            Identity id = Identity.generate();
            (i < NODES ? nodes : payers).add(id);
            accounts.addObject().put("address", Ledger.address(id.publicKey())).put("balance", balance);
        }
        Genesis g = Genesis.read(CHAIN, json.writeValueAsBytes(app), 1);
        Fees fees = g.fees();
        Ledger ledger = new Ledger(CHAIN, fees);
        LedgerState s = g.state();
        Random rnd = new Random(1);
        List<byte[]> txs = new ArrayList<>();
        for (Identity n : nodes) {
            txs.add(sign(fees, n, 0, ChainClient.registerStorageNodeTx(1L << (36 + rnd.nextInt(8)), BigInteger.TEN,
                    BigInteger.valueOf(1 + rnd.nextInt(1000)).shiftLeft(20))));
        }
        s = block(ledger, s, txs);
        long[] nonces = new long[PAYERS];
        txs.clear();
        for (int i = 0; i < contracts; i++) {
            int p = i % PAYERS;
            Identity payer = payers.get(p);
            String u = Ledger.address(payer.publicKey());
            byte[] object = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, ("object-" + i).getBytes(StandardCharsets.UTF_8)).toBytes();
            List<ChainProto.Receipt> rs = new ArrayList<>();
            int first = rnd.nextInt(NODES);
            for (int h = 0; h < HOLDERS; h++) {
                byte[] root = new byte[32]; // the entries root: the chain keeps it, settlement never reads it
                rnd.nextBytes(root);
                rs.add(ChainClient.receipt(nodes.get((first + h * 331) % NODES), CHAIN, object, u, 1 + rnd.nextInt(1 << 24), 4, root, 0));
            }
            txs.add(sign(fees, payer, nonces[p]++, ChainClient.createContractTx(object, 1 + rnd.nextInt(100), rs, null)));
            if (txs.size() == PER_BLOCK) {
                s = block(ledger, s, txs);
                txs.clear();
            }
        }
        if (!txs.isEmpty()) {
            s = block(ledger, s, txs);
        }
        if (Contracts.all(s).size() != contracts) {
            throw new IllegalStateException("built " + Contracts.all(s).size() + " contracts, not " + contracts);
        }
        Contracts.settle(s, 0); // the rates of period 1 start: every holder has one
        base = s;
        System.out.println("state: " + NODES + " nodes, " + Contracts.all(s).size() + " contracts, " + Contracts.rates(s).size()
                + " nodes with a rate, " + Contracts.rateChanges(s).size() + " rate changes scheduled");
    }

    private static byte[] sign(Fees fees, Identity key, long nonce, TxBody.Builder body) {
        return fees.sign(key, body.setChainId(CHAIN).setSender(ByteString.copyFrom(key.publicKey())).setNonce(nonce));
    }

    private static LedgerState block(Ledger ledger, LedgerState s, List<byte[]> txs) {
        Block b = Block.begin(s, s.height() + 1, 1_000L * (s.height() + 1), List.of(), List.of());
        for (byte[] tx : txs) {
            Ledger.Result r = b.apply(ledger, ledger.check(tx));
            if (!r.ok()) {
                throw new IllegalStateException(r.code() + ": " + r.log());
            }
        }
        b.end();
        return b.state();
    }

    /**
     * A fresh copy to settle, then a collection: the copy allocates the whole state (about 600,000
     * map entries at 100,000 contracts), and without it the garbage collector would run inside the
     * measured settlement, timing the copy's garbage instead of the settlement.
     */
    @Setup(Level.Iteration)
    public void copy() {
        work = base.copy();
        System.gc();
    }

    /** Settles period 1 (rates of 1,000 nodes, the rate changes of period 2) on a copy. */
    @Benchmark
    public Contracts.Settlement settle() {
        return Contracts.settle(work, 1);
    }

    /**
     * One block's bounded step after settlement ({@link Contracts#leaveEnded} with the ledger's
     * budget of 256 holders): the contracts of one paid period (about 1 % of all, more holders
     * than the budget at either size) leave their holders' held lists and Fenwick trees. Every
     * block runs it; it must not grow with the contracts either.
     */
    @Benchmark
    public LedgerState leaveEnded() {
        Contracts.leaveEnded(work, 2, Contracts.LEAVES_PER_BLOCK);
        return work;
    }
}
