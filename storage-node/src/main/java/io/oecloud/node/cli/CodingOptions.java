package io.oecloud.node.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The node settings that {@code oe node} and {@code oe devnet} (for each of its nodes) both take:
 * the code, the write quorum and the upkeep periods. Their defaults come from
 * {@link io.oecloud.node.NodeConfig#DEFAULTS} through the commands' {@link NodeCommand.Defaults};
 * their checks are {@code NodeConfig}'s.
 */
final class CodingOptions {
    @Option(names = "--k", description = "Data shards per segment (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--m", description = "Parity shards per segment (default: ${DEFAULT-VALUE}).")
    int m;

    @Option(names = "--write-quorum", paramLabel = "N",
            description = "Shards of each segment that must be durable on distinct nodes before an upload succeeds, "
                    + "when the others cannot be placed on any node (default: k + 1); what is missing is recorded and repaired.")
    Integer writeQuorum;

    @Option(names = "--allow-weak-write-quorum",
            description = "Accept --write-quorum k: an upload may then succeed with no spare shard in a segment, "
                    + "so one more lost node before repair loses data.")
    boolean allowWeakWriteQuorum;

    @Option(names = "--scrub-interval", paramLabel = "DURATION",
            description = "Re-hash every stored shard this often (default: ${DEFAULT-VALUE}).")
    String scrubInterval;

    @Option(names = "--repair-interval", paramLabel = "DURATION",
            description = "Check segment health and repair this often (default: ${DEFAULT-VALUE}).")
    String repairInterval;

    /** These settings by {@code NodeConfig} key, as {@code oe devnet} writes them for every node. */
    Map<String, List<String>> settings() {
        Map<String, List<String>> s = new LinkedHashMap<>();
        s.put("k", List.of(String.valueOf(k)));
        s.put("m", List.of(String.valueOf(m)));
        if (writeQuorum != null) {
            s.put("write-quorum", List.of(String.valueOf(writeQuorum)));
        }
        if (allowWeakWriteQuorum) {
            s.put("allow-weak-write-quorum", List.of("true"));
        }
        s.put("repair-interval", List.of(repairInterval));
        s.put("scrub-interval", List.of(scrubInterval));
        return s;
    }
}
