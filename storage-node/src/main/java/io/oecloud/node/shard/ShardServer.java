package io.oecloud.node.shard;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.StreamHandler;
import io.oecloud.node.pb.ShardProto.ShardRequest;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import io.oecloud.node.pb.ShardProto.ShardResponse.Status;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * Serves {@code /oe/shard/1.0.0}: PUT (the CID is checked before the answer, so OK means stored
 * and durable), GET with a byte range, HAS, DELETE (unpin, signed by the owner who pinned it).
 *
 * <p>Limits: a request header of 4 KiB; shards of at most {@link #MAX_SHARD} bytes (refused from
 * the header, before the body is buffered); per peer at most {@link #MAX_INFLIGHT_PER_PEER} bytes of
 * PUT bodies in flight (else BUSY); every request done within {@link #DEADLINE_SECONDS} or reset.
 * Disk work runs on {@code io}, never on the event loop.
 */
public final class ShardServer {
    public static final String PROTOCOL_ID = "/oe/shard/1.0.0";
    public static final int MAX_SHARD = 32 << 20;
    static final int MAX_REQUEST = 4096;
    static final long MAX_INFLIGHT_PER_PEER = 256L << 20;
    static final long DEADLINE_SECONDS = 60;
    /** A delete signature may not be valid for longer than this. */
    static final long MAX_SIGNATURE_WINDOW_MILLIS = TimeUnit.HOURS.toMillis(1);
    static final byte[] DELETE_DOMAIN = "oe-shard-delete:".getBytes(StandardCharsets.US_ASCII);

    private final ShardStore store;
    private final ExecutorService io;
    private final Map<PeerId, AtomicLong> inflight = new ConcurrentHashMap<>();
    /** PUT bodies held in memory from all peers together: a quarter of the heap. */
    private final long maxInflightTotal = Math.max(MAX_SHARD, Runtime.getRuntime().maxMemory() / 4);
    private final AtomicLong inflightTotal = new AtomicLong();
    private volatile java.util.function.Consumer<Cid> stored = c -> { };

    public ShardServer(ShardStore store, ExecutorService io) {
        this.store = store;
        this.io = io;
    }

    /** Called (on an I/O thread) with every shard a PUT stored; the node announces it in the DHT. */
    public void onStored(java.util.function.Consumer<Cid> listener) {
        this.stored = listener;
    }

    /** What a DELETE's owner signs. */
    public static byte[] deleteMessage(Cid cid, long notAfter) {
        byte[] c = cid.toBytes();
        byte[] m = new byte[DELETE_DOMAIN.length + c.length + 8];
        System.arraycopy(DELETE_DOMAIN, 0, m, 0, DELETE_DOMAIN.length);
        System.arraycopy(c, 0, m, DELETE_DOMAIN.length, c.length);
        for (int i = 0; i < 8; i++) {
            m[DELETE_DOMAIN.length + c.length + i] = (byte) (notAfter >>> (56 - 8 * i));
        }
        return m;
    }

    public StreamHandler newHandler() {
        return new Handler();
    }

    private final class Handler implements StreamHandler {
        private ByteBuf buf;
        private ShardRequest request;
        /** The PUT body as it arrives: a buffer of the store's, written without another copy; ours until handed to the store. */
        private java.nio.ByteBuffer body;
        private boolean answered;
        private long reserved;
        private ScheduledFuture<?> deadline;

        @Override
        public void onOpen(P2pStream s) {
            deadline = s.eventLoop().schedule(() -> {
                if (!answered) {
                    s.reset();
                }
            }, DEADLINE_SECONDS, TimeUnit.SECONDS);
        }

        @Override
        public void onData(P2pStream s, ByteBuf data) {
            try {
                if (answered || (request != null && body == null)) {
                    return; // nothing more is expected; extra bytes are dropped
                }
                if (request == null) {
                    if (buf == null) {
                        buf = s.alloc().buffer(256);
                    }
                    buf.writeBytes(data);
                    byte[] m;
                    try {
                        m = Frames.read(buf, MAX_REQUEST);
                    } catch (IllegalArgumentException e) {
                        answer(s, Status.BAD_REQUEST, e.getMessage(), 0, null);
                        return;
                    }
                    if (m == null) {
                        return;
                    }
                    request = ShardRequest.parseFrom(m);
                    if (!start(s)) {
                        return;
                    }
                    if (body != null && buf.isReadable()) {
                        takeBody(s, buf);
                    }
                } else {
                    takeBody(s, data);
                }
            } catch (InvalidProtocolBufferException e) {
                answer(s, Status.BAD_REQUEST, "malformed request: " + e.getMessage(), 0, null);
            } finally {
                data.release();
            }
        }

        /** Validates the request; for PUT, reserves the body. Returns false once answered. */
        private boolean start(P2pStream s) {
            Cid cid;
            try {
                cid = Cid.fromBytes(request.getCid().toByteArray());
            } catch (IllegalArgumentException e) {
                answer(s, Status.BAD_REQUEST, "malformed CID: " + e.getMessage(), 0, null);
                return false;
            }
            switch (request.getOp()) {
                case PUT -> {
                    long size = request.getSize();
                    if (size > MAX_SHARD) {
                        answer(s, Status.TOO_LARGE, "shard of " + size + " bytes exceeds " + MAX_SHARD, 0, null);
                        return false;
                    }
                    AtomicLong mine = inflight.computeIfAbsent(s.remotePeer(), p -> new AtomicLong());
                    if (mine.addAndGet(size) > MAX_INFLIGHT_PER_PEER) {
                        mine.addAndGet(-size);
                        answer(s, Status.BUSY, "too many bytes in flight from " + s.remotePeer(), 0, null);
                        return false;
                    }
                    if (inflightTotal.addAndGet(size) > maxInflightTotal) {
                        inflightTotal.addAndGet(-size);
                        mine.addAndGet(-size);
                        answer(s, Status.BUSY, "this node holds " + maxInflightTotal + " bytes of incoming shards already", 0, null);
                        return false;
                    }
                    reserved = size;
                    body = store.receiveBuffer((int) size);
                    if (size == 0) {
                        finishPut(s, cid);
                    }
                }
                case GET -> run(s, () -> {
                    var m = store.metadata(cid);
                    if (m == null) {
                        throw new StoreException(StoreException.Code.NOT_FOUND, "no shard " + cid + " here");
                    }
                    long offset = request.getOffset();
                    long len = request.getLength() == 0 ? m.size() - offset : request.getLength();
                    if (offset < 0 || len < 0 || offset + len > m.size()) {
                        throw new StoreException(StoreException.Code.BAD_RANGE, "range " + offset + "+" + len
                                + " is outside shard " + cid + " of " + m.size() + " bytes");
                    }
                    byte[] d = offset == 0 && len == m.size() ? store.get(cid) : store.get(cid, offset, (int) len);
                    answer(s, Status.OK, "", d.length, d);
                });
                case HAS -> run(s, () -> {
                    var m = store.has(cid) ? store.metadata(cid) : null;
                    if (m == null) {
                        answer(s, Status.NOT_FOUND, "no shard " + cid, 0, null);
                    } else {
                        answer(s, Status.OK, "", m.size(), null);
                    }
                });
                case DELETE -> {
                    byte[] owner = request.getOwner().toByteArray();
                    long notAfter = request.getNotAfter();
                    long now = System.currentTimeMillis();
                    if (owner.length != 32 || request.getSignature().size() != 64
                            || notAfter < now || notAfter > now + MAX_SIGNATURE_WINDOW_MILLIS
                            || !Ed25519.verify(request.getSignature().toByteArray(), 0, owner, 0,
                            deleteMessage(cid, notAfter), 0, deleteMessage(cid, notAfter).length)) {
                        answer(s, Status.FORBIDDEN, "delete of " + cid + " is not signed by a valid, current owner key", 0, null);
                        return false;
                    }
                    run(s, () -> {
                        if (store.unpin(cid, owner)) {
                            answer(s, Status.OK, "", 0, null);
                        } else {
                            answer(s, Status.FORBIDDEN, cid + " is not pinned here by that owner", 0, null);
                        }
                    });
                }
                default -> answer(s, Status.BAD_REQUEST, "unknown op " + request.getOpValue(), 0, null);
            }
            return true;
        }

        private void takeBody(P2pStream s, ByteBuf data) {
            int n = Math.min(data.readableBytes(), body.remaining());
            data.readBytes(body.slice(body.position(), n));
            body.position(body.position() + n);
            if (data.isReadable()) {
                answer(s, Status.BAD_REQUEST, "more bytes than the announced size " + body.limit(), 0, null);
                return;
            }
            if (!body.hasRemaining()) {
                finishPut(s, Cid.fromBytes(request.getCid().toByteArray()));
            }
        }

        private void finishPut(P2pStream s, Cid cid) {
            byte[] owner = request.getOwner().isEmpty() ? null : request.getOwner().toByteArray();
            java.nio.ByteBuffer data = body.flip();
            body = null; // the store's task owns it now
            io.execute(() -> {
                try {
                    store.put(cid, data, owner);
                    answer(s, Status.OK, "", data.limit(), null);
                    stored.accept(cid);
                } catch (StoreException e) {
                    answer(s, statusOf(e), e.getMessage(), 0, null);
                } catch (RuntimeException e) {
                    answer(s, Status.ERROR, String.valueOf(e.getMessage()), 0, null);
                } finally {
                    store.recycle(data);
                }
            });
        }

        private interface Work {
            void run() throws StoreException;
        }

        private void run(P2pStream s, Work w) {
            io.execute(() -> {
                try {
                    w.run();
                } catch (StoreException e) {
                    answer(s, statusOf(e), e.getMessage(), 0, null);
                } catch (RuntimeException e) {
                    answer(s, Status.ERROR, String.valueOf(e.getMessage()), 0, null);
                }
            });
        }

        private void answer(P2pStream s, Status status, String message, long size, byte[] data) {
            s.eventLoop().execute(() -> {
                if (answered) {
                    return;
                }
                answered = true;
                release();
                ShardResponse r = ShardResponse.newBuilder().setStatus(status).setMessage(message).setSize(size).build();
                s.write(Frames.encode(s.alloc(), r.toByteArray(), data));
                s.closeWrite();
            });
        }

        private Status statusOf(StoreException e) {
            return switch (e.code()) {
                case NOT_FOUND -> Status.NOT_FOUND;
                case CID_MISMATCH -> Status.CID_MISMATCH;
                case FULL -> Status.FULL;
                case CORRUPT -> Status.CORRUPT;
                case BAD_RANGE -> Status.BAD_REQUEST;
                case IO, CLOSED -> Status.ERROR;
            };
        }

        private void release() {
            if (deadline != null) {
                deadline.cancel(false);
            }
            if (body != null) { // an unfinished PUT body (never handed to the store)
                store.recycle(body);
                body = null;
            }
            if (buf != null) {
                buf.release();
                buf = null;
            }
        }

        @Override
        public void onRemoteClose(P2pStream s) {
            // The asker half-closes after its request; our side closes once the answer is written.
        }

        @Override
        public void onClose(P2pStream s, Throwable error) {
            answered = true;
            release();
            if (reserved > 0) {
                inflightTotal.addAndGet(-reserved);
                AtomicLong mine = inflight.get(s.remotePeer());
                if (mine != null && mine.addAndGet(-reserved) <= 0) {
                    inflight.remove(s.remotePeer(), mine);
                }
                reserved = 0;
            }
        }
    }
}
