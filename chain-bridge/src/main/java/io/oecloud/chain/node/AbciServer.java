package io.oecloud.chain.node;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.Response;
import io.oecloud.chain.abci.AbciTypesProto.ResponseException;
import io.oecloud.wire.LengthPrefixDecoder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The ABCI socket server CometBFT connects to (its consensus, mempool, query and snapshot
 * connections): uvarint-length-prefixed protobuf Requests in, Responses out, in order. Every call
 * runs on the server's one thread, so the ledger sees them one at a time in arrival order; a frame
 * longer than the limit is refused from its length prefix, before anything is allocated.
 */
final class AbciServer implements AutoCloseable {
    /** Largest request accepted: CometBFT's default maximum block is 21 MiB. */
    public static final int MAX_FRAME = 64 << 20;
    /** Five bytes of varint hold any int (64 MiB takes four); a longer prefix is no length at all. */
    private static final int MAX_PREFIX = 5;
    private static final System.Logger LOG = System.getLogger(AbciServer.class.getName());

    private final LedgerApp app;
    /** One thread serves every connection: the ledger is never called concurrently. */
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
            new io.netty.util.concurrent.DefaultThreadFactory("abci-app", true), NioIoHandler.newFactory());
    private Channel channel;

    public AbciServer(LedgerApp app) {
        this.app = app;
    }

    public AbciServer start(InetSocketAddress bind) throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        configure(ch.pipeline());
                    }
                });
        try {
            channel = b.bind(bind).sync().channel();
        } catch (Exception e) {
            close();
            throw new IOException("cannot listen for ABCI on " + bind + ": " + e.getMessage(), e);
        }
        return this;
    }

    /** The handlers of one ABCI connection: the socket's, or an {@code EmbeddedChannel}'s in tests. */
    void configure(ChannelPipeline pipeline) {
        pipeline.addLast(new LengthPrefixDecoder("ABCI", MAX_PREFIX, MAX_FRAME)).addLast(new Handler());
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /**
     * Runs each request where it is read: the server's one event loop serves all of CometBFT's
     * connections, so the ledger sees calls one at a time in arrival order without a hand-off to
     * another thread and back (two thread wake-ups per request, which cost more than most
     * requests). Answers gather in one buffer that is written when a Flush (or an exception) is
     * answered, as CometBFT's own server does: its client sends a Flush whenever it waits for
     * answers, so a burst of CheckTx answers is one write. The loop is this server's alone, so a
     * slow Commit holds up nothing but the ABCI requests that would have waited for it anyway.
     */
    private final class Handler extends SimpleChannelInboundHandler<ByteBuf> {
        private ByteBuf pending;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            Request req;
            try (ByteBufInputStream in = new ByteBufInputStream(frame)) {
                req = Request.parseFrom(in);
            } catch (IOException e) {
                answer(ctx, exception("malformed ABCI request: " + e.getMessage()));
                return;
            }
            Response resp;
            try {
                resp = app.handle(req);
            } catch (Exception | Error e) { // CometBFT stops on an exception answer: that is what we want
                LOG.log(System.Logger.Level.ERROR, "ABCI " + req.getValueCase() + " failed", e);
                resp = exception(req.getValueCase() + " failed: " + e);
            }
            answer(ctx, resp);
        }

        /** Appends a uvarint-length-prefixed answer; written out at a Flush. */
        private void answer(ChannelHandlerContext ctx, Response resp) {
            if (pending == null) {
                pending = ctx.alloc().buffer(256);
            }
            try {
                resp.writeDelimitedTo(new ByteBufOutputStream(pending));
            } catch (IOException e) {
                throw new IllegalStateException("a ByteBuf does not fail writes", e);
            }
            if (resp.hasFlush() || resp.hasException()) {
                ByteBuf out = pending;
                pending = null;
                ctx.writeAndFlush(out);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (pending != null) {
                pending.release();
                pending = null;
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.WARNING, "ABCI connection closed: {0}", cause.getMessage());
            ctx.close();
        }
    }

    private static Response exception(String message) {
        return Response.newBuilder().setException(ResponseException.newBuilder().setError(message)).build();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
