package io.oecloud.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringEncoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.node.DhtOps;
import io.oecloud.node.api.NodeApiServer;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@link DhtOps} against a running node's HTTP API (one request per connection, on Netty), with
 * the endpoint's Host header and, when it has one, its API token.
 */
final class ApiClient implements DhtOps {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_RESPONSE = 16 << 20;

    private final ApiEndpoint endpoint;
    private final InetSocketAddress api;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    ApiClient(ApiEndpoint endpoint) {
        this.endpoint = endpoint;
        this.api = endpoint.address();
    }

    /** An HTTP answer: status and body. */
    record Answer(int status, byte[] body) {}

    CompletableFuture<Answer> call(HttpMethod method, String uri, byte[] body) {
        CompletableFuture<Answer> result = new CompletableFuture<>();
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler((int) NodeApiServer.DEADLINE_SECONDS + 10))
                                .addLast(new HttpClientCodec())
                                .addLast(new HttpObjectAggregator(MAX_RESPONSE))
                                .addLast(new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                        result.complete(new Answer(r.status().code(), ByteBufUtil.getBytes(r.content())));
                                        ctx.close();
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        result.completeExceptionally(cause);
                                        ctx.close();
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        result.completeExceptionally(new IOException("the node closed the connection"));
                                    }
                                });
                    }
                });
        b.connect(api).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new IOException("no node answers at " + api.getHostString() + ":"
                        + api.getPort() + " (" + f.cause().getMessage() + ")"));
                return;
            }
            Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri,
                    body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
            req.headers().set(HttpHeaderNames.HOST, endpoint.hostHeader());
            if (endpoint.authorization() != null) {
                req.headers().set(HttpHeaderNames.AUTHORIZATION, endpoint.authorization());
            }
            req.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            HttpUtil.setContentLength(req, req.content().readableBytes());
            ch.writeAndFlush(req);
        });
        return result;
    }

    private CompletableFuture<JsonNode> json(HttpMethod method, String uri) {
        return call(method, uri, null).thenApply(this::parse);
    }

    private JsonNode parse(Answer a) {
        JsonNode n;
        try {
            n = JSON.readTree(a.body());
        } catch (IOException e) {
            throw new java.util.concurrent.CompletionException(new IOException("the node sent a malformed answer (HTTP " + a.status() + ")"));
        }
        if (a.status() != 200) {
            throw new java.util.concurrent.CompletionException(new ApiError(a.status(), endpoint.explain(a.status(), n.path("error").asText())));
        }
        return n;
    }

    /** The error text of a non-2xx answer, with the endpoint's hint about tokens. */
    String errorOf(Answer a) {
        String text;
        try {
            text = JSON.readTree(a.body()).path("error").asText("HTTP " + a.status());
        } catch (IOException e) {
            text = "HTTP " + a.status();
        }
        return endpoint.explain(a.status(), text);
    }

    /** A non-200 answer from the node. */
    static final class ApiError extends IOException {
        private static final long serialVersionUID = 1L;
        final int status;

        ApiError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private static String enc(String path, String name, String value) {
        QueryStringEncoder q = new QueryStringEncoder(path);
        q.addParam(name, value);
        return q.toString();
    }

    private static List<String> strings(JsonNode arr) {
        List<String> l = new ArrayList<>();
        arr.forEach(x -> l.add(x.asText()));
        return l;
    }

    @Override
    public CompletableFuture<NodeInfo> id() {
        return json(HttpMethod.GET, "/v1/id").thenApply(n -> new NodeInfo(n.path("peerId").asText(),
                strings(n.path("addrs")), strings(n.path("protocols")), n.path("agentVersion").asText()));
    }

    @Override
    public CompletableFuture<Duration> ping(Multiaddr addr) {
        return json(HttpMethod.POST, enc("/v1/ping", "addr", addr.toString()))
                .thenApply(n -> Duration.ofNanos((long) (n.path("rttMs").asDouble() * 1e6)));
    }

    @Override
    public CompletableFuture<Integer> provide(Cid cid) {
        return json(HttpMethod.POST, "/v1/dht/provide/" + cid).thenApply(n -> n.path("peers").asInt());
    }

    @Override
    public CompletableFuture<List<Provider>> findProviders(Cid cid, int max) {
        return json(HttpMethod.GET, "/v1/dht/providers/" + cid + "?max=" + max).thenApply(n -> {
            List<Provider> out = new ArrayList<>();
            for (JsonNode p : n.path("providers")) {
                out.add(new Provider(PeerId.parse(p.path("peerId").asText()),
                        strings(p.path("addrs")).stream().map(Multiaddr::parse).toList()));
            }
            return out;
        });
    }

    @Override
    public CompletableFuture<List<Multiaddr>> findPeer(PeerId peer) {
        return json(HttpMethod.GET, "/v1/dht/peers/" + peer)
                .thenApply(n -> strings(n.path("addrs")).stream().map(Multiaddr::parse).toList());
    }

    @Override
    public CompletableFuture<String> put(String name, byte[] value) {
        return call(HttpMethod.PUT, "/v1/dht/values/" + name, value).thenApply(this::parse)
                .thenApply(n -> n.path("key").asText());
    }

    @Override
    public CompletableFuture<byte[]> get(String key) {
        return call(HttpMethod.GET, enc("/v1/dht/values", "key", key), null).thenApply(a -> {
            if (a.status() != 200) {
                parse(a); // throws with the node's message
            }
            return a.body();
        });
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
