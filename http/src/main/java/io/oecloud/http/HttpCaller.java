package io.oecloud.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
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
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Requests to one HTTP server, one connection each ({@code Connection: close}), on Netty: what
 * the project's clients of small JSON APIs share. Every call has a deadline (connect within
 * 5 s, the whole answer within {@code deadlineMillis}, also between reads) and an answer size
 * cap (a larger answer fails the call: the aggregator refuses it). Answers are copied out of
 * Netty's buffers, so callers own nothing. Owns its event loop; {@link #close} ends it.
 */
public final class HttpCaller implements AutoCloseable {
    static final int CONNECT_MILLIS = 5000;

    /** An answer: status, the headers a client looks at, and the body's bytes. */
    public record Answer(int status, String contentType, byte[] body) {
        /** The body as JSON. */
        public JsonNode json() {
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("the answer (status " + status + ") is not JSON: " + e.getMessage(), e);
            }
        }
    }

    /** The server could not be reached: no connection was made, so nothing was sent. */
    public static final class Unreachable extends IOException {
        private static final long serialVersionUID = 1L;

        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final InetSocketAddress server;
    private final String name;
    private final long deadlineMillis;
    private final int maxAnswer;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    /**
     * @param server where requests go
     * @param name what the server is, for errors ("CometBFT RPC")
     * @param deadlineMillis each call's deadline
     * @param maxAnswer largest answer body, in bytes
     */
    public HttpCaller(InetSocketAddress server, String name, long deadlineMillis, int maxAnswer) {
        if (deadlineMillis < 1 || maxAnswer < 1) {
            throw new IllegalArgumentException("deadline and answer cap must be positive, were " + deadlineMillis + " ms and " + maxAnswer);
        }
        this.server = server;
        this.name = name;
        this.deadlineMillis = deadlineMillis;
        this.maxAnswer = maxAnswer;
    }

    /** GET {@code path} (with its query). */
    public CompletableFuture<Answer> get(String path) {
        return call(HttpMethod.GET, path, null, null);
    }

    /** GET {@code path} (with its query), the answer's body as JSON whatever its status (IOException when it is not JSON). */
    public CompletableFuture<JsonNode> getJson(String path) {
        return get(path).thenCompose(a -> {
            try {
                return CompletableFuture.completedFuture(Json.MAPPER.readTree(a.body()));
            } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
            }
        });
    }

    /**
     * Sends {@code method path} with {@code body} (null: none) of {@code contentType}; completes
     * with the answer, or exceptionally: {@link Unreachable} when the server cannot be reached,
     * IOException when it closes without answering, TimeoutException past the deadline, TooLongHttpContentException (a
     * DecoderException) for an answer over the cap.
     */
    public CompletableFuture<Answer> call(HttpMethod method, String path, byte[] body, String contentType) {
        return call(method, path, body, contentType, Map.of());
    }

    /**
     * {@link #call(HttpMethod, String, byte[], String)} with {@code headers} added (they replace
     * the defaults of the same name: {@code Host} the server's address, for one).
     */
    public CompletableFuture<Answer> call(HttpMethod method, String path, byte[] body, String contentType, Map<String, String> headers) {
        CompletableFuture<Answer> result = new CompletableFuture<>();
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_MILLIS)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(deadlineMillis, TimeUnit.MILLISECONDS))
                                .addLast(new HttpClientCodec()).addLast(new HttpObjectAggregator(maxAnswer))
                                .addLast(new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                        result.complete(new Answer(r.status().code(), r.headers().get(HttpHeaderNames.CONTENT_TYPE),
                                                ByteBufUtil.getBytes(r.content())));
                                        ctx.close();
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        result.completeExceptionally(cause);
                                        ctx.close();
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        result.completeExceptionally(new IOException(name + " closed the connection"));
                                    }
                                });
                    }
                });
        b.connect(server).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new Unreachable(name + " at " + server + " does not answer: " + f.cause().getMessage(), f.cause()));
                return;
            }
            DefaultFullHttpRequest req = body == null
                    ? new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path)
                    : new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path, Unpooled.wrappedBuffer(body));
            req.headers().set(HttpHeaderNames.HOST, server.getHostString()).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            headers.forEach((name, value) -> req.headers().set(name, value));
            if (body != null) {
                req.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
                if (contentType != null) {
                    req.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
                }
            }
            ((ChannelFuture) f).channel().writeAndFlush(req);
        });
        return result.orTimeout(deadlineMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
