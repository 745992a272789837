package io.oecloud.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.chain.node.ChainRoutes;
import io.oecloud.http.Json;
import io.oecloud.node.object.ObjectException;
import io.oecloud.proofs.Cid;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The object routes in memory: one connection's real pipeline (codec, gate, handlers) on an
 * EmbeddedChannel in front of an in-memory object store, so every answer is checked byte for
 * byte without a network. The network tests (ObjectsHttpTest, HttpAccessTest, HttpFuzzTest,
 * HttpRobustnessTest) check the same routes end to end.
 */
class ObjectRoutesTest {
    private ApiHarness api = new ApiHarness();

    @AfterEach
    void close() {
        api.close();
    }

    private static JsonNode json(String body) throws Exception {
        return Json.MAPPER.readTree(body);
    }

    private Cid upload(String body, String type) throws Exception {
        ApiHarness.Conn c = api.connect("10.0.0.1");
        c.request("POST", "/v1/objects", true, "Content-Type: " + type + "\r\n", body);
        ApiHarness.Answer a = c.answer();
        assertEquals(201, a.status(), a.body());
        return Cid.parse(json(a.body()).path("cid").asText());
    }

    @Test
    void upload_contentLength_isStoredWithItsType() throws Exception {
        Cid cid = upload("hello world", "text/plain; charset=utf-8");
        assertEquals(List.of("upload text/plain; charset=utf-8 false"), api.store.calls());
        assertEquals(11, api.store.resolve(cid, List.of()).size());
    }

