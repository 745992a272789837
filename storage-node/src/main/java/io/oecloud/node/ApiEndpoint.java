package io.oecloud.node;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a client command finds a node's HTTP API, and the token it sends. The address is
 * {@code --api HOST:PORT}, or the one the node wrote to {@code DATA_DIR/api}. The token, first
 * found of: {@code --token-file FILE}; the environment variable {@code OE_API_TOKEN};
 * {@code DATA_DIR/api-token} when the address is that data directory's node (no {@code --api}, or
 * the same address as {@code DATA_DIR/api}). A data directory's token is never sent to another
 * address: another local user could be listening there.
 *
 * @param token null when none was found (open routes still work; the others answer 401)
 */
record ApiEndpoint(InetSocketAddress address, ApiToken token) {
    static final String TOKEN_ENV = "OE_API_TOKEN";

    static ApiEndpoint find(Path dataDir, String api, Path tokenFile) throws IOException {
        Path apiFile = dataDir.resolve(NodeCommand.API_FILE);
        String written = Files.exists(apiFile) ? Files.readString(apiFile, StandardCharsets.UTF_8).strip() : null;
        String address = api;
        if (address == null) {
            if (written == null) {
                throw new IOException("no running node found (no " + apiFile + "); start one with 'oe node' or 'oe devnet', or pass --api HOST:PORT");
            }
            address = written;
        }
        InetSocketAddress a = Options.hostPort(address, "--api");
        return new ApiEndpoint(a, token(dataDir, tokenFile, api == null || address.equals(written)));
    }

    private static ApiToken token(Path dataDir, Path tokenFile, boolean dataDirsNode) throws IOException {
        if (tokenFile != null) {
            if (!Files.isReadable(tokenFile)) {
                throw new IOException("--token-file " + tokenFile + " cannot be read");
            }
            return ApiToken.read(tokenFile);
        }
        String env = System.getenv(TOKEN_ENV);
        if (env != null && !env.isBlank()) {
            try {
                return ApiToken.of(env);
            } catch (IllegalArgumentException e) {
                throw new IOException(TOKEN_ENV + ": " + e.getMessage());
            }
        }
        Path file = dataDir.resolve(ApiToken.FILE);
        return dataDirsNode && Files.isReadable(file) ? ApiToken.read(file) : null;
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
