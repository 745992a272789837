package io.oecloud.node.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.DefaultEventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.oecloud.dht.PeerId;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ShardServer.Wire} in memory: one request's exchange driven on a real event loop without
 * a socket, as a stream would drive it. What the server writes is collected; {@link #outcome}
 * completes with the parsed answer when the server closes its side, or with null when it resets.
 */
final class MemoryWire implements ShardServer.Wire {
    private final PeerId peer;
    private final DefaultEventLoop loop;
    private final ByteBufAllocator alloc;
    private final ShardServer.Exchange exchange;
    private ByteBuf written;
    /** The answer (its header and body bytes), or null if the server reset the stream. */
    final CompletableFuture<Answer> outcome = new CompletableFuture<>();

    record Answer(ShardResponse response, byte[] body) {}

    MemoryWire(ShardServer server, PeerId peer, DefaultEventLoop loop, ByteBufAllocator alloc) {
        this.peer = peer;
        this.loop = loop;
        this.alloc = alloc;
        this.exchange = server.newExchange();
    }

    /** Opens the exchange (on the loop) and waits for it. */
    MemoryWire open() throws Exception {
        loop.submit(() -> exchange.open(this)).get(10, TimeUnit.SECONDS);
        return this;
    }

    /** Delivers {@code bytes} (ownership passes) as the stream would, and waits until the loop took them. */
    MemoryWire send(ByteBuf bytes) throws Exception {
        loop.submit(() -> exchange.data(bytes)).get(10, TimeUnit.SECONDS);
        return this;
    }

    /** Opens the exchange, delivers {@code pieces} in order and then, if {@code halfClose}, half-closes: in one turn of the loop. */
    MemoryWire openAndSend(java.util.List<ByteBuf> pieces, boolean halfClose) throws Exception {
        loop.submit(() -> {
            exchange.open(this);
            for (ByteBuf b : pieces) {
                exchange.data(b);
            }
            if (halfClose) {
                exchange.remoteClosed();
            }
        }).get(10, TimeUnit.SECONDS);
        return this;
    }

    /** The asker half-closes: its request is complete, or never will be. */
    MemoryWire finish() throws Exception {
        loop.submit(exchange::remoteClosed).get(10, TimeUnit.SECONDS);
        return this;
    }

    /** The stream goes away (both sides closed or reset), as it finally does after every exchange. */
    void close() throws Exception {
        loop.submit(this::closeNow).get(10, TimeUnit.SECONDS);
    }

    private void closeNow() {
        exchange.closed();
        if (written != null) {
            written.release();
            written = null;
        }
        if (!outcome.isDone()) {
            outcome.complete(null);
        }
    }

    @Override
    public PeerId remotePeer() {
        return peer;
    }

    @Override
    public EventExecutor eventLoop() {
        return loop;
    }

    @Override
    public ByteBufAllocator alloc() {
        return alloc;
    }

    @Override
    public Future<?> write(ByteBuf data) {
        if (written == null) {
            written = alloc.heapBuffer();
        }
        written.writeBytes(data);
        data.release();
        return loop.newSucceededFuture(null);
    }

    @Override
    public void closeWrite() {
        try {
            byte[] head = written == null ? null : Frames.read(written, ShardServer.MAX_REQUEST);
            if (head == null) {
                outcome.completeExceptionally(new AssertionError("the server closed its side without a whole answer"));
                return;
            }
            ShardResponse r = ShardResponse.parseFrom(head);
            byte[] body = new byte[written.readableBytes()];
            written.readBytes(body);
            outcome.complete(new Answer(r, body));
        } catch (Exception e) {
            outcome.completeExceptionally(e);
        }
    }

    @Override
    public void reset() {
        loop.execute(this::closeNow); // a reset stream tells its handler it closed, as P2pStream does
    }
}
