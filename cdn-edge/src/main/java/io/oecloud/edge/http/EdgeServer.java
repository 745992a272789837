package io.oecloud.edge.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.oecloud.http.HeadDeadline;
import io.oecloud.edge.EdgeCache;
import io.oecloud.edge.EdgeConfig;
import io.oecloud.http.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The edge's HTTP front on the project's server base ({@link HttpServer}: head deadline, idle
 * close, line and header caps, a connection cap), plus a cap on connections from one address
 * (429 and close beyond it, so one client cannot take the others' share) and bodies of at most
 * 4 KiB (a GET has none; 413 beyond). Requests go to {@link EdgeHandler}. HTTP/2 by the h2c
 * upgrade: a request with {@code Upgrade: h2c} turns the connection into HTTP/2, whose streams
 * (at most {@value #MAX_STREAMS} open at once) go to the same handler. With a certificate
 * ({@link EdgeConfig.Tls}) the edge speaks TLS only, and ALPN chooses HTTP/2 or HTTP/1.1.
 */
public final class EdgeServer implements AutoCloseable {
    /** Request line and headers: generous for browsers, small enough that a flood is cut short. */
    static final int MAX_LINE = 8 << 10;
    static final int MAX_HEADERS = 16 << 10;
    static final int MAX_BODY = 4 << 10;
    /** Streams one HTTP/2 connection may have open at once (each a request served on its own). */
    static final int MAX_STREAMS = 100;

    private final HttpServer server;

    private EdgeServer(HttpServer server) {
        this.server = server;
    }

    /**
     * Listens on {@code config.bind()}.
     *
     * @param metricsText the Prometheus text {@code GET /metrics} answers
     */
    public static EdgeServer start(EdgeConfig config, EdgeCache cache, Sites sites, Supplier<String> metricsText) throws IOException {
        EdgeHandler.Shared shared = EdgeHandler.Shared.of(cache, sites, config.token(), metricsText, config.writeDeadline());
        PerAddress perAddress = new PerAddress(config.perAddress());
        HttpServer.Limits limits = new HttpServer.Limits(MAX_LINE, MAX_HEADERS, 64 << 10, config.headDeadline(),
                Duration.ofSeconds(60), config.connections());
        // HTTP/2 over cleartext by the Upgrade header (RFC 7540, 3.2): each stream becomes a child
        // channel that speaks HTTP/1 objects to the same handler, one request a stream
        ChannelInitializer<Http2StreamChannel> stream = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true)).addLast(new HttpObjectAggregator(MAX_BODY))
                        .addLast(new EdgeHandler(shared, null));
            }
        };
        SslContext ssl = config.tls() == null ? null : tls(config.tls());
        HttpServer s = HttpServer.start("edge", config.bind(), limits,
                new HttpServer.Loops(Math.max(1, Runtime.getRuntime().availableProcessors()), "edge-http"),
                (p, head) -> {
                    if (ssl != null) {
                        p.addFirst("tls", ssl.newHandler(p.channel().alloc()));
                        p.addAfter("tls", "alpn", new Alpn(head, stream));
                    }
                    p.addLast(perAddress)
                            .addLast(new HttpServerUpgradeHandler(p.get(HttpServerCodec.class), protocol ->
                                    AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol) && ssl == null
                                            ? new Http2ServerUpgradeCodec(http2(), new Http2MultiplexHandler(stream)) : null, MAX_BODY))
                            .addLast(new HttpObjectAggregator(MAX_BODY)).addLast(new EdgeHandler(shared, head));
                });
        return new EdgeServer(s);
    }

    private static Http2FrameCodec http2() {
        return Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(MAX_STREAMS).maxHeaderListSize(MAX_HEADERS))
                .build();
    }

    /** The server's TLS: the configured certificate, HTTP/2 and HTTP/1.1 offered by ALPN (JDK provider). */
    private static SslContext tls(EdgeConfig.Tls t) throws IOException {
        try {
            return SslContextBuilder.forServer(t.certificateChain().toFile(), t.privateKey().toFile())
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                    .build();
        } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
            throw new IOException("cannot use the certificate " + t.certificateChain() + " with the key " + t.privateKey()
                    + " (PEM, the key in PKCS#8): " + e.getMessage(), e);
        }
    }

    /**
     * After the TLS handshake: HTTP/1.1 keeps the pipeline as it is; HTTP/2 replaces the HTTP/1
     * handlers (codec, head deadline, upgrade, aggregator, handler) with the HTTP/2 codec, whose
     * streams go to the edge's handler one request each.
     */
    private static final class Alpn extends ApplicationProtocolNegotiationHandler {
        private final HeadDeadline head;
        private final ChannelInitializer<Http2StreamChannel> stream;

        Alpn(HeadDeadline head, ChannelInitializer<Http2StreamChannel> stream) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.head = head;
            this.stream = stream;
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                return;
            }
            ChannelPipeline p = ctx.pipeline();
            head.arrived(); // its timer stops: HTTP/2 frames are not heads (the idle limit still closes a silent connection)
            p.remove(head);
            p.remove(HttpServerCodec.class);
            p.remove(HttpServerUpgradeHandler.class);
            p.remove(HttpObjectAggregator.class);
            p.remove(EdgeHandler.class);
            p.addLast(http2(), new Http2MultiplexHandler(stream));
        }
    }

    public InetSocketAddress address() {
        return server.address();
    }

    @Override
    public void close() {
        server.close();
    }

    /** Open connections per remote address, capped: 429 and close for one over the cap. */
    @ChannelHandler.Sharable
    static final class PerAddress extends ChannelInboundHandlerAdapter {
        private static final io.netty.util.AttributeKey<Boolean> REJECTED = io.netty.util.AttributeKey.valueOf("oe-edge-rejected");
        private final int max;
        private final ConcurrentHashMap<InetAddress, AtomicInteger> open = new ConcurrentHashMap<>();

        PerAddress(int max) {
            this.max = max;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            InetAddress a = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
            AtomicInteger n = open.compute(a, (k, v) -> {
                AtomicInteger c = v == null ? new AtomicInteger() : v;
                c.incrementAndGet();
                return c;
            });
            ctx.channel().closeFuture().addListener(f -> open.computeIfPresent(a, (k, v) -> v.decrementAndGet() == 0 ? null : v));
            if (n.get() > max) {
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.TOO_MANY_REQUESTS,
                        Unpooled.copiedBuffer("too many connections from your address (" + max + " at most)\n", StandardCharsets.UTF_8));
                r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes()).set(HttpHeaderNames.CONNECTION, "close")
                        .set(HttpHeaderNames.RETRY_AFTER, 1);
                ctx.channel().attr(REJECTED).set(Boolean.TRUE);
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            super.channelActive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (ctx.channel().hasAttr(REJECTED)) {
                io.netty.util.ReferenceCountUtil.release(msg); // answered 429 and closing: nothing of it is served
                return;
            }
            super.channelRead(ctx, msg);
        }
    }
}
