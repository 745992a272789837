package io.oecloud.node;

import io.oecloud.node.api.ApiToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code oe devnet}: N storage nodes on loopback, each its own OS process (so one can be killed),
 * sharing one data directory. Node 0 listens on the base ports (p2p 4001, API 8080) and the
 * others join through it. {@code devnet.json} records each node's pid, ports, peer ID, data
 * directory and API token file. Ctrl-C stops them all; the next start reuses the same identities,
 * tokens and shards.
 */
@Command(name = "devnet", description = "Run a local network of storage nodes, one process each, until Ctrl-C.")
final class DevnetCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "6", description = "Storage nodes (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--k", defaultValue = "4", description = "Data shards per segment (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--m", defaultValue = "2", description = "Parity shards per segment (default: ${DEFAULT-VALUE}).")
    int m;

    @Option(names = "--write-quorum", paramLabel = "N",
            description = "Shards of each segment that must be durable before an upload succeeds when the others cannot be "
                    + "placed (default: k + 1; see oe node --help).")
    Integer writeQuorum;

    @Option(names = "--allow-weak-write-quorum", description = "Accept --write-quorum k (uploads with no spare shard).")
    boolean allowWeakWriteQuorum;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${sys:user.home}/.oecloud/devnet",
            description = "Where the nodes keep their state (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--p2p-port", defaultValue = "4001", description = "Node i listens on this + i (0: free ports).")
    int p2pPort;

    @Option(names = "--api-port", defaultValue = "8080", description = "Node i's HTTP API on this + i (0: free ports).")
    int apiPort;

    @Option(names = "--capacity", paramLabel = "BYTES", defaultValue = "10737418240",
            description = "Shard space per node (default: ${DEFAULT-VALUE}, 10 GiB).")
    long capacity;

    @Option(names = "--capacity-of", paramLabel = "INDEX=BYTES",
            description = "Shard space of one node, overriding --capacity (repeatable), e.g. 2=1000000.")
    Map<Integer, Long> capacityOf = new LinkedHashMap<>();

    @Option(names = "--repair-interval", paramLabel = "DURATION", defaultValue = "5m",
            description = "Each node's segment health check and repair period (default: ${DEFAULT-VALUE}).")
    String repairInterval;

    @Option(names = "--scrub-interval", paramLabel = "DURATION", defaultValue = "1h",
            description = "Each node re-hashes its shards this often (default: ${DEFAULT-VALUE}).")
    String scrubInterval;

    @Option(names = "--node-heap", paramLabel = "SIZE", defaultValue = "512m",
            description = "Java heap of each node process (-Xmx; default: ${DEFAULT-VALUE}).")
    String nodeHeap;

    @Option(names = "--no-chain", description = "Storage nodes only: no OEChain super-nodes.")
    boolean noChain;

    @Option(names = "--chain-port", defaultValue = "26656",
            description = "Super-node i's CometBFT p2p on this + 2i, RPC on this + 2i + 1, ABCI on this + 100 + i, mempool and gossip on this + 144 + i (default: ${DEFAULT-VALUE}; with --p2p-port 0, free ports).")
    int chainPort;

    private DevnetChain chain;

    record Started(int index, Process process, String peerId, String p2p, String api, Path dir, List<String> cmd) {}

    private final List<Started> started = new CopyOnWriteArrayList<>(); // read by the stop hook
    /** Each node's peer ID, by index. */
    private final List<String> peers = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (nodes < k + m) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--nodes " + nodes + " is fewer than k + m = " + (k + m) + ": a segment's shards need distinct nodes");
        }
        int quorum = NodeCommand.writeQuorum(writeQuorum, allowWeakWriteQuorum, k, m, spec.commandLine());
        Options.duration(repairInterval, "--repair-interval"); // checked here, once, rather than by six nodes
        Options.duration(scrubInterval, "--scrub-interval");
        if (!nodeHeap.matches("\\d+[kmgKMG]?")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--node-heap must be like 512m or 1g, was '" + nodeHeap + "'");
        }
        Files.createDirectories(dataDir);
        // Every node's identity up front, so each can be told to trust the others' shard pins
        // (without it they would be strangers to each other, each within a quota).
        for (int i = 0; i < nodes; i++) {
            peers.add(io.oecloud.dht.Identity.loadOrCreate(dataDir.resolve("node-" + i)).peerId().toString());
        }
        if (!noChain && nodes >= DevnetChain.SUPER_NODES) {
            chain = new DevnetChain(dataDir, Cometbft.binary(null));
            chain.prepare(dataDir, p2pPort == 0 ? 0 : chainPort);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "devnet-stop"));
        // Node 0 first (the others join through it), then the rest at once: a JVM's start is mostly
        // CPU, so waiting for each in turn left cores idle (6 nodes with their warm-up: 50 s in turn, 11-32 s at once).
        started.add(startNode(0, null));
        String bootstrap = started.get(0).p2p();
        List<Future<Started>> rest = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 1; i < nodes; i++) {
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
        for (Started s : started) {
            out.printf("node %d  peer %s  p2p %s  API http://%s  (pid %d)%n", s.index(), s.peerId(), s.p2p(), s.api(), s.process().pid());
        }
        out.flush();
        out.println("devnet of " + nodes + " nodes, RS(" + k + "," + m + "), write quorum " + quorum + ", data in " + dataDir);
        // the API wants each node's token (DATA_DIR/api-token, mode 0600) for everything but public reads
        Path token0 = started.get(0).dir().resolve(ApiToken.FILE);
        out.println("upload:   curl -H \"Authorization: Bearer $(cat " + token0 + ")\" -X POST -T FILE http://" + started.get(0).api() + "/v1/objects");
        out.println("          or: bin/oe put FILE --data-dir " + started.get(0).dir());
        out.println("download: curl -o OUT http://" + started.get(0).api() + "/v1/objects/CID");
        if (chain != null) {
            Map<String, Object> c = chain.describe();
            out.println("OEChain " + DevnetChain.CHAIN_ID + ": nodes 0-3 are super-nodes (CometBFT RPC "
                    + ((List<?>) c.get("validators")).stream().map(v -> ((Map<?, ?>) v).get("rpc").toString()).toList() + ")");
            out.println("a funded key (" + c.get("devnetPasses") + " passes): " + c.get("devnetKey") + " = " + c.get("devnetAddress"));
            out.println("send:     bin/oe wallet send --key " + c.get("devnetKey") + " --api " + started.get(0).api() + " ADDRESS 5");
            out.println("stake:    bin/oe wallet delegate --key " + c.get("devnetKey") + " --api " + started.get(0).api()
                    + " CANDIDATE 100   (bin/oe chain candidates --api " + started.get(0).api() + ")");
        }
        out.println("nodes are listed in " + dataDir.resolve("devnet.json") + "; Ctrl-C stops them");
        out.flush();
        writeDevnetJson(); // last: its appearance tells scripts that everything is up and printed
        CountDownLatch forever = new CountDownLatch(1);
        forever.await();
        return 0;
    }

    private Started startNode(int i, String bootstrap) throws IOException, InterruptedException {
        Path dir = dataDir.resolve("node-" + i);
        Files.createDirectories(dir);
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
                "--sun-misc-unsafe-memory-access=allow", "-Xmx" + nodeHeap, "-Xms" + nodeHeap,
                "-Dio.netty.allocator.lowMemory=false",
                "-cp", System.getProperty("java.class.path"), Oe.class.getName(), "node",
                "--data-dir", dir.toString(),
                "--listen", "/ip4/127.0.0.1/tcp/" + (p2pPort == 0 ? 0 : p2pPort + i),
                "--api", "127.0.0.1:" + (apiPort == 0 ? 0 : apiPort + i),
                "--k", String.valueOf(k), "--m", String.valueOf(m),
                "--capacity", String.valueOf(capacityOf.getOrDefault(i, capacity)),
                "--repair-interval", repairInterval, "--scrub-interval", scrubInterval));
        if (writeQuorum != null) {
            cmd.addAll(List.of("--write-quorum", String.valueOf(writeQuorum)));
        }
        if (allowWeakWriteQuorum) {
            cmd.add("--allow-weak-write-quorum");
        }
        if (bootstrap != null) {
            cmd.addAll(List.of("--bootstrap", bootstrap));
        }
        for (int j = 0; j < peers.size(); j++) {
            if (j != i) {
                cmd.addAll(List.of("--trust-owner", peers.get(j)));
            }
        }
        if (chain != null && i < DevnetChain.SUPER_NODES) {
            cmd.addAll(List.of("--super-node", "--chain-home", chain.home(i).toString(), "--cometbft", chain.cometbft.toString()));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Path log = dir.resolve("node.log");
        String peer = null;
        String p2p = null;
        String api = null;
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
            } else if (line.startsWith("API on http://")) {
                api = line.substring("API on http://".length()).split(" ")[0];
            } else if (line.endsWith("; ready")) {
                break;
            }
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        if (peer == null || p2p == null || api == null || !p.isAlive()) {
            p.destroyForcibly();
            throw new IOException("node " + i + " did not start:\n" + String.join("\n", seen));
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
        }, "devnet-log-" + i);
        drain.setDaemon(true);
        drain.start();
        List<String> again = new ArrayList<>(cmd); // restarting it by hand: same ports, same identity and data
        int at = again.indexOf("--listen");
        again.set(at + 1, p2p.replaceFirst("/p2p/.*$", ""));
        again.set(again.indexOf("--api") + 1, api);
        return new Started(i, p, peer, p2p, api, dir, again);
    }

    private void writeDevnetJson() throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("k", k);
        doc.put("m", m);
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
        if (chain != null) {
            doc.put("chain", chain.describe());
        }
        NodeCommand.writeAtomically(dataDir.resolve("devnet.json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc) + "\n");
    }

    private void stopAll() {
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
