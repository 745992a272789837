package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.oecloud.chain.client.ChainViews;
import io.oecloud.chain.client.CometRpc;
import io.oecloud.http.HttpError;
import io.oecloud.http.Json;
import io.oecloud.http.Route;
import io.oecloud.http.Router;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chain routes without a server: their patterns, argument checks and the mempool's count (no CometBFT asked). */
class ChainRoutesTest {
    @TempDir
    Path dir;
    private LedgerStore store;
    private CometRpc rpc;
    private final Router<Route> router = new Router<>();

    @BeforeEach
    void start() throws Exception {
        store = LedgerStore.open(dir.resolve("ledger"));
        rpc = new CometRpc(new InetSocketAddress("127.0.0.1", 1), 1000); // never reached by these requests
        new ChainRoutes(new ChainViews(rpc), new LedgerApp(store)).addTo(router);
    }

    @AfterEach
    void stop() {
        rpc.close();
        store.close();
    }

    /** The route's answer: status and body. */
    private String[] call(HttpMethod method, String uri) throws Exception {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        try {
            QueryStringDecoder q = new QueryStringDecoder(uri);
            Router.Found<Route> f = assertInstanceOf(Router.Found.class, router.match(method, q.path()), uri);
            FullHttpResponse r = f.handler().handle(new Route.Request(req, q, f.params())).get(10, TimeUnit.SECONDS);
            try {
                return new String[] {String.valueOf(r.status().code()), r.content().toString(StandardCharsets.UTF_8)};
            } finally {
                r.release();
            }
        } finally {
            req.release();
        }
    }

    private String refused(HttpMethod method, String uri) {
        HttpError e = assertThrows(HttpError.class, () -> call(method, uri), uri);
        assertEquals(400, e.status().code(), uri);
        return e.getMessage();
    }

    @Test
    void contractRoutes_checkTheirArguments() {
        String cid = io.oecloud.proofs.Cid.compute(io.oecloud.proofs.ContentCodec.RAW, io.oecloud.proofs.HashFunction.BLAKE3, new byte[1])
                .toString();
        String addr = io.oecloud.chain.ledger.Ledger.address(io.oecloud.dht.Identity.generate().publicKey());
        assertTrue(refused(HttpMethod.GET, "/v1/chain/contract/" + cid).contains("payer="));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/contract/" + cid + "?payer=nobody").contains("malformed peer ID"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/contract/not-a-cid?payer=" + addr).contains("malformed CID"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/contracts").contains("payer=ADDRESS or holder=ADDRESS"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/contracts?payer=" + addr + "&holder=" + addr).contains("either"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/contracts?holder=x").contains("malformed peer ID"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/contracts?payer=" + addr + "&cursor=" + "c".repeat(201)).contains("cursor"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/payments/x").contains("malformed peer ID"));
        assertInstanceOf(Router.Found.class, router.match(HttpMethod.GET, "/v1/chain/price"));
    }

    @Test
    void mempool_countsPending() throws Exception {
        String[] a = call(HttpMethod.GET, "/v1/chain/mempool");
        assertEquals("200", a[0]);
        assertEquals(0, Json.MAPPER.readTree(a[1]).path("pending").asInt());
    }

    @Test
    void malformedArguments_are400_beforeCometBftIsAsked() {
        assertEquals("a transaction hash is 64 hex digits, not 'abc'", refused(HttpMethod.GET, "/v1/chain/txs/abc"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/accounts/nope").startsWith("malformed peer ID 'nope'"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/accounts/nope/txs").startsWith("malformed peer ID 'nope'"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/storage-nodes/nope").startsWith("malformed peer ID 'nope'"));
        assertEquals("a cursor is ADDRESS/PERIOD, at most 160 characters",
                refused(HttpMethod.GET, "/v1/chain/storage-faults?after=" + "x".repeat(161)));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/cids/bnot").startsWith("malformed CID 'bnot'"));
        assertEquals(io.oecloud.chain.ledger.Names.problem("No.Such"), refused(HttpMethod.GET, "/v1/chain/names/No.Such"));
        assertTrue(refused(HttpMethod.GET, "/v1/chain/names/" + "a".repeat(300)).contains("300 bytes"));
        for (String light : new String[] {"/v1/chain/light/", "/v1/chain/light/commit/0", "/v1/chain/light/commit/x",
                "/v1/chain/light/headers/5", "/v1/chain/light/commit/5/6"}) {
            assertEquals("use /v1/chain/light/commit/HEIGHT or /v1/chain/light/validators/HEIGHT", refused(HttpMethod.GET, light));
        }
    }

    @Test
    void patterns_knowEveryRoute_andTheirMethods() {
        for (String path : new String[] {"/v1/chain/status", "/v1/chain/validators", "/v1/chain/candidates", "/v1/chain/params",
                "/v1/chain/beacon", "/v1/chain/txs/" + "ab".repeat(32), "/v1/chain/accounts/X", "/v1/chain/accounts/X/txs", "/v1/chain/cids/C",
                "/v1/chain/names/my-site", "/v1/chain/storage-nodes", "/v1/chain/storage-nodes/X", "/v1/chain/storage-faults", "/v1/chain/light/commit/3", "/v1/chain/mempool"}) {
            assertInstanceOf(Router.Found.class, router.match(HttpMethod.GET, path), path);
        }
        assertInstanceOf(Router.Found.class, router.match(HttpMethod.POST, "/v1/chain/txs"));
        assertEquals("GET", assertInstanceOf(Router.WrongMethod.class, router.match(HttpMethod.POST, "/v1/chain/mempool")).allowHeader(),
                "gossip batches go to the mempool endpoint (TxServer), not through the API");
        assertInstanceOf(Router.NotFound.class, router.match(HttpMethod.GET, "/v1/chain/nothing"));
    }
}
