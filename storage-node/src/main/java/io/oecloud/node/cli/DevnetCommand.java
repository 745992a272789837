package io.oecloud.node.cli;

import io.oecloud.node.NodeConfig;
import io.oecloud.node.devnet.Devnet;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code oe devnet}: its flags, checked before anything starts (the node settings among them by
 * {@link NodeConfig}, as {@code oe node} checks its own); {@link Devnet} starts and stops the nodes.
 * Node 0 listens on the base ports (p2p 4001, API 8080) and the others join through it.
 */
@Command(name = "devnet", defaultValueProvider = NodeCommand.Defaults.class, description = "Run a local network of storage nodes, one process each, until Ctrl-C.")
final class DevnetCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "6", description = "Storage nodes (default: ${DEFAULT-VALUE}).")
    int nodes;

    @CommandLine.Mixin
    CodingOptions coding;

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

    @Option(names = "--node-heap", paramLabel = "SIZE", defaultValue = "512m",
            description = "Java heap of each node process (-Xmx; default: ${DEFAULT-VALUE}).")
    String nodeHeap;

    @Option(names = "--no-chain", description = "Storage nodes only: no OEChain super-nodes.")
    boolean noChain;

    @Option(names = "--no-paid-storage", description = "With OEChain but without paid storage: uploads buy no contracts, nodes admit "
            + "and prove every block (for comparing figures; the benchmarks use it).")
    boolean noPaidStorage;

    @Option(names = "--chain-port", defaultValue = "26656",
            description = "Super-node i's CometBFT p2p on this + 2i, RPC on this + 2i + 1, ABCI on this + 100 + i, mempool and gossip on this + 144 + i (default: ${DEFAULT-VALUE}; with --p2p-port 0, free ports).")
    int chainPort;

    @Option(names = "--edge-port", defaultValue = "9080",
            description = "The CDN edge's HTTP port (default: ${DEFAULT-VALUE}; with --p2p-port 0, a free port).")
    int edgePort;

    @Option(names = "--no-edge", description = "No CDN edge process.")
    boolean noEdge;

    @Option(names = "--s3-port", defaultValue = "9000",
            description = "Node 0's S3 gateway port (default: ${DEFAULT-VALUE}; with --p2p-port 0, a free port).")
    int s3Port;

    @Option(names = "--no-s3", description = "No S3 gateway.")
    boolean noS3;

    @Override
    public Integer call() throws Exception {
        if (nodes < coding.k + coding.m) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--nodes " + nodes + " is fewer than k + m = " + (coding.k + coding.m) + ": a segment's shards need distinct nodes");
        }
        if (!nodeHeap.matches("\\d+[kmgKMG]?")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--node-heap must be like 512m or 1g, was '" + nodeHeap + "'");
        }
        Map<String, List<String>> settings = settings();
        NodeConfig checked; // once, here, before anything starts, rather than by each node
        try {
            checked = NodeConfig.ofFlags(settings, dataDir.resolve("node-0"));
        } catch (NodeConfig.Invalid e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        new Devnet(plan(settings)).run(spec.commandLine().getOut(), checked.writeQuorum());
        return 0;
    }

    /** The node settings this command was given, by {@link NodeConfig} key, for every node's node.conf. */
    Map<String, List<String>> settings() {
        Map<String, List<String>> s = coding.settings();
        s.put("capacity", List.of(String.valueOf(capacity)));
        if (noPaidStorage) {
            s.put("paid-storage", List.of("false"));
        }
        return s;
    }

    Devnet.Plan plan(Map<String, List<String>> settings) {
        int edge = noEdge ? -1 : p2pPort == 0 ? 0 : edgePort;
        int s3 = noS3 ? -1 : p2pPort == 0 ? 0 : s3Port;
        return new Devnet.Plan(nodes, dataDir, p2pPort, apiPort, nodeHeap, !noChain, chainPort, edge, s3, settings, capacityOf, Oe.class.getName());
    }
}
