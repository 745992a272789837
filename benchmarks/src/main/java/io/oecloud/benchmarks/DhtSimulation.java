package io.oecloud.benchmarks;

import io.oecloud.dht.DhtConfig;
import io.oecloud.dht.Identity;
import io.oecloud.dht.KadDht;
import io.oecloud.dht.KadNetwork;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.pb.Kad;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BiFunction;

/**
 * The real {@link KadDht} code on N nodes joined by an in-memory network (no sockets): how many
 * hops and messages a provider lookup takes, and how often it succeeds after 20 % of the nodes
 * die without warning.
 *
 * <p>Joining: each node adds three random earlier nodes and looks itself up. A successful
 * request makes both ends see each other, as identify does on a real connection. Then
 * {@code keys} provider records are published from random nodes and looked up from random
 * nodes; then a fifth of all nodes (providers included) are killed, with no republish or repair,
 * and the lookups run again from live nodes. Requests to dead nodes fail at once (a real node
 * would wait for its timeout; the count of messages is the same).
 *
 * <p>Run: {@code benchmarks/run.sh dht} (N = 1,000 and 10,000), or
 * {@code java -cp ... io.oecloud.benchmarks.DhtSimulation N [keys] [lookups] [seed]}
 */
public final class DhtSimulation {
    private final Map<PeerId, SimNode> nodes = new ConcurrentHashMap<>();
    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final DhtConfig config = DhtConfig.defaults();

    final class SimNode implements KadNetwork {
        final PeerId id;
        final Multiaddr addr;
        volatile boolean alive = true;
        BiFunction<PeerId, Kad.Message, Kad.Message> server;
        KadDht dht;
        final Map<PeerId, List<Multiaddr>> book = new ConcurrentHashMap<>();

        SimNode(PeerId id, int index) {
            this.id = id;
            this.addr = Multiaddr.parse("/ip4/127." + (index >> 16 & 255) + "." + (index >> 8 & 255) + "." + (index & 255) + "/tcp/4001");
        }

        @Override
        public PeerId self() {
            return id;
        }

        @Override
        public List<Multiaddr> selfAddrs() {
            return List.of(addr);
        }

        @Override
        public List<Multiaddr> addrs(PeerId peer) {
            return book.getOrDefault(peer, List.of());
        }

        @Override
        public void learn(PeerId peer, List<Multiaddr> addrs) {
            book.putIfAbsent(peer, List.copyOf(addrs));
        }

        @Override
        public CompletableFuture<Kad.Message> request(PeerId peer, Kad.Message request) {
            return CompletableFuture.supplyAsync(() -> {
                SimNode target = nodes.get(peer);
                if (target == null || !target.alive || !alive) {
                    throw new IllegalStateException("unreachable");
                }
                Kad.Message reply = target.server.apply(id, request);
                target.book.putIfAbsent(id, List.of(addr));
                target.dht.peerSeen(id);
                dht.peerSeen(peer);
                return reply;
            }, executor);
        }

        @Override
        public CompletableFuture<Void> send(PeerId peer, Kad.Message message) {
            return request(peer, message).thenAccept(r -> { });
        }

        @Override
        public CompletableFuture<Boolean> isAlive(PeerId peer) {
            SimNode t = nodes.get(peer);
            return CompletableFuture.completedFuture(t != null && t.alive);
        }

        @Override
        public void serve(BiFunction<PeerId, Kad.Message, Kad.Message> s) {
            this.server = (from, m) -> {
                Kad.Message r = s.apply(from, m);
                return r == null ? Kad.Message.getDefaultInstance() : r;
            };
        }
    }

    record Stats(List<Integer> hops, List<Integer> messages, int found, int total) {
        static int percentile(List<Integer> l, double p) {
            List<Integer> s = new ArrayList<>(l);
            Collections.sort(s);
            return s.isEmpty() ? 0 : s.get(Math.min(s.size() - 1, (int) Math.ceil(p * s.size()) - 1));
        }

