package io.oecloud.node.api;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The request body as an InputStream for the uploader, fed from the event loop, bounded in
 * bytes (the socket stops being read above {@link #MAX_QUEUED}). The uploader copies faster
 * than a socket fills, so woken for every chunk it would sleep and wake again thousands of
 * times per upload; it is woken once {@link #WAKE_AT} bytes wait (or the body ends), and a
 * slow client's bytes are taken every {@link #SLOW_CLIENT_MILLIS} all the same.
 *
 * <p>The stream ends (-1) only after the body's last chunk. When the body will never end (its
 * framing broke, the client closed the connection, or sent nothing for the silence limit while
 * the socket was being read) every read throws {@link Aborted}, so the upload fails and
 * nothing is stored.
 */
public final class BodyStream extends InputStream {
    static final int MAX_QUEUED = 8 << 20;
    static final int WAKE_AT = 1 << 20;
    static final long SLOW_CLIENT_MILLIS = 20;

    /** Why the body ended early; {@code status} is the answer to send, null when there is none to send. */
    public static final class Aborted extends IOException {
        private static final long serialVersionUID = 1L;
        public final transient HttpResponseStatus status;

        public Aborted(String message, HttpResponseStatus status) {
            super(message);
            this.status = status;
        }
    }

    private final ChannelHandlerContext ctx;
    private final int maxQueued;
    private final long silenceNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>(); // guarded by lock
    private long queued; // bytes in queue, guarded by lock
    private long wanted; // > 0 while the reader waits for that many bytes, guarded by lock
    private boolean ended; // the last chunk arrived, guarded by lock
    private boolean drained; // guarded by lock: chunks that arrive now are released at once
    private Aborted failure; // guarded by lock: the body will not end
    private ByteBuf current; // the reader's
    private boolean eof; // the reader's

    public BodyStream(ChannelHandlerContext ctx, long silenceMillis) {
        this(ctx, silenceMillis, MAX_QUEUED);
    }

    /** @param maxQueued bytes queued before the socket pauses (the S3 gateway, with many more bodies at once, queues less) */
    public BodyStream(ChannelHandlerContext ctx, long silenceMillis, int maxQueued) {
        this.maxQueued = maxQueued;
        this.ctx = ctx;
        this.silenceNanos = TimeUnit.MILLISECONDS.toNanos(silenceMillis);
    }

    /** Event loop: queue a chunk; stop reading the socket while the uploader is behind. */
    public void offer(ChannelHandlerContext c, HttpContent content) {
        ByteBuf b = content.content();
        boolean pause;
        lock.lock();
        try {
            if (drained || failure != null) {
                content.release();
                return;
            }
            if (b.isReadable()) {
                queue.add(b.retain());
                queued += b.readableBytes();
            }
            if (content instanceof LastHttpContent) {
                ended = true;
            }
            if (wanted > 0 && (ended || queued >= wanted)) {
                wanted = 0;
                arrived.signal();
            }
            pause = queued > maxQueued;
        } finally {
            lock.unlock();
        }
        content.release();
        if (pause) {
            c.channel().config().setAutoRead(false);
        }
    }

    /** The body will never end: every read from now on throws {@code why} (once the reader sees it). */
    public void abort(Aborted why) {
        lock.lock();
        try {
            if (failure == null && !ended) {
                failure = why;
                arrived.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Why the body ended early, or null. */
    public Aborted failure() {
        lock.lock();
        try {
            return failure;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (current == null || !current.isReadable()) {
            if (eof) {
                return -1;
            }
            if (current != null) {
                current.release();
                current = null;
            }
            current = next(len);
            if (current == null) {
                eof = true;
                return -1;
            }
        }
        int n = Math.min(len, current.readableBytes());
        current.readBytes(b, off, n);
        return n;
    }

    /**
     * The next chunk; when none waits, sleeps until {@code want} bytes (at most WAKE_AT) have
     * gathered, the body ended or SLOW_CLIENT_MILLIS passed. Null at the end. Silence counts
     * only while the socket is being read: a pause of our own is not the client's.
     */
    private ByteBuf next(int want) throws IOException {
        boolean resume;
        ByteBuf chunk;
        lock.lock();
        try {
            long silentSince = System.nanoTime();
            while (queue.isEmpty() && !ended) {
                if (failure != null) {
                    throw failure;
                }
                wanted = Math.min(want, WAKE_AT);
                try {
                    arrived.await(SLOW_CLIENT_MILLIS, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                } finally {
                    wanted = 0;
                }
                if (queue.isEmpty() && failure == null && System.nanoTime() - silentSince > silenceNanos) {
                    failure = new Aborted("the upload stalled: nothing arrived for "
                            + ApiGate.words(java.time.Duration.ofNanos(silenceNanos)), HttpResponseStatus.REQUEST_TIMEOUT);
                }
            }
            if (failure != null) { // queued bytes of a body that will not end are worth nothing
                throw failure;
            }
            chunk = queue.poll();
            if (chunk != null) {
                queued -= chunk.readableBytes();
            }
            resume = queued <= maxQueued / 2 && !ended; // after the end the gate decides when to read
        } finally {
            lock.unlock();
        }
        if (resume && !ctx.channel().config().isAutoRead()) {
            ctx.channel().eventLoop().execute(() -> ctx.channel().config().setAutoRead(true));
        }
        return chunk; // null: ended and nothing left
    }

    /** Releases what the uploader did not read (after an error), and whatever still arrives. */
    public void drain() {
        if (current != null) {
            current.release();
            current = null;
        }
        boolean resume;
        lock.lock();
        try {
            drained = true;
            for (ByteBuf x; (x = queue.poll()) != null; ) {
                x.release();
            }
            queued = 0;
            resume = !ended; // the rest of an unfinished body is read and dropped
        } finally {
            lock.unlock();
        }
        if (resume) {
            ctx.channel().eventLoop().execute(() -> ctx.channel().config().setAutoRead(true));
        }
    }
}
