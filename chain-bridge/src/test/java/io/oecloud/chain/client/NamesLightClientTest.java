package io.oecloud.chain.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.Names;
import io.oecloud.chain.node.ChainRoutes;
import io.oecloud.chain.pb.ChainProto.StateProof;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.chain.testnet.LocalTestnet;
import io.oecloud.dht.Identity;
import io.oecloud.http.HttpError;
import io.oecloud.http.Json;
import io.oecloud.http.Route;
import io.oecloud.http.Router;
import io.oecloud.proofs.Cid;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verified name lookups against four real CometBFT validators running the ledger: a registered
 * name resolves to its owner and root, proven against a header signed by more than 2/3 of the
 * power, through CometBFT's RPC and through the super-node's {@code /v1/chain/names} route alike;
 * an unregistered one is proven absent; an update is seen after its block; a forged record, a
 * proof of another key and an answer older than the resolver allows are refused.
 */
@Timeout(300)
class NamesLightClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-names";
    private static final Fees FEES = new Fees(BigInteger.valueOf(1000), Fees.DEFAULT_PER_BYTE);
    private static final Cid SITE = Cid.raw("<html>v1</html>".getBytes(StandardCharsets.UTF_8));
    private static final Cid SITE2 = Cid.raw("<html>v2</html>".getBytes(StandardCharsets.UTF_8));

    @TempDir
    static Path dir;

    private static LocalTestnet net;
    private static CometRpc rpc1;
    private static final Identity alice = Identity.generate();
    private static final Identity bob = Identity.generate();
    private static long registeredAt;

    @BeforeAll
    static void start() throws Exception {
        ObjectNode app = JSON.createObjectNode().put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString());
        ArrayNode accounts = app.putArray("accounts");
        accounts.addObject().put("address", Ledger.address(alice.publicKey())).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        accounts.addObject().put("address", Ledger.address(bob.publicKey())).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        net = new LocalTestnet(LocalTestnet.cometbft(), dir.resolve("net"), 4, 0, CHAIN, app, false, new long[] {100, 100, 100, 100});
        net.startAll();
        for (int i = 0; i < 4; i++) {
            net.awaitHeight(i, 2, 90);
        }
        rpc1 = new CometRpc(new InetSocketAddress("127.0.0.1", net.rpc[1]), 10_000);
        JsonNode r = submit(alice, 0, ChainClient.registerNameTx("my-site", SITE));
        assertEquals(0, r.path("code").asInt(-1), r.toString());
        registeredAt = r.path("height").asLong();
        net.awaitHeight(1, registeredAt + 1, 30); // the node asked (node 1) has the block and the header after it
    }

    @AfterAll
    static void stop() {
        if (rpc1 != null) {
            rpc1.close();
        }
        if (net != null) {
            net.close();
        }
    }

    private static JsonNode submit(Identity k, long nonce, TxBody.Builder body) throws Exception {
        byte[] tx = ChainClient.sign(k, body, CHAIN, nonce, FEES, null);
        return net.submit(0, tx, true);
    }

    private static LightClient light(String name, LightClient.Source source) {
        return new LightClient(source, dir.resolve(name + ".json"), CHAIN, null);
    }

    @Test
    void aRegisteredName_resolvesProven_overRpc_andAnUnregisteredOne_isProvenAbsent() throws Exception {
        NameResolver names = new NameResolver(NameResolver.rpcProofs(rpc1), light("rpc", LightClient.rpcSource(rpc1, Duration.ofSeconds(30))));
        NameResolver.NameRecord r = names.resolveName("my-site").orElseThrow();
        assertEquals("my-site", r.name());
        assertEquals(Ledger.address(alice.publicKey()), r.owner());
        assertEquals(SITE, r.root());
        assertEquals(registeredAt, r.updatedHeight());
        assertTrue(r.verifiedHeight() >= registeredAt, r.toString());
        assertEquals(Optional.empty(), names.resolveName("nobody-has-this"), "absence is proven, not assumed");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> names.resolveName("Not.A.Name"));
        assertEquals(Names.problem("Not.A.Name"), bad.getMessage());
    }

    @Test
    void anUpdate_isSeenAfterItsBlock_andAnOldAnswerIsRefused() throws Exception {
        JsonNode r = submit(bob, 0, ChainClient.registerNameTx("bobs-site", SITE));
        assertEquals(0, r.path("code").asInt(-1), r.toString());
        JsonNode u = submit(bob, 1, ChainClient.updateNameTx("bobs-site", SITE2));
        assertEquals(0, u.path("code").asInt(-1), u.toString());
        net.awaitHeight(1, u.path("height").asLong() + 1, 30); // committed on node 0; node 1, asked below, may be a block behind
        LightClient lc = light("update", LightClient.rpcSource(rpc1, Duration.ofSeconds(30)));
        NameResolver.NameRecord rec = new NameResolver(NameResolver.rpcProofs(rpc1), lc).resolveName("bobs-site").orElseThrow();
        assertEquals(SITE2, rec.root());
        assertEquals(u.path("height").asLong(), rec.updatedHeight());
        // a resolver whose clock is an hour ahead: the proving header is too old for its 10 minutes
        NameResolver late = new NameResolver(NameResolver.rpcProofs(rpc1), lc, NameResolver.DEFAULT_MAX_AGE,
                () -> Instant.now().plus(Duration.ofHours(1)));
        Exception e = assertThrows(LightClient.VerificationException.class, () -> late.resolveName("bobs-site"));
        assertTrue(e.getMessage().contains("older than"), e.getMessage());
    }

    @Test
    void aForgedRecord_andAProofOfAnotherName_areRefused() throws Exception {
        NameResolver.ProofSource honest = NameResolver.rpcProofs(rpc1);
        byte[] forged = new Names.Record(Ledger.address(bob.publicKey()), SITE2, 1, 1, 0).encode();
        NameResolver.ProofSource lying = name -> {
            StateProof p = honest.prove(name);
            return p.toBuilder().setEntries(0, p.getEntries(0).toBuilder().setValue(ByteString.copyFrom(forged))).build();
        };
        LightClient lc = light("forged", LightClient.rpcSource(rpc1, Duration.ofSeconds(30)));
        Exception e = assertThrows(LightClient.VerificationException.class, () -> new NameResolver(lying, lc).resolveName("my-site"));
        assertTrue(e.getMessage().contains("does not lead to the app hash"), e.getMessage());
        // the absence of another name offered as the absence of this one
        NameResolver.ProofSource swapped = name -> honest.prove("zz-not-registered");
        assertThrows(LightClient.VerificationException.class, () -> new NameResolver(swapped, lc).resolveName("my-site"));
    }

    /** The chain routes of node 2, called in-process; 4xx refusals come back as HttpError. */
    private static JsonNode[] route(Router<Route> router, String uri) throws Exception {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        try {
            QueryStringDecoder q = new QueryStringDecoder(uri);
            Router.Found<Route> f = assertInstanceOf(Router.Found.class, router.match(HttpMethod.GET, q.path()), uri);
            FullHttpResponse r = f.handler().handle(new Route.Request(req, q, f.params())).get(60, TimeUnit.SECONDS);
            try {
                return new JsonNode[] {Json.MAPPER.getNodeFactory().numberNode(r.status().code()),
                        Json.MAPPER.readTree(r.content().toString(StandardCharsets.UTF_8))};
            } finally {
                r.release();
            }
        } finally {
            req.release();
        }
    }

    @Test
    void theNamesRoute_answersTheRecord_404WithAProofOfAbsence_and400ForABadName_andItsProofsResolve() throws Exception {
        try (CometRpc rpc2 = new CometRpc(new InetSocketAddress("127.0.0.1", net.rpc[2]), 10_000)) {
            Router<Route> router = new Router<>();
            new ChainRoutes(new ChainViews(rpc2), net.ledger(2)).addTo(router);
            JsonNode[] plain = route(router, "/v1/chain/names/my-site");
            assertEquals(200, plain[0].asInt());
            assertEquals("my-site", plain[1].path("name").asText());
            assertEquals(Ledger.address(alice.publicKey()), plain[1].path("owner").asText());
            assertEquals(SITE.toString(), plain[1].path("root").asText());
            assertEquals(registeredAt, plain[1].path("sinceHeight").asLong());
            assertEquals(registeredAt, plain[1].path("updatedHeight").asLong());
            Instant.parse(plain[1].path("updatedTime").asText());
            assertEquals(404, route(router, "/v1/chain/names/nobody-has-this")[0].asInt());
            JsonNode[] absent = route(router, "/v1/chain/names/nobody-has-this?prove=true");
            assertEquals(404, absent[0].asInt());
            assertTrue(!absent[1].path("proof").asText().isEmpty(), absent[1].toString());
            HttpError e = assertThrows(HttpError.class, () -> route(router, "/v1/chain/names/-bad"));
            assertEquals(400, e.status().code());
            assertEquals(Names.problem("-bad"), e.getMessage());

            // the edge's path through a super-node's API: proofs and headers from the routes
            NameResolver.ProofSource viaApi = name -> {
                try {
                    return StateProof.parseFrom(Base64.getDecoder().decode(route(router, "/v1/chain/names/" + name + "?prove=true")[1]
                            .path("proof").asText()));
                } catch (java.io.IOException x) {
                    throw x;
                } catch (Exception x) {
                    throw new java.io.IOException(x);
                }
            };
            LightClient.Source headers = new LightClient.Source() {
                @Override
                public JsonNode commit(long height) throws Exception {
                    net.awaitHeight(2, height + 1, 30);
                    return route(router, "/v1/chain/light/commit/" + height)[1];
                }

                @Override
                public JsonNode validators(long height) throws Exception {
                    return route(router, "/v1/chain/light/validators/" + height)[1];
                }
            };
            NameResolver names = new NameResolver(viaApi, light("api", headers));
            assertEquals(SITE, names.resolveName("my-site").orElseThrow().root());
            assertEquals(Optional.empty(), names.resolveName("nobody-has-this"));
        }
    }
}
