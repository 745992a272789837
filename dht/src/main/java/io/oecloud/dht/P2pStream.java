package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * One Yamux stream: its protocol, flow-control windows in both directions, and the writes that
 * wait for credit. Methods may be called from any thread; the work runs on the connection's event
 * loop, where every {@link StreamHandler} callback runs too.
 *
 * <p>Back-pressure: {@link #isWritable()} turns false when more than {@link #HIGH_WATER} bytes
 * wait for send credit or for the socket; {@link StreamHandler#onWritable} says when to go on.
 * Reading: {@link #pauseReading()} stops granting the peer credit, so it stops sending once the
 * window is spent.
 */
public final class P2pStream {
    static final int HIGH_WATER = 1 << 20;
    static final int LOW_WATER = 256 * 1024;

    private record PendingWrite(ByteBuf data, ChannelPromise promise) {}

    final YamuxSession session;
    final int id;
    private final boolean outbound;
    private StreamHandler handler;
    private String protocol;
    Negotiation negotiation; // non-null while multistream-select runs on this stream
    /** Resets the stream if negotiation runs too long; cancelled once it is over, so it does not keep the stream (and its handler's buffers) alive. */
    java.util.concurrent.ScheduledFuture<?> negotiationDeadline;
    ByteBuf negotiationBuffer;
    CompletableFuture<P2pStream> opened; // outbound: completes on agreement

    int sendWindow = Yamux.INITIAL_WINDOW;
    int recvWindow = Yamux.INITIAL_WINDOW;
    /** The credit we grant this stream: starts at 256 KiB, doubles while the data is consumed. */
    int recvWindowMax = Yamux.INITIAL_WINDOW;
    private int unacked; // consumed bytes not yet returned to the peer as credit
    private final ArrayDeque<PendingWrite> pending = new ArrayDeque<>();
    private long pendingBytes;
    private boolean writable = true;
    private boolean paused;
    private final ArrayDeque<ByteBuf> heldWhilePaused = new ArrayDeque<>();
    boolean synSent;
    private boolean localClosed; // FIN queued or sent
    private boolean finSent;
    private boolean remoteClosed;
    private boolean done;
    long lastActivityNanos = System.nanoTime();

    P2pStream(YamuxSession session, int id, boolean outbound, StreamHandler handler) {
        this.session = session;
        this.id = id;
        this.outbound = outbound;
        this.handler = handler;
    }

    public PeerId remotePeer() {
        return session.remotePeer();
    }

    public Connection connection() {
        return session;
    }

    /** The agreed protocol (null while it is negotiated). */
    public String protocol() {
        return protocol;
    }

    public boolean isOutbound() {
        return outbound;
    }

    public EventLoop eventLoop() {
        return session.eventLoop();
    }

    /** The connection's buffer allocator. */
    public ByteBufAllocator alloc() {
        return session.alloc();
    }

    public boolean isWritable() {
        return writable && !localClosed && !done;
    }

    /**
     * Queues {@code data} (ownership passes to the stream) and sends it as credit allows.
     *
     * @return completes when the last byte was written to the connection
     */
    public ChannelFuture write(ByteBuf data) {
        ChannelPromise promise = session.newPromise();
        if (session.eventLoop().inEventLoop()) {
            doWrite(data, promise);
        } else {
            session.eventLoop().execute(() -> doWrite(data, promise));
        }
        return promise;
    }

    private void doWrite(ByteBuf data, ChannelPromise promise) {
        if (done || localClosed) {
            ReferenceCountUtil.release(data);
            promise.tryFailure(new IllegalStateException("stream " + id + " is closed for writing"));
            return;
        }
        pending.add(new PendingWrite(data, promise));
        pendingBytes += data.readableBytes();
        if (pendingBytes > HIGH_WATER) {
            writable = false;
        }
        session.flushStream(this);
    }

    /** Half-closes: sends FIN after the queued writes. */
    public void closeWrite() {
        session.run(() -> {
            if (!localClosed && !done) {
                localClosed = true;
                session.flushStream(this);
            }
        });
    }

    /** Abandons the stream in both directions (RST). */
    public void reset() {
        session.run(() -> session.resetStream(this, new StreamResetException("reset locally"), true));
    }

    /** Stops granting the peer send credit; arriving bytes are held until {@link #resumeReading()}. */
    public void pauseReading() {
        session.run(() -> paused = true);
    }

    public void resumeReading() {
        session.run(() -> {
            paused = false;
            while (!paused && !heldWhilePaused.isEmpty() && !done) {
                deliver(heldWhilePaused.poll());
            }
            if (!paused && remoteClosed && heldWhilePaused.isEmpty()) {
                handler.onRemoteClose(this);
            }
        });
    }

    // ---- event-loop side, called by YamuxSession ----

    void cancelNegotiationDeadline() {
        if (negotiationDeadline != null) {
            negotiationDeadline.cancel(false);
            negotiationDeadline = null;
        }
    }

    void agreed(String protocol, StreamHandler h) {
        this.protocol = protocol;
        if (h != null) {
            this.handler = h;
        }
        negotiation = null;
        cancelNegotiationDeadline();
        handler.onOpen(this);
        if (opened != null) {
            opened.complete(this);
        }
    }

    StreamHandler handler() {
        return handler;
    }

    /** Application bytes (after negotiation). */
    void deliver(ByteBuf data) {
        if (paused) {
            heldWhilePaused.add(data);
            return;
        }
        int n = data.readableBytes();
        handler.onData(this, data);
        unacked += n;
        if (unacked >= recvWindowMax / 2 && !done) {
            // A stream whose data keeps being consumed gets a larger window (fewer round trips
            // waiting for credit); paused streams grant nothing, so what they hold stays bounded.
            int grow = recvWindowMax < Yamux.MAX_WINDOW && session.reserveWindow(recvWindowMax) ? recvWindowMax : 0;
            recvWindowMax += grow;
            session.sendWindowUpdate(this, unacked + grow);
            recvWindow += unacked + grow;
            unacked = 0;
        }
    }

    void remoteFin() {
        remoteClosed = true;
        if (negotiation == null && heldWhilePaused.isEmpty()) {
            handler.onRemoteClose(this);
        }
        maybeDone();
    }

    boolean remoteClosed() {
        return remoteClosed;
    }

    /** Sends what credit and the socket allow; returns whether bytes remain queued. */
    boolean flush() {
        while (!pending.isEmpty() && sendWindow > 0 && session.channelWritable()) {
            PendingWrite w = pending.peek();
            int n = Math.min(Math.min(w.data.readableBytes(), sendWindow), YamuxSession.MAX_DATA_FRAME);
            boolean last = n == w.data.readableBytes();
            ByteBuf slice = w.data.readRetainedSlice(n);
            sendWindow -= n;
            pendingBytes -= n;
            session.writeData(this, slice, last ? w.promise : null);
            if (last) {
                pending.poll();
                w.data.release();
            }
        }
        if (pending.isEmpty() && localClosed && !finSent) {
            finSent = true;
            session.sendFin(this);
            maybeDone();
        }
        if (!writable && pendingBytes < LOW_WATER) {
            writable = true;
            handler.onWritable(this);
        }
        return !pending.isEmpty();
    }

    private void maybeDone() {
        if (finSent && remoteClosed && !done) {
            session.streamDone(this, null);
        }
    }

    /** Ends the stream: fails queued writes, drops held data, tells the handler once. */
    void terminate(Throwable error) {
        if (done) {
            return;
        }
        done = true;
        for (PendingWrite w; (w = pending.poll()) != null; ) {
            w.data.release();
            w.promise.tryFailure(error != null ? error : new IllegalStateException("stream closed"));
        }
        for (ByteBuf b; (b = heldWhilePaused.poll()) != null; ) {
            b.release();
        }
        if (negotiationBuffer != null) {
            negotiationBuffer.release();
            negotiationBuffer = null;
        }
        if (opened != null && !opened.isDone()) {
            opened.completeExceptionally(error != null ? error : new StreamResetException("stream closed during negotiation"));
        }
        if (protocol != null) {
            handler.onClose(this, error);
        }
    }

    boolean isDone() {
        return done;
    }

    @Override
    public String toString() {
        return "stream " + id + " " + (protocol == null ? "(negotiating)" : protocol) + " with " + remotePeer().shortString();
    }
}