    @Test
    void upload_chunked_streamsEveryChunk_andAMalformedTypeIsNotKept() throws Exception {
        ApiHarness.Conn c = api.connect("10.0.0.1");
        c.send("POST /v1/objects?encrypt=true HTTP/1.1\r\nHost: " + ApiHarness.HOST + "\r\nAuthorization: Bearer " + ApiHarness.TOKEN
                + "\r\nContent-Type: text/html\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.send("5\r\nhello\r\n");
        c.send("6\r\n world\r\n");
        c.send("0\r\n\r\n");
        ApiHarness.Answer a = c.answer();
        assertEquals(201, a.status(), a.body());
        Cid cid = Cid.parse(json(a.body()).path("cid").asText());
        assertEquals(List.of("upload text/html true"), api.store.calls());
        assertTrue(api.store.resolve(cid, List.of()).encrypted());
        assertEquals("keep-alive", a.header("connection") == null ? "keep-alive" : a.header("connection"), "kept alive");
        assertTrue(c.ch.isOpen());
    }

    @Test
    void upload_badChunkFraming_is400_andStoresNothing() throws Exception {
        ApiHarness.Conn c = api.connect("10.0.0.1");
        c.send("POST /v1/objects HTTP/1.1\r\nHost: " + ApiHarness.HOST + "\r\nAuthorization: Bearer " + ApiHarness.TOKEN
                + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n");
        ApiHarness.Answer a = c.answer();
        assertEquals(400, a.status());
        assertEquals("malformed chunked body: a chunk size is not a hexadecimal number", json(a.body()).path("error").asText());
        assertEquals("close", a.header("connection"));
        assertEquals(List.of(), api.store.list(), "the upload read an aborted body: nothing stored");
        assertFalse(c.ch.isOpen());
    }

    @Test
    void upload_contentLengthWithChunked_is400_beforeAnyStoreCall() throws Exception {
        ApiHarness.Conn c = api.connect("10.0.0.1");
        c.send("POST /v1/objects HTTP/1.1\r\nHost: " + ApiHarness.HOST + "\r\nAuthorization: Bearer " + ApiHarness.TOKEN
                + "\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        ApiHarness.Answer a = c.answer();
        assertEquals(400, a.status());
        assertEquals("a request may not carry both Content-Length and Transfer-Encoding", json(a.body()).path("error").asText());
        assertEquals(List.of(), api.store.calls());
    }

    @Test
    void upload_overTheLimitPerAddress_is429_andAnotherAddressGoesOn() throws Exception {
        api.close();
        api = new ApiHarness(true, new NodeApiServer.Limits(1, 2, 64 << 20, java.time.Duration.ofSeconds(15),
                java.time.Duration.ofSeconds(10), 512));
        String head = "POST /v1/objects HTTP/1.1\r\nHost: " + ApiHarness.HOST + "\r\nAuthorization: Bearer " + ApiHarness.TOKEN
                + "\r\nContent-Length: 5\r\n\r\n";
        ApiHarness.Conn first = api.connect("10.0.0.1").send(head); // admitted; its work waits for the harness
        ApiHarness.Conn second = api.connect("10.0.0.1").send(head); // refused at once, on the event loop
        ApiHarness.Conn other = api.connect("10.0.0.2").send(head + "world"); // another address: the node has room
        first.send("hello");
        ApiHarness.Answer refused = second.answer();
        assertEquals(429, refused.status());
        assertEquals("1", refused.header("retry-after"));
        assertEquals(201, first.answer().status());
        assertEquals(201, other.answer().status());
        assertEquals(List.of("upload application/octet-stream false", "upload application/octet-stream false"), api.store.calls());
    }

    @Test
    void upload_declaredOverTheObjectLimit_is413() throws Exception {
        ApiHarness.Conn c = api.connect("10.0.0.1");
        c.send("POST /v1/objects HTTP/1.1\r\nHost: " + ApiHarness.HOST + "\r\nAuthorization: Bearer " + ApiHarness.TOKEN
                + "\r\nContent-Length: " + (UploadHandler.MAX_OBJECT + 1) + "\r\n\r\n");
        ApiHarness.Answer a = c.answer();
        assertEquals(413, a.status());
        assertEquals(List.of(), api.store.calls());
    }

    @Test
    void get_wholeObject_withImmutableCachingAndSandbox() throws Exception {
        Cid cid = upload("hello world", "text/plain");
        ApiHarness.Answer a = api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, false, "", null).answer();
        assertEquals(200, a.status());
        assertEquals("hello world", a.body());
        assertEquals("\"" + cid + "\"", a.header("etag"));
        assertEquals("public, max-age=31536000, immutable", a.header("cache-control"));
        assertEquals("bytes", a.header("accept-ranges"));
        assertEquals("nosniff", a.header("x-content-type-options"));
        assertEquals("sandbox", a.header("content-security-policy"));
        assertNull(a.header("content-disposition"), "plain text is inert");
    }

    @Test
    void get_ranges_firstLastSuffixOpenEnded_and416() throws Exception {
        Cid cid = upload("hello world", "application/x-thing");
        Map<String, String[]> cases = Map.of(
                "bytes=0-4", new String[] {"hello", "bytes 0-4/11"},
                "bytes=-5", new String[] {"world", "bytes 6-10/11"},
                "bytes=6-", new String[] {"world", "bytes 6-10/11"},
                "bytes=6-1000", new String[] {"world", "bytes 6-10/11"});
        for (var e : cases.entrySet()) {
            ApiHarness.Answer a = api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, false, "Range: " + e.getKey() + "\r\n", null).answer();
            assertEquals(206, a.status(), e.getKey());
            assertEquals(e.getValue()[0], a.body(), e.getKey());
            assertEquals(e.getValue()[1], a.header("content-range"), e.getKey());
            assertEquals("attachment", a.header("content-disposition"), "not inert: an attachment");
        }
        ApiHarness.Answer past = api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, false, "Range: bytes=11-\r\n", null).answer();
        assertEquals(416, past.status());
        assertEquals("bytes */11", past.header("content-range"));
        assertTrue(json(past.body()).path("error").asText().contains("starts past the end"));
        ApiHarness.Answer two = api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, false, "Range: bytes=0-1,3-4\r\n", null).answer();
        assertEquals(416, two.status());
    }

    @Test
    void head_givesTheHeadersAndNoBody() throws Exception {
        Cid cid = upload("hello world", "text/plain");
        String raw = api.connect("10.0.0.3").request("HEAD", "/v1/objects/" + cid, false, "", null).raw();
        assertTrue(raw.startsWith("HTTP/1.1 200 OK\r\n"), raw);
        assertTrue(raw.toLowerCase(java.util.Locale.ROOT).contains("content-length: 11\r\n"), raw);
        assertTrue(raw.endsWith("\r\n\r\n"), "no body: " + raw);
    }

    @Test
    void directories_putGetAndPathsInside() throws Exception {
        Cid a = upload("aaa", "text/plain");
        Cid b = upload("bbbb", "image/png");
        ApiHarness.Answer put = api.connect("10.0.0.1").request("POST", "/v1/directories", true, "",
                "{\"entries\":[{\"name\":\"a file.txt\",\"cid\":\"" + a + "\"},{\"name\":\"b.png\",\"cid\":\"" + b + "\"}]}").answer();
        assertEquals(201, put.status(), put.body());
        String dir = json(put.body()).path("cid").asText();
        ApiHarness.Answer listing = api.connect("10.0.0.3").request("GET", "/v1/objects/" + dir, false, "", null).answer();
        assertEquals(200, listing.status());
        JsonNode l = json(listing.body());
        assertEquals(7, l.path("size").asLong());
        assertEquals("a file.txt", l.path("entries").get(0).path("name").asText());
        assertEquals("image/png", l.path("entries").get(1).path("type").asText());
        assertEquals("\"" + dir + "\"", listing.header("etag"));
        ApiHarness.Answer inside = api.connect("10.0.0.3").request("GET", "/v1/objects/" + dir + "/a%20file.txt", false, "", null).answer();
        assertEquals("aaa", inside.body());
        ApiHarness.Answer missing = api.connect("10.0.0.3").request("GET", "/v1/objects/" + dir + "/nope", false, "", null).answer();
        assertEquals(404, missing.status());
        ApiHarness.Answer badEscape = api.connect("10.0.0.3").request("GET", "/v1/objects/" + dir + "/a%2", false, "", null).answer();
        assertEquals(400, badEscape.status());
    }

    @Test
    void directories_badBodies_are400_and413() throws Exception {
        ApiHarness.Answer notJson = api.connect("10.0.0.1").request("POST", "/v1/directories", true, "", "{\"entries\": [").answer();
        assertEquals(400, notJson.status());
        assertTrue(json(notJson.body()).path("error").asText().startsWith("directory body is not JSON"), notJson.body());
        ApiHarness.Answer shape = api.connect("10.0.0.1").request("POST", "/v1/directories", true, "", "{}").answer();
        assertEquals(400, shape.status());
        ApiHarness.Answer badCid = api.connect("10.0.0.1").request("POST", "/v1/directories", true, "",
                "{\"entries\":[{\"name\":\"x\",\"cid\":\"bnot\"}]}").answer();
        assertEquals(400, badCid.status());
        assertTrue(json(badCid.body()).path("error").asText().startsWith("entry 'x': malformed CID 'bnot'"), badCid.body());
        ApiHarness.Answer big = api.connect("10.0.0.1").send("POST /v1/directories HTTP/1.1\r\nHost: " + ApiHarness.HOST
                + "\r\nAuthorization: Bearer " + ApiHarness.TOKEN + "\r\nContent-Length: " + (DirectoryHandler.MAX_DIRECTORY_BODY + 1) + "\r\n\r\n").answer();
        assertEquals(413, big.status());
        assertFalse(api.store.calls().contains("putDirectory 1"));
    }

    @Test
    void objectErrors_mapToTheirStatus_everyCode() throws Exception {
        Map<ObjectException.Code, Integer> expected = new EnumMap<>(Map.of(
                ObjectException.Code.NOT_FOUND, 404, ObjectException.Code.NOT_ENOUGH_SHARDS, 503,
                ObjectException.Code.PLACEMENT_FAILED, 503, ObjectException.Code.BAD_RANGE, 416,
                ObjectException.Code.CORRUPT, 502, ObjectException.Code.NOT_OWNER, 403,
                ObjectException.Code.BAD_INPUT, 400, ObjectException.Code.BUSY, 503,
                ObjectException.Code.PAYMENT_REQUIRED, 402, ObjectException.Code.CHAIN_UNAVAILABLE, 503));
        Cid cid = upload("x", "text/plain");
        for (ObjectException.Code code : ObjectException.Code.values()) {
            assertTrue(expected.containsKey(code), code + " has no expected status here: add it");
            api.store.failNext(code, "words for " + code);
            ApiHarness.Answer a = api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, false, "", null).answer();
            assertEquals((int) expected.get(code), a.status(), code.toString());
            assertEquals("words for " + code, json(a.body()).path("error").asText());
        }
    }

    @Test
    void get_failureMidBody_abortsTheConnection_neverACompleteLooking200() throws Exception {
        Cid cid = upload("hello world", "text/plain");
        api.store.failReadAfter(3);
        ApiHarness.Conn c = api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, false, "", null);
        String raw = c.raw();
        assertTrue(raw.startsWith("HTTP/1.1 200 OK\r\n"), raw);
        assertTrue(raw.endsWith("\r\n\r\nhel"), "the head and 3 of 11 bytes: " + raw);
        assertFalse(c.ch.isOpen(), "closed: the client sees fewer bytes than Content-Length");
    }

    @Test
    void malformedCid_is400_quotingItShortened() throws Exception {
        ApiHarness.Answer a = api.connect("10.0.0.3").request("GET", "/v1/objects/bnot-a-cid", false, "", null).answer();
        assertEquals(400, a.status());
        assertTrue(json(a.body()).path("error").asText().startsWith("malformed CID 'bnot-a-cid': "), a.body());
    }

    @Test
    void unpinListHealth_withTheToken() throws Exception {
        Cid cid = upload("hello", "text/plain");
        ApiHarness.Answer list = api.connect("10.0.0.1").request("GET", "/v1/objects", true, "", null).answer();
        assertEquals(cid.toString(), json(list.body()).path("objects").get(0).path("cid").asText());
        ApiHarness.Answer health = api.connect("10.0.0.1").request("GET", "/v1/health/" + cid, true, "", null).answer();
        assertEquals(200, health.status());
        assertEquals(5, json(health.body()).path("weakest").asInt());
        ApiHarness.Answer inside = api.connect("10.0.0.1").request("DELETE", "/v1/objects/" + cid + "/x", true, "", null).answer();
        assertEquals(400, inside.status());
        ApiHarness.Answer unpin = api.connect("10.0.0.1").request("DELETE", "/v1/objects/" + cid, true, "", null).answer();
        assertEquals(200, unpin.status());
        assertEquals(6, json(unpin.body()).path("unpinned").asInt());
        ApiHarness.Answer again = api.connect("10.0.0.1").request("DELETE", "/v1/objects/" + cid, true, "", null).answer();
        assertEquals(404, again.status());
    }

    @Test
    void auth_privateRoutesWithoutToken_are401_andReachNoStore() throws Exception {
        for (String[] r : new String[][] {{"POST", "/v1/objects"}, {"GET", "/v1/objects"}, {"DELETE", "/v1/objects/bafyx"},
                {"POST", "/v1/directories"}, {"GET", "/v1/health/bafyx"}}) {
            ApiHarness.Answer a = api.connect("10.0.0.3").request(r[0], r[1], false, "", r[0].equals("POST") ? "x" : null).answer();
            assertEquals(401, a.status(), r[0] + " " + r[1]);
            assertEquals("Bearer realm=\"oe\"", a.header("www-authenticate"));
        }
        assertEquals(List.of(), api.store.calls());
        ApiHarness.Answer wrong = api.connect("10.0.0.3").send("GET /v1/objects HTTP/1.1\r\nHost: " + ApiHarness.HOST
                + "\r\nAuthorization: Bearer " + "f".repeat(64) + "\r\n\r\n").answer();
        assertEquals(401, wrong.status());
        ApiHarness.Answer foreignHost = api.connect("10.0.0.3").send("GET /v1/objects HTTP/1.1\r\nHost: evil.example\r\n"
                + "Authorization: Bearer " + ApiHarness.TOKEN + "\r\n\r\n").answer();
        assertEquals(403, foreignHost.status());
    }

    @Test
    void auth_encryptedObject_needsTheToken_evenWithPublicReads() throws Exception {
        Cid cid = api.store.put("secret".getBytes(StandardCharsets.UTF_8), "text/plain", true);
        ApiHarness.Answer open = api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, false, "", null).answer();
        assertEquals(401, open.status());
        assertEquals("Bearer realm=\"oe\"", open.header("www-authenticate"));
        ApiHarness.Answer withToken = api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, true, "", null).answer();
        assertEquals("secret", withToken.body());
    }

    @Test
    void auth_withoutPublicReads_contentNeedsTheToken() throws Exception {
        api.close();
        api = new ApiHarness(false, NodeApiServer.Limits.defaults());
        Cid cid = api.store.put("x".getBytes(StandardCharsets.UTF_8), "text/plain", false);
        assertEquals(401, api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, false, "", null).answer().status());
        assertEquals(200, api.connect("10.0.0.3").request("GET", "/v1/objects/" + cid, true, "", null).answer().status());
    }

    @Test
    void jsonRoutes_unknownPath404_knownPathOtherMethod405WithAllow_chainOffOnAPlainNode() throws Exception {
        ApiHarness.Answer none = api.connect("10.0.0.1").request("GET", "/v1/nowhere", true, "", null).answer();
        assertEquals(404, none.status());
        assertEquals("no route for GET /v1/nowhere", json(none.body()).path("error").asText());
        ApiHarness.Answer method = api.connect("10.0.0.1").request("DELETE", "/v1/id", true, "", null).answer();
        assertEquals(405, method.status());
        assertEquals("GET", method.header("allow"));
        ApiHarness.Answer chain = api.connect("10.0.0.1").request("GET", "/v1/chain/status", false, "", null).answer();
        assertEquals(404, chain.status());
        assertEquals(ChainRoutes.NOT_SUPER_NODE, json(chain.body()).path("error").asText());
    }
}
