package io.oecloud.node;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Options shared by the client commands ({@code oe id}, {@code oe ping}, {@code oe dht ...}) and
 * how they find a node: {@code --bootstrap} starts a transient node for the command; otherwise
 * the command talks to the running node whose API address is in {@code DATA_DIR/api} (or given
 * with {@code --api}), with the API token found as {@link ApiEndpoint} says.
 */
final class Options {
    @Option(names = "--data-dir", paramLabel = "DIR", description = "The node's data directory (default: ${DEFAULT-VALUE}).",
            defaultValue = "${sys:user.home}/.oecloud")
    Path dataDir;

    @Option(names = "--api", paramLabel = "HOST:PORT", description = "A running node's HTTP API (default: from DATA_DIR/api).")
    String api;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "The node's API token (default: $OE_API_TOKEN, else DATA_DIR/api-token for DATA_DIR's node).")
    Path tokenFile;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR",
            description = "Start a transient node joined through these peers instead of using a running node.")
    List<String> bootstrap = List.of();

    /** Opens the node the command talks to. */
    DhtOps open(PrintWriter err) throws IOException {
        if (!bootstrap.isEmpty()) {
            List<Multiaddr> boot = multiaddrs(bootstrap, "--bootstrap");
            // Records are signed by the data directory's identity when there is one.
            Identity id = Files.exists(dataDir.resolve(Identity.KEY_FILE)) ? Identity.loadOrCreate(dataDir) : Identity.generate();
            P2pNode node = P2pNode.start(id, List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")), null, false);
            if (node.bootstrap(boot, err).isEmpty()) {
                node.close();
                throw new IOException("no bootstrap peer could be reached");
            }
            return node.service(node::close);
        }
        if (api == null && !Files.exists(dataDir.resolve(NodeCommand.API_FILE))) {
            throw new IOException("no running node found (no " + dataDir.resolve(NodeCommand.API_FILE)
                    + "); start one with 'oe node' or pass --bootstrap MULTIADDR");
        }
        return new ApiClient(ApiEndpoint.find(dataDir, api, tokenFile));
    }

    static List<Multiaddr> multiaddrs(List<String> values, String option) {
        List<Multiaddr> out = new ArrayList<>();
        for (String v : values) {
            try {
                out.add(Multiaddr.parse(v));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(new CommandLine(new Oe()), option + " " + v + ": " + e.getMessage());
            }
        }
        return out;
    }

    static InetSocketAddress hostPort(String v, String option) {
        int colon = v.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new NumberFormatException();
            }
            int port = Integer.parseInt(v.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(v.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be HOST:PORT, was '" + v + "'");
        }
    }

    /** "500ms", "30s", "5m", "2h", "1d", or ISO-8601 ("PT5M"). */
    static java.time.Duration duration(String v, String option) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d{1,9})(ms|s|m|h|d)$").matcher(v.trim());
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> java.time.Duration.ofMillis(n);
                    case "s" -> java.time.Duration.ofSeconds(n);
                    case "m" -> java.time.Duration.ofMinutes(n);
                    case "h" -> java.time.Duration.ofHours(n);
                    default -> java.time.Duration.ofDays(n);
                };
            }
            return java.time.Duration.parse(v.trim());
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException(option + " must be a duration like 30s, 5m or 24h, was '" + v + "'");
        }
    }
}
