package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.LedgerState.StorageRoot;
import io.oecloud.chain.pb.ChainProto.ProofAnswer;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.SliceProver;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The chain's cost of many storage nodes' proofs (issue 24, "Performance": transactions per block,
 * verify time per block against the block interval): {@code oe.bench.nodes} registered nodes
 * (100; 1,000 for the figures) commit a root over {@code oe.bench.entries} entries (10,000; 100,000) of
 * {@code oe.bench.shardKiB} KiB shards (16; the bytes are generated again from each entry's number
 * when a slice is needed, so no shard is kept), then every node sends its period's 32 answers as
 * one SubmitProof, and each window's transactions are applied in one block as FinalizeBlock does
 * (decode, signature, fee, nonce, {@code Storage.submitProof}, the block's end). Every node
 * commits the same root (its challenges are its own: the node ID is hashed in), which makes the
 * verification the same work as distinct roots of that size. Prints the figures; asserts only
 * that every proof is accepted. In CI it runs small (100 nodes, 10,000 entries, a few seconds);
 * the recorded figures (benchmarks/README.md, "Proofs of storage") come from
 *
 * <pre>mvn -B -o -pl proofs,chain-bridge -am test -Dtest=StorageWindowCostTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Doe.bench.nodes=1000 -Doe.bench.entries=100000</pre>
 */
class StorageWindowCostTest {
    private static byte[] shard(int i, int bytes) {
        byte[] b = new byte[bytes];
        new SplittableRandom(0x5eed_0000_0000L + i).nextBytes(b);
        return b;
    }

    @Test
    void thousandNodesProofs_appliedAsBlocks_costPerTransactionAndWindow() throws Exception {
        int nodes = Integer.getInteger("oe.bench.nodes", 100);
        int n = Integer.getInteger("oe.bench.entries", 10_000);
        int shardBytes = Integer.getInteger("oe.bench.shardKiB", 16) * 1024;
        long t0 = System.nanoTime();
        List<NodeEntry> es = new ArrayList<>(n);
        Map<Cid, Integer> which = new HashMap<>();
        for (int i = 0; i < n; i++) {
            byte[] b = shard(i, shardBytes);
            Cid c = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
            es.add(new NodeEntry(c, b.length));
            which.put(c, i);
        }
        es.sort(Comparator.comparing(NodeEntry::cid));
        NodeRoot tree = NodeRoot.build(es);
        System.out.printf("window cost: %,d entries of %d KiB hashed and their root built in %d ms%n", n, shardBytes / 1024,
                (System.nanoTime() - t0) / 1_000_000);

        Identity[] ids = new Identity[nodes];
        for (int k = 0; k < nodes; k++) {
            byte[] seed = new byte[32];
            seed[0] = (byte) k;
            seed[1] = (byte) (k >>> 8);
            seed[2] = 24;
            ids[k] = Identity.fromSeed(seed);
        }
        StorageChain c = new StorageChain(24, ids);
        c.runTo(5);
        byte[][] regs = new byte[nodes][];
        for (int k = 0; k < nodes; k++) {
            regs[k] = c.tx(ids[k], StorageChain.register(1L << 40, BigInteger.valueOf(5_000_000)));
        }
        c.block(regs).forEach(r -> assertEquals(Code.OK, r.code(), r.log()));
        byte[][] commits = new byte[nodes][];
        for (int k = 0; k < nodes; k++) {
            commits[k] = c.tx(ids[k], StorageChain.commit(1, tree.root(), tree.count()));
        }
        c.block(commits).forEach(r -> assertEquals(Code.OK, r.code(), r.log()));

        int windows = c.state.storageParams().windows();
        long totalBlockNanos = 0;
        long totalVerifyNanos = 0;
        long totalBytes = 0;
        int total = 0;
        List<Long> perTx = new ArrayList<>();
        for (int w = 0; w < windows; w++) {
            var range = c.windows().blocks(1, w);
            c.runTo(range.first() + 1);
            byte[] seed = c.state.storageSeed(1, w);
            List<byte[]> txs = new ArrayList<>();
            List<String> senders = new ArrayList<>();
            List<StorageChain.Answers> proofs = new ArrayList<>();
            for (int k = 0; k < nodes; k++) {
                String addr = StorageChain.addr(ids[k]);
                byte[] id = Storage.nodeId(addr);
                if (c.windows().nodeWindow(id) != w) {
                    continue;
                }
                List<Challenge> cs = Challenges.derive(seed, id, 1, tree.count(), 32);
                List<ProofAnswer> answers = new ArrayList<>();
                for (Challenge ch : cs) {
                    NodeEntry e = tree.entries().get((int) ch.entry());
                    byte[] slice = SliceProver.prove(shard(which.get(e.cid()), shardBytes), ch.chunk(e.size()), 1).encode();
                    answers.add(ProofAnswer.newBuilder().setSlice(ByteString.copyFrom(slice)).build());
                }
                StorageChain.Answers a = new StorageChain.Answers(StorageChain.entriesOf(tree, cs), answers);
                proofs.add(a);
                senders.add(addr);
                txs.add(c.tx(ids[k], StorageChain.proof(1, 0, a)));
            }
            // Storage.submitProof alone, each transaction on a copy of the state at the block
            LedgerState copy = c.state.copyAt(c.state.height() + 1, 0);
            for (int i = 0; i < proofs.size(); i++) {
                long t = System.nanoTime();
                Ledger.Result r = Storage.submitProof(copy, senders.get(i), 1, 0, ByteString.copyFrom(proofs.get(i).entries()),
                        proofs.get(i).answers(), List.of()); // no contracts: no picks
                long dt = System.nanoTime() - t;
                assertEquals(Code.OK, r.code(), r.log());
                perTx.add(dt);
                totalVerifyNanos += dt;
            }
            // the window's transactions in one block, as FinalizeBlock applies them
            long t = System.nanoTime();
            List<Ledger.Result> rs = c.block(txs.toArray(byte[][]::new));
            long blockNanos = System.nanoTime() - t;
            rs.forEach(r -> assertEquals(Code.OK, r.code(), r.log()));
            long bytes = txs.stream().mapToLong(x -> x.length).sum();
            System.out.printf("window cost: window %d: %d SubmitProofs, %,d B, applied in one block in %.1f ms (%.2f ms a transaction)%n",
                    w, txs.size(), bytes, blockNanos / 1e6, blockNanos / 1e6 / Math.max(1, txs.size()));
            totalBlockNanos += blockNanos;
            totalBytes += bytes;
            total += txs.size();
        }
        for (Identity id : ids) {
            assertEquals(StorageRoot.PROVEN, c.state.storageRoot(1, StorageChain.addr(id)).status());
        }
        long[] sorted = perTx.stream().mapToLong(Long::longValue).sorted().toArray();
        double median = sorted[sorted.length / 2] / 1e6;
        double p99 = sorted[(int) Math.min(sorted.length - 1, Math.round(sorted.length * 0.99))] / 1e6;
        double perTxBlock = totalBlockNanos / 1e6 / total;
        System.out.printf("window cost: %d nodes' proofs (%,d entries, %d KiB shards): Storage.submitProof median %.2f ms, p99 %.2f ms,"
                + " mean %.2f ms; in blocks %.2f ms a transaction (signature and fee included); %,d B a transaction%n",
                total, n, shardBytes / 1024, median, p99, totalVerifyNanos / 1e6 / total, perTxBlock, totalBytes / total);
        System.out.printf("window cost: production (W = 48 windows of 360 blocks at 5 s): %d nodes / 48 = %.0f proofs a window,"
                + " %.1f ms of verification a window (%.1f µs a block on average); all %d in one block: %.0f ms, %,d B%n",
                total, total / 48.0, total / 48.0 * perTxBlock, total / 48.0 * perTxBlock * 1000 / 360, total, total * perTxBlock,
                totalBytes);
        assertEquals(nodes, total);
        assertEquals(0, Arrays.stream(sorted).filter(x -> x < 0).count());
    }
}
