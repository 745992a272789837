package io.oecloud.node.cli;

import io.oecloud.node.Node;
import io.oecloud.node.NodeConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code oe node}: runs a storage node until it is stopped: the libp2p host, the Kademlia DHT
 * (server mode), the shard store and protocol, and the HTTP API (objects, identity, ping, DHT).
 * Its settings are {@link NodeConfig}'s: {@code DATA_DIR/node.conf} with these flags over it;
 * {@link Node} starts the roles.
 */
@Command(name = "node", defaultValueProvider = NodeCommand.Defaults.class, description = "Run a storage node: libp2p host, DHT, shard store, HTTP API, until stopped (Ctrl-C).")
final class NodeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Identity, peer store, state and settings (node.conf) (default: ${DEFAULT-VALUE}).",
            defaultValue = "${sys:user.home}/.oecloud")
    Path dataDir;

    @Option(names = "--listen", paramLabel = "MULTIADDR", description = "p2p listen address, repeatable (default: ${DEFAULT-VALUE}).", split = ",")
    List<String> listen;

    @Option(names = "--api", paramLabel = "HOST:PORT", description = "HTTP API address (default: ${DEFAULT-VALUE}; port 0 picks one).")
    String api;

    @Option(names = "--api-public-reads", negatable = true, fallbackValue = "true",
            description = "Let anyone who reaches the API read unencrypted objects by CID without the API token (default: ${DEFAULT-VALUE}).")
    boolean apiPublicReads;

    @Option(names = "--api-host", paramLabel = "NAME[:PORT]",
            description = "Another name the API answers to in the Host header (repeatable), e.g. the name a TLS reverse proxy forwards;"
                    + " requests naming any other host are refused (DNS rebinding).")
    List<String> apiHosts = List.of();

    @Option(names = "--api-cors-origin", paramLabel = "ORIGIN",
            description = "A web origin allowed to call the API from a browser, with CORS headers (repeatable), e.g. https://app.example.com;"
                    + " by default none is.")
    List<String> apiCorsOrigins = List.of();

    @Option(names = "--api-body-silence", paramLabel = "DURATION",
            description = "Drop an upload or other request body that sends nothing for this long (default: ${DEFAULT-VALUE}).")
    String apiBodySilence;

    @Option(names = "--s3", paramLabel = "HOST:PORT", arity = "0..1", fallbackValue = "127.0.0.1:9000",
            description = "Run the S3 gateway (aws cli, rclone, the AWS SDKs) on HOST:PORT (127.0.0.1:9000 when given alone;"
                    + " default: off). Its first start prints an access key; `oe s3 keys` manages them.")
    String s3;

    @Option(names = "--s3-domain", paramLabel = "DOMAIN",
            description = "Virtual-host-style S3 requests name the bucket as BUCKET.DOMAIN (default: ${DEFAULT-VALUE}).")
    String s3Domain;

    @Option(names = "--s3-account-floor", paramLabel = "PASSES",
            description = "The S3 namespace key's account pays for the gateway's storage: when it holds less than this, the node's"
                    + " account sends it what brings it to twice this; 0: never (fund it yourself) (default: ${DEFAULT-VALUE}).")
    String s3AccountFloor;

    @CommandLine.Mixin
    CodingOptions coding;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", description = "Peers to join through, repeatable (default: the peers of the last run).")
    List<String> bootstrap = List.of();

    @Option(names = "--capacity", paramLabel = "BYTES",
            description = "Disk space for shards (default: ${DEFAULT-VALUE}, 100 GiB).")
    long capacity;

    @Option(names = "--gc-interval", paramLabel = "DURATION",
            description = "Collect unpinned shards this often (default: ${DEFAULT-VALUE}).")
    String gcInterval;

    @Option(names = "--gc-grace", paramLabel = "DURATION",
            description = "Keep an unpinned shard this long before collecting it (default: ${DEFAULT-VALUE}).")
    String gcGrace;

    @Option(names = "--trust-owner", paramLabel = "PEERID",
            description = "An owner key (peer ID) whose shard pins this node admits without a quota, repeatable; the node's own key is always trusted.")
    List<String> trustOwners = List.of();

    @Option(names = "--owner-quota", paramLabel = "BYTES",
            description = "Space each other owner key may pin here, counted in 4 KiB blocks plus 4 KiB per shard (default: ${DEFAULT-VALUE}, 1 GiB).")
    long ownerQuota;

    @Option(names = "--strangers-quota", paramLabel = "BYTES",
            description = "Space all untrusted owner keys together may pin here (default: half of --capacity).")
    Long strangersQuota;

    @Option(names = "--super-node", description = "Also run OEChain: the ledger and its CometBFT as a child process.")
    boolean superNode;

    @Option(names = "--chain-home", paramLabel = "DIR", description = "CometBFT's home (config, keys, blocks) for --super-node (default: DATA_DIR/cometbft).")
    Path chainHome;

    @Option(names = "--cometbft", paramLabel = "PATH", description = "The CometBFT binary (default: the project's pinned one, installed on first use).")
    Path cometbftBinary;

    @Option(names = "--chain-rpc", paramLabel = "HOST:PORT",
            description = "A super-node's CometBFT RPC to read the chain from (this node's account, the chain's parameters), repeatable; "
                    + "with --chain-mempool. oe devnet sets both for every node.")
    List<String> chainRpc;

    @Option(names = "--chain-mempool", paramLabel = "HOST:PORT",
            description = "A super-node's mempool endpoint to send this node's transactions to, repeatable; with --chain-rpc.")
    List<String> chainMempool;

    @Option(names = "--prove", negatable = true, fallbackValue = "true",
            description = "Prove this node's storage on OEChain: register (bonding --prove-collateral), commit a root over the "
                    + "shards held each period and answer the period's challenges in the node's window; needs --super-node or "
                    + "--chain-rpc (default: ${DEFAULT-VALUE}).")
    boolean prove;

    @Option(names = "--prove-collateral", paramLabel = "PASSES",
            description = "Collateral bonded when --prove registers the node, in passes (default: the chain's minimum).")
    String proveCollateral;

    @Option(names = "--storage-ask", paramLabel = "PASSES",
            description = "The price this node asks for storage, in passes per GiB per period, published on the chain with its "
                    + "registration; each period's price is the capacity-weighted median of the nodes' asks (default: ${DEFAULT-VALUE}).")
    String storageAsk;

    @Option(names = "--warm-up", negatable = true, fallbackValue = "true",
            description = "Run the hashing, coding and cipher kernels on made-up bytes at start, so the JIT has compiled them "
                    + "before the first upload (about 2 CPU-seconds; default: ${DEFAULT-VALUE}).")
    boolean warmUp;

    private final CountDownLatch stop = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Netty's default samples one buffer in 128 and records stack traces for it: about 3 %
            // of a devnet upload's CPU (benchmarks/README.md, 2026-12-04). Nodes that tests start
            // inside the test JVM keep it; -Dio.netty.leakDetection.level=simple turns it on here.
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        Node node;
        try {
            node = Node.start(config(), dataDir, spec.commandLine().getOut(), spec.commandLine().getErr());
        } catch (NodeConfig.Invalid e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stop.countDown();
        }, "oe-node-shutdown"));
        stop.await();
        return 0;
    }

    /**
     * The node's settings: {@code DATA_DIR/node.conf} with the flags given on this command line
     * over it. The option fields above are read only through picocli's parse result, by name, so a
     * flag left out never hides the file's value behind its default.
     */
    NodeConfig config() throws IOException {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        Map<String, List<String>> flags = new LinkedHashMap<>();
        for (CommandLine.Model.OptionSpec o : spec.options()) {
            String key = o.longestName().substring(2);
            if (parsed != null && parsed.hasMatchedOption(o) && NodeConfig.DEFAULTS.containsKey(key)) {
                Object v = o.getValue();
                flags.put(key, v instanceof List<?> list ? list.stream().map(String::valueOf).toList() : List.of(String.valueOf(v)));
            }
        }
        try {
            return NodeConfig.load(dataDir, flags);
        } catch (NodeConfig.Invalid e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** The defaults of the node's settings, from {@link NodeConfig#DEFAULTS}, so {@code --help} shows them. */
    static final class Defaults implements CommandLine.IDefaultValueProvider {
        @Override
        public String defaultValue(CommandLine.Model.ArgSpec arg) {
            if (arg instanceof CommandLine.Model.OptionSpec o && arg.defaultValue() == null) { // oe devnet's --capacity has its own
                String d = NodeConfig.DEFAULTS.get(o.longestName().substring(2));
                return d == null || d.isEmpty() ? null : d;
            }
            return null;
        }
    }
}
