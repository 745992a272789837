package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A Yamux session over the secure channel: the connection as the rest of the host sees it.
 *
 * <pre>
 *   socket -> SecurityNegotiator -> NoiseHandler -> [MuxerNegotiator] -> YamuxSession -> streams
 * </pre>
 *
 * Frames are parsed from the decrypted byte stream; data frames are checked against the stream's
 * receive window before they are buffered, so a peer cannot make us hold more than the credit we
 * gave it. Each stream negotiates its protocol with multistream-select before its handler sees a
 * byte. Limits: {@link HostConfig#maxStreamsPerConnection()} open streams (more are reset), a
 * negotiation deadline, an idle deadline per stream, keep-alive pings answered within the
 * connection deadline. Everything runs on the channel's event loop.
 */
final class YamuxSession extends ChannelDuplexHandler implements Connection {
    /** A data frame plus its header fits in one Noise frame. */
    static final int MAX_DATA_FRAME = NoiseHandler.MAX_PLAINTEXT - Yamux.HEADER;
    private static final long PING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(15);

    private final ConnectionSetup setup;
    private final Host host;
    private final PeerId remotePeer;
    private byte[] remoteKey;
    private ChannelHandlerContext ctx;
    private final IntObjectHashMap<P2pStream> streams = new IntObjectHashMap<>();
    private final LinkedHashSet<P2pStream> blocked = new LinkedHashSet<>();
    private int nextStreamId;
    private int inboundStreams;
    private boolean goAwayReceived;
    private boolean closed;
    private ByteBuf cumulation;
    private int skipBytes; // rest of a data frame for a stream we no longer know
    private ScheduledFuture<?> ticker;
    private long pingSentNanos;
    /** Sum of the streams' receive windows beyond their initial 256 KiB. */
    private long grownWindows;
    private int pingId;

    YamuxSession(ConnectionSetup setup, PeerId remotePeer) {
        this.setup = setup;
        this.host = setup.host();
        this.remotePeer = remotePeer;
        this.nextStreamId = setup.initiator() ? 1 : 2;
    }

    // ---- Connection ----

    @Override
    public PeerId remotePeer() {
        return remotePeer;
    }

    @Override
    public byte[] remotePublicKey() {
        return remoteKey == null ? null : remoteKey.clone();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a : null;
    }

    @Override
    public boolean isOutbound() {
        return setup.initiator();
    }

    @Override
    public boolean isOpen() {
        return !closed && ctx.channel().isActive();
    }

    /** Capacity of the decode buffer (tests check that it stays bounded). */
    int bufferedCapacity() {
        return cumulation == null ? 0 : cumulation.capacity();
    }

    @Override
    public int streamCount() {
        return streams.size();
    }

    EventLoop eventLoop() {
        return ctx.channel().eventLoop();
    }

    io.netty.buffer.ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    ChannelPromise newPromise() {
        return ctx.newPromise();
    }

    void run(Runnable r) {
        if (eventLoop().inEventLoop()) {
            r.run();
        } else {
            eventLoop().execute(r);
        }
    }

    @Override
    public CompletableFuture<P2pStream> newStream(String protocol, StreamHandler handler) {
        CompletableFuture<P2pStream> f = new CompletableFuture<>();
        run(() -> {
            if (!isOpen() || goAwayReceived) {
                f.completeExceptionally(new ProtocolException("connection to " + remotePeer + " is closed"));
                return;
            }
            if (streams.size() >= host.config().maxStreamsPerConnection()) {
                f.completeExceptionally(new ProtocolException("too many streams to " + remotePeer));
                return;
            }
            int id = nextStreamId;
            nextStreamId += 2;
            P2pStream s = new P2pStream(this, id, true, handler);
            s.opened = f;
            s.negotiation = Negotiation.dialler(protocol);
            streams.put(id, s);
            ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
            Yamux.writeHeader(h, Yamux.TYPE_WINDOW_UPDATE, Yamux.SYN, id, 0);
            ctx.write(h);
            s.synSent = true;
            s.write(s.negotiation.opening(ctx.alloc()));
            scheduleNegotiationDeadline(s);
        });
        return f;
    }

    @Override
    public void close() {
        run(() -> {
            if (!closed && ctx.channel().isActive()) {
                ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
                Yamux.writeHeader(h, Yamux.TYPE_GO_AWAY, 0, 0, Yamux.GO_AWAY_NORMAL);
                ctx.writeAndFlush(h).addListener(f -> ctx.close());
            }
            closed = true;
        });
    }

    // ---- pipeline ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.remoteKey = setup.secured.remotePublicKeyProto();
        ticker = ctx.executor().scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
        host.connectionReady(this, setup);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        cumulation = cumulation == null ? buf : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), cumulation, buf);
        try {
            parseFrames();
        } catch (ProtocolException e) {
            goAway(Yamux.GO_AWAY_PROTOCOL_ERROR, e);
        } finally {
            if (cumulation != null && !cumulation.isReadable()) {
                cumulation.release();
                cumulation = null;
            } else if (cumulation != null && cumulation.refCnt() == 1) {
                // Reclaim consumed bytes, or the buffer grows with every read that ends mid-frame.
                // Not while slices handed out still share it (refCnt > 1): moving bytes would change them.
                cumulation.discardSomeReadBytes();
            }
            ctx.flush();
        }
    }

    private void parseFrames() {
        while (cumulation != null && cumulation.isReadable() && !closed) {
            if (skipBytes > 0) {
                int n = Math.min(skipBytes, cumulation.readableBytes());
                cumulation.skipBytes(n);
                skipBytes -= n;
                continue;
            }
            if (cumulation.readableBytes() < Yamux.HEADER) {
                return;
            }
            int at = cumulation.readerIndex();
            int version = cumulation.getUnsignedByte(at);
            int type = cumulation.getUnsignedByte(at + 1);
            int flags = cumulation.getUnsignedShort(at + 2);
            int id = cumulation.getInt(at + 4);
            long length = cumulation.getUnsignedInt(at + 8);
            if (version != 0) {
                throw new ProtocolException("yamux version " + version);
            }
            switch (type) {
                case Yamux.TYPE_DATA -> {
                    P2pStream s = streamFor(id, flags);
                    if (s != null && length > s.recvWindow) {
                        throw new ProtocolException("peer sent " + length + " bytes on stream " + id
                                + " with only " + s.recvWindow + " of credit");
                    }
                    if (s == null && length > Yamux.INITIAL_WINDOW) {
                        throw new ProtocolException("data frame of " + length + " bytes for unknown stream " + id);
                    }
                    if (s == null) { // a stream we reset or never knew: drop its bytes as they come
                        cumulation.skipBytes(Yamux.HEADER);
                        skipBytes = (int) length;
                        continue;
                    }
                    if (cumulation.readableBytes() < Yamux.HEADER + length) {
                        return;
                    }
                    cumulation.skipBytes(Yamux.HEADER);
                    ByteBuf data = cumulation.readRetainedSlice((int) length);
                    s.recvWindow -= (int) length;
                    s.lastActivityNanos = System.nanoTime();
                    if (length > 0) {
                        onData(s, data);
                    } else {
                        data.release();
                    }
                    applyFlags(s, flags, 0);
                }
                case Yamux.TYPE_WINDOW_UPDATE -> {
                    cumulation.skipBytes(Yamux.HEADER);
                    P2pStream s = streamFor(id, flags);
                    if (s != null) {
                        applyFlags(s, flags, length);
                    }
                }
                case Yamux.TYPE_PING -> {
                    cumulation.skipBytes(Yamux.HEADER);
                    if ((flags & Yamux.SYN) != 0) {
                        ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
                        Yamux.writeHeader(h, Yamux.TYPE_PING, Yamux.ACK, 0, (int) length);
                        ctx.write(h);
                    } else if ((flags & Yamux.ACK) != 0 && length == (pingId & 0xffffffffL)) {
                        pingSentNanos = 0;
                    }
                }
                case Yamux.TYPE_GO_AWAY -> {
                    cumulation.skipBytes(Yamux.HEADER);
                    goAwayReceived = true;
                    if (streams.isEmpty()) {
                        ctx.close();
                    }
                }
                default -> throw new ProtocolException("unknown yamux frame type " + type);
            }
        }
    }

    /** The stream a frame is for; opens it when the frame carries SYN. Null: drop the frame. */
    private P2pStream streamFor(int id, int flags) {
        P2pStream s = streams.get(id);
        if ((flags & Yamux.SYN) == 0) {
            return s;
        }
        if (s != null) {
            throw new ProtocolException("SYN for stream " + id + " which is already open");
        }
        boolean theirs = (id & 1) == (setup.initiator() ? 0 : 1);
        if (id == 0 || !theirs) {
            throw new ProtocolException("peer opened stream " + id + " with our parity");
        }
        if (goAwayReceived || closed || inboundStreams >= host.config().maxStreamsPerConnection()) {
            ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
            Yamux.writeHeader(h, Yamux.TYPE_WINDOW_UPDATE, Yamux.RST, id, 0);
            ctx.write(h);
            return null;
        }
        s = new P2pStream(this, id, false, null);
        s.negotiation = Negotiation.listener(host.protocols());
        streams.put(id, s);
        inboundStreams++;
        ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
        Yamux.writeHeader(h, Yamux.TYPE_WINDOW_UPDATE, Yamux.ACK, id, 0);
        ctx.write(h);
        s.synSent = true;
        s.write(s.negotiation.opening(ctx.alloc()));
        scheduleNegotiationDeadline(s);
        return s;
    }

    private void applyFlags(P2pStream s, int flags, long delta) {
        if ((flags & Yamux.RST) != 0) {
            resetStream(s, new StreamResetException("reset by " + remotePeer.shortString()), false);
            return;
        }
        if (delta > 0) {
            long w = s.sendWindow + delta;
            if (w > Integer.MAX_VALUE) {
                throw new ProtocolException("send window of stream " + s.id + " overflows");
            }
            s.sendWindow = (int) w;
            flushStream(s);
        }
        if ((flags & Yamux.FIN) != 0 && !s.remoteClosed()) {
            s.remoteFin();
        }
    }

    private void onData(P2pStream s, ByteBuf data) {
        if (s.negotiation == null) {
            s.deliver(data);
            return;
        }
        if (s.negotiationBuffer == null) {
            s.negotiationBuffer = ctx.alloc().buffer(64);
        }
        s.negotiationBuffer.writeBytes(data);
        data.release();
        ByteBuf replies = ctx.alloc().buffer(32);
        try {
            if (s.negotiation.feed(s.negotiationBuffer, replies) == Negotiation.Result.AGREED) {
                if (replies.isReadable()) {
                    s.write(replies.retain());
                }
                String protocol = s.negotiation.agreed();
                StreamHandler h = s.isOutbound() ? null : host.newHandler(protocol);
                ByteBuf rest = s.negotiationBuffer;
                s.negotiationBuffer = null;
                s.agreed(protocol, h);
                if (rest.isReadable() && !s.isDone()) {
                    s.deliver(rest);
                } else {
                    rest.release();
                }
            } else if (replies.isReadable()) {
                s.write(replies.retain());
            }
        } catch (ProtocolException e) {
            resetStream(s, e, true);
        } finally {
            replies.release();
        }
    }

    private void scheduleNegotiationDeadline(P2pStream s) {
        s.negotiationDeadline = ctx.executor().schedule(() -> {
            if (s.negotiation != null && !s.isDone()) {
                resetStream(s, new StreamResetException("protocol negotiation timed out"), true);
            }
        }, host.config().negotiationTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---- writing, called by streams on the event loop ----

    boolean channelWritable() {
        return ctx.channel().isWritable();
    }

    void flushStream(P2pStream s) {
        if (s.isDone()) {
            return;
        }
        if (s.flush()) {
            blocked.add(s);
        } else {
            blocked.remove(s);
        }
        ctx.flush();
    }

    void writeData(P2pStream s, ByteBuf slice, ChannelPromise promise) {
        int n = slice.readableBytes();
        ByteBuf header = ctx.alloc().heapBuffer(Yamux.HEADER);
        Yamux.writeHeader(header, Yamux.TYPE_DATA, 0, s.id, n);
        // header and data as one composite: the data is not copied here (Noise encrypts the pieces)
        ByteBuf frame = ctx.alloc().compositeBuffer(2).addComponents(true, header, slice);
        s.lastActivityNanos = System.nanoTime();
        ctx.write(frame, promise == null ? ctx.voidPromise() : promise);
    }

    /** Reserves {@code bytes} more receive window if the connection's budget allows. */
    boolean reserveWindow(int bytes) {
        if ((long) streams.size() * Yamux.INITIAL_WINDOW + grownWindows + bytes > Yamux.MAX_CONNECTION_WINDOW) {
            return false;
        }
        grownWindows += bytes;
        return true;
    }

    void sendWindowUpdate(P2pStream s, int delta) {
        ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
        Yamux.writeHeader(h, Yamux.TYPE_WINDOW_UPDATE, 0, s.id, delta);
        ctx.write(h);
    }

    void sendFin(P2pStream s) {
        ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
        Yamux.writeHeader(h, Yamux.TYPE_WINDOW_UPDATE, Yamux.FIN, s.id, 0);
        ctx.write(h);
    }

    void resetStream(P2pStream s, Throwable error, boolean sendRst) {
        if (s.isDone()) {
            return;
        }
        if (sendRst && ctx.channel().isActive()) {
            ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
            Yamux.writeHeader(h, Yamux.TYPE_WINDOW_UPDATE, Yamux.RST, s.id, 0);
            ctx.writeAndFlush(h);
        }
        streamDone(s, error);
    }

    void streamDone(P2pStream s, Throwable error) {
        s.cancelNegotiationDeadline();
        if (streams.remove(s.id) != null) {
            grownWindows -= s.recvWindowMax - Yamux.INITIAL_WINDOW;
        }
        blocked.remove(s);
        if (!s.isOutbound()) {
            inboundStreams--;
        }
        s.terminate(error);
        if (goAwayReceived && streams.isEmpty()) {
            ctx.close();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            for (P2pStream s : new ArrayList<>(blocked)) {
                if (!ctx.channel().isWritable()) {
                    break;
                }
                flushStream(s);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void tick() {
        long now = System.nanoTime();
        long idle = host.config().streamIdleTimeout().toNanos();
        List<P2pStream> stale = new ArrayList<>();
        for (P2pStream s : streams.values()) {
            if (now - s.lastActivityNanos > idle) {
                stale.add(s);
            }
        }
        for (P2pStream s : stale) {
            resetStream(s, new StreamResetException("stream idle for " + host.config().streamIdleTimeout()), true);
        }
        if (pingSentNanos != 0 && now - pingSentNanos > host.config().pingTimeout().toNanos()) {
            goAway(Yamux.GO_AWAY_NORMAL, new ProtocolException("keep-alive ping unanswered"));
            return;
        }
        if (pingSentNanos == 0 && now - lastPingNanos >= PING_INTERVAL_NANOS) {
            lastPingNanos = now;
            pingSentNanos = now;
            pingId++;
            ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
            Yamux.writeHeader(h, Yamux.TYPE_PING, Yamux.SYN, 0, pingId);
            ctx.writeAndFlush(h);
        }
        host.connectionTick(this);
    }

    private long lastPingNanos = System.nanoTime();

    private void goAway(int code, Throwable cause) {
        if (ctx.channel().isActive()) {
            ByteBuf h = ctx.alloc().buffer(Yamux.HEADER);
            Yamux.writeHeader(h, Yamux.TYPE_GO_AWAY, 0, 0, code);
            ctx.writeAndFlush(h);
        }
        closed = true;
        setup.fail(ctx, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        if (ticker != null) {
            ticker.cancel(false);
        }
        StreamResetException gone = new StreamResetException("connection to " + remotePeer.shortString() + " closed");
        for (P2pStream s : new ArrayList<>(streams.values())) {
            streamDone(s, gone);
        }
        host.connectionClosed(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        setup.fail(ctx, cause);
    }

    @Override
    public String toString() {
        return "connection to " + remotePeer + (isOutbound() ? " (out)" : " (in)");
    }
}
