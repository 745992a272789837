package io.oecloud.chain.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufInputStream;
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
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * CometBFT's RPC (URI over HTTP, JSON answers) on Netty: status, blocks, ABCI queries. Every
 * call has a deadline and an answer size limit.
 */
public final class CometRpc implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ANSWER = 16 << 20;

    private final InetSocketAddress rpc;
    private final long timeoutMillis;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    public CometRpc(InetSocketAddress rpc, long timeoutMillis) {
        this.rpc = rpc;
        this.timeoutMillis = timeoutMillis;
    }

    /** GET {@code path} (with its query), the answer's JSON. */
    public CompletableFuture<JsonNode> get(String path) {
        CompletableFuture<JsonNode> result = new CompletableFuture<>();
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(timeoutMillis, TimeUnit.MILLISECONDS))
                                .addLast(new HttpClientCodec()).addLast(new HttpObjectAggregator(MAX_ANSWER))
                                .addLast(new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) throws IOException {
                                        result.complete(JSON.readTree(new ByteBufInputStream(r.content())));
                                        ctx.close();
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        result.completeExceptionally(cause);
                                        ctx.close();
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        result.completeExceptionally(new IOException("CometBFT RPC closed the connection"));
                                    }
                                });
                    }
                });
        b.connect(rpc).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new IOException("CometBFT RPC at " + rpc + " does not answer: " + f.cause().getMessage()));
                return;
            }
            var ch = ((io.netty.channel.ChannelFuture) f).channel();
            DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            req.headers().set(HttpHeaderNames.HOST, rpc.getHostString()).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ch.writeAndFlush(req);
        });
        return result.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** abci_query with a proof: CometBFT's whole {@code response} (code, value, height, proofOps). */
    public CompletableFuture<JsonNode> queryProved(String path, String data) {
        String hex = HexFormat.of().formatHex(data.getBytes(StandardCharsets.UTF_8));
        return get("/abci_query?path=%22" + path + "%22&data=0x" + hex + "&prove=true").thenApply(r -> r.at("/result/response"));
    }

    /** abci_query; completes with the decoded JSON value, or null when the code is not 0. */
    public CompletableFuture<JsonNode> query(String path, String data) {
        String hex = HexFormat.of().formatHex(data.getBytes(StandardCharsets.UTF_8));
        return get("/abci_query?path=%22" + path + "%22&data=0x" + hex).thenApply(r -> {
            JsonNode resp = r.at("/result/response");
            if (resp.path("code").asInt(0) != 0 || resp.path("value").isMissingNode() || resp.path("value").isNull()) {
                return null;
            }
            try {
                return JSON.readTree(Base64.getDecoder().decode(resp.path("value").asText()));
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
