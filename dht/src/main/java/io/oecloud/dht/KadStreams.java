package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.oecloud.dht.pb.Kad;
import io.oecloud.wire.LengthPrefix;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open {@code /ipfs/kad/1.0.0} streams kept between requests, a few per peer, as go-libp2p keeps
 * one. A request on a new stream costs a Yamux open, a multistream-select exchange and two closes
 * besides the message and its reply: on a 6-node devnet the provider records of an upload (a
 * FIND_NODE walk and an ADD_PROVIDER to each close peer, per shard) took about 30 % of the
 * upload's CPU, most of it in that overhead. Servers (ours, go's, js's) answer every message of a
 * stream in turn, ADD_PROVIDER never.
 *
 * <p>One request at a time per stream: replies carry no request ID, so the next message to
 * arrive is the reply, and a stream is kept again only once its reply has arrived (a reply that
 * comes after the caller's deadline still goes to its own request; a stream whose peer never
 * answers is reset by the idle timeout). A message that gets no reply (ADD_PROVIDER) frees its
 * stream once written. A stream that failed is reset, never reused. A reused stream that the peer
 * closed meanwhile fails with {@link StaleStream}, and the request is sent once more on a new
 * stream.
 */
final class KadStreams {
    /** Idle streams kept per peer; more concurrent requests open more, closed after use. */
    static final int IDLE_PER_PEER = 4;

    /** A kept stream that turned out closed before it answered: worth one try on a new one. */
    static final class StaleStream extends IOException {
        StaleStream(String message) {
            super(message);
        }
    }

    private final Host host;
    private final int maxMessage;
    private final Map<PeerId, ArrayDeque<Kept>> idle = new ConcurrentHashMap<>();

    KadStreams(Host host, int maxMessage) {
        this.host = host;
        this.maxMessage = maxMessage;
    }

    /** Sends {@code request} and completes with the peer's reply. */
    CompletableFuture<Kad.Message> request(PeerId peer, Kad.Message request) {
        return exchange(peer, request, true);
    }

    /** Sends {@code message}, which gets no reply; completes once it is written. */
    CompletableFuture<Void> send(PeerId peer, Kad.Message message) {
        return exchange(peer, message, false).thenApply(r -> null);
    }

    /** {@code m} on a kept stream, or a new one; once more on a new one if the kept one turns out closed. */
    private CompletableFuture<Kad.Message> exchange(PeerId peer, Kad.Message m, boolean reply) {
        Kept kept = takeIdle(peer);
        if (kept == null) {
            return open(peer).thenCompose(k -> k.ask(m, reply));
        }
        return kept.ask(m, reply).handle((r, e) -> {
            if (e == null) {
                return CompletableFuture.completedFuture(r);
            }
            Throwable c = unwrap(e);
            return c instanceof StaleStream ? open(peer).thenCompose(k -> k.ask(m, reply))
                    : CompletableFuture.<Kad.Message>failedFuture(c);
        }).thenCompose(f -> f);
    }

