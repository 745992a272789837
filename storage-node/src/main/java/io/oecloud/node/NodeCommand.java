package io.oecloud.node;

import io.oecloud.node.api.NodeApiServer;
import io.oecloud.node.api.ApiAccess;
import io.oecloud.node.api.ApiToken;
import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code oe node}: runs a storage node until it is stopped: the libp2p host, the Kademlia DHT
 * (server mode), the shard store and protocol, and the HTTP API (objects, identity, ping, DHT).
 */
@Command(name = "node", description = "Run a storage node: libp2p host, DHT, shard store, HTTP API, until stopped (Ctrl-C).")
final class NodeCommand implements Callable<Integer> {
    /** The file in the data directory that tells client commands where the API listens. */
    static final String API_FILE = "api";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Identity, peer store and state (default: ${DEFAULT-VALUE}).",
            defaultValue = "${sys:user.home}/.oecloud")
    Path dataDir;

    @Option(names = "--listen", paramLabel = "MULTIADDR", description = "p2p listen address, repeatable (default: ${DEFAULT-VALUE}).",
            defaultValue = "/ip4/127.0.0.1/tcp/4001", split = ",")
    List<String> listen;

    @Option(names = "--api", paramLabel = "HOST:PORT", description = "HTTP API address (default: ${DEFAULT-VALUE}; port 0 picks one).",
            defaultValue = "127.0.0.1:8080")
    String api;

    @Option(names = "--api-public-reads", negatable = true, defaultValue = "true", fallbackValue = "true",
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

    @Option(names = "--api-body-silence", paramLabel = "DURATION", defaultValue = "15s",
            description = "Drop an upload or other request body that sends nothing for this long (default: ${DEFAULT-VALUE}).")
    String apiBodySilence;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", description = "Peers to join through, repeatable (default: the peers of the last run).")
    List<String> bootstrap = List.of();

    @Option(names = "--k", defaultValue = "4", description = "Data shards per segment (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--m", defaultValue = "2", description = "Parity shards per segment (default: ${DEFAULT-VALUE}).")
    int m;

    @Option(names = "--write-quorum", paramLabel = "N",
            description = "Shards of each segment that must be durable on distinct nodes before an upload succeeds, "
                    + "when the others cannot be placed on any node (default: k + 1); what is missing is recorded and repaired.")
    Integer writeQuorum;

    @Option(names = "--allow-weak-write-quorum",
            description = "Accept --write-quorum k: an upload may then succeed with no spare shard in a segment, "
                    + "so one more lost node before repair loses data.")
    boolean allowWeakWriteQuorum;

    @Option(names = "--capacity", paramLabel = "BYTES", defaultValue = "107374182400",
            description = "Disk space for shards (default: ${DEFAULT-VALUE}, 100 GiB).")
    long capacity;

    @Option(names = "--scrub-interval", paramLabel = "DURATION", defaultValue = "1h",
            description = "Re-hash every stored shard this often (default: ${DEFAULT-VALUE}).")
    String scrubInterval;

    @Option(names = "--repair-interval", paramLabel = "DURATION", defaultValue = "5m",
            description = "Check segment health and repair this often (default: ${DEFAULT-VALUE}).")
    String repairInterval;

    @Option(names = "--gc-interval", paramLabel = "DURATION", defaultValue = "10m",
            description = "Collect unpinned shards this often (default: ${DEFAULT-VALUE}).")
    String gcInterval;

    @Option(names = "--gc-grace", paramLabel = "DURATION", defaultValue = "24h",
            description = "Keep an unpinned shard this long before collecting it (default: ${DEFAULT-VALUE}).")
    String gcGrace;

    @Option(names = "--trust-owner", paramLabel = "PEERID",
            description = "An owner key (peer ID) whose shard pins this node admits without a quota, repeatable; the node's own key is always trusted.")
    List<String> trustOwners = List.of();

    @Option(names = "--owner-quota", paramLabel = "BYTES", defaultValue = "1073741824",
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

    @Option(names = "--warm-up", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run the hashing, coding and cipher kernels on made-up bytes at start, so the JIT has compiled them "
                    + "before the first upload (about 2 CPU-seconds; default: ${DEFAULT-VALUE}).")
    boolean warmUp;

    private final CountDownLatch stop = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Netty's default samples one buffer in 128 and records stack traces for it: about 3 %
            // of a devnet upload's CPU (benchmarks/README.md, 2026-12-04). Nodes that tests start
            // inside the test JVM keep it; -Dio.netty.leakDetection.level=simple turns it on here.
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        List<Multiaddr> listenAddrs = Options.multiaddrs(listen, "--listen");
        List<Multiaddr> boot = Options.multiaddrs(bootstrap, "--bootstrap");
        InetSocketAddress apiAddr = Options.hostPort(api, "--api");
        int quorum = writeQuorum(writeQuorum, allowWeakWriteQuorum, k, m, spec.commandLine());
        if (apiAddr.isUnresolved()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--api " + api + ": the host name does not resolve");
        }
        NodeApiServer.Limits apiLimits = NodeApiServer.Limits.defaults()
                .withBodySilence(Options.duration(apiBodySilence, "--api-body-silence"));
        ApiAccess access;
        try {
            access = new ApiAccess(ApiToken.loadOrCreate(dataDir), apiPublicReads, apiHosts, apiCorsOrigins);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (NodeApiServer.exposed(apiAddr)) {
            err.println("warning: the HTTP API listens on " + api + ", reachable from other machines. Every route that changes state"
                    + " or reveals private data needs the token in " + dataDir.resolve(ApiToken.FILE) + ", and plain HTTP carries it in"
                    + " clear: to expose a node, keep --api on 127.0.0.1 behind a TLS reverse proxy (name it with --api-host), or reach it"
                    + " through an SSH tunnel" + (apiPublicReads ? "; unencrypted objects are readable by anyone who knows their CID"
                    + " (--no-api-public-reads closes that)" : "") + ".");
            err.flush();
        }
        Identity id = Identity.loadOrCreate(dataDir);
        io.oecloud.node.object.ObjectService.Config objectConfig =
                new io.oecloud.node.object.ObjectService.Config(k, m, 8 << 20, 64 * 1024, 3).withWriteQuorum(quorum);
        StorageNode.Upkeep upkeep = new StorageNode.Upkeep(Options.duration(scrubInterval, "--scrub-interval"),
                Options.duration(repairInterval, "--repair-interval"), Options.duration(gcInterval, "--gc-interval"),
                Options.duration(gcGrace, "--gc-grace"));
        StorageNode storage = StorageNode.start(id, listenAddrs, dataDir, capacity, objectConfig, upkeep, quotas());
        if (warmUp) {
            Warmup.start(k, m, objectConfig.segmentSize());
        }
        P2pNode node = storage.p2p;
        DhtService service = node.service(() -> { });
        io.oecloud.chain.node.ChainNode chain = null;
        if (superNode) {
            try {
                chain = io.oecloud.chain.node.ChainNode.start(Cometbft.binary(cometbftBinary),
                        chainHome != null ? chainHome : dataDir.resolve("cometbft"), dataDir.resolve("ledger"), id);
            } catch (IOException e) {
                storage.close();
                throw e;
            }
        }
        io.oecloud.chain.node.ChainNode chainNode = chain;
        ChainGauges chainGauges = chain == null ? null : new ChainGauges(chain, storage.metrics);
        NodeApiServer server;
        try {
            server = new NodeApiServer(service, storage.objects, access, apiLimits).withStatus(storage);
            if (chainNode != null) {
                server.withChain(chainNode.rpc(), chainNode.app());
            }
            server.start(apiAddr);
        } catch (IOException e) {
            if (chainNode != null) {
                chainNode.close();
            }
            storage.close();
            throw e;
        }
        Path apiFile = dataDir.resolve(API_FILE);
        InetSocketAddress bound = server.address();
        writeAtomically(apiFile, bound.getHostString() + ":" + bound.getPort() + "\n");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(apiFile);
            } catch (IOException ignored) {
                // best effort: a stale file only makes clients say no node answers
            }
            server.close();
            if (chainNode != null) {
                chainGauges.close();
                chainNode.close();
            }
            storage.close();
            stop.countDown();
        }, "oe-node-shutdown"));
        out.println("peer ID " + id.peerId());
        for (Multiaddr a : node.host.listenAddresses()) {
            out.println("listening on " + a.withPeerId(id.peerId()));
        }
        out.println("API on http://" + bound.getHostString() + ":" + bound.getPort() + " (written to " + apiFile + "; its token is in "
                + dataDir.resolve(ApiToken.FILE) + ")");
        out.flush();
        List<?> reached = node.bootstrap(boot, err);
        if (!boot.isEmpty() && reached.isEmpty()) {
            err.println("warning: no bootstrap peer reached; running alone");
        }
        if (quorum == k) {
            err.println("warning: write quorum " + quorum + " = k: an upload may succeed with no spare shard in a segment; "
                    + "until repair restores it, one more lost node loses data");
        }
        out.println("RS(" + k + "," + m + "), write quorum " + quorum + " of " + (k + m) + " shards, store " + dataDir.resolve("store") + " (" + capacity + " bytes, "
                + (storage.store.directIo() ? "direct I/O" : "page cache") + ")");
        if (chainNode != null) {
            out.println("super-node: OEChain RPC on http://" + chainNode.rpcAddress().getHostString() + ":"
                    + chainNode.rpcAddress().getPort() + " (CometBFT pid " + chainNode.enginePid() + "), mempool and gossip on http://"
                    + chainNode.txAddress().getHostString() + ":" + chainNode.txAddress().getPort() + ", transaction signatures checked by "
                    + io.oecloud.chain.ledger.TxSignatures.backend());
        }
        out.println("DHT server, routing table " + node.dht.routingTableSize() + " peers; ready");
        out.flush();
        stop.await();
        return 0;
    }

    /** The quotas of --trust-owner, --owner-quota and --strangers-quota. */
    private io.oecloud.node.store.Quotas quotas() {
        List<byte[]> trusted = new java.util.ArrayList<>();
        for (String t : trustOwners) {
            byte[] key;
            try {
                key = io.oecloud.dht.PeerId.parse(t).ed25519PublicKey();
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--trust-owner " + t + " is not a peer ID: " + e.getMessage());
            }
            if (key == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--trust-owner " + t + " is not an Ed25519 peer ID (12D3KooW...)");
            }
            trusted.add(key);
        }
        long strangers = strangersQuota != null ? strangersQuota : capacity / 2;
        if (ownerQuota < 0 || strangers < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--owner-quota and --strangers-quota must not be negative, were "
                    + ownerQuota + " and " + strangers);
        }
        return io.oecloud.node.store.Quotas.of(ownerQuota, strangers, trusted);
    }

    /**
     * The write quorum asked for, checked: from k + 1 to k + m (k only with {@code weak}, which
     * says the user accepts uploads that may have no spare shard); the default k + 1.
     */
    static int writeQuorum(Integer asked, boolean weak, int k, int m, CommandLine cl) {
        int q = asked == null ? io.oecloud.node.object.ObjectService.Config.defaultWriteQuorum(k, m) : asked;
        String why = null;
        if (q < k) {
            why = "--write-quorum " + q + " is fewer than k = " + k + ": a segment cannot be read back from fewer than k shards";
        } else if (q > k + m) {
            why = "--write-quorum " + q + " is more than the k + m = " + (k + m) + " shards of a segment";
        } else if (q == k && m > 0 && !weak) {
            why = "--write-quorum " + q + " is k: an upload could succeed with no spare shard in a segment, so one more lost node "
                    + "before repair would lose data; use " + (k + 1) + " or more, or add --allow-weak-write-quorum to accept that";
        }
        if (why != null) {
            throw new CommandLine.ParameterException(cl, why);
        }
        return q;
    }

    static void writeAtomically(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
