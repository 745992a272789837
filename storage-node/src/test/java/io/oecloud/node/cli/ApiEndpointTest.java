package io.oecloud.node.cli;

import io.oecloud.node.api.ApiToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.node.api.ApiToken;
import io.oecloud.node.Node;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a client command finds its node and token ({@link ApiEndpoint#find}): DATA_DIR's own node, a
 * devnet in DATA_DIR or DATA_DIR/devnet, {@code OE_API} beside {@code --api}; a token only for the
 * node that wrote it. Nodes here are directories with the files a node writes (api, api-token).
 */
class ApiEndpointTest {
    private static final UnaryOperator<String> NO_ENV = name -> null;

    @TempDir
    Path dir;

    /** The token the tests give with --token-file. */
    static final String TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /** A running node's directory: its address in {@code api}, a fresh token in {@code api-token}. */
    private static ApiToken node(Path nodeDir, String address) throws IOException {
        Files.createDirectories(nodeDir);
        Files.writeString(nodeDir.resolve(Node.API_FILE), address + "\n");
        Path file = nodeDir.resolve(ApiToken.FILE);
        Files.writeString(file, java.util.HexFormat.of().formatHex(java.security.SecureRandom.getSeed(32)) + "\n");
        return ApiToken.read(file);
    }

    private Path tokenFile() throws IOException {
        Path f = dir.resolve("test-token");
        if (!Files.exists(f)) {
            Files.writeString(f, TOKEN + "\n");
        }
        return f;
    }

    /** A devnet's list of nodes as Devnet writes it (only what the CLI reads matters here). */
    private static void devnetJson(Path devnetDir, int nodes) throws IOException {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < nodes; i++) {
            list.append(i == 0 ? "" : ",").append("{\"index\": ").append(i).append(", \"dataDir\": \"elsewhere/node-").append(i)
                    .append("\"}");
        }
        Files.createDirectories(devnetDir);
        Files.writeString(devnetDir.resolve(ApiEndpoint.DEVNET_FILE), "{\"k\": 4, \"m\": 2, \"nodes\": [" + list + "]}\n");
    }

    private static ApiEndpoint find(Path dataDir, String api, UnaryOperator<String> env) throws IOException {
        return ApiEndpoint.find(dataDir, api, null, env);
    }

    private static UnaryOperator<String> env(Map<String, String> vars) {
        return vars::get;
    }

    private static void assertFinds(String address, ApiToken token, ApiEndpoint e) {
        assertEquals(address, e.hostHeader());
        assertEquals(token.value(), e.token().value());
    }

    @Test
    void find_devnetDataDir_findsNodeZero_andTheNextRunningNodeWhenItStops() throws Exception {
        Path devnet = dir.resolve("d");
        ApiToken t0 = node(devnet.resolve("node-0"), "127.0.0.1:8080");
        ApiToken t1 = node(devnet.resolve("node-1"), "127.0.0.1:8081");
        devnetJson(devnet, 2);
        assertFinds("127.0.0.1:8080", t0, find(devnet, null, NO_ENV));
        Files.delete(devnet.resolve("node-0").resolve(Node.API_FILE)); // a node removes its api file at stop
        assertFinds("127.0.0.1:8081", t1, find(devnet, null, NO_ENV));
    }

    @Test
    void find_defaultDataDir_findsTheDevnetBelowIt_unlessANodeRunsThere() throws Exception {
        Path home = dir.resolve(".oecloud");
        ApiToken t0 = node(home.resolve("devnet").resolve("node-0"), "127.0.0.1:8080");
        devnetJson(home.resolve("devnet"), 1);
        assertFinds("127.0.0.1:8080", t0, find(home, null, NO_ENV));
        ApiToken own = node(home, "127.0.0.1:9999");
        assertFinds("127.0.0.1:9999", own, find(home, null, NO_ENV));
    }

    @Test
    void find_devnetStillStarting_isNotFound_untilDevnetJsonAppears() throws Exception {
        Path devnet = dir.resolve("d");
        node(devnet.resolve("node-0"), "127.0.0.1:8080"); // devnet.json is written once every node is up
        ApiEndpoint.NoNodeFound e = assertThrows(ApiEndpoint.NoNodeFound.class, () -> find(devnet, null, NO_ENV));
        assertTrue(e.getMessage().contains("no running node found") && e.getMessage().contains(devnet.resolve("devnet.json").toString())
                && e.getMessage().contains("OE_API"), e.getMessage());
        devnetJson(devnet, 1);
        assertEquals("127.0.0.1:8080", find(devnet, null, NO_ENV).hostHeader());
    }

    @Test
    void find_devnetWithNoRunningNode_isNotFound() throws Exception {
        Path devnet = dir.resolve("d");
        devnetJson(devnet, 3); // stopped: the nodes' api files are gone
        assertThrows(ApiEndpoint.NoNodeFound.class, () -> find(devnet, null, NO_ENV));
    }

    @Test
    void find_malformedDevnetJson_isRefusedNamingTheFile() throws Exception {
        Path devnet = dir.resolve("d");
        Files.createDirectories(devnet);
        Files.writeString(devnet.resolve("devnet.json"), "{\"nodes\": [");
        IOException e = assertThrows(IOException.class, () -> find(devnet, null, NO_ENV));
        assertTrue(e.getMessage().startsWith(devnet.resolve("devnet.json") + " is not a devnet's list of nodes"), e.getMessage());
    }

    @Test
    void find_apiOfADevnetNode_sendsThatNodesToken_andNoOther() throws Exception {
        Path devnet = dir.resolve("d");
        node(devnet.resolve("node-0"), "127.0.0.1:8080");
        ApiToken t2 = node(devnet.resolve("node-2"), "127.0.0.1:8082");
        node(devnet.resolve("node-1"), "127.0.0.1:8081");
        devnetJson(devnet, 3);
        assertFinds("127.0.0.1:8082", t2, find(devnet, "127.0.0.1:8082", NO_ENV));
        assertNull(find(devnet, "127.0.0.1:8090", NO_ENV).token(), "an address no candidate wrote: no token leaves home");
    }

    @Test
    void find_oeApi_isTheAddressWithoutApi_andApiWinsOverIt() throws Exception {
        Path d = dir.resolve("node");
        ApiToken own = node(d, "127.0.0.1:1111");
        ApiEndpoint viaEnv = find(d, null, env(Map.of("OE_API", " 127.0.0.1:2222\n")));
        assertEquals("127.0.0.1:2222", viaEnv.hostHeader());
        assertNull(viaEnv.token(), "OE_API names another node: DATA_DIR's token stays home, as with --api");
        ApiEndpoint same = find(d, null, env(Map.of("OE_API", "127.0.0.1:1111")));
        assertEquals(own.value(), same.token().value(), "OE_API naming DATA_DIR's node: its token, as with --api");
        assertEquals("127.0.0.1:3333", find(d, "127.0.0.1:3333", env(Map.of("OE_API", "127.0.0.1:2222"))).hostHeader());
        assertEquals("127.0.0.1:1111", find(d, null, env(Map.of("OE_API", " "))).hostHeader(), "a blank OE_API is unset");
        ApiEndpoint noNode = find(dir.resolve("empty"), null, env(Map.of("OE_API", "127.0.0.1:2222")));
        assertEquals("127.0.0.1:2222", noNode.hostHeader(), "OE_API needs no data directory");
    }

    @Test
    void find_malformedOeApi_isRefusedNamingTheVariable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> find(dir, null, env(Map.of("OE_API", "http://127.0.0.1:8080/"))));
        assertEquals("OE_API must be HOST:PORT, was 'http://127.0.0.1:8080/'", e.getMessage());
    }

    @Test
    void find_tokenFromOeApiToken_beatsTheDataDirsToken_andTokenFileBeatsBoth() throws Exception {
        Path d = dir.resolve("node");
        node(d, "127.0.0.1:1111");
        String envToken = "e".repeat(64);
        assertEquals(envToken, find(d, null, env(Map.of("OE_API_TOKEN", envToken))).token().value());
        Path file = tokenFile();
        assertEquals(TOKEN, ApiEndpoint.find(d, null, file, env(Map.of("OE_API_TOKEN", envToken))).token().value());
        IOException bad = assertThrows(IOException.class, () -> find(d, null, env(Map.of("OE_API_TOKEN", "short"))));
        assertTrue(bad.getMessage().startsWith("OE_API_TOKEN: an API token is"), bad.getMessage());
    }

    @Test
    void endpoint_dataDirsToken_isSentOnlyToThatDataDirsNode() throws Exception {
        Path d = dir.resolve("node");
        node(d, "127.0.0.1:1111");
        assertTrue(ApiEndpoint.find(d, null, null).token() != null, "the data directory's own node");
        assertTrue(ApiEndpoint.find(d, "127.0.0.1:1111", null).token() != null, "the same address given with --api");
        assertEquals(null, ApiEndpoint.find(d, "127.0.0.1:2222", null).token(), "another address: the token stays home");
        assertEquals(TOKEN, ApiEndpoint.find(d, "127.0.0.1:2222", tokenFile()).token().value(), "unless given with --token-file");
        assertEquals("127.0.0.1:1111", ApiEndpoint.find(d, null, null).hostHeader());
        // ApiAccessTest checks that the API accepts this Host header for ::1
        assertEquals("[0:0:0:0:0:0:0:1]:8080", new ApiEndpoint(new java.net.InetSocketAddress("::1", 8080), null).hostHeader());
        IOException none = assertThrows(IOException.class, () -> ApiEndpoint.find(dir.resolve("empty"), null, null));
        assertTrue(none.getMessage().contains("no running node found"), none.getMessage());
    }
}
