package io.oecloud.node.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.StreamHandler;
import io.oecloud.node.pb.ShardProto.ShardRequest;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Shard servers that misbehave, for tests: each wraps a node's real server and changes one thing.
 * The request is read whole first, then either answered differently or handed to the real handler.
 */
public final class FaultyShardServers {
    private FaultyShardServers() {}

    /** Answers every GET of a shard it holds with the right length of wrong bytes; counts the GETs. */
    public static Supplier<StreamHandler> liar(ShardServer real, ShardStore store, AtomicInteger gets) {
        return () -> new Buffering(real.newHandler()) {
            @Override
            boolean answer(P2pStream s, ShardRequest r) throws Exception {
                if (r.getOp() != ShardRequest.Op.GET) {
                    return false;
                }
                gets.incrementAndGet();
                byte[] data = store.get(Cid.fromBytes(r.getCid().toByteArray()));
                data[0] ^= 0x5a; // same size, wrong bytes
                byte[] head = ShardResponse.newBuilder().setStatus(ShardResponse.Status.OK).setSize(data.length).build().toByteArray();
                s.write(Frames.encode(s.alloc(), head, data));
                s.closeWrite();
                return true;
            }
        };
    }

    /** Answers every RECEIPT with the real server's receipt changed by {@code change} (signed for another period, say). */
    public static Supplier<StreamHandler> receiptForger(ShardServer real, Receipts receipts,
                                                        java.util.function.UnaryOperator<io.oecloud.chain.pb.ChainProto.Receipt> change) {
        return () -> new Buffering(real.newHandler()) {
            @Override
            boolean answer(P2pStream s, ShardRequest r) throws Exception {
                if (r.getOp() != ShardRequest.Op.RECEIPT) {
                    return false;
                }
                io.oecloud.chain.pb.ChainProto.Receipt good = receipts.sign(Cid.fromBytes(r.getCid().toByteArray()),
                        r.getOwner().toByteArray(), r.getPeriod(), s.remotePeer());
                byte[] head = ShardResponse.newBuilder().setStatus(ShardResponse.Status.OK)
                        .setReceipt(change.apply(good).toByteString()).build().toByteArray();
                s.write(Frames.encode(s.alloc(), head, null));
                s.closeWrite();
                return true;
            }
        };
    }

    /** Answers every PROVE of a shard it holds with a proof whose chunk bytes were changed; counts the PROVEs. */
    public static Supplier<StreamHandler> proofLiar(ShardServer real, ShardStore store, AtomicInteger proves) {
        return () -> new Buffering(real.newHandler()) {
            @Override
            boolean answer(P2pStream s, ShardRequest r) throws Exception {
                if (r.getOp() != ShardRequest.Op.PROVE) {
                    return false;
                }
                proves.incrementAndGet();
                io.oecloud.proofs.slice.SliceProof p = store.prove(Cid.fromBytes(r.getCid().toByteArray()), r.getFirstChunk(),
                        (int) r.getChunkCount());
                byte[] chunks = p.chunks();
                chunks[0] ^= 0x5a; // same shape, wrong bytes
                byte[] body = new io.oecloud.proofs.slice.SliceProof(p.contentLength(), p.firstChunk(), p.chunkCount(), chunks,
                        p.siblings()).encode();
                byte[] head = ShardResponse.newBuilder().setStatus(ShardResponse.Status.OK).setSize(body.length).build().toByteArray();
                s.write(Frames.encode(s.alloc(), head, body));
                s.closeWrite();
                return true;
            }
        };
    }

    /** Holds every PUT for {@code delayMillis} before the real server sees it. */
    public static Supplier<StreamHandler> slowPuts(ShardServer real, long delayMillis, AtomicInteger puts) {
        return () -> new Buffering(real.newHandler()) {
            @Override
            boolean answer(P2pStream s, ShardRequest r) {
                if (r.getOp() != ShardRequest.Op.PUT) {
                    return false;
                }
                puts.incrementAndGet();
                s.eventLoop().schedule(() -> pass(s), delayMillis, TimeUnit.MILLISECONDS);
                return true;
            }
        };
    }

    /** Collects the whole request (the client half-closes after it), then decides. */
    private abstract static class Buffering implements StreamHandler {
        private final StreamHandler real;
        private final ByteBuf all = Unpooled.buffer();
        private boolean passed;

        Buffering(StreamHandler real) {
            this.real = real;
        }

        /** Returns true when it answered (or will) itself; false hands the request to the real server. */
        abstract boolean answer(P2pStream s, ShardRequest r) throws Exception;

        @Override
        public void onOpen(P2pStream s) {
            real.onOpen(s);
        }

        @Override
        public void onData(P2pStream s, ByteBuf data) {
            all.writeBytes(data);
            data.release();
        }

        @Override
        public void onRemoteClose(P2pStream s) {
            try {
                ByteBuf copy = all.duplicate();
                byte[] head = Frames.read(copy, ShardServer.MAX_REQUEST);
                if (head == null || !answer(s, ShardRequest.parseFrom(head))) {
                    pass(s);
                }
            } catch (Exception e) {
                s.reset();
            }
        }

        void pass(P2pStream s) {
            if (passed) {
                return;
            }
            passed = true;
            real.onData(s, all.retainedDuplicate());
            real.onRemoteClose(s);
        }

        @Override
        public void onClose(P2pStream s, Throwable error) {
            real.onClose(s, error);
            all.release();
        }
    }
}
