package io.oecloud.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.oecloud.node.Node;
import io.oecloud.node.NodeConfig;
import io.oecloud.node.api.ApiToken;
import io.oecloud.node.devnet.Devnet;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Where a client command finds a node's HTTP API, and the token it sends: the rule behind
 * {@link NodeChoice}'s options, in one place.
 *
 * <p>The address, first found of: {@code --api HOST:PORT}; the environment variable {@code OE_API}
 * (same form); the first running node among DATA_DIR's candidates, in this order:
 * <ol>
 *   <li>DATA_DIR itself: a node started with {@code oe node --data-dir DATA_DIR}, or one node of a
 *       devnet given by its own directory ({@code D/node-3});
 *   <li>the nodes of a devnet started with {@code oe devnet --data-dir DATA_DIR}, as
 *       {@code DATA_DIR/devnet.json} lists them (node 0 first; each in {@code DATA_DIR/node-i});
 *   <li>the nodes of the devnet in {@code DATA_DIR/devnet}: with the default DATA_DIR
 *       ({@code ~/.oecloud}), where a bare {@code oe devnet} runs, so a bare {@code oe ls} finds it
 *       when no single node runs at {@code ~/.oecloud}.
 * </ol>
 * A node runs while its directory holds the {@code api} file it writes at start (its address) and
 * removes at stop; {@code devnet.json} appears once all of a devnet's nodes are up.
 *
 * <p>The token, first found of: {@code --token-file FILE}; the environment variable
 * {@code OE_API_TOKEN}; the {@code api-token} file of the candidate whose {@code api} file names
 * the address used (the found node itself, or the one {@code --api}/{@code OE_API} names). A data
 * directory's token is never sent to another address: another local user could be listening there.
 *
 * @param token null when none was found (open routes still work; the others answer 401)
 */
record ApiEndpoint(InetSocketAddress address, ApiToken token) {
    static final String API_ENV = "OE_API";
    static final String TOKEN_ENV = "OE_API_TOKEN";
    /** Where a bare {@code oe devnet} keeps its nodes, under the default data directory. */
    static final String DEVNET_DIR = "devnet";
    static final String DEVNET_FILE = Devnet.JSON_FILE;

    /** No address given and no running node among DATA_DIR's candidates. */
    static final class NoNodeFound extends IOException {
        NoNodeFound(String message) {
            super(message);
        }
    }

    static ApiEndpoint find(Path dataDir, String api, Path tokenFile) throws IOException {
        return find(dataDir, api, tokenFile, System::getenv);
    }

    /** As {@link #find(Path, String, Path)}, reading environment variables through {@code env} (tests). */
    static ApiEndpoint find(Path dataDir, String api, Path tokenFile, UnaryOperator<String> env) throws IOException {
        String fromEnv = env.apply(API_ENV);
        boolean viaEnv = api == null && !blank(fromEnv);
        String address = viaEnv ? fromEnv.strip() : api;
        Path home = null; // the candidate whose api file names the address
        for (Path dir : candidates(dataDir)) {
            String written = written(dir);
            if (written != null && (address == null || address.equals(written))) {
                address = written;
                home = dir;
                break;
            }
        }
        if (address == null) {
            throw new NoNodeFound("no running node found (no " + dataDir.resolve(Node.API_FILE) + ", and no devnet with a running node in "
                    + dataDir.resolve(DEVNET_FILE) + " or " + dataDir.resolve(DEVNET_DIR).resolve(DEVNET_FILE)
                    + "); start one with 'oe node' or 'oe devnet', or pass --api HOST:PORT (or set " + API_ENV + ")");
        }
        return new ApiEndpoint(NodeConfig.hostPort(address, viaEnv ? API_ENV : "--api"), token(home, tokenFile, env));
    }

    /** The node directories to look in, in the order {@link ApiEndpoint} describes. */
    private static List<Path> candidates(Path dataDir) throws IOException {
        List<Path> dirs = new ArrayList<>();
        dirs.add(dataDir);
        devnetNodes(dataDir, dirs);
        devnetNodes(dataDir.resolve(DEVNET_DIR), dirs);
        return dirs;
    }

    /** Adds the node directories of the devnet in {@code devnetDir}, if there is one. */
    private static void devnetNodes(Path devnetDir, List<Path> into) throws IOException {
        Path list = devnetDir.resolve(DEVNET_FILE);
        if (!Files.isRegularFile(list)) {
            return;
        }
        JsonNode nodes;
        try {
            nodes = new ObjectMapper().readTree(list.toFile()).path("nodes");
        } catch (IOException e) {
            throw new IOException(list + " is not a devnet's list of nodes: " + e.getMessage());
        }
        // Devnet's layout: node i in DIR/node-i. devnet.json's dataDir is not used: it is as
        // the devnet was given it, relative to a working directory that may not be this one.
        for (JsonNode n : nodes) { // in index order, as Devnet writes them
            int i = n.path("index").asInt(-1);
            if (i >= 0) {
                into.add(devnetDir.resolve("node-" + i));
            }
        }
    }

    /** The address a running node wrote in {@code dir}, or null. */
    private static String written(Path dir) throws IOException {
        Path file = dir.resolve(Node.API_FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        String a = Files.readString(file, StandardCharsets.UTF_8).strip();
        return a.isEmpty() ? null : a;
    }

    private static ApiToken token(Path home, Path tokenFile, UnaryOperator<String> env) throws IOException {
        if (tokenFile != null) {
            if (!Files.isReadable(tokenFile)) {
                throw new IOException("--token-file " + tokenFile + " cannot be read");
            }
            return ApiToken.read(tokenFile);
        }
        String value = env.apply(TOKEN_ENV);
        if (!blank(value)) {
            try {
                return ApiToken.of(value);
            } catch (IllegalArgumentException e) {
                throw new IOException(TOKEN_ENV + ": " + e.getMessage());
            }
        }
        Path file = home == null ? null : home.resolve(ApiToken.FILE);
        return file != null && Files.isReadable(file) ? ApiToken.read(file) : null;
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** The Host header naming this address (IPv6 literals in brackets). */
    String hostHeader() {
        String h = address.getHostString();
        return (h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h) + ":" + address.getPort();
    }

    /** The Authorization header value, or null without a token. */
    String authorization() {
        return token == null ? null : "Bearer " + token.value();
    }

    /** A node's error message, with a hint when it wanted a token this client did not send. */
    String explain(int status, String error) {
        if (status == 401 && token == null) {
            return error + " (no API token was sent: give the node's --data-dir, --token-file FILE, or set " + TOKEN_ENV + ")";
        }
        return error;
    }

    @Override
    public String toString() {
        return hostHeader();
    }
}
