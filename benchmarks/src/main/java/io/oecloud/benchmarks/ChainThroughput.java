package io.oecloud.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.chain.testnet.LocalTestnet;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * OEChain on four CometBFT validators on loopback, against CometBFT's built-in kvstore app on the
 * same layout (the engine's own ceiling) and, given abci-cli, against the same kvstore run as a
 * separate process behind the ABCI socket (the ceiling of any application outside CometBFT).
 * Saturation: senders submit to all four validators (OEChain: POST /v1/chain/txs into the
 * ledgers' mempool; kvstore: CometBFT's broadcast_tx_sync into its own), first for a warm-up,
 * then for a fixed window; throughput is the transactions in the blocks committed in that window,
 * the best of a fresh network per count of senders. Latency: on another fresh network, at half
 * the measured rate, a sample of transactions is submitted with {@code ?wait=commit}, which
 * answers once the block holding it is committed.
 *
 * <pre>java ... ChainThroughput COMETBFT_BINARY WORK_DIR [SECONDS [ABCI_CLI_BINARY]]</pre>
 */
public final class ChainThroughput {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-bench";
    /** The genesis' fees: every transfer pays 1,000 base units plus 1,000 per byte of the signed transaction. */
    private static final io.oecloud.chain.ledger.Fees FEES = new io.oecloud.chain.ledger.Fees(BigInteger.valueOf(1000), io.oecloud.chain.ledger.Fees.DEFAULT_PER_BYTE);

    private ChainThroughput() {}

    public static void main(String[] args) throws Exception {
        Path cometbft = Path.of(args[0]);
        Path work = Path.of(args[1]);
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        double kv = bestOf("kvstore", senders -> net(cometbft, work.resolve("kvstore-" + senders), true), true, seconds)[0];
        double external = Double.NaN;
        if (args.length > 3) {
            external = bestOf("kvstore over the ABCI socket", senders -> {
                LocalTestnet net = LocalTestnet.externalKvstore(cometbft, Path.of(args[3]), work.resolve("kvstore-socket-" + senders), 4, CHAIN);
                net.startAll();
                for (int i = 0; i < 4; i++) {
                    net.awaitHeight(i, 2, 120);
                }
                return net;
            }, true, seconds)[0];
            System.out.printf("kvstore over the ABCI socket: %.0f tx/s = %.2fx kvstore%n", external, external / kv);
        }
        double[] best = bestOf("oechain", senders -> net(cometbft, work.resolve("oechain-" + senders), false), false, seconds);
        Result oe = latency(net(cometbft, work.resolve("oechain-latency"), false), best[0], (int) best[1], seconds);
        System.out.printf("oechain: %.0f tx/s = %.2fx kvstore%s; commit latency at %.0f tx/s: median %.0f ms, p99 %.0f ms (%d samples)%n",
                oe.tps(), oe.tps() / kv, Double.isNaN(external) ? "" : String.format(" = %.2fx kvstore over the socket", oe.tps() / external),
                oe.tps() / 2, oe.medianMs(), oe.p99Ms(), oe.samples());
    }

    record Result(double tps, double medianMs, double p99Ms, int samples) {}

    /**
     * The numbers of concurrent senders each network is loaded with, a fresh network for each; its
     * throughput is the best of them. A closed-loop generator offers as much load as it has
     * senders, and the networks saturate at different counts: the built-in kvstore at 32 (more
     * senders cost the shared cores more than they add), an application behind the ABCI socket
     * only with more requests in flight (CometBFT's socket client then flushes several per
     * wake-up).
     */
    private static final int[] SENDER_COUNTS = java.util.Arrays.stream(System.getProperty("oe.bench.senders", "32,128").split(","))
            .mapToInt(x -> Integer.parseInt(x.strip())).toArray();
    private static final int MAX_SENDERS = java.util.Arrays.stream(SENDER_COUNTS).max().orElseThrow();
    /** Seconds of full load before a saturation window is measured. */
    private static final int WARMUP = Integer.getInteger("oe.bench.warmup", 10);

    /** A fresh network for a number of senders. */
    interface Network {
        LocalTestnet start(int senders) throws Exception;
    }

    /** Saturates a fresh network with each sender count in turn; prints each, returns {best tx/s, its sender count}. */
    private static double[] bestOf(String name, Network network, boolean kvstore, int seconds) throws Exception {
        double best = 0;
        int bestSenders = SENDER_COUNTS[0];
        StringBuilder line = new StringBuilder(name + ":");
        for (int senders : SENDER_COUNTS) {
            double tps;
            try (LocalTestnet net = network.start(senders)) {
                tps = load(net, kvstore, KEYS, new long[KEYS.size()], senders, WARMUP, seconds, 0);
            }
            line.append(String.format(" %d senders %.0f tx/s;", senders, tps));
            if (tps > best) {
                best = tps;
                bestSenders = senders;
            }
        }
        System.out.println(line.append(String.format(" best %.0f tx/s", best)));
        return new double[] {best, bestSenders};
    }

    /** The senders' accounts, funded in every genesis; the last one is the latency sampler's. */
    private static final List<Identity> KEYS = java.util.stream.IntStream.rangeClosed(0, MAX_SENDERS)
            .mapToObj(i -> Identity.generate()).toList();

    private static LocalTestnet net(Path cometbft, Path dir, boolean kvstore) throws Exception {
        ObjectNode app = JSON.createObjectNode().put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString());
        ArrayNode accounts = app.putArray("accounts");
        for (Identity k : KEYS) {
            accounts.addObject().put("address", Ledger.address(k.publicKey())).put("balance", Amounts.PASS.multiply(BigInteger.valueOf(1_000_000)).toString());
        }
        Files.createDirectories(dir);
        LocalTestnet net = new LocalTestnet(cometbft, dir, 4, 0, CHAIN, app, kvstore, kvstore ? null : new long[] {100, 100, 100, 100});
        net.startAll();
        for (int i = 0; i < 4; i++) {
            net.awaitHeight(i, 2, 120);
        }
        return net;
    }

    private static byte[] transfer(Identity from, long nonce, Identity to) {
        return FEES.sign(from, TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(from.publicKey())).setNonce(nonce)
                .setTransfer(Transfer.newBuilder()
                        .setTo(Ledger.address(to.publicKey())).setAmount(ByteString.copyFrom(Amounts.encode(BigInteger.ONE)))));
    }

    /** Transactions committed in blocks (from, to]. */
    private static long committed(LocalTestnet net, long from, long to) throws Exception {
        long n = 0;
        for (long h = from + 1; h <= to; h += 20) {
            JsonNode r = net.rpc(0, "/blockchain?minHeight=" + h + "&maxHeight=" + Math.min(to, h + 19));
            for (JsonNode meta : r.at("/result/block_metas")) {
                n += meta.path("num_txs").asLong();
            }
        }
        return n;
    }

    /**
     * {@code senders} senders, each with its own account (kvstore: random keys), send as fast as
     * CheckTx admits (at most {@code ratePerSecond} in all when > 0) for {@code warmup} +
     * {@code seconds}; returns the tx/s committed in the last {@code seconds}.
     */
    private static double load(LocalTestnet net, boolean kvstore, List<Identity> keys, long[] nonces, int senders, int warmup,
                               int seconds, double ratePerSecond) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong permits = new AtomicLong();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        long start = System.nanoTime();
        for (int s = 0; s < senders; s++) {
            int me = s;
            pool.submit(() -> {
                Random rnd = new Random(me);
                int node = me % 4;
                while (!stop.get()) {
                    if (ratePerSecond > 0) {
                        long allowed = (long) ((System.nanoTime() - start) / 1e9 * ratePerSecond);
                        if (permits.incrementAndGet() > allowed) {
                            permits.decrementAndGet();
                            Thread.sleep(2); // rate limit: wait for the next permit
                            continue;
                        }
                    }
                    byte[] tx = kvstore ? ("k" + me + "-" + rnd.nextLong() + "=v").getBytes(StandardCharsets.UTF_8)
                            : transfer(keys.get(me), nonces[me], keys.get((me + 1) % senders));
                    JsonNode r = net.submit(node, tx, false);
                    if (r.path("code").asInt(-1) == 0) {
                        nonces[me]++;
                    } else {
                        Thread.sleep(20); // mempool full: back off a little
                    }
                }
                return null;
            });
        }
        // the warm-up: the JIT compiles the hot paths (a fifth of a core for the first ~20 s) and the mempools fill
        Thread.sleep(warmup * 1000L);
        long h0 = net.height(0);
        long t0 = System.nanoTime();
        Cpu before = Cpu.of(net);
        long refused0 = kvstore ? 0 : net.ledger(0).txsRefused();
        Thread.sleep(seconds * 1000L); // the measurement window: blocks committed in it are counted
        long h1 = net.height(0);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        Cpu used = Cpu.of(net).minus(before);
        long refused = kvstore ? 0 : net.ledger(0).txsRefused() - refused0;
        stop.set(true);
        pool.shutdown();
        pool.awaitTermination(60, TimeUnit.SECONDS);
        // blocks between h0 and h1 hold what committed in the window (first block's txs were sent in it too)
        double tps = committed(net, h0, h1) / elapsed;
        if (ratePerSecond == 0) {
            System.out.printf("  %d senders, cores in the window: CometBFT %.2f, external apps %.2f, ledgers' threads (ABCI, mempool, gossip) %.2f, rest of this JVM "
                            + "(load generator, JIT, GC) %.2f; CometBFT %.0f us per transaction%n", senders, used.engines() / elapsed,
                    used.apps() / elapsed, used.ledgers() / elapsed, (used.jvm() - used.ledgers()) / elapsed, used.engines() / tps / elapsed * 1e6);
            if (!kvstore) { // counted above are all transactions in the blocks: say how many the ledger refused
                System.out.printf("  %d senders: transactions in the window's blocks that the ledger refused: %d%n", senders, refused);
            }
        }
        return tps;
    }

    /** CPU seconds used so far by the CometBFT processes, the external apps, this JVM and its ledgers' threads. */
    record Cpu(double engines, double apps, double jvm, double ledgers) {
        static Cpu of(LocalTestnet net) {
            java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
            double ledgers = 0;
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                String name = t.getName();
                if (name.startsWith("abci-app") || name.startsWith("tx-http") || name.startsWith("tx-gossip") || name.startsWith("tx-accept")) {
                    ledgers += Math.max(0, threads.getThreadCpuTime(t.threadId())) / 1e9;
                }
            }
            return new Cpu(seconds(net.engineProcesses()), seconds(net.appProcesses()), seconds(List.of(ProcessHandle.current())), ledgers);
        }

        private static double seconds(List<ProcessHandle> ps) {
            return ps.stream().mapToDouble(p -> p.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0)).sum();
        }

        Cpu minus(Cpu o) {
            return new Cpu(engines - o.engines, apps - o.apps, jvm - o.jvm, ledgers - o.ledgers);
        }
    }

    /**
     * On a fresh network, half of {@code tps} in the background from {@code senders} senders, and
     * transfers from the spare account timed from submit to commit, one after another.
     */
    private static Result latency(LocalTestnet network, double tps, int senders, int seconds) throws Exception {
        try (LocalTestnet net = network) {
            long[] nonces = new long[KEYS.size()];
            Identity sampler = KEYS.get(MAX_SENDERS);
            List<Double> ms = Collections.synchronizedList(new ArrayList<>());
            Thread bg = Thread.ofVirtual().start(() -> {
                try {
                    load(net, false, KEYS, nonces, senders, 0, seconds, tps / 2);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(2000); // the background load reaches its rate before latency is sampled
            long nonce = 0;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds - 4);
            while (System.nanoTime() < end) {
                byte[] tx = transfer(sampler, nonce, KEYS.get(0));
                long t = System.nanoTime();
                JsonNode r = net.submit((int) (nonce % 4), tx, true);
                if (r.path("code").asInt(-1) == 0) {
                    ms.add((System.nanoTime() - t) / 1e6);
                    nonce++;
                }
            }
            bg.join();
            List<Double> sorted = new ArrayList<>(ms);
            Collections.sort(sorted);
            double median = sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2);
            double p99 = sorted.isEmpty() ? Double.NaN : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1));
            return new Result(tps, median, p99, sorted.size());
        }
    }
}
