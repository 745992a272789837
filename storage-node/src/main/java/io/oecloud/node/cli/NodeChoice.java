package io.oecloud.node.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Which node a client command talks to, and with which token: the options every such command
 * mixes in ({@code oe put/get/ls/rm/status}, {@code oe wallet}, {@code oe chain}, {@code oe id},
 * {@code oe ping}, {@code oe dht}). The rule that turns them into an address and a token is
 * {@link ApiEndpoint#find}'s, the one place that reads {@code OE_API} and {@code OE_API_TOKEN}.
 */
final class NodeChoice {
    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${sys:user.home}/.oecloud",
            description = "Where to find the node: DIR/api, else a running node of the devnet in DIR or DIR/devnet "
                    + "(default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--api", paramLabel = "HOST:PORT",
            description = "A running node's HTTP API (default: $" + ApiEndpoint.API_ENV + ", else the node found from DATA_DIR).")
    String api;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "The node's API token (default: $" + ApiEndpoint.TOKEN_ENV + ", else the api-token of the node found "
                    + "in DATA_DIR, sent to that node's address only).")
    Path tokenFile;

    /** The node's API and the token to send it. */
    ApiEndpoint endpoint() throws IOException {
        return ApiEndpoint.find(dataDir, api, tokenFile);
    }
}
