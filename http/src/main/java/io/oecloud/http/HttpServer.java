package io.oecloud.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The base every HTTP server of the project stands on: binds host:port on one Netty event loop
 * (or several, {@link Loops}), caps the connections open at once, and gives each connection the
 * same front of the pipeline, to which the server adds its own handlers ({@link Routes}):
 * <pre>
 *   IdleStateHandler  reader idle after {@code silence} (passed on: a stalled body is the server's to answer),
 *                     idle both ways for {@code idle}: closed (a long download keeps writing, so it stays)
 *   HeadDeadline      a request head whole within {@code silence} of its first byte (408 and close)
 *   HttpServerCodec   request line, headers and body chunks capped
 *   ... Routes        the server's: its gate, streamed routes, an aggregator for the rest, handlers
 * </pre>
 * A connection over the cap is answered 503 (written raw, before anything of it is read) and
 * closed. Bodies follow a per-route policy the server's handlers set: a streamed route (an
 * upload) takes the codec's chunks as they come, pausing the socket when it is behind; the
 * routes after an {@code HttpObjectAggregator} get their body whole, up to its cap.
 */
public final class HttpServer implements AutoCloseable {
    private static final String TOO_MANY_CONNECTIONS_BODY = "{\"error\":\"too many connections to this API; try again shortly\"}";

    /**
     * The answers the base writes itself, raw, before the server's handlers see the request: in the
     * server's own error format (JSON by default; the S3 gateway's are S3 XML errors).
     *
     * @param headTimeout to a head not complete within the silence limit
     * @param tooManyConnections to a connection over the cap
     */
    public record Refusals(byte[] headTimeout, byte[] tooManyConnections) {
        public static final Refusals JSON = new Refusals(HeadDeadline.TIMEOUT, answer(503, "Service Unavailable", "application/json",
                TOO_MANY_CONNECTIONS_BODY.getBytes(StandardCharsets.US_ASCII)));

        public Refusals {
            headTimeout = headTimeout.clone();
            tooManyConnections = tooManyConnections.clone();
        }

        /** A whole HTTP/1.1 answer with {@code body} that closes the connection. */
        public static byte[] answer(int status, String reason, String contentType, byte[] body) {
            byte[] head = ("HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: " + contentType + "\r\nConnection: close\r\n"
                    + "X-Content-Type-Options: nosniff\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] all = java.util.Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            return all;
        }
    }

    /**
     * What every connection is held to.
     *
     * @param maxLine request line, in bytes (414 beyond)
     * @param maxHeaders all header lines, in bytes (431 beyond)
     * @param maxChunk largest body chunk the codec hands on
     * @param silence a head must be whole within this of its first byte; a reader idle this long is reported
     * @param idle idle both ways this long: the connection is closed
     * @param connections open at once; more are answered 503 and closed
     */
    public record Limits(int maxLine, int maxHeaders, int maxChunk, Duration silence, Duration idle, int connections) {
        public Limits {
            if (maxLine < 1 || maxHeaders < 1 || maxChunk < 1) {
                throw new IllegalArgumentException("line, header and chunk limits must be positive, were "
                        + maxLine + ", " + maxHeaders + " and " + maxChunk);
            }
            if (silence.toMillis() < 1 || idle.toMillis() < 1) {
                throw new IllegalArgumentException("silence and idle limits must be positive, were " + silence + " and " + idle);
            }
            if (connections < 1) {
                throw new IllegalArgumentException("connections must be at least 1, was " + connections);
            }
        }
    }

    /**
     * The event loops a server runs on: they accept, read, and run the server's handlers.
     *
     * @param threads how many (a connection stays on one; the API's one loop hands slow work to its own threads,
     *                the mempool endpoint checks signatures on its loops and has two)
     * @param threadName their names' prefix (benchmarks count a server's CPU by it); daemon threads
     */
    public record Loops(int threads, String threadName) {
        public Loops {
            if (threads < 1) {
                throw new IllegalArgumentException("a server needs at least 1 event loop, was " + threads);
            }
        }
    }

    /** The server's own handlers, added after the codec of each connection. */
    @FunctionalInterface
    public interface Routes {
        /** Adds handlers to {@code p}; {@code head} is this connection's head deadline, for the handler that sees whole heads. */
        void addTo(ChannelPipeline p, HeadDeadline head);
    }

    private final String name;
    private final EventLoopGroup group;
    private final AtomicInteger connections = new AtomicInteger();
    private final Channel channel;

    private HttpServer(String name, InetSocketAddress bind, Limits limits, Loops loops, Refusals refusals, Routes routes) throws IOException {
        this.name = name;
        this.group = loops == null ? new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory())
                : new MultiThreadIoEventLoopGroup(loops.threads(), new DefaultThreadFactory(loops.threadName(), true), NioIoHandler.newFactory());
        long silence = limits.silence().toMillis();
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (connections.incrementAndGet() > limits.connections()) {
                            connections.decrementAndGet();
                            ch.writeAndFlush(Unpooled.wrappedBuffer(refusals.tooManyConnections()))
                                    .addListener(ChannelFutureListener.CLOSE);
                            return;
                        }
                        ch.closeFuture().addListener(f -> connections.decrementAndGet());
                        HeadDeadline head = new HeadDeadline(silence, refusals.headTimeout());
                        ch.pipeline().addLast(new IdleStateHandler(silence, 0, limits.idle().toMillis(), TimeUnit.MILLISECONDS))
                                .addLast(new CloseWhenIdle())
                                .addLast(head)
                                .addLast(new HttpServerCodec(limits.maxLine(), limits.maxHeaders(), limits.maxChunk()));
                        routes.addTo(ch.pipeline(), head);
                    }
                });
        try {
            channel = b.bind(bind).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully();
            throw new IOException("cannot listen for the " + name + " on " + bind + ": " + e.getMessage(), e);
        }
    }

    /**
     * Listens on {@code bind} (port 0: any free port) with one event loop (Netty's default threads).
     *
     * @param name what the server is, for errors ("API")
     * @throws IOException when the address cannot be bound
     */
    public static HttpServer start(String name, InetSocketAddress bind, Limits limits, Routes routes) throws IOException {
        return new HttpServer(name, bind, limits, null, Refusals.JSON, routes);
    }

    /**
     * Listens on {@code bind} (port 0: any free port) with the event loops {@code loops}.
     *
     * @param name what the server is, for errors ("mempool endpoint")
     * @throws IOException when the address cannot be bound
     */
    public static HttpServer start(String name, InetSocketAddress bind, Limits limits, Loops loops, Routes routes) throws IOException {
        return new HttpServer(name, bind, limits, loops, Refusals.JSON, routes);
    }

    /**
     * Listens on {@code bind} (port 0: any free port) with one event loop, writing {@code refusals} in the server's own format.
     *
     * @param name what the server is, for errors ("S3 gateway")
     * @throws IOException when the address cannot be bound
     */
    public static HttpServer start(String name, InetSocketAddress bind, Limits limits, Refusals refusals, Routes routes) throws IOException {
        return new HttpServer(name, bind, limits, null, refusals, routes);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Connections open now. */
    public int connections() {
        return connections.get();
    }

    /** Stops listening, closes the connections and waits (at most 2 s) for the event loop to end. */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Override
    public String toString() {
        return name + " on " + channel.localAddress();
    }

    /** Idle both ways: closed. Reader idle alone goes on to the server's handlers. */
    private static final class CloseWhenIdle extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent e && e.state() == IdleState.ALL_IDLE) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }
    }
}