        String line(String label) {
            return String.format("%-28s lookups %5d  found %5d (%.2f%%)  hops median %d p95 %d  messages median %d p95 %d",
                    label, total, found, 100.0 * found / total, percentile(hops, 0.5), percentile(hops, 0.95),
                    percentile(messages, 0.5), percentile(messages, 0.95));
        }
    }

    private SimNode join(int index, Random rnd, List<SimNode> existing) {
        SimNode n = new SimNode(Identity.generate().peerId(), index);
        n.dht = new KadDht(n, config, KadDht.defaultValidators(), scheduler);
        nodes.put(n.id, n);
        if (!existing.isEmpty()) {
            List<PeerId> seeds = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                SimNode s = existing.get(rnd.nextInt(existing.size()));
                n.learn(s.id, s.selfAddrs());
                seeds.add(s.id);
            }
            n.dht.bootstrap(seeds).join();
        }
        existing.add(n);
        return n;
    }

    private Stats lookups(List<SimNode> from, List<byte[]> keys, int count, Random rnd) {
        List<Integer> hops = new ArrayList<>();
        List<Integer> messages = new ArrayList<>();
        int found = 0;
        for (int i = 0; i < count; i++) {
            SimNode n = from.get(rnd.nextInt(from.size()));
            byte[] key = keys.get(rnd.nextInt(keys.size()));
            KadDht.ProvidersFound r = n.dht.findProvidersWithStats(key, 1).join();
            if (!r.providers().isEmpty()) {
                found++;
                hops.add(r.stats().hops());
            }
            messages.add(r.stats().messages());
        }
        return new Stats(hops, messages, found, count);
    }

    static byte[] key(int i) throws Exception {
        byte[] d = MessageDigest.getInstance("SHA-256").digest(("content " + i).getBytes());
        byte[] mh = new byte[34];
        mh[0] = 0x12;
        mh[1] = 32;
        System.arraycopy(d, 0, mh, 2, 32);
        return mh;
    }

    void run(int n, int keyCount, int lookupCount, long seed) throws Exception {
        Random rnd = new Random(seed);
        List<SimNode> all = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            join(i, rnd, all);
        }
        // a second self-lookup round, as periodic refresh would do
        for (SimNode s : all) {
            s.dht.bootstrap(List.of()).join();
        }
        long joined = System.nanoTime();
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < keyCount; i++) {
            byte[] k = key(i);
            keys.add(k);
            all.get(rnd.nextInt(n)).dht.provide(k).join();
        }
        int rt = 0;
        for (SimNode s : all) {
            rt += s.dht.routingTableSize();
        }
        double log2 = Math.log(n) / Math.log(2);
        System.out.printf("N = %d nodes: joined in %.1f s, mean routing table %.1f peers, %d provider keys%n",
                n, (joined - t0) / 1e9, (double) rt / n, keyCount);
        Stats before = lookups(all, keys, lookupCount, rnd);
        System.out.println(before.line("no churn"));
        Collections.shuffle(all, rnd);
        int kill = n / 5;
        for (int i = 0; i < kill; i++) {
            all.get(i).alive = false;
        }
        List<SimNode> alive = all.subList(kill, n);
        Stats after = lookups(alive, keys, lookupCount, rnd);
        System.out.println(after.line("20% killed without warning"));
        int medianHops = Stats.percentile(before.hops(), 0.5);
        double target = log2 / 2 + 2;
        System.out.printf("target: median hops <= log2(N)/2 + 2 = %.2f: %d %s; success at 20%% churn >= 99.9%%: %.2f%% %s%n",
                target, medianHops, medianHops <= target ? "MET" : "NOT MET",
                100.0 * after.found() / after.total(), after.found() * 1000 >= after.total() * 999 ? "MET" : "NOT MET");
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int lookups = args.length > 2 ? Integer.parseInt(args[2]) : 2000;
        long seed = args.length > 3 ? Long.parseLong(args[3]) : 1;
        DhtSimulation sim = new DhtSimulation();
        try {
            sim.run(n, keys, lookups, seed);
        } finally {
            sim.executor.shutdownNow();
            sim.scheduler.shutdownNow();
        }
    }
}
