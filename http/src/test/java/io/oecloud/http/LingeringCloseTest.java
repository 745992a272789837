package io.oecloud.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A server that refuses a body still arriving: the client reads the refusal instead of a reset. */
class LingeringCloseTest {
    private static final byte[] REFUSAL = "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Answers the first bytes it reads with a refusal, then ends the connection with {@code after}. */
    private int serve(ChannelFutureListener after) {
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            boolean answered;

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg);
                                if (!answered) {
                                    answered = true;
                                    ctx.writeAndFlush(Unpooled.wrappedBuffer(REFUSAL)).addListener(after);
                                }
                            }
                        });
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** A connection to {@code port} that has sent the head of a POST announcing {@code length} bytes. */
    private static Socket post(int port, long length) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void aClientStillSendingItsBody_readsTheRefusalAndThenTheEnd() throws Exception {
        int port = serve(Boolean.getBoolean("plainclose") ? ChannelFutureListener.CLOSE : LingeringClose.AFTER);
        for (int round = 0; round < 5; round++) {
            try (Socket s = post(port, 4 << 20)) {
                OutputStream out = s.getOutputStream();
                byte[] piece = new byte[64 << 10];
                for (int i = 0; i < 64; i++) { // 4 MiB: the server answered after the first bytes and reads none of these
                    out.write(piece);
                }
                s.shutdownOutput();
                String answer = readAll(s.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 413"), "round " + round + ": " + answer);
            }
        }
    }

    @Test
    void aClientThatNeitherStopsNorCloses_isClosedWithinTheTimeLimit() throws Exception {
        int port = serve(LingeringClose.AFTER);
        try (Socket s = post(port, 99_999)) {
            OutputStream out = s.getOutputStream();
            assertTrue(readAll(s.getInputStream()).startsWith("HTTP/1.1 413")); // the answer, then the server's FIN
            long start = System.nanoTime();
            IOException cut = null;
            for (int i = 0; i < 500 && cut == null; i++) { // a trickle, far under the drop limit: only the clock ends it
                try {
                    out.write(new byte[16]);
                    out.flush();
                    Thread.sleep(20);
                } catch (IOException e) {
                    cut = e;
                }
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(cut != null, "the server still read after " + millis + " ms");
            assertTrue(millis >= LingeringClose.MAX_MILLIS - 100 && millis < LingeringClose.MAX_MILLIS + 3_000, millis + " ms");
        }
    }

    @Test
    void aClientSendingMoreThanTheDropLimit_isCut() throws Exception {
        int port = serve(LingeringClose.AFTER);
        try (Socket s = post(port, 99_999_999)) {
            OutputStream out = s.getOutputStream();
            byte[] piece = new byte[64 << 10];
            long sent = 0;
            IOException cut = null;
            try {
                while (sent < 4 * LingeringClose.MAX_BYTES) {
                    out.write(piece);
                    sent += piece.length;
                }
            } catch (IOException e) {
                cut = e;
            }
            assertTrue(cut != null, "sent " + sent + " bytes and the server still read them");
            assertTrue(sent < 2 * LingeringClose.MAX_BYTES + (4 << 20), "sent " + sent);
        }
    }
}
