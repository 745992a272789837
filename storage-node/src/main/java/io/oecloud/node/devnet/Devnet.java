package io.oecloud.node.devnet;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.oecloud.node.Cometbft;
import io.oecloud.node.NodeConfig;
import io.oecloud.node.api.ApiToken;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * N storage nodes on loopback, each its own OS process (so one can be killed), sharing one data
 * directory: node i in {@code D/node-i}, with its settings in {@code D/node-i/node.conf} (written
 * here, read by the node like any other's) and its ports and bootstrap peer as flags. Node 0
 * listens on the base ports and the others join through it. {@code D/devnet.json} records each
 * node's pid, ports, peer ID, data directory, API token file and the command that restarts it;
 * stopping the JVM stops them all; the next start reuses the same identities, tokens and shards.
 */
public final class Devnet {
    /** The devnet's list of nodes, written once all are up. */
    public static final String JSON_FILE = "devnet.json";

    /**
     * What to start.
     *
     * @param settings every node's settings, by {@link NodeConfig} key (k, m, capacity, ...)
     * @param capacityOf a node's capacity in place of the settings' one, by index
     * @param chainPort the base of the super-nodes' ports, or 0 for free ones; ignored without chain
     * @param edgePort the edge's HTTP port (0: a free one; -1: no edge)
     * @param s3Port node 0's S3 gateway port (0: a free one; -1: no gateway)
     * @param mainClass the {@code oe} program's main class, run with {@code node} for each node
     */
    public record Plan(int nodes, Path dataDir, int p2pPort, int apiPort, String nodeHeap, boolean chain, int chainPort, int edgePort,
            int s3Port, Map<String, List<String>> settings, Map<Integer, Long> capacityOf, String mainClass) {
        public Plan {
            settings = Map.copyOf(settings);
            capacityOf = Map.copyOf(capacityOf);
        }
    }

    record Started(int index, Process process, String peerId, String p2p, String api, Path dir, List<String> cmd, String s3) {}

    /** The edge process: its HTTP front's address, data directory and restart command. */
    record StartedEdge(Process process, String peerId, String http, Path dir, List<String> cmd) {}

    private final Plan plan;
    private DevnetChain chain;
    private final List<Started> started = new CopyOnWriteArrayList<>(); // read by the stop hook
    private volatile StartedEdge edge;
    /** Each node's peer ID, by index. */
    private final List<String> peers = new ArrayList<>();

    public Devnet(Plan plan) {
        this.plan = plan;
    }

    /** Whether the plan has super-nodes: with the chain and at least {@link DevnetChain#SUPER_NODES} nodes. */
    boolean hasChain() {
        return plan.chain() && plan.nodes() >= DevnetChain.SUPER_NODES;
    }

    /** Starts every node, prints where they are and waits forever (a shutdown hook stops them). */
    public void run(PrintWriter out, int writeQuorum) throws IOException, InterruptedException {
        Path dataDir = plan.dataDir();
        Files.createDirectories(dataDir);
        // Every node's identity up front, so each can be told to trust the others' shard pins
        // (without it they would be strangers to each other, each within a quota).
        for (int i = 0; i < plan.nodes(); i++) {
            peers.add(io.oecloud.dht.Identity.loadOrCreate(dataDir.resolve("node-" + i)).peerId().toString());
        }
        if (hasChain()) {
            chain = new DevnetChain(dataDir, Cometbft.binary(null));
            chain.prepare(dataDir, plan.p2pPort() == 0 ? 0 : plan.chainPort(), plan.nodes());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "devnet-stop"));
        // Node 0 first (the others join through it), then the rest at once: a JVM's start is mostly
        // CPU, so waiting for each in turn left cores idle (6 nodes with their warm-up: 50 s in turn, 11-32 s at once).
        if (plan.s3Port() >= 0) { // the gateway's first key, made here so the devnet can print it (a node prints only a key it made)
            io.oecloud.node.s3.S3Keys keys = io.oecloud.node.s3.S3Keys.in(dataDir.resolve("node-0"));
            if (keys.list().isEmpty()) {
                keys.create(System.currentTimeMillis());
            }
        }
        started.add(startNode(0, null));
        String bootstrap = started.get(0).p2p();
        List<Future<Started>> rest = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 1; i < plan.nodes(); i++) {
                int index = i;
                rest.add(pool.submit(() -> startNode(index, bootstrap)));
            }
        }
        IOException failed = null;
        for (var f : rest) {
            try {
                started.add(f.get()); // every node that did start is stopped with the others on a failure
            } catch (ExecutionException e) {
                if (failed == null) {
                    failed = e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
        if (plan.edgePort() >= 0) {
            edge = startEdge(bootstrap);
        }
        for (Started s : started) {
            out.printf("node %d  peer %s  p2p %s  API http://%s  (pid %d)%n", s.index(), s.peerId(), s.p2p(), s.api(), s.process().pid());
        }
        out.flush();
        out.println("devnet of " + plan.nodes() + " nodes, RS(" + one("k") + "," + one("m") + "), write quorum " + writeQuorum
                + ", data in " + dataDir);
        // the API wants each node's token (DATA_DIR/api-token, mode 0600) for everything but public reads
        Started first = started.get(0);
        Path token0 = first.dir().resolve(ApiToken.FILE);
        out.println("upload:   curl -H \"Authorization: Bearer $(cat " + token0 + ")\" -X POST -T FILE http://" + first.api() + "/v1/objects");
        out.println("          or: bin/oe put FILE --data-dir " + first.dir());
        out.println("download: curl -o OUT http://" + first.api() + "/v1/objects/CID");
        if (first.s3() != null) {
            io.oecloud.node.s3.S3Keys.Key key = io.oecloud.node.s3.S3Keys.in(first.dir()).list().getFirst();
            out.println("S3:       export AWS_ACCESS_KEY_ID=" + key.accessKeyId() + " AWS_SECRET_ACCESS_KEY=" + key.secret()
                    + " AWS_DEFAULT_REGION=us-east-1");
            out.println("          aws --endpoint-url http://" + first.s3() + " s3 mb s3://my-bucket   (node 0's gateway; its keys:"
                    + " bin/oe s3 keys list --data-dir " + first.dir() + ")");
        }
        if (chain != null) {
            Map<String, Object> c = chain.describe();
            out.println("OEChain " + DevnetChain.CHAIN_ID + ": nodes 0-3 are super-nodes (CometBFT RPC "
                    + ((List<?>) c.get("validators")).stream().map(v -> ((Map<?, ?>) v).get("rpc").toString()).toList() + ")");
            out.println("a funded key (" + c.get("devnetPasses") + " passes): " + c.get("devnetKey") + " = " + c.get("devnetAddress"));
            out.println("send:     bin/oe wallet send --key " + c.get("devnetKey") + " --api " + first.api() + " ADDRESS 5");
            out.println("stake:    bin/oe wallet delegate --key " + c.get("devnetKey") + " --api " + first.api()
                    + " CANDIDATE 100   (bin/oe chain candidates --api " + first.api() + ")");
        }
        if (edge != null) {
            String port = edge.http().substring(edge.http().lastIndexOf(':') + 1);
            out.println("edge:     http://" + edge.http() + "/c/CID  (a site on its own origin: http://{CID in base36, k...}.c.localhost:" + port
                    + "/; its cache in " + edge.dir().resolve("cache") + ", pid " + edge.process().pid() + ")");
        }
        out.println("nodes are listed in " + dataDir.resolve(JSON_FILE) + "; Ctrl-C stops them");
        out.flush();
        writeDevnetJson(); // last: its appearance tells scripts that everything is up and printed
        new CountDownLatch(1).await();
    }

    private String one(String key) {
        return plan.settings().getOrDefault(key, List.of(NodeConfig.DEFAULTS.get(key))).getFirst();
    }

    /**
     * Node i's settings as its {@code node.conf} holds them: the plan's, its own capacity, trust in
     * every other devnet node's shard pins, for the first four the super-node's, and for the others
     * the super-nodes' RPC and mempool endpoints, their link to the chain.
     */
    static Map<String, List<String>> nodeSettings(Plan plan, int i, List<String> peers, DevnetChain chain) throws IOException {
        Map<String, List<String>> s = new LinkedHashMap<>(plan.settings());
        if (plan.capacityOf().containsKey(i)) {
            s.put("capacity", List.of(String.valueOf(plan.capacityOf().get(i))));
        }
        List<String> others = new ArrayList<>();
        for (int j = 0; j < peers.size(); j++) {
            if (j != i) {
                others.add(peers.get(j));
            }
        }
        if (!others.isEmpty()) {
            s.put("trust-owner", others);
        }
        if (chain != null) {
            s.put("prove", List.of("true")); // every node proves its storage, funded at genesis
            // paid storage at devnet speed: a stranger's blocks without a contract go within a minute
            s.putIfAbsent("provisional-grace", List.of("1m"));
            s.putIfAbsent("coverage-interval", List.of("5s"));
        }
        if (i == 0 && plan.s3Port() >= 0) {
            s.put("s3", List.of("127.0.0.1:" + plan.s3Port()));
        }
        if (chain != null && i < DevnetChain.SUPER_NODES) {
            s.put("super-node", List.of("true"));
            s.put("chain-home", List.of(chain.home(i).toString()));
            s.put("cometbft", List.of(chain.cometbft.toString()));
        } else if (chain != null) {
            s.putAll(chain.clientSettings());
        }
        return s;
    }

    private Started startNode(int i, String bootstrap) throws IOException, InterruptedException {
        Path dir = plan.dataDir().resolve("node-" + i);
        Files.createDirectories(dir);
        NodeConfig.write(dir.resolve(NodeConfig.FILE), "node " + i + " of the devnet in " + plan.dataDir()
                + "; oe devnet rewrites this file at each start", nodeSettings(plan, i, peers, chain));
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        String extra = System.getenv("OE_NODE_JAVA_OPTS"); // e.g. GC flags for experiments
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        }
        // With a heap of 512 MiB or less, Netty's allocator would run in its low-memory mode (one
        // shared magazine, small chunks), where many 64 KiB Noise frames get a fresh chunk each;
        // two pairs of devnet runs spent 10-19 % more CPU per downloaded byte (benchmarks/README.md).
        cmd.addAll(List.of("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx" + plan.nodeHeap(), "-Xms" + plan.nodeHeap(),
                "-Dio.netty.allocator.lowMemory=false",
                "-cp", System.getProperty("java.class.path"), plan.mainClass(), "node",
                "--data-dir", dir.toString(),
                "--listen", "/ip4/127.0.0.1/tcp/" + (plan.p2pPort() == 0 ? 0 : plan.p2pPort() + i),
                "--api", "127.0.0.1:" + (plan.apiPort() == 0 ? 0 : plan.apiPort() + i)));
        if (bootstrap != null) {
            cmd.addAll(List.of("--bootstrap", bootstrap));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Path log = dir.resolve("node.log");
        Map<String, String> found = awaitReady(p, log, "node " + i, "API on http://");
        String peer = found.get("peer");
        String p2p = found.get("p2p");
        String api = found.get("API on http://").split(" ")[0];
        List<String> again = new ArrayList<>(cmd); // restarting it by hand: same ports, same identity, data and node.conf
        int at = again.indexOf("--listen");
        again.set(at + 1, p2p.replaceFirst("/p2p/.*$", ""));
        again.set(again.indexOf("--api") + 1, api);
        return new Started(i, p, peer, p2p, api, dir, again, found.get("s3"));
    }

    /** The edge: {@code oe edge} in {@code D/edge}, joined through node 0, its HTTP front on the plan's edge port. */
    private static final String S3_LINE = "S3 gateway on http://";

    private StartedEdge startEdge(String bootstrap) throws IOException, InterruptedException {
        Path dir = plan.dataDir().resolve("edge");
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx" + plan.nodeHeap(), "-Xms" + plan.nodeHeap(),
                "-Dio.netty.allocator.lowMemory=false",
                "-cp", System.getProperty("java.class.path"), plan.mainClass(), "edge",
                "--data-dir", dir.toString(),
                "--listen", "/ip4/127.0.0.1/tcp/" + (plan.p2pPort() == 0 ? 0 : plan.p2pPort() + 100),
                "--http", "127.0.0.1:" + plan.edgePort(),
                "--memory", "128MiB", "--disk", "2GiB",
                "--connections-per-address", "256", // every local client is 127.0.0.1
                "--bootstrap", bootstrap));
        if (chain != null) {
            cmd.addAll(List.of("--chain-rpc", chain.clientSettings().get("chain-rpc").getFirst()));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Map<String, String> found = awaitReady(p, dir.resolve("edge.log"), "the edge", "edge on http://");
        String http = found.get("edge on http://").split(" ")[0];
        List<String> again = new ArrayList<>(cmd);
        again.set(again.indexOf("--listen") + 1, found.get("p2p").replaceFirst("/p2p/.*$", ""));
        again.set(again.indexOf("--http") + 1, http);
        return new StartedEdge(p, found.get("peer"), http, dir, again);
    }

    /**
     * Reads a started process's output until its "; ready" line (60 s at most): its peer ID, first
     * listen address and the line starting with {@code key} (what follows it); then keeps copying
     * its output to {@code log} so the pipe never fills.
     *
     * @throws IOException with what it printed, when it did not start
     */
    private static Map<String, String> awaitReady(Process p, Path log, String what, String key) throws IOException {
        String peer = null;
        String p2p = null;
        String api = null;
        String s3 = null;
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String line;
        while ((line = r.readLine()) != null) {
            seen.add(line);
            if (line.startsWith("peer ID ")) {
                peer = line.substring("peer ID ".length());
            } else if (line.startsWith("listening on ") && p2p == null) {
                p2p = line.substring("listening on ".length());
            } else if (line.startsWith(key)) {
                api = line.substring(key.length());
            } else if (line.startsWith(S3_LINE)) {
                s3 = line.substring(S3_LINE.length()).split(" ")[0];
            } else if (line.endsWith("; ready")) {
                break;
            }
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        if (peer == null || p2p == null || api == null || !p.isAlive()) {
            p.destroyForcibly();
            throw new IOException(what + " did not start:\n" + String.join("\n", seen));
        }
        Files.write(log, seen, StandardCharsets.UTF_8);
        // keep draining its output into node.log so the pipe never fills
        Thread drain = new Thread(() -> {
            try (var w = Files.newBufferedWriter(log, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND)) {
                for (String l; (l = r.readLine()) != null; ) {
                    w.write(l);
                    w.newLine();
                    w.flush();
                }
            } catch (IOException ignored) {
                // the node is gone
            }
        }, "devnet-log-" + log.getParent().getFileName());
        drain.setDaemon(true);
        drain.start();
        Map<String, String> found = new java.util.HashMap<>(Map.of("peer", peer, "p2p", p2p, key, api));
        if (s3 != null) {
            found.put("s3", s3);
        }
        return found;
    }

    private void writeDevnetJson() throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("k", Integer.parseInt(one("k")));
        doc.put("m", Integer.parseInt(one("m")));
        List<Map<String, Object>> list = new ArrayList<>();
        for (Started s : started) {
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("index", s.index());
            n.put("pid", s.process().pid());
            n.put("peerId", s.peerId());
            n.put("p2p", s.p2p());
            n.put("api", "http://" + s.api());
            n.put("dataDir", s.dir().toString());
            n.put("apiToken", s.dir().resolve(ApiToken.FILE).toString()); // the file, never the token itself
            n.put("cmd", s.cmd());
            list.add(n);
        }
        doc.put("nodes", list);
        Started first = started.isEmpty() ? null : started.getFirst();
        if (first != null && first.s3() != null) {
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("url", "http://" + first.s3());
            g.put("region", "us-east-1");
            g.put("node", 0);
            g.put("keys", first.dir().resolve(io.oecloud.node.s3.S3Keys.FILE).toString()); // the file, never a secret
            doc.put("s3", g);
        }
        if (edge != null) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("url", "http://" + edge.http());
            e.put("pid", edge.process().pid());
            e.put("peerId", edge.peerId());
            e.put("dataDir", edge.dir().toString());
            e.put("adminToken", edge.dir().resolve(ApiToken.FILE).toString()); // for DELETE /cache/{cid}
            e.put("cmd", edge.cmd());
            doc.put("edge", e);
        }
        if (chain != null) {
            doc.put("chain", chain.describe());
        }
        NodeConfig.writeAtomically(plan.dataDir().resolve(JSON_FILE),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc) + "\n");
    }

    private void stopAll() {
        StartedEdge front = edge;
        if (front != null) {
            front.process().destroy();
        }
        for (Started s : started) {
            s.process().destroy(); // SIGTERM: each node closes its store and saves its peers
        }
        for (Started s : started) {
            try {
                if (!s.process().waitFor(20, TimeUnit.SECONDS)) {
                    s.process().destroyForcibly();
                }
            } catch (InterruptedException e) {
                s.process().destroyForcibly();
            }
        }
    }
}
