package io.oecloud.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import io.oecloud.dht.Host;
import io.oecloud.dht.HostConfig;
import io.oecloud.dht.Identity;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The cost of one shard PUT over /oe/shard/1.0.0, both ends in this JVM on loopback (Noise,
 * Yamux, the receiver's CID check and durable write to a real store in a temporary directory):
 * process CPU milliseconds per 2 MiB shard, 4 in flight, 128 per round. Less noisy than the devnet
 * for judging a change to the shard path: run each variant a few times, in turn.
 *
 * <pre>java ... io.oecloud.benchmarks.ShardPutCpu [ROUNDS]</pre>
 */
public final class ShardPutCpu {
    private ShardPutCpu() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        Path dir = Files.createTempDirectory("oe-shard-put");
        ShardStore store = ShardStore.open(dir.resolve("store"), 64L << 30);
        ExecutorService io = Executors.newFixedThreadPool(4);
        Host server = new Host(Identity.generate(), HostConfig.defaults());
        server.setStreamHandler(ShardServer.PROTOCOL_ID, new ShardServer(store, io, server.peerId())::newHandler);
        server.start();
        Host client = new Host(Identity.generate(), HostConfig.defaults()).start();
        try {
            client.dial(server.listenAddresses().get(0).withPeerId(server.peerId())).get(10, TimeUnit.SECONDS);
            ShardClient shards = new ShardClient(client, client.identity(), 30_000);
            byte[] base = new byte[2 << 20];
            new Random(1).nextBytes(base);
            var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long seq = 0;
            for (int r = 0; r < rounds; r++) {
                int n = 128;
                long cpu0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                List<CompletableFuture<Void>> inFlight = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    byte[] shard = base.clone();
                    long s = seq++;
                    for (int k = 0; k < 8; k++) {
                        shard[k] = (byte) (s >>> (8 * k)); // a new shard every time
                    }
                    inFlight.add(shards.put(server.peerId(), Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, shard), shard));
                    if (inFlight.size() >= 4) {
                        inFlight.remove(0).get(30, TimeUnit.SECONDS);
                    }
                }
                for (var f : inFlight) {
                    f.get(30, TimeUnit.SECONDS);
                }
                double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6 / n;
                double mbs = n * (double) base.length / ((System.nanoTime() - t0) / 1e9) / 1e6;
                System.out.printf("round %d: %.2f ms CPU per 2 MiB shard (both ends), %.0f MB/s%n", r, cpuMs, mbs);
                for (var stored : store.list()) {
                    store.delete(stored.cid()); // keeps the disk from filling
                }
            }
        } finally {
            client.close();
            server.close();
            io.shutdownNow();
            store.close();
        }
    }
}
