package io.oecloud.node;

import io.oecloud.node.api.NodeApiServer;
import io.oecloud.node.api.ApiAccess;
import io.oecloud.node.api.ApiToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API's access policy and its token file, without a server. */
class ApiAccessTest {
    /** The token every test server in this package uses. */
    static final String TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    static ApiAccess access() {
        return ApiAccess.of(ApiToken.of(TOKEN));
    }

    /** A file holding {@link #TOKEN}, for the CLI's --token-file. */
    static Path tokenFile(Path dir) throws IOException {
        Path f = dir.resolve("test-token");
        if (!Files.exists(f)) {
            Files.writeString(f, TOKEN + "\n");
        }
        return f;
    }

    @TempDir
    Path dir;

    @Test
    void need_routeByRoute_privateUnlessListedOpen() {
        assertEquals(ApiAccess.Need.OPEN, ApiAccess.need(HttpMethod.GET, "/v1/id"));
        assertEquals(ApiAccess.Need.OPEN, ApiAccess.need(HttpMethod.GET, "/v1/chain/status"));
        assertEquals(ApiAccess.Need.OPEN, ApiAccess.need(HttpMethod.POST, "/v1/chain/txs"));
        assertEquals(ApiAccess.Need.CONTENT, ApiAccess.need(HttpMethod.GET, "/v1/objects/bafy"));
        assertEquals(ApiAccess.Need.CONTENT, ApiAccess.need(HttpMethod.HEAD, "/v1/objects/bafy/a/b"));
        for (String[] r : List.of(new String[] {"GET", "/v1/objects"}, new String[] {"POST", "/v1/objects"},
                new String[] {"DELETE", "/v1/objects/bafy"}, new String[] {"POST", "/v1/directories"},
                new String[] {"GET", "/v1/status"}, new String[] {"GET", "/metrics"}, new String[] {"GET", "/v1/health/bafy"},
                new String[] {"POST", "/v1/repair"}, new String[] {"POST", "/v1/ping"}, new String[] {"POST", "/v1/dht/provide/x"},
                new String[] {"GET", "/v1/dht/providers/x"}, new String[] {"GET", "/v1/dht/peers/x"},
                new String[] {"PUT", "/v1/dht/values/x"}, new String[] {"GET", "/v1/dht/values"},
                new String[] {"DELETE", "/v1/chain/txs"}, new String[] {"GET", "/v1/objects/"}, new String[] {"GET", "/v2/new-route"},
                new String[] {"POST", "/v1/id"})) {
            assertEquals(ApiAccess.Need.TOKEN, ApiAccess.need(HttpMethod.valueOf(r[0]), r[1]), r[0] + " " + r[1]);
        }
    }

    @Test
    void authorized_onlyTheBearerToken() {
        ApiAccess a = access();
        assertTrue(a.authorized("Bearer " + TOKEN));
        assertTrue(a.authorized("bearer " + TOKEN));
        assertFalse(a.authorized(null));
        assertFalse(a.authorized(TOKEN));
        assertFalse(a.authorized("Basic " + TOKEN));
        assertFalse(a.authorized("Bearer " + TOKEN.substring(1)));
        assertFalse(a.authorized("Bearer " + TOKEN + "0"));
        assertFalse(a.authorized("Bearer "));
    }

    @Test
    void hosts_loopbackBind_answersToItsAddressAndLocalNamesWithItsPort() {
        ApiAccess.Hosts h = access().hostsFor(new InetSocketAddress("127.0.0.1", 8080));
        for (String ok : List.of("127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080", "localhost.:8080")) {
            assertTrue(h.allowed(ok), ok);
        }
        for (String bad : List.of("evil.example:8080", "127.0.0.1:8081", "localhost", "127.0.0.1", "attacker.localhost:8080",
                "127.0.0.1:8080:1", "", "127.0.0.1:99999999", "10.0.0.1:8080")) {
            assertFalse(h.allowed(bad), bad);
        }
        assertFalse(h.allowed(null));
    }

    @Test
    void hosts_configuredNames_andWildcardBind() {
        ApiAccess a = new ApiAccess(ApiToken.of(TOKEN), true, List.of("node.example.com", "other.example:8443"), List.of());
        ApiAccess.Hosts wild = a.hostsFor(new InetSocketAddress("0.0.0.0", 8080));
        assertTrue(wild.allowed("node.example.com"));
        assertTrue(wild.allowed("node.example.com:443"));
        assertTrue(wild.allowed("other.example:8443"));
        assertFalse(wild.allowed("other.example:8080"));
        assertTrue(wild.allowed("192.168.1.20:8080"), "an IP literal cannot be a rebinding name");
        assertFalse(wild.allowed("192.168.1.20:8081"));
        assertFalse(wild.allowed("evil.example:8080"));
        assertThrows(IllegalArgumentException.class, () -> new ApiAccess(ApiToken.of(TOKEN), true, List.of("http://x/"), List.of()));
    }

