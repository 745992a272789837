package io.oecloud.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.channel.ChannelFutureListener;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server base and the client helper against each other, on loopback. */
class HttpServerTest {
    private static final HttpServer.Limits LIMITS = new HttpServer.Limits(4096, 8192, 1 << 20,
            Duration.ofSeconds(5), Duration.ofSeconds(120), 2);

    private final Router<String> router = new Router<String>()
            .add(HttpMethod.GET, "/echo/{word}", "echo")
            .add(HttpMethod.GET, "/big", "big")
            .add(HttpMethod.GET, "/slow", "slow")
            .add(HttpMethod.POST, "/len", "len")
            .add(HttpMethod.GET, "/headers", "headers");
    private HttpServer server;
    private HttpCaller client;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.start("test API", new InetSocketAddress("127.0.0.1", 0), LIMITS,
                (p, head) -> p.addLast(new HttpObjectAggregator(1024)).addLast(new Handler(head)));
        client = new HttpCaller(server.address(), "test API", 2000, 64 << 10);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    /** The smallest server on the base: routes through the router, JSON answers. */
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final HeadDeadline head;

        Handler(HeadDeadline head) {
            this.head = head;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            head.arrived();
            FullHttpResponse r = switch (router.match(req.method(), new QueryStringDecoder(req.uri()).path())) {
                case Router.Found<String> f when f.handler().equals("echo") -> Json.response(HttpResponseStatus.OK, Map.of("word", f.param("word")));
                case Router.Found<String> f when f.handler().equals("big") -> Json.response(HttpResponseStatus.OK, Map.of("x", "y".repeat(100_000)));
                case Router.Found<String> f when f.handler().equals("slow") -> null;
                case Router.Found<String> f when f.handler().equals("headers") -> Json.response(HttpResponseStatus.OK, Map.of(
                        "host", req.headers().get("Host"), "auth", String.valueOf(req.headers().get("Authorization"))));
                case Router.Found<String> f -> Json.response(HttpResponseStatus.OK, Map.of("len", req.content().readableBytes()));
                case Router.WrongMethod<String> w -> {
                    FullHttpResponse x = Json.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "use " + w.allowHeader());
                    x.headers().set("Allow", w.allowHeader());
                    yield x;
                }
                case Router.NotFound<String> n -> Json.error(HttpResponseStatus.NOT_FOUND, "no route");
            };
            head.expect();
            if (r != null) {
                HttpUtil.setKeepAlive(r, false);
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    @Test
    void getJson_routedAnswer() {
        assertEquals("hi", client.getJson("/echo/hi").join().path("word").asText());
        HttpCaller.Answer nf = client.get("/nowhere").join();
        assertEquals(404, nf.status());
        assertEquals("application/json", nf.contentType());
        assertEquals("no route", nf.json().path("error").asText());
    }

    @Test
    void call_headers_areSent_andReplaceTheDefaults() {
        assertEquals("127.0.0.1", client.getJson("/headers").join().path("host").asText(), "the server's address by default");
        var a = client.call(HttpMethod.GET, "/headers", null, null, Map.of("Host", "node.example:8080", "Authorization", "Bearer t")).join().json();
        assertEquals("node.example:8080", a.path("host").asText());
        assertEquals("Bearer t", a.path("auth").asText());
    }

    @Test
    void call_wrongMethod_is405WithAllow() {
        HttpCaller.Answer a = client.call(HttpMethod.DELETE, "/len", null, null).join();
        assertEquals(405, a.status());
        assertEquals("use POST", a.json().path("error").asText());
    }

    @Test
    void call_postBody_arrivesWhole() {
        HttpCaller.Answer a = client.call(HttpMethod.POST, "/len", new byte[1000], "application/octet-stream").join();
        assertEquals(1000, a.json().path("len").asInt());
    }

    @Test
    void call_bodyOverTheRoutesCap_is413() {
        HttpCaller.Answer a = client.call(HttpMethod.POST, "/len", new byte[1025], "application/octet-stream").join();
        assertEquals(413, a.status(), "the aggregator's cap: the body policy of the aggregated routes");
    }

    @Test
    void get_answerOverTheCap_fails() {
        try (HttpCaller small = new HttpCaller(server.address(), "test API", 2000, 1000)) {
            CompletionException e = assertThrows(CompletionException.class, () -> small.get("/big").join());
            assertInstanceOf(TooLongHttpContentException.class, e.getCause());
        }
    }

    @Test
    void get_noAnswerWithinTheDeadline_timesOut() {
        try (HttpCaller quick = new HttpCaller(server.address(), "test API", 200, 1000)) {
            CompletionException e = assertThrows(CompletionException.class, () -> quick.get("/slow").join());
            assertTrue(e.getCause() instanceof TimeoutException || e.getCause() instanceof io.netty.handler.timeout.ReadTimeoutException,
                    String.valueOf(e.getCause()));
        }
    }

    @Test
    void get_nobodyListening_failsNamingTheServer() throws IOException {
        InetSocketAddress gone = server.address();
        server.close();
        try (HttpCaller c = new HttpCaller(gone, "test API", 2000, 1000)) {
            CompletionException e = assertThrows(CompletionException.class, () -> c.get("/echo/x").join());
            assertTrue(e.getCause().getMessage().startsWith("test API at " + gone + " does not answer"), e.getCause().getMessage());
        }
        server = HttpServer.start("test API", new InetSocketAddress("127.0.0.1", 0), LIMITS, (p, h) -> { });
    }

    @Test
    void connectionsOverTheCap_get503AndClose() throws Exception {
        try (Socket a = new Socket("127.0.0.1", server.address().getPort());
             Socket b = new Socket("127.0.0.1", server.address().getPort());
             Socket c = new Socket("127.0.0.1", server.address().getPort())) {
            c.setSoTimeout(5000);
            InputStream in = c.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), answer);
            assertTrue(answer.endsWith("too many connections to this API; try again shortly\"}"), answer);
        }
    }

    @Test
    void loops_areNamedDaemonThreads_andServe() throws IOException {
        try (HttpServer named = HttpServer.start("loop API", new InetSocketAddress("127.0.0.1", 0), LIMITS, new HttpServer.Loops(2, "test-loop"),
                (p, head) -> p.addLast(new HttpObjectAggregator(1024)).addLast(new Handler(head)));
             HttpCaller c = new HttpCaller(named.address(), "loop API", 2000, 64 << 10)) {
            assertEquals("hi", c.getJson("/echo/hi").join().path("word").asText());
            var loops = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("test-loop")).toList();
            assertTrue(!loops.isEmpty() && loops.size() <= 2, String.valueOf(loops));
            assertTrue(loops.stream().allMatch(Thread::isDaemon), String.valueOf(loops));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HttpServer.Loops(0, "x"));
        assertEquals("a server needs at least 1 event loop, was 0", e.getMessage());
    }

    @Test
    void bindTaken_failsNamingTheAddress() {
        IOException e = assertThrows(IOException.class, () -> HttpServer.start("other API", server.address(), LIMITS, (p, h) -> { }));
        assertTrue(e.getMessage().startsWith("cannot listen for the other API on " + server.address()), e.getMessage());
    }

    @Test
    void limits_areChecked() {
        assertThrows(IllegalArgumentException.class, () -> new HttpServer.Limits(0, 1, 1, Duration.ofSeconds(1), Duration.ofSeconds(1), 1));
        assertThrows(IllegalArgumentException.class, () -> new HttpServer.Limits(1, 1, 1, Duration.ZERO, Duration.ofSeconds(1), 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new HttpServer.Limits(1, 1, 1, Duration.ofSeconds(1), Duration.ofSeconds(1), 0));
        assertEquals("connections must be at least 1, was 0", e.getMessage());
    }
}
