package io.oecloud.chain;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The ledger's mempool over HTTP:
 * <ul>
 *   <li>{@code POST /v1/chain/txs[?wait=commit]}: a client's signed transaction (1 byte to 64 KiB);
 *       answers {hash, code, log} once the mempool has it, or with {@code wait=commit} once its block
 *       is committed (adding {height}). 200 when admitted (or applied), 422 with the ledger's code
 *       and message when refused, 503 when the mempool is full (or, admitted, too many clients
 *       already wait for blocks to wait for this one), 504 when no block took it within
 *       30 s (it may still come: {@code GET /v1/chain/txs/HASH}).</li>
 *   <li>{@code POST /v1/chain/mempool}: a batch gossiped by another super-node ({@link TxGossip}),
 *       up to 8 MiB; answers {received, admitted}.</li>
 *   <li>{@code GET /v1/chain/mempool}: {pending}.</li>
 * </ul>
 * Connections are kept alive; an idle one is closed after a minute.
 */
public final class TxServer implements AutoCloseable {
    static final int MAX_BODY = 8 << 20;
    static final long COMMIT_WAIT_MILLIS = 30_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LedgerApp app;
    private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1,
            new io.netty.util.concurrent.DefaultThreadFactory("tx-accept", true), NioIoHandler.newFactory());
    private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2,
            new io.netty.util.concurrent.DefaultThreadFactory("tx-http", true), NioIoHandler.newFactory());
    private Channel channel;

    public TxServer(LedgerApp app) {
        this.app = app;
    }

    public TxServer start(InetSocketAddress bind) throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(60, TimeUnit.SECONDS)).addLast(new HttpServerCodec())
                                .addLast(new HttpServerKeepAliveHandler()).addLast(new HttpObjectAggregator(MAX_BODY))
                                .addLast(new Handler());
                    }
                });
        try {
            channel = b.bind(bind).sync().channel();
        } catch (Exception e) {
            close();
            throw new IOException("cannot listen for transactions on " + bind + ": " + e.getMessage(), e);
        }
        return this;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** An HTTP answer: status and JSON body. */
    public record Answer(int status, Map<String, Object> body) {
    }

    /**
     * A client's transaction into {@code app}'s mempool, and with {@code waitCommit} until its
     * block commits: what {@code POST /v1/chain/txs} answers (the storage node's API answers the same).
     */
    public static CompletableFuture<Answer> submit(LedgerApp app, byte[] tx, boolean waitCommit) {
        if (tx.length == 0 || tx.length > Ledger.MAX_TX_BYTES) {
            return CompletableFuture.completedFuture(new Answer(400, Map.of("error",
                    "a transaction is 1 to " + Ledger.MAX_TX_BYTES + " bytes, was " + tx.length)));
        }
        LedgerApp.Submission s = app.submit(tx, true, waitCommit);
        LedgerApp.Admission a = s.admission();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("hash", a.hash());
        out.put("code", a.code().value());
        out.put("log", a.log());
        if (!a.ok()) {
            return CompletableFuture.completedFuture(new Answer(a.code() == Ledger.Code.MEMPOOL_FULL ? 503 : 422, out));
        }
        if (s.committed() == null) {
            return CompletableFuture.completedFuture(new Answer(200, out));
        }
        CompletableFuture<LedgerApp.Committed> wait = s.committed();
        return wait.orTimeout(COMMIT_WAIT_MILLIS, TimeUnit.MILLISECONDS).handle((c, e) -> {
            if (e == null) {
                out.put("code", c.code());
                out.put("log", c.log());
                out.put("height", c.height());
                return new Answer(c.code() == 0 ? 200 : 422, out);
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof LedgerApp.DroppedException d) {
                out.put("code", d.code.value());
                out.put("log", d.getMessage());
                return new Answer(422, out);
            }
            if (cause instanceof LedgerApp.TooManyWaitersException) {
                out.put("log", cause.getMessage() + " (GET /v1/chain/txs/" + a.hash() + " tells when it is committed)");
                return new Answer(503, out);
            }
            app.forget(a.hash(), wait);
            out.put("log", cause instanceof TimeoutException ? "no block took it within " + COMMIT_WAIT_MILLIS / 1000
                    + " s; it may still be committed (GET /v1/chain/txs/" + a.hash() + ")" : cause.toString());
            return new Answer(504, out);
        });
    }

    /** A gossiped batch: {uvarint length, bytes} repeated, each transaction checked like a client's. */
    static Answer receiveBatch(LedgerApp app, ByteBuf body) {
        int received = 0;
        int admitted = 0;
        while (body.isReadable()) {
            long len = readUvarint(body);
            if (len < 1 || len > Ledger.MAX_TX_BYTES || len > body.readableBytes()) {
                return new Answer(400, Map.of("error", "gossip batch entry " + received + " has length " + len
                        + " (1 to " + Ledger.MAX_TX_BYTES + ", within the body)", "received", received, "admitted", admitted));
            }
            byte[] tx = new byte[(int) len];
            body.readBytes(tx);
            received++;
            admitted += app.submit(tx, false, false).admission().ok() ? 1 : 0;
        }
        return new Answer(200, Map.of("received", received, "admitted", admitted));
    }

    private static long readUvarint(ByteBuf in) {
        long v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (!in.isReadable()) {
                return -1;
            }
            byte b = in.readByte();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        return -1;
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String path = q.path();
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (req.method().equals(HttpMethod.POST) && path.equals("/v1/chain/txs")) {
                byte[] tx = new byte[req.content().readableBytes()];
                req.content().readBytes(tx);
                boolean wait = q.parameters().getOrDefault("wait", List.of()).contains("commit");
                submit(app, tx, wait).thenAccept(a -> reply(ctx, a, keepAlive));
            } else if (req.method().equals(HttpMethod.POST) && path.equals("/v1/chain/mempool")) {
                reply(ctx, receiveBatch(app, req.content()), keepAlive);
            } else if (req.method().equals(HttpMethod.GET) && path.equals("/v1/chain/mempool")) {
                reply(ctx, new Answer(200, Map.of("pending", app.pending())), keepAlive);
            } else {
                reply(ctx, new Answer(404, Map.of("error", "no route for " + req.method() + " " + path
                        + " (POST /v1/chain/txs, POST and GET /v1/chain/mempool)")), keepAlive);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static void reply(ChannelHandlerContext ctx, Answer a, boolean keepAlive) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(a.body());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(a.status()),
                Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON).setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        HttpUtil.setKeepAlive(r, keepAlive);
        var f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
