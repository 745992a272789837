package io.oecloud.node.audit;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.StreamHandler;
import io.oecloud.node.pb.AuditProto.AuditRequest;
import io.oecloud.node.pb.AuditProto.AuditResponse;
import io.oecloud.node.pb.AuditProto.AuditResponse.Status;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.storage.InclusionProof;
import io.oecloud.proofs.storage.NodeRoot;
import io.oecloud.wire.LengthPrefix;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers {@code /oe/proof/1.0.0} ({@link AuditProtocol}) from the entries this node committed
 * for a period ({@link ShardStore#held}, the same hold its proofs of storage answer from) and
 * its store's chunk proofs ({@link ShardStore#prove}, from the outboard).
 *
 * <p>Who may ask: only a member of the chain's audit committee for the current window, as
 * {@link Gate} says (the chain's {@code /audits}), at most {@link Limits#perWindow} requests per
 * member and window; anyone else is answered REFUSED without any work done on the store, so a
 * stranger cannot make nodes read their disks. Limits: a request of {@link AuditProtocol#MAX_REQUEST}
 * bytes that must arrive within {@link Limits#deadline} (else the stream is reset); a malformed
 * request resets the stream; store work runs on this server's own two threads with a queue of 64
 * (beyond: ERROR "busy"), never on the event loop. The trees of the last two periods asked are
 * kept in memory.
 */
public final class AuditServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AuditServer.class.getName());

    /** Who may audit this node now. */
    @FunctionalInterface
    public interface Gate {
        /**
         * The window ({@code period × windows + window}) in which {@code asker} is on the audit
         * committee now, or -1 when it is not. May block (reads the chain); called off the event loop.
         */
        long admit(PeerId asker);
    }

    /** Where the chunks come from: the store's {@link ShardStore#prove}, or a test's model of a node that keeps nothing. */
    @FunctionalInterface
    public interface SliceSource {
        /** @throws StoreException NOT_FOUND when the shard is not here; any other code when it cannot be proven */
        SliceProof prove(Cid cid, long firstChunk, int count) throws StoreException;
    }

    /**
     * @param deadline a request must arrive whole within this of the stream's opening
     * @param perWindow requests one committee member may make in one window
     */
    public record Limits(Duration deadline, int perWindow) {
        public Limits {
            if (deadline.isNegative() || deadline.isZero() || perWindow < 1) {
                throw new IllegalArgumentException("an audit deadline is positive and a window allows at least one request");
            }
        }

        /** 10 s for the request, 32 requests per member and window. */
        public static Limits defaults() {
            return new Limits(Duration.ofSeconds(10), 32);
        }
    }

    private final ShardStore store;
    private final Gate gate;
    private final Limits limits;
    private final SliceSource source;
    private final ThreadPoolExecutor work = new ThreadPoolExecutor(2, 2, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(64), r -> {
        Thread t = new Thread(r, "oe-audit-answers");
        t.setDaemon(true);
        return t;
    });
    /** Requests per asker in its current window: {window, count}. Only committee members get an entry. */
    private final Map<PeerId, long[]> asked = new ConcurrentHashMap<>();
    /** Trees of the last two periods asked (guarded by itself). */
    private final Map<Long, NodeRoot> trees = new LinkedHashMap<>();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();

    public AuditServer(ShardStore store, Gate gate, Limits limits) {
        this(store, gate, limits, store::prove);
    }

    public AuditServer(ShardStore store, Gate gate, Limits limits, SliceSource source) {
        this.store = store;
        this.gate = gate;
        this.limits = limits;
        this.source = source;
    }

    /** Answers with a proof (OK), including those that said NOT_FOUND or BAD_REQUEST. */
    public long answered() {
        return answered.get();
    }

    /** Requests refused: not on the committee, over the window's budget, or busy. */
    public long refused() {
        return refused.get();
    }

    /** Streams reset for a malformed, oversized or late request. */
    public long malformed() {
        return malformed.get();
    }

    public StreamHandler newHandler() {
        return new StreamHandler() {
            private ByteBuf buf;
            private boolean taken;
            private io.netty.util.concurrent.ScheduledFuture<?> deadline;

            @Override
            public void onOpen(P2pStream s) {
                deadline = s.eventLoop().schedule(() -> {
                    if (!taken) {
                        malformed.incrementAndGet();
                        s.reset();
                    }
                }, limits.deadline().toNanos(), TimeUnit.NANOSECONDS);
            }

            @Override
            public void onData(P2pStream s, ByteBuf data) {
                try {
                    if (taken) {
                        return; // one request a stream: anything after it is dropped
                    }
                    if (buf == null) {
                        buf = s.alloc().buffer(AuditProtocol.MAX_REQUEST + 8);
                    }
                    if (buf.readableBytes() + data.readableBytes() > AuditProtocol.MAX_REQUEST + 5) {
                        throw new IllegalArgumentException("request longer than " + AuditProtocol.MAX_REQUEST + " bytes");
                    }
                    buf.writeBytes(data);
                    int len = LengthPrefix.frameLength(buf, 5, AuditProtocol.MAX_REQUEST);
                    if (len == LengthPrefix.INCOMPLETE) {
                        return;
                    }
                    byte[] m = new byte[len];
                    buf.readBytes(m);
                    AuditRequest r = AuditRequest.parseFrom(m);
                    String bad = AuditProtocol.problem(r);
                    if (bad != null) {
                        throw new IllegalArgumentException(bad);
                    }
                    taken = true;
                    release();
                    PeerId asker = s.remotePeer();
                    try {
                        work.execute(() -> reply(s, answer(asker, r)));
                    } catch (RejectedExecutionException e) {
                        refused.incrementAndGet();
                        reply(s, AuditResponse.newBuilder().setStatus(Status.ERROR).setMessage("busy").build());
                    }
                } catch (InvalidProtocolBufferException | RuntimeException e) {
                    malformed.incrementAndGet();
                    LOG.log(System.Logger.Level.DEBUG, "audit request from {0} reset: {1}", s.remotePeer(), e.getMessage());
                    taken = true;
                    release();
                    s.reset();
                } finally {
                    data.release();
                }
            }

            @Override
            public void onRemoteClose(P2pStream s) {
                if (!taken) {
                    malformed.incrementAndGet();
                    s.reset(); // closed before a whole request
                }
            }

            @Override
            public void onClose(P2pStream s, Throwable error) {
                release();
                if (deadline != null) {
                    deadline.cancel(false);
                }
            }

            private void release() {
                if (buf != null) {
                    buf.release();
                    buf = null;
                }
            }
        };
    }

    private static void reply(P2pStream s, AuditResponse a) {
        byte[] m = a.toByteArray();
        s.eventLoop().execute(() -> {
            ByteBuf out = s.alloc().buffer(5 + m.length);
            LengthPrefix.writeUvarint(out, m.length);
            out.writeBytes(m);
            s.write(out);
            s.closeWrite();
        });
    }

    /** The answer to {@code r} from {@code asker} (on a work thread). */
    AuditResponse answer(PeerId asker, AuditRequest r) {
        long window;
        try {
            window = gate.admit(asker);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "audit gate failed: {0}", e.getMessage());
            window = -1;
        }
        if (window < 0) {
            refused.incrementAndGet();
            return refusal(asker + " is not on the audit committee of this window");
        }
        long w = window;
        long[] n = asked.compute(asker, (k, v) -> v == null || v[0] != w ? new long[] {w, 1} : new long[] {w, v[1] + 1});
        if (n[1] > limits.perWindow()) {
            refused.incrementAndGet();
            return refusal(asker + " asked " + limits.perWindow() + " times in this window already");
        }
        asked.entrySet().removeIf(e -> e.getValue()[0] < w - 1); // members of windows long past
        answered.incrementAndGet();
        try {
            NodeRoot tree = tree(r.getPeriod());
            if (tree == null) {
                return AuditResponse.newBuilder().setStatus(Status.NOT_FOUND).setMessage("no committed entries for period "
                        + r.getPeriod() + " here").build();
            }
            if (r.getEntry() >= tree.count()) {
                return AuditResponse.newBuilder().setStatus(Status.BAD_REQUEST).setMessage("entry " + r.getEntry() + " of "
                        + tree.count()).build();
            }
            InclusionProof inc = tree.prove(r.getEntry());
            long[] range = AuditProtocol.range(r.getChunkPick(), r.getChunkCount(), inc.entry().size());
            SliceProof sp;
            try {
                sp = source.prove(inc.entry().cid(), range[0], (int) range[1]);
            } catch (StoreException e) {
                return AuditResponse.newBuilder().setStatus(Status.NOT_FOUND).setMessage("cannot prove " + inc.entry().cid() + ": "
                        + e.getMessage()).build();
            }
            return AuditResponse.newBuilder().setStatus(Status.OK).setInclusion(ByteString.copyFrom(inc.encode()))
                    .setSlice(ByteString.copyFrom(sp.encode())).build();
        } catch (StoreException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "audit of period " + r.getPeriod() + " failed", e);
            return AuditResponse.newBuilder().setStatus(Status.ERROR).setMessage("internal error").build();
        }
    }

    private static AuditResponse refusal(String why) {
        return AuditResponse.newBuilder().setStatus(Status.REFUSED).setMessage(why).build();
    }

    private NodeRoot tree(long period) throws StoreException {
        synchronized (trees) {
            NodeRoot t = trees.get(period);
            if (t != null) {
                return t;
            }
            ShardStore.Held held = store.held(period);
            if (held == null) {
                return null;
            }
            t = NodeRoot.build(held.entries());
            trees.put(period, t);
            while (trees.size() > 2) {
                trees.remove(trees.keySet().iterator().next());
            }
            return t;
        }
    }

    @Override
    public void close() {
        work.shutdownNow();
    }
}