    @Test
    void origins_ownOrConfiguredOnly_andCorsForConfiguredOnly() {
        ApiAccess a = new ApiAccess(ApiToken.of(TOKEN), true, List.of(), List.of("https://app.example.com/"));
        assertTrue(a.originAllowed(null, "127.0.0.1:8080"));
        assertTrue(a.originAllowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assertTrue(a.originAllowed("https://app.example.com", "127.0.0.1:8080"));
        assertFalse(a.originAllowed("https://evil.example", "127.0.0.1:8080"));
        assertFalse(a.originAllowed("null", "127.0.0.1:8080"));
        assertTrue(a.cors("https://APP.example.com"));
        assertFalse(a.cors("http://127.0.0.1:8080"));
        assertThrows(IllegalArgumentException.class, () -> new ApiAccess(ApiToken.of(TOKEN), true, List.of(), List.of("*")));
        assertThrows(IllegalArgumentException.class, () -> new ApiAccess(null, true, List.of(), List.of()));
    }

    @Test
    void loadOrCreate_firstStart_writesA256BitTokenReadableByItsOwnerOnly_andKeepsIt() throws Exception {
        ApiToken t = ApiToken.loadOrCreate(dir);
        Path f = dir.resolve(ApiToken.FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertTrue(t.value().matches("[0-9a-f]{64}"), "32 random bytes as hex");
        assertEquals(t.value(), ApiToken.loadOrCreate(dir).value(), "the next start reuses it");
        assertNotEquals(t.value(), ApiToken.random().value());
        try (var s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList(), "no temporary file left behind");
        }
        assertEquals("ApiToken[redacted]", t.toString());
    }

    @Test
    void loadOrCreate_manyStartsAtOnce_agreeOnOneToken() throws Exception {
        try (var pool = Executors.newFixedThreadPool(8)) {
            List<Callable<String>> starts = java.util.Collections.nCopies(8, () -> ApiToken.loadOrCreate(dir).value());
            List<String> got = new java.util.ArrayList<>();
            for (Future<String> f : pool.invokeAll(starts)) {
                got.add(f.get());
            }
            assertEquals(1, got.stream().distinct().count(), got.toString());
            assertEquals(got.get(0), ApiToken.load(dir.resolve(ApiToken.FILE)).value());
        }
    }

    @Test
    void load_fileOthersMayRead_isRefusedWithTheFix() throws Exception {
        ApiToken.loadOrCreate(dir);
        Path f = dir.resolve(ApiToken.FILE);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        IOException e = assertThrows(IOException.class, () -> ApiToken.loadOrCreate(dir));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
    }

    @Test
    void read_garbage_isRefusedWithWhatToDo() throws Exception {
        Path f = dir.resolve(ApiToken.FILE);
        Files.writeString(f, "short\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        IOException e = assertThrows(IOException.class, () -> ApiToken.load(f));
        assertTrue(e.getMessage().contains("delete the file"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ApiToken.of("a".repeat(40) + " b"));
        assertEquals(TOKEN, ApiToken.of("  " + TOKEN + "\n").value());
    }

    @Test
    void hostsFor_v6Loopback_allowsTheHostHeaderTheCliSends() {
        String v6 = "[0:0:0:0:0:0:0:1]:8080"; // what the CLI's ApiEndpoint sends for ::1 (ApiEndpointTest)
        assertTrue(access().hostsFor(new InetSocketAddress("::1", 8080)).allowed(v6), v6);
        assertTrue(access().hostsFor(new InetSocketAddress("::1", 8080)).allowed("[::1]:8080"));
    }

    @Test
    void exposed_anyAddressButLoopback_andTheresNoAccessWithoutAToken() {
        assertFalse(NodeApiServer.exposed(new InetSocketAddress("127.0.0.1", 8080)));
        assertFalse(NodeApiServer.exposed(new InetSocketAddress("::1", 8080)));
        assertTrue(NodeApiServer.exposed(new InetSocketAddress("0.0.0.0", 8080)), "the warning names how to expose a node safely");
        assertTrue(NodeApiServer.exposed(new InetSocketAddress("10.1.2.3", 8080)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ApiAccess(null, true, List.of(), List.of()));
        assertTrue(e.getMessage().contains("no way to run it without one"), e.getMessage());
    }
}
