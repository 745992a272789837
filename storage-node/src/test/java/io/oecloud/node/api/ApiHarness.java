package io.oecloud.node.api;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.oecloud.http.HeadDeadline;
import io.oecloud.node.object.MemoryObjectStore;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The node's API in memory: each {@link #connect} is one connection's pipeline as the server
 * builds it (codec, gate, object routes, aggregator, JSON routes) on an {@link EmbeddedChannel},
 * in front of a {@link MemoryObjectStore}. Request work is queued and run by {@link Conn#run} on
 * the test's thread, so a test decides when an upload reads its body. Raw HTTP in, raw HTTP out.
 */
final class ApiHarness implements AutoCloseable {
    static final String TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static final String HOST = "127.0.0.1:8080";

    final MemoryObjectStore store = new MemoryObjectStore();
    private final ArrayDeque<Runnable> work = new ArrayDeque<>();
    private final ApiAccess access;
    private final NodeApiServer api;
    private final List<Conn> conns = new ArrayList<>();

    ApiHarness(boolean publicReads, NodeApiServer.Limits limits) {
        access = new ApiAccess(ApiToken.of(TOKEN), publicReads, List.of(), List.of());
        api = new NodeApiServer(null, store, access, limits, new Queued());
    }

    ApiHarness() {
        this(true, NodeApiServer.Limits.defaults());
    }

    /** A new connection from {@code client}. */
    Conn connect(String client) {
        Conn c = new Conn(client);
        conns.add(c);
        return c;
    }

    /** Runs queued request work (and what it queues on the channels) until none is left. */
    void run() {
        boolean any = true;
        while (any) {
            any = false;
            for (Runnable r; (r = work.poll()) != null; any = true) {
                r.run();
            }
            for (Conn c : conns) {
                c.ch.runPendingTasks();
            }
        }
    }

    @Override
    public void close() {
        for (Conn c : conns) {
            c.ch.finishAndReleaseAll();
        }
        api.close();
    }

    /** One client connection. */
    final class Conn {
        final EmbeddedChannel ch;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Conn(String client) {
            InetSocketAddress remote = new InetSocketAddress(client, 40000);
            ch = new EmbeddedChannel() {
                @Override
                protected SocketAddress remoteAddress0() {
                    return remote;
                }
            };
            HeadDeadline head = new HeadDeadline(TimeUnit.MINUTES.toMillis(1));
            ch.pipeline().addLast(head).addLast(new HttpServerCodec(NodeApiServer.MAX_LINE, NodeApiServer.MAX_HEADERS, NodeApiServer.MAX_CHUNK));
            api.addHandlers(ch.pipeline(), head, () -> access.hostsFor(new InetSocketAddress("127.0.0.1", 8080)), api.routes());
        }

        /** Sends raw bytes (a request, or part of one). */
        Conn send(String raw) {
            ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
            return this;
        }

        /** Sends {@code method target} with the Host and (when {@code token}) the API token, and {@code body}. */
        Conn request(String method, String target, boolean token, String extraHeaders, String body) {
            return send(method + " " + target + " HTTP/1.1\r\nHost: " + HOST + "\r\n" + (token ? "Authorization: Bearer " + TOKEN + "\r\n" : "")
                    + extraHeaders + (body == null ? "" : "Content-Length: " + body.getBytes(StandardCharsets.ISO_8859_1).length + "\r\n")
                    + "\r\n" + (body == null ? "" : body));
        }

        /** Everything the server wrote so far that was not taken yet, as text. */
        String raw() {
            run();
            for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
                try {
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes);
                    out.writeBytes(bytes);
                } finally {
                    b.release();
                }
            }
            String s = out.toString(StandardCharsets.ISO_8859_1);
            out.reset();
            return s;
        }

        /** The one whole answer written so far (not for HEAD: a decoder would wait for its body). */
        Answer answer() {
            EmbeddedChannel client = new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(64 << 20));
            client.writeInbound(Unpooled.copiedBuffer(raw(), StandardCharsets.ISO_8859_1));
            FullHttpResponse r = client.readInbound();
            try {
                if (r == null) {
                    throw new AssertionError("no whole answer");
                }
                return new Answer(r.status().code(), r.headers(), r.content().toString(StandardCharsets.ISO_8859_1));
            } finally {
                if (r != null) {
                    r.release();
                }
                client.finishAndReleaseAll();
            }
        }
    }

    /** An answer, copied out of Netty's buffers. */
    record Answer(int status, io.netty.handler.codec.http.HttpHeaders headers, String body) {
        String header(String name) {
            return headers.get(name);
        }
    }

    /** Work waits in the harness's queue until {@link #run}. */
    private final class Queued extends AbstractExecutorService {
        private boolean shutdown;

        @Override
        public void execute(Runnable command) {
            work.add(command);
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            List<Runnable> left = new ArrayList<>(work);
            work.clear();
            return left;
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }
    }
}
