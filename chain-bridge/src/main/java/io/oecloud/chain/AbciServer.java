package io.oecloud.chain;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.Response;
import io.oecloud.chain.abci.AbciTypesProto.ResponseException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The ABCI socket server CometBFT connects to (its consensus, mempool, query and snapshot
 * connections): uvarint-length-prefixed protobuf Requests in, Responses out, in order. Every call
 * runs on one application thread, so the ledger sees them one at a time in arrival order; a frame
 * longer than the limit is refused from its length prefix, before anything is allocated.
 */
public final class AbciServer implements AutoCloseable {
    /** Largest request accepted: CometBFT's default maximum block is 21 MiB. */
    public static final int MAX_FRAME = 64 << 20;
    private static final System.Logger LOG = System.getLogger(AbciServer.class.getName());

    private final LedgerApp app;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ExecutorService appThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "abci-app");
        t.setDaemon(true);
        return t;
    });
    private Channel channel;

    public AbciServer(LedgerApp app) {
        this.app = app;
    }

    public AbciServer start(InetSocketAddress bind) throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new UvarintFrames(MAX_FRAME)).addLast(new Handler());
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

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Splits the stream into frames by their uvarint length prefix. */
    static final class UvarintFrames extends ByteToMessageDecoder {
        private final int max;

        UvarintFrames(int max) {
            this.max = max;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            in.markReaderIndex();
            long len = 0;
            for (int shift = 0; ; shift += 7) {
                if (!in.isReadable()) {
                    in.resetReaderIndex();
                    return;
                }
                if (shift > 35) {
                    throw new CorruptedFrameException("ABCI length prefix longer than 5 bytes");
                }
                int b = in.readUnsignedByte();
                len |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
            if (len > max) {
                throw new TooLongFrameException("ABCI frame of " + len + " bytes exceeds " + max);
            }
            if (in.readableBytes() < len) {
                in.resetReaderIndex();
                return;
            }
            out.add(in.readRetainedSlice((int) len));
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            Request req;
            try (ByteBufInputStream in = new ByteBufInputStream(frame)) {
                req = Request.parseFrom(in);
            } catch (IOException e) {
                write(ctx, exception("malformed ABCI request: " + e.getMessage()));
                return;
            }
            appThread.execute(() -> {
                Response resp;
                try {
                    resp = app.handle(req);
                } catch (Exception | Error e) { // CometBFT stops on an exception answer: that is what we want
                    LOG.log(System.Logger.Level.ERROR, "ABCI " + req.getValueCase() + " failed", e);
                    resp = exception(req.getValueCase() + " failed: " + e);
                }
                write(ctx, resp);
            });
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

    private static void write(ChannelHandlerContext ctx, Response resp) {
        byte[] body = resp.toByteArray();
        ByteBuf out = ctx.alloc().buffer(5 + body.length);
        long v = body.length;
        while ((v & ~0x7fL) != 0) {
            out.writeByte((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.writeByte((int) v);
        out.writeBytes(body);
        // Like CometBFT's own server: responses are flushed when a Flush is answered (its client
        // sends one whenever it waits for answers), so a burst of CheckTx answers is one write,
        // and a write from the app thread does not wake the event loop until then.
        if (resp.hasFlush() || resp.hasException()) {
            ctx.writeAndFlush(out);
        } else {
            ctx.write(out);
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        appThread.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