    /** Idle streams kept now, over all peers (tests). */
    int idleCount() {
        int n = 0;
        for (ArrayDeque<Kept> q : idle.values()) {
            synchronized (q) {
                n += q.size();
            }
        }
        return n;
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    private CompletableFuture<Kept> open(PeerId peer) {
        Kept k = new Kept(peer);
        host.newStream(peer, HostKadNetwork.PROTOCOL_ID, k).whenComplete((s, e) -> {
            if (e != null) {
                k.opened.completeExceptionally(e);
            }
        });
        return k.opened;
    }

    private Kept takeIdle(PeerId peer) {
        ArrayDeque<Kept> q = idle.get(peer);
        if (q == null) {
            return null;
        }
        synchronized (q) {
            for (Kept k; (k = q.pollFirst()) != null; ) {
                if (!k.closed) {
                    return k;
                }
            }
        }
        return null;
    }

    /** Keeps a stream that is free again, or closes it when enough are kept. */
    private void giveBack(Kept k) {
        ArrayDeque<Kept> q = idle.computeIfAbsent(k.peer, p -> new ArrayDeque<>());
        synchronized (q) {
            if (!k.closed && q.size() < IDLE_PER_PEER) {
                q.addFirst(k); // the most recently used first: the others idle out
                return;
            }
        }
        k.stream.closeWrite();
    }

    private void forget(Kept k) {
        ArrayDeque<Kept> q = idle.get(k.peer);
        if (q != null) {
            synchronized (q) {
                q.remove(k);
                if (q.isEmpty()) {
                    idle.remove(k.peer, q);
                }
            }
        }
    }

    /** One stream; its fields are touched on the stream's event loop only, but for {@link #closed}. */
    private final class Kept implements StreamHandler {
        final PeerId peer;
        final CompletableFuture<Kept> opened = new CompletableFuture<>();
        private final LengthPrefixed framer = new LengthPrefixed(maxMessage);
        private P2pStream stream;
        private CompletableFuture<Kad.Message> waiting;
        private int used;
        volatile boolean closed;

        Kept(PeerId peer) {
            this.peer = peer;
        }

        /** Writes {@code m}; with {@code reply}, completes with the next message that arrives. */
        CompletableFuture<Kad.Message> ask(Kad.Message m, boolean reply) {
            CompletableFuture<Kad.Message> f = new CompletableFuture<>();
            stream.eventLoop().execute(() -> {
                boolean reused = used++ > 0;
                if (closed || waiting != null) {
                    f.completeExceptionally(reused ? new StaleStream("kept stream to " + peer.shortString() + " is closed")
                            : new ProtocolException("stream to " + peer.shortString() + " closed before the request"));
                    return;
                }
                if (reply) {
                    waiting = f; // only this stream's close or its next message completes it
                    stream.write(LengthPrefix.encode(stream.alloc(), m.toByteArray()));
                } else {
                    stream.write(LengthPrefix.encode(stream.alloc(), m.toByteArray())).addListener(w -> {
                        if (w.isSuccess()) {
                            giveBack(this);
                            f.complete(null);
                        } else {
                            f.completeExceptionally(reused ? new StaleStream("kept stream to " + peer.shortString()
                                    + " failed: " + w.cause()) : w.cause());
                            close(null);
                            stream.reset();
                        }
                    });
                }
            });
            return f;
        }

        @Override
        public void onOpen(P2pStream s) {
            stream = s;
            opened.complete(this);
        }

        @Override
        public void onData(P2pStream s, ByteBuf data) {
            try {
                List<byte[]> msgs = framer.feed(s.alloc(), data);
                for (byte[] m : msgs) {
                    CompletableFuture<Kad.Message> f = waiting;
                    if (f == null) {
                        throw new ProtocolException(peer.shortString() + " sent a message nobody asked for");
                    }
                    waiting = null;
                    Kad.Message reply = Kad.Message.parseFrom(m);
                    giveBack(this); // before the caller's continuation, which may ask again at once
                    f.complete(reply);
                }
            } catch (Exception e) {
                close(e);
                s.reset();
            }
        }

        @Override
        public void onRemoteClose(P2pStream s) {
            close(null); // no more replies can come on it
            s.closeWrite();
        }

        @Override
        public void onClose(P2pStream s, Throwable error) {
            close(error);
            framer.release();
            if (!opened.isDone()) {
                opened.completeExceptionally(error != null ? error : new ProtocolException("stream closed while opening"));
            }
        }

        private void close(Throwable error) {
            closed = true;
            forget(this);
            CompletableFuture<Kad.Message> f = waiting;
            waiting = null;
            if (f != null) {
                f.completeExceptionally(used > 1 ? new StaleStream("kept stream to " + peer.shortString() + " closed"
                        + (error == null ? "" : ": " + error.getMessage()))
                        : error != null ? error : new ProtocolException(peer.shortString() + " closed without a reply"));
            }
        }
    }
}
