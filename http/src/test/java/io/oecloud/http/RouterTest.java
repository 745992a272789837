package io.oecloud.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.handler.codec.http.HttpMethod;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouterTest {
    private final Router<String> router = new Router<String>()
            .add(HttpMethod.GET, "/v1/id", "id")
            .add(HttpMethod.GET, "/v1/dht/peers/{peer}", "peer")
            .add(HttpMethod.POST, "/v1/dht/provide/{cid...}", "provide")
            .add(HttpMethod.GET, "/v1/chain/accounts/{addr}/txs", "history")
            .add(HttpMethod.GET, "/v1/chain/accounts/{addr...}", "account")
            .add(HttpMethod.PUT, "/v1/dht/values/{name...}", "put")
            .add(HttpMethod.GET, "/v1/dht/values", "get");

    private Router.Found<String> found(HttpMethod m, String path) {
        return assertInstanceOf(Router.Found.class, router.match(m, path), m + " " + path);
    }

    @Test
    void match_literalAndParameters_giveHandlerAndParams() {
        assertEquals("id", found(HttpMethod.GET, "/v1/id").handler());
        Router.Found<String> f = found(HttpMethod.GET, "/v1/dht/peers/12D3Koo");
        assertEquals("peer", f.handler());
        assertEquals(Map.of("peer", "12D3Koo"), f.params());
        assertEquals("12D3Koo", f.param("peer"));
        assertThrows(IllegalArgumentException.class, () -> f.param("cid"));
    }

    @Test
    void match_restParameter_takesSlashesAndEmptiness() {
        assertEquals("a/b", found(HttpMethod.POST, "/v1/dht/provide/a/b").param("cid"));
        assertEquals("", found(HttpMethod.POST, "/v1/dht/provide/").param("cid"), "the handler answers 400 for an empty CID");
        assertInstanceOf(Router.NotFound.class, router.match(HttpMethod.POST, "/v1/dht/provide"));
    }

    @Test
    void match_firstAddedWins() {
        assertEquals("history", found(HttpMethod.GET, "/v1/chain/accounts/abc/txs").handler());
        assertEquals("account", found(HttpMethod.GET, "/v1/chain/accounts/abc").handler());
        assertEquals("abc/other", found(HttpMethod.GET, "/v1/chain/accounts/abc/other").param("addr"));
    }

    @Test
    void match_emptySegmentParameter_isNotFound() {
        assertInstanceOf(Router.NotFound.class, router.match(HttpMethod.GET, "/v1/dht/peers/"));
        assertInstanceOf(Router.NotFound.class, router.match(HttpMethod.GET, "/v1/dht/peers/a/b"));
        assertInstanceOf(Router.NotFound.class, router.match(HttpMethod.GET, "/nowhere"));
        assertInstanceOf(Router.NotFound.class, router.match(HttpMethod.GET, "v1/id"));
        assertInstanceOf(Router.NotFound.class, router.match(HttpMethod.GET, "/v1/id/"));
    }

    @Test
    void match_knownPathOtherMethod_isWrongMethodWithAllow() {
        Router.WrongMethod<String> w = assertInstanceOf(Router.WrongMethod.class, router.match(HttpMethod.DELETE, "/v1/dht/values/x"));
        assertEquals("PUT", w.allowHeader());
        Router<String> two = new Router<String>().add(HttpMethod.GET, "/x", "g").add(HttpMethod.HEAD, "/x", "h");
        assertEquals("GET, HEAD", assertInstanceOf(Router.WrongMethod.class, two.match(HttpMethod.POST, "/x")).allowHeader());
    }

    @Test
    void add_badPattern_isRefusedNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Router<String>().add(HttpMethod.GET, "v1", "x"));
        assertEquals("a route pattern starts with '/', was 'v1'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Router<String>().add(HttpMethod.GET, "/a/{}", "x"));
        assertThrows(IllegalArgumentException.class, () -> new Router<String>().add(HttpMethod.GET, "/a/{rest...}/b", "x"));
    }
}
