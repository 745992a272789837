package io.oecloud.chain.node;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
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
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.wire.LengthPrefix;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Hands the transactions this super-node admits from its clients to the other super-nodes, so
 * whichever of them proposes next can put them in its block. One keep-alive HTTP connection per
 * peer with one request in flight: what arrives while a request is out goes in the next one, so
 * batches grow with the load and no timer is needed. The body of {@code POST /v1/chain/mempool}
 * is {uvarint length, transaction bytes} repeated ({@link TxServer} reads it), at most 4 MiB and
 * {@link #MAX_BATCH_TXS} transactions, signed by this node's key for its receiver
 * ({@link GossipAuth}: receivers accept batches from known super-nodes only).
 *
 * <p>A peer that cannot be reached loses what was queued for it (the transactions still reach
 * blocks through this node's own proposals) and is tried again after a second; a peer that does
 * not answer within the deadline is treated the same way. {@link #settled} tells when what was
 * offered has been delivered or given up on.
 */
final class TxGossip implements AutoCloseable {
    /** Largest batch body: what {@link TxServer#MAX_BODY} accepts. */
    static final int MAX_BATCH_BYTES = 4 << 20;
    /** Most transactions in one batch: what {@link TxServer} accepts. */
    static final int MAX_BATCH_TXS = 20_000;
    /** Transactions queued for one peer at most; more are dropped for that peer. */
    static final int MAX_QUEUED = 20_000;
    static final long DEADLINE_SECONDS = 10;
    static final java.time.Duration RETRY = java.time.Duration.ofSeconds(1);
    private static final System.Logger LOG = System.getLogger(TxGossip.class.getName());

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
            new io.netty.util.concurrent.DefaultThreadFactory("tx-gossip", true), NioIoHandler.newFactory());
    private final List<Peer> peers;
    private final long retryNanos;
    private final io.oecloud.dht.Identity self;
    private final java.util.function.Supplier<String> chainId;
    private final java.util.function.LongSupplier clock;
    private final java.util.concurrent.atomic.AtomicLong offered = new java.util.concurrent.atomic.AtomicLong();
    /** Futures of {@link #settled}, by the count they wait for. */
    private final java.util.List<java.util.Map.Entry<Long, CompletableFuture<Void>>> waiting = new java.util.ArrayList<>();

    /**
     * Gossip to {@code peers}, signed with {@code self} (this node's key) for each receiver.
     *
     * @param chainId the chain's ID when batches are signed (known once the ledger has its genesis)
     * @param retry how long an unreachable peer is left alone before the next try
     * @param clock milliseconds since 1970, the time each batch is signed with
     */
    public TxGossip(List<TxService.Peer> peers, io.oecloud.dht.Identity self, java.util.function.Supplier<String> chainId,
                    java.time.Duration retry, java.util.function.LongSupplier clock) {
        this.retryNanos = retry.toNanos();
        this.self = self;
        this.chainId = chainId;
        this.clock = clock;
        this.peers = peers.stream().map(p -> new Peer(p.address(), p.peerId())).toList();
    }

    /** Queues {@code tx} for every peer. */
    public void offer(byte[] tx) {
        offered.incrementAndGet();
        for (Peer p : peers) {
            p.offer(tx);
        }
    }

    /** Transactions offered since the start. */
    public long offered() {
        return offered.get();
    }

    /**
     * Completes once every peer has settled the first {@code count} transactions offered: each
     * delivered (answered), or given up on (dropped while the peer was unreachable or its queue
     * full). What a caller waits for instead of the clock.
     */
    public CompletableFuture<Void> settled(long count) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (waiting) {
            waiting.add(java.util.Map.entry(count, f));
        }
        checkWaiting();
        return f;
    }

    private void checkWaiting() {
        List<CompletableFuture<Void>> done = new java.util.ArrayList<>();
        synchronized (waiting) {
            if (waiting.isEmpty()) {
                return;
            }
            long least = peers.stream().mapToLong(p -> p.settled.get()).min().orElse(Long.MAX_VALUE);
            waiting.removeIf(w -> w.getKey() <= least && done.add(w.getValue()));
        }
        done.forEach(f -> f.complete(null));
    }

    /** Transactions sent to peers and acknowledged, over all peers. */
    public long delivered() {
        return peers.stream().mapToLong(p -> p.delivered).sum();
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Peer {
        private final InetSocketAddress address;
        private final String peerId;
        private final EventLoop loop = group.next();
        private final ConcurrentLinkedQueue<byte[]> queue = new ConcurrentLinkedQueue<>();
        private final AtomicInteger queued = new AtomicInteger();
        /** A batch is being sent (or about to be): only one at a time. */
        private final AtomicBoolean busy = new AtomicBoolean();
        private volatile long retryAfter = System.nanoTime();
        private volatile long delivered;
        /** Offered transactions delivered or given up on: each is counted once. */
        private final java.util.concurrent.atomic.AtomicLong settled = new java.util.concurrent.atomic.AtomicLong();
        // event loop only
        private Channel channel;
        private int inFlight;
        /** The last answer's status (a refusal is logged when it starts, not for every batch). */
        private int lastRefusal = 200;

        Peer(InetSocketAddress address, String peerId) {
            this.address = address;
            this.peerId = peerId;
        }

        void offer(byte[] tx) {
            if (System.nanoTime() - retryAfter < 0) {
                settle(1); // unreachable a moment ago: given up on
                return;
            }
            if (queued.incrementAndGet() > MAX_QUEUED) {
                queued.decrementAndGet();
                settle(1);
                return;
            }
            queue.add(tx);
            pump();
        }

        private void pump() {
            if (busy.compareAndSet(false, true)) {
                loop.execute(this::send);
            }
        }

        private void send() {
            ByteBuf body = null;
            int n = 0;
            for (byte[] tx; (tx = queue.peek()) != null; ) {
                if (body == null) {
                    body = io.netty.buffer.PooledByteBufAllocator.DEFAULT.buffer(64 << 10);
                } else if (body.readableBytes() + tx.length + 5 > MAX_BATCH_BYTES || n >= MAX_BATCH_TXS) {
                    break;
                }
                queue.poll();
                queued.decrementAndGet();
                LengthPrefix.writeUvarint(body, tx.length);
                body.writeBytes(tx);
                n++;
            }
            if (body == null) {
                idle();
                return;
            }
            DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chain/mempool", body);
            req.headers().set(HttpHeaderNames.HOST, address.getHostString())
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            String chain = chainId.get();
            if (chain == null) { // nothing is admitted before the genesis, so nothing is queued: kept for safety
                req.release();
                inFlight = n;
                failed("no genesis yet");
                return;
            }
            java.security.MessageDigest sha = Ledger.sha256();
            sha.update(body.nioBuffer());
            GossipAuth.sign(req.headers(), self, chain, peerId, sha.digest(), clock.getAsLong());
            inFlight = n;
            if (channel != null && channel.isActive()) {
                write(req);
                return;
            }
            new Bootstrap().group(loop).channel(NioSocketChannel.class).option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new ReadTimeoutHandler(DEADLINE_SECONDS, TimeUnit.SECONDS))
                                    .addLast(new HttpClientCodec()).addLast(new HttpObjectAggregator(64 << 10))
                                    .addLast(new Answers());
                        }
                    }).connect(address).addListener(f -> {
                        if (f.isSuccess()) {
                            channel = ((io.netty.channel.ChannelFuture) f).channel();
                            write(req);
                        } else {
                            req.release();
                            failed("cannot connect: " + f.cause().getMessage());
                        }
                    });
        }

        private void write(DefaultFullHttpRequest req) {
            channel.writeAndFlush(req).addListener(f -> {
                if (!f.isSuccess()) {
                    failed("cannot send: " + f.cause().getMessage());
                }
            });
        }

        /** On the event loop, when the batch in flight has its answer. */
        private void answered(int status) {
            if (inFlight == 0) {
                return;
            }
            if (status == 200) {
                delivered += inFlight;
            } else if ((status == 401 || status == 403) && lastRefusal != status) {
                // not ours to fix by retrying: its configuration or ours names the wrong key, or a clock is off
                LOG.log(System.Logger.Level.WARNING, "super-node {0} refuses this node''s gossip (HTTP {1}): check that its "
                        + "mempool.json names this node''s peer ID {2}, that {3} is its peer ID, and both clocks", address, status,
                        self.peerId(), peerId);
            } else {
                LOG.log(System.Logger.Level.DEBUG, "super-node {0} refused a gossip batch with HTTP {1}", address, status);
            }
            lastRefusal = status;
            int n = inFlight;
            inFlight = 0;
            idle();
            settle(n);
        }

        /** On the event loop: the peer is unreachable; what was queued for it is dropped. */
        private void failed(String why) {
            if (channel != null) {
                channel.close();
                channel = null;
            }
            if (inFlight == 0 && !busy.get()) {
                return;
            }
            LOG.log(System.Logger.Level.DEBUG, "gossip to super-node {0}: {1}", address, why);
            int n = inFlight;
            inFlight = 0;
            retryAfter = System.nanoTime() + retryNanos;
            while (queue.poll() != null) { // what waited for this peer is dropped with the batch
                queued.decrementAndGet();
                n++;
            }
            idle();
            settle(n);
        }

        private void settle(int n) {
            settled.addAndGet(n);
            checkWaiting();
        }

        private void idle() {
            busy.set(false);
            if (!queue.isEmpty()) {
                pump(); // offered while the flag was still up
            }
        }

        private final class Answers extends SimpleChannelInboundHandler<FullHttpResponse> {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                answered(r.status().code());
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                if (ctx.channel() == channel) {
                    channel = null;
                    if (inFlight > 0) {
                        failed("the connection closed before the answer");
                    }
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                if (ctx.channel() == channel && inFlight > 0) {
                    failed(cause.toString());
                } else {
                    ctx.close();
                }
            }
        }
    }
}
