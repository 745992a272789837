package io.oecloud.node.shard;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.oecloud.chain.pb.ChainProto.Receipt;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.StreamHandler;
import io.oecloud.node.pb.ShardProto.ShardRequest;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import io.oecloud.node.pb.ShardProto.ShardResponse.Status;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.wire.WireException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * Serves {@code /oe/shard/1.0.0}: PUT (pins the shard for the key that signed it; the CID is
 * checked before the answer, so OK means stored and durable), GET with a byte range, HAS, DELETE
 * (removes one pin, signed by the key that holds it, usable once), and PROVE (chunks of a shard
 * with their {@link io.oecloud.proofs.slice.SliceProof} against its CID, from the store's outboard
 * without reading the rest of the shard: {@link ShardStore#prove}), and on a node that sells storage
 * (a chain link: {@link #signReceipts}) RECEIPT (a signed chain {@code Receipt} for the blocks of an
 * object this node holds pinned by the payer: {@link Receipts}).
 *
 * <p>Who may do what: anyone may GET, HAS and PROVE. A PUT must carry its owner's Ed25519 signature over
 * {@link #pinMessage} (this node's peer ID, the CID and an expiry at most an hour ahead); a PUT
 * without one is refused (FORBIDDEN), nothing is stored unpinned. The store admits the pin within
 * the owner's quota ({@link io.oecloud.node.store.Quotas}). Anyone may ask for a RECEIPT (it attests
 * what this node holds; only the payer can put it in a contract); each peer at most
 * {@link #RECEIPTS_PER_SECOND} a second, since each costs a manifest read. A DELETE must carry the signature of the
 * key whose pin it removes over {@link #deleteMessage} (this node's peer ID, the CID, an expiry at
 * most 10 minutes ahead and a 16-byte nonce); the store remembers the nonce until the expiry, across
 * restarts, so a delete removes one pin once.
 *
 * <p>Limits: a request header of 4 KiB; shards of at most {@link #MAX_SHARD} bytes (refused from
 * the header, before any body byte is taken). Memory is taken from the node's budget as bytes
 * arrive, never for what a header merely declares: PUT bodies and GET answers together at most
 * {@link Limits#inflightTotal} bytes, one peer at most {@link Limits#inflightPerPeer} (beyond:
 * BUSY, which uploaders retry); a request whose bytes stop for {@link Limits#stall} is reset, and
 * every request must be answered within {@link Limits#deadline}. Every integer of a request is read
 * as unsigned and range-checked. Disk work runs on {@code io}, never on the event loop. Errors are
 * answered in words; the store's internal failures are logged here and answered as "internal".
 */
public final class ShardServer {
    public static final String PROTOCOL_ID = "/oe/shard/1.0.0";
    public static final int MAX_SHARD = 32 << 20;
    static final int MAX_REQUEST = 4096;
    /** Bytes beyond the chunks a PROVE answer may carry: its header (≤ 31) and sibling CVs (≤ 76 × 32). */
    static final int PROOF_OVERHEAD = 4096;

    /** The largest PROVE answer for {@code count} chunks: what a client accepts, and what a server holds for it. */
    public static int maxProofBytes(int count) {
        return count * 1024 + PROOF_OVERHEAD;
    }
    /**
     * A pin signature may not be valid for longer than this. Windows are judged by the store's clock
     * ({@link ShardStore#clock()}): the node's one notion of now, which also times the nonces it keeps.
     */
    static final long MAX_PIN_WINDOW_MILLIS = TimeUnit.HOURS.toMillis(1);
    /** A delete signature may not be valid for longer than this: its nonce is remembered that long. */
    static final long MAX_DELETE_WINDOW_MILLIS = TimeUnit.MINUTES.toMillis(10);
    static final int KEY = 32;
    static final int SIGNATURE = 64;
    static final int NONCE = 16;
    static final byte[] PIN_DOMAIN = "oe-shard-pin:v1\n".getBytes(StandardCharsets.US_ASCII);
    static final byte[] DELETE_DOMAIN = "oe-shard-delete:v2\n".getBytes(StandardCharsets.US_ASCII);
    private static final System.Logger LOG = System.getLogger(ShardServer.class.getName());

    /**
     * How much one node takes in and how long it waits.
     *
     * @param stall a request that sends no byte for this long before it is complete is reset
     * @param deadline a request not answered within this is reset
     * @param inflightTotal bytes of PUT bodies and GET answers in memory, all peers together
     * @param inflightPerPeer the same, one peer
     */
    public record Limits(Duration stall, Duration deadline, long inflightTotal, long inflightPerPeer) {
        public Limits {
            if (stall.isNegative() || stall.isZero() || deadline.isNegative() || deadline.isZero()) {
                throw new IllegalArgumentException("stall and deadline must be positive, were " + stall + " and " + deadline);
            }
            if (inflightTotal < MAX_SHARD || inflightPerPeer < MAX_SHARD || inflightPerPeer > inflightTotal) {
                throw new IllegalArgumentException("in-flight limits must hold one shard (" + MAX_SHARD
                        + " bytes) and a peer's no more than the total, were " + inflightTotal + " in all and " + inflightPerPeer + " per peer");
            }
        }

        /**
         * 10 s without a byte, 60 s in all; a quarter of the heap in flight (128 MiB at
         * {@code -Xmx512m}), half of that from one peer.
         */
        public static Limits defaults() {
            long total = Math.max(MAX_SHARD, Runtime.getRuntime().maxMemory() / 4);
            return new Limits(Duration.ofSeconds(10), Duration.ofSeconds(60), total, Math.max(MAX_SHARD, total / 2));
        }

        public Limits withStall(Duration d) {
            return new Limits(d, deadline, inflightTotal, inflightPerPeer);
        }

        public Limits withInflight(long total, long perPeer) {
            return new Limits(stall, deadline, total, perPeer);
        }
    }

    private final ShardStore store;
    private final ExecutorService io;
    private final PeerId self;
    private final Limits limits;
    private final IncomingBudget budget;
    private volatile Consumer<Cid> stored = c -> { };
    private volatile BlockCheck blockCheck = (cid, bytes) -> null;
    private volatile Receipts receipts;
    private volatile Admission admission;
    private volatile PeerRate receiptRate;
    /** RECEIPT requests being worked on (each may read or fetch a manifest): at most {@link #RECEIPTS_AT_ONCE}. */
    private final java.util.concurrent.Semaphore receiptSlots = new java.util.concurrent.Semaphore(RECEIPTS_AT_ONCE);
    /** RECEIPT requests one peer may make a second on average (each costs a manifest read, perhaps a fetch). */
    public static final double RECEIPTS_PER_SECOND = 4;
    /** RECEIPT requests one peer may make at once after a quiet spell. */
    public static final int RECEIPT_BURST = 8;
    /** RECEIPT requests worked on at once, all peers together; beyond, BUSY. */
    public static final int RECEIPTS_AT_ONCE = 8;

    /**
     * Whether a PUT's pin may be taken, beyond the store's quotas: paid storage admits a stranger's
     * block only while the owner's chain account can pay for it ({@code contracts.PaidAdmission}).
     * Both calls run on an I/O thread, never on the event loop (the answer may need a chain read).
     */
    public interface Admission {
        /**
         * Before the block is stored: null admits it (and reserves its bytes), "" admits it with
         * nothing reserved (nothing new to pay for: {@link #settled} is not called), else why not,
         * in words (answered PAYMENT_REQUIRED).
         */
        String admit(Cid cid, byte[] owner, long size);

        /** After {@link #admit} said yes: whether the store took the pin; an admission not stored is given back. */
        void settled(Cid cid, byte[] owner, long size, boolean stored);

        /**
         * From the header, before any body byte is taken, on the event loop (so from memory only,
         * never a read): why {@code owner} cannot be admitted whatever the block, or null when
         * that is not known yet ({@link #admit} decides once the body is here).
         */
        default String refuseEarly(byte[] owner, long size) {
            return null;
        }
    }

    /** A check of a block's meaning, beyond its CID, before it is stored (manifests: {@code object.Manifests}). */
    @FunctionalInterface
    public interface BlockCheck {
        /**
         * @param bytes the block (position to limit); not to be moved or kept
         * @return null when the block may be stored, else why not, in words
         */
        String problem(Cid cid, ByteBuffer bytes);
    }

    /**
     * @param self this node's peer ID: the holder that pin and delete signatures must name
     */
    public ShardServer(ShardStore store, ExecutorService io, PeerId self) {
        this(store, io, self, Limits.defaults());
    }

    public ShardServer(ShardStore store, ExecutorService io, PeerId self, Limits limits) {
        this.store = store;
        this.io = io;
        this.self = self;
        this.limits = limits;
        this.budget = new IncomingBudget(limits.inflightTotal(), limits.inflightPerPeer());
    }

    /** Called (on an I/O thread) with every shard a PUT stored; the node announces it in the DHT. */
    public void onStored(Consumer<Cid> listener) {
        this.stored = listener;
    }

    /**
     * Checks every PUT's block with {@code check} before storing it; a block it refuses is answered
     * BAD_REQUEST with its words and never stored (a node never keeps a manifest it has not validated).
     */
    public void checkBlocks(BlockCheck check) {
        this.blockCheck = check;
    }

    /**
     * Answers RECEIPT requests with receipts signed by {@code r} (paid storage; a node without a
     * chain link signs none and refuses them), each peer at most {@link #RECEIPTS_PER_SECOND} a
     * second ({@link #RECEIPT_BURST} at once), {@link #RECEIPTS_AT_ONCE} worked on at once in all.
     */
    public void signReceipts(Receipts r) {
        this.receiptRate = new PeerRate(RECEIPTS_PER_SECOND, RECEIPT_BURST, store.clock());
        this.receipts = r;
    }

    /** Admits each PUT's pin through {@code a} too (after the block check, before the store); null: the quotas alone. */
    public void admitThrough(Admission a) {
        this.admission = a;
    }

    /** Bytes of requests held in memory now (for tests and metrics). */
    public long inflightBytes() {
        return budget.used();
    }

    /** What the owner signs to pin {@code cid} on {@code holder} until {@code notAfter} (unix ms). */
    public static byte[] pinMessage(PeerId holder, Cid cid, long notAfter) {
        return signed(PIN_DOMAIN, holder, cid, notAfter, new byte[0]);
    }

    /** What the owner signs to remove one of its pins of {@code cid} on {@code holder}, once ({@code nonce}: 16 random bytes). */
    public static byte[] deleteMessage(PeerId holder, Cid cid, long notAfter, byte[] nonce) {
        if (nonce.length != NONCE) {
            throw new IllegalArgumentException("a delete nonce has " + NONCE + " bytes, not " + nonce.length);
        }
        return signed(DELETE_DOMAIN, holder, cid, notAfter, nonce);
    }

    private static byte[] signed(byte[] domain, PeerId holder, Cid cid, long notAfter, byte[] tail) {
        byte[] h = holder.toBytes();
        byte[] c = cid.toBytes();
        return ByteBuffer.allocate(domain.length + 2 + h.length + 2 + c.length + 8 + tail.length)
                .put(domain).putShort((short) h.length).put(h).putShort((short) c.length).put(c).putLong(notAfter).put(tail)
                .array();
    }

    public StreamHandler newHandler() {
        Exchange x = new Exchange();
        return new StreamHandler() {
            @Override
            public void onOpen(P2pStream s) {
                x.open(new StreamWire(s));
            }

            @Override
            public void onData(P2pStream s, ByteBuf data) {
                x.data(data);
            }

            @Override
            public void onRemoteClose(P2pStream s) {
                x.remoteClosed();
            }

            @Override
            public void onClose(P2pStream s, Throwable error) {
                x.closed();
            }
        };
    }

    /** One request's exchange, driven through a {@link Wire} (tests drive it without a socket). */
    Exchange newExchange() {
        return new Exchange();
    }

    /** What an exchange needs of its stream. All calls into an exchange run on {@link #eventLoop()}. */
    interface Wire {
        PeerId remotePeer();

        EventExecutor eventLoop();

        ByteBufAllocator alloc();

        /** Queues {@code data} (ownership passes); the future completes once it is written or the stream is gone. */
        Future<?> write(ByteBuf data);

        void closeWrite();

        void reset();
    }

    private record StreamWire(P2pStream s) implements Wire {
        @Override
        public PeerId remotePeer() {
            return s.remotePeer();
        }

        @Override
        public EventExecutor eventLoop() {
            return s.eventLoop();
        }

        @Override
        public ByteBufAllocator alloc() {
            return s.alloc();
        }

        @Override
        public Future<?> write(ByteBuf data) {
            return s.write(data);
        }

        @Override
        public void closeWrite() {
            s.closeWrite();
        }

        @Override
        public void reset() {
            s.reset();
        }
    }

    /** A failure answered to the asker in words. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final Status status;

        Refused(Status status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private static String unsigned(long v) {
        return Long.toUnsignedString(v);
    }

    /**
     * Null if {@code notAfter} (unix ms, unsigned) lies between now and {@code window} ahead, else
     * what is wrong with it.
     */
    static String checkExpiry(long notAfter, long window, long now) {
        if (Long.compareUnsigned(notAfter, now) < 0) {
            return "its signature expired at " + unsigned(notAfter) + " (unix ms), it is " + now + " here";
        }
        if (Long.compareUnsigned(notAfter, now + window) > 0) {
            return "its signature is valid until " + unsigned(notAfter) + " (unix ms), more than " + window / 1000
                    + " s ahead of " + now;
        }
        return null;
    }

    private static boolean verify(byte[] signature, byte[] key, byte[] message) {
        try {
            return Ed25519.verify(signature, 0, key, 0, message, 0, message.length);
        } catch (RuntimeException e) {
            return false; // a key that is no curve point
        }
    }

    /**
     * One stream's request and answer. Runs on the stream's event loop, except the store work posted
     * to {@code io}, which comes back through {@link #answer}.
     */
    final class Exchange {
        private Wire w;
        /** The request's header as it arrives; ours until released. */
        private ByteBuf head;
        private ShardRequest request;
        private Cid cid;
        /** The PUT body as it arrives, copied out of the stream's buffers; ours until handed to the store's task. */
        private CompositeByteBuf body;
        private long size;
        private long received;
        /** Waiting for bytes of the request (header, or PUT body). */
        private boolean receiving = true;
        private boolean answered;
        /** Bytes of the budget this exchange holds (taken on the loop for PUT, on an I/O thread for GET). */
        private final AtomicLong held = new AtomicLong();
        private long lastByteNanos;
        private ScheduledFuture<?> deadline;
        private ScheduledFuture<?> stallCheck;
        /** Whether this exchange holds one of {@link #receiptSlots} (on the event loop only). */
        private boolean holdsReceiptSlot;

        void open(Wire wire) {
            this.w = wire;
            lastByteNanos = System.nanoTime();
            deadline = w.eventLoop().schedule(() -> drop("not answered within " + limits.deadline()),
                    limits.deadline().toNanos(), TimeUnit.NANOSECONDS);
            stallCheck = w.eventLoop().schedule(this::checkStall, limits.stall().toNanos(), TimeUnit.NANOSECONDS);
        }

        private void checkStall() {
            if (answered || !receiving) {
                return;
            }
            long idle = System.nanoTime() - lastByteNanos;
            long stall = limits.stall().toNanos();
            if (idle >= stall) {
                drop("no byte for " + limits.stall() + " (" + (request == null ? "inside the header" : received + " of " + size + " body bytes") + ")");
            } else {
                stallCheck = w.eventLoop().schedule(this::checkStall, stall - idle, TimeUnit.NANOSECONDS);
            }
        }

        void data(ByteBuf data) {
            try {
                if (w == null || answered || !receiving) {
                    return; // nothing more is expected; extra bytes are dropped
                }
                lastByteNanos = System.nanoTime();
                if (request == null) {
                    if (head == null) {
                        head = w.alloc().buffer(Math.min(data.readableBytes(), 64 * 1024));
                    }
                    head.writeBytes(data);
                    byte[] m;
                    try {
                        m = Frames.read(head, MAX_REQUEST);
                    } catch (WireException e) { // a length over the limit, in our words
                        throw new Refused(Status.BAD_REQUEST, "request " + e.getMessage());
                    }
                    if (m == null) {
                        return;
                    }
                    try {
                        request = ShardRequest.parseFrom(m);
                    } catch (InvalidProtocolBufferException e) {
                        throw new Refused(Status.BAD_REQUEST, "malformed request: " + m.length + " bytes that are not a ShardRequest");
                    }
                    start();
                    if (body != null && head != null && head.isReadable()) {
                        takeBody(head);
                    }
                    if (head != null) {
                        head.release();
                        head = null;
                    }
                } else {
                    takeBody(data);
                }
            } catch (Refused r) {
                answer(r.status, r.getMessage(), 0, null);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "shard request from " + w.remotePeer() + " failed", e);
                answer(Status.ERROR, "internal error", 0, null);
            } finally {
                data.release();
            }
        }

        /** Validates the request and starts it. */
        private void start() throws Refused {
            try {
                cid = Cid.fromBytes(request.getCid().toByteArray());
            } catch (RuntimeException e) {
                throw new Refused(Status.BAD_REQUEST, "malformed CID (" + request.getCid().size() + " bytes)"
                        + (e instanceof IllegalArgumentException && e.getMessage() != null ? ": " + e.getMessage() : ""));
            }
            switch (request.getOp()) {
                case PUT -> startPut();
                case GET -> {
                    receiving = false;
                    run(this::get);
                }
                case HAS -> {
                    receiving = false;
                    run(() -> {
                        StoredShard m = store.has(cid) ? store.metadata(cid) : null;
                        if (m == null) {
                            answer(Status.NOT_FOUND, "no shard " + cid + " here", 0, null);
                        } else {
                            answer(Status.OK, "", m.size(), null);
                        }
                    });
                }
                case DELETE -> startDelete();
                case PROVE -> {
                    receiving = false;
                    run(this::prove);
                }
                case RECEIPT -> startReceipt();
                default -> throw new Refused(Status.BAD_REQUEST, "unknown op " + request.getOpValue());
            }
        }

        private void startPut() throws Refused {
            long declared = request.getSize();
            if (Long.compareUnsigned(declared, MAX_SHARD) > 0) {
                throw new Refused(Status.TOO_LARGE, "shard of " + unsigned(declared) + " bytes exceeds " + MAX_SHARD);
            }
            byte[] owner = signer("PUT");
            String late = checkExpiry(request.getNotAfter(), MAX_PIN_WINDOW_MILLIS, store.clock().millis());
            if (late != null) {
                throw new Refused(Status.FORBIDDEN, "pin of " + cid + " refused: " + late);
            }
            if (!verify(request.getSignature().toByteArray(), owner, pinMessage(self, cid, request.getNotAfter()))) {
                throw new Refused(Status.FORBIDDEN, "pin of " + cid + " refused: the signature is not "
                        + PeerId.fromEd25519(owner) + "'s over this CID for this node (" + self + ")");
            }
            Admission a = admission;
            String early = a == null ? null : a.refuseEarly(owner, declared);
            if (early != null) {
                throw new Refused(Status.PAYMENT_REQUIRED, "pin of " + cid + " refused: " + early);
            }
            size = declared;
            body = w.alloc().compositeBuffer(Integer.MAX_VALUE); // grows as bytes arrive, never to what the header says
            if (size == 0) {
                finishPut();
            }
        }

        /** The 32-byte key that signed the request, once the signature has the right length. */
        private byte[] signer(String op) throws Refused {
            if (request.getOwner().size() != KEY) {
                throw new Refused(Status.FORBIDDEN, "a " + op + " must name the key that signs it (32 bytes), had "
                        + request.getOwner().size());
            }
            if (request.getSignature().size() != SIGNATURE) {
                throw new Refused(Status.FORBIDDEN, "a " + op + " must carry its owner's Ed25519 signature (64 bytes), had "
                        + request.getSignature().size());
            }
            return request.getOwner().toByteArray();
        }

        private void takeBody(ByteBuf in) throws Refused {
            int n = (int) Math.min(in.readableBytes(), size - received);
            if (n > 0) {
                if (!budget.take(w.remotePeer(), n)) {
                    throw new Refused(Status.BUSY, "this node holds " + budget.used() + " of its " + budget.total()
                            + " bytes of incoming shards (" + budget.used(w.remotePeer()) + " of " + budget.perPeer() + " from you)");
                }
                held.addAndGet(n);
                ByteBuf chunk = w.alloc().buffer(n);
                chunk.writeBytes(in, n);
                body.addComponent(true, chunk);
                received += n;
            }
            if (in.isReadable()) {
                throw new Refused(Status.BAD_REQUEST, "more bytes than the announced size " + size);
            }
            if (received == size) {
                finishPut();
            }
        }

        private void finishPut() {
            receiving = false;
            CompositeByteBuf data = body;
            body = null; // the store's task owns it now
            byte[] owner = request.getOwner().toByteArray();
            Cid c = cid;
            int n = (int) size;
            try {
                io.execute(() -> {
                    ByteBuffer buf = null;
                    try {
                        buf = store.receiveBuffer(n);
                        data.getBytes(0, buf.duplicate());
                        String problem = blockCheck.problem(c, buf.duplicate());
                        if (problem != null) {
                            answer(Status.BAD_REQUEST, "refused " + c + ": " + problem, 0, null);
                            return;
                        }
                        Admission a = admission;
                        if (a != null) {
                            String refused = a.admit(c, owner, n);
                            if (refused != null && refused.isEmpty()) {
                                a = null; // admitted, nothing reserved
                                refused = null;
                            }
                            if (refused != null) {
                                answer(Status.PAYMENT_REQUIRED, "refused " + c + ": " + refused, 0, null);
                                return;
                            }
                        }
                        if (a != null) {
                            boolean done = false;
                            try {
                                store.put(c, buf, owner);
                                done = true;
                            } finally {
                                a.settled(c, owner, n, done);
                            }
                        } else {
                            store.put(c, buf, owner);
                        }
                        answer(Status.OK, "", n, null);
                        stored.accept(c);
                    } catch (StoreException e) {
                        answer(statusOf(e), words(e), 0, null);
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "storing shard " + c + " failed", e);
                        answer(Status.ERROR, "internal error", 0, null);
                    } finally {
                        data.release();
                        if (buf != null) {
                            store.recycle(buf);
                        }
                    }
                });
            } catch (RejectedExecutionException e) {
                data.release();
                answer(Status.ERROR, "the node is stopping", 0, null);
            }
        }

        private void get() throws StoreException, Refused {
            StoredShard m = store.metadata(cid);
            if (m == null) {
                throw new Refused(Status.NOT_FOUND, "no shard " + cid + " here");
            }
            long total = m.size();
            long offset = request.getOffset();
            if (Long.compareUnsigned(offset, total) > 0) {
                throw new Refused(Status.BAD_REQUEST, "range from " + unsigned(offset) + " starts past the end of shard "
                        + cid + " of " + total + " bytes");
            }
            long rest = total - offset;
            long len = request.getLength() == 0 ? rest : request.getLength();
            if (Long.compareUnsigned(len, rest) > 0) {
                throw new Refused(Status.BAD_REQUEST, "range " + offset + "+" + unsigned(len) + " is outside shard "
                        + cid + " of " + total + " bytes");
            }
            // The whole shard is read (and checked against its CID) even for a range; it stays counted
            // until the answer is written (or the stream is gone).
            if (!budget.take(w.remotePeer(), total)) {
                throw new Refused(Status.BUSY, "this node holds " + budget.used() + " of its " + budget.total()
                        + " bytes of shard transfers; try again shortly");
            }
            held.addAndGet(total);
            byte[] d = offset == 0 && len == total ? store.get(cid) : store.get(cid, offset, (int) len);
            answer(Status.OK, "", d.length, d);
        }

        /** Chunks of the shard with their proof; budgeted like a GET's answer, by what the answer may hold. */
        private void prove() throws StoreException, Refused {
            long first = request.getFirstChunk();
            long count = request.getChunkCount();
            if (count == 0 || Long.compareUnsigned(count, ShardStore.MAX_PROVE_CHUNKS) > 0) {
                throw new Refused(Status.BAD_REQUEST, "a PROVE asks for 1 to " + ShardStore.MAX_PROVE_CHUNKS
                        + " chunks, not " + unsigned(count));
            }
            if (Long.compareUnsigned(first, MAX_SHARD / 1024) >= 0) {
                throw new Refused(Status.BAD_REQUEST, "chunk " + unsigned(first) + " is past the end of any shard (at most "
                        + MAX_SHARD / 1024 + " chunks)");
            }
            long hold = maxProofBytes((int) count);
            if (!budget.take(w.remotePeer(), hold)) {
                throw new Refused(Status.BUSY, "this node holds " + budget.used() + " of its " + budget.total()
                        + " bytes of shard transfers; try again shortly");
            }
            held.addAndGet(hold);
            byte[] proof = store.prove(cid, first, (int) count).encode();
            answer(Status.OK, "", proof.length, proof);
        }

        /** RECEIPT: checked here, rate-limited, then signed on {@code io} (a manifest read, perhaps a fetch). */
        private void startReceipt() throws Refused {
            receiving = false;
            Receipts r = receipts;
            if (r == null) {
                throw new Refused(Status.BAD_REQUEST, "this node signs no receipts (it sells no storage: no chain link)");
            }
            if (cid.codec() != ContentCodec.MANIFEST) {
                throw new Refused(Status.BAD_REQUEST, "a RECEIPT names an object (a manifest CID), not " + cid.codec().label()
                        + " " + cid);
            }
            if (request.getOwner().size() != KEY) {
                throw new Refused(Status.BAD_REQUEST, "a RECEIPT names the payer's key (32 bytes), had " + request.getOwner().size());
            }
            long period = request.getPeriod();
            if (period < 0) {
                throw new Refused(Status.BAD_REQUEST, "period " + unsigned(period) + " is out of range");
            }
            if (!receiptRate.take(w.remotePeer())) {
                throw new Refused(Status.BUSY, "at most " + (int) RECEIPTS_PER_SECOND + " receipt requests a second ("
                        + RECEIPT_BURST + " at once) from one peer; try again shortly");
            }
            if (!receiptSlots.tryAcquire()) {
                throw new Refused(Status.BUSY, RECEIPTS_AT_ONCE + " receipt requests are being worked on here; try again shortly");
            }
            holdsReceiptSlot = true; // given back with the answer, or when the request is dropped
            byte[] payer = request.getOwner().toByteArray();
            PeerId asker = w.remotePeer();
            Cid object = cid;
            run(() -> {
                Receipts.Signed signed;
                try {
                    signed = r.signBlocks(object, payer, period, asker);
                } catch (java.io.IOException e) {
                    throw new Refused(Status.NOT_FOUND, "no receipt for " + object + ": " + e.getMessage());
                } catch (IllegalArgumentException e) {
                    throw new Refused(Status.BAD_REQUEST, "no receipt for " + object + ": " + e.getMessage());
                }
                if (signed == null) {
                    throw new Refused(Status.NOT_FOUND, "no block of " + object + " pinned by "
                            + PeerId.fromEd25519(payer) + " is held here");
                }
                byte[] map = signed.blocks(); // the body: which of the object's blocks the receipt counts
                answer(Status.OK, "", map.length, map, signed.receipt().toByteArray());
            });
        }

        private void startDelete() throws Refused {
            receiving = false;
            byte[] owner = signer("DELETE");
            byte[] nonce = request.getNonce().toByteArray();
            if (nonce.length != NONCE) {
                throw new Refused(Status.FORBIDDEN, "a DELETE must carry a " + NONCE + "-byte nonce, had " + nonce.length);
            }
            long notAfter = request.getNotAfter();
            String late = checkExpiry(notAfter, MAX_DELETE_WINDOW_MILLIS, store.clock().millis());
            if (late != null) {
                throw new Refused(Status.FORBIDDEN, "delete of " + cid + " refused: " + late);
            }
            if (!verify(request.getSignature().toByteArray(), owner, deleteMessage(self, cid, notAfter, nonce))) {
                throw new Refused(Status.FORBIDDEN, "delete of " + cid + " refused: the signature is not "
                        + PeerId.fromEd25519(owner) + "'s over this CID, expiry and nonce for this node (" + self + ")");
            }
            run(() -> {
                switch (store.unpinOnce(cid, owner, nonce, notAfter)) {
                    case UNPINNED -> answer(Status.OK, "", 0, null);
                    case NOT_PINNED -> answer(Status.FORBIDDEN, cid + " is not pinned here by " + PeerId.fromEd25519(owner), 0, null);
                    case REPLAYED -> answer(Status.FORBIDDEN, "this delete of " + cid + " was used before (its nonce was seen)", 0, null);
                    case BUSY -> answer(Status.BUSY, "too many recent deletes are remembered here; try again in a few minutes", 0, null);
                }
            });
        }

        private interface Work {
            void run() throws StoreException, Refused;
        }

        private void run(Work work) {
            try {
                io.execute(() -> {
                    try {
                        work.run();
                    } catch (Refused r) {
                        answer(r.status, r.getMessage(), 0, null);
                    } catch (StoreException e) {
                        answer(statusOf(e), words(e), 0, null);
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "shard request for " + cid + " failed", e);
                        answer(Status.ERROR, "internal error", 0, null);
                    }
                });
            } catch (RejectedExecutionException e) {
                answer(Status.ERROR, "the node is stopping", 0, null);
            }
        }

        /**
         * Sends the one answer and ends this side: at once on the event loop, else posted to it.
         * Budget held for a GET's bytes goes back once they are written.
         */
        private void answer(Status status, String message, long answerSize, byte[] data) {
            answer(status, message, answerSize, data, null);
        }

        /** {@link #answer(Status, String, long, byte[])} with a RECEIPT's encoded receipt in the response. */
        private void answer(Status status, String message, long answerSize, byte[] data, byte[] receipt) {
            Runnable send = () -> {
                long h = held.getAndSet(0);
                if (answered) {
                    if (h > 0) {
                        budget.give(w.remotePeer(), h);
                    }
                    return;
                }
                answered = true;
                receiving = false;
                release();
                ShardResponse.Builder b = ShardResponse.newBuilder().setStatus(status).setMessage(message).setSize(answerSize);
                if (receipt != null) {
                    b.setReceipt(com.google.protobuf.ByteString.copyFrom(receipt));
                }
                ShardResponse r = b.build();
                Future<?> sent = w.write(Frames.encode(w.alloc(), r.toByteArray(), data));
                if (h > 0) {
                    sent.addListener(f -> budget.give(w.remotePeer(), h));
                }
                w.closeWrite();
            };
            if (w.eventLoop().inEventLoop()) {
                send.run();
                return;
            }
            try {
                w.eventLoop().execute(send);
            } catch (RejectedExecutionException e) {
                long h = held.getAndSet(0); // the connection's loop is gone, and the stream with it
                if (h > 0) {
                    budget.give(w.remotePeer(), h);
                }
            }
        }

        /** Abandons the request: resets the stream and gives everything back. */
        private void drop(String why) {
            if (answered) {
                return;
            }
            LOG.log(System.Logger.Level.DEBUG, "dropping a shard request from {0}: {1}", w.remotePeer(), why);
            answered = true;
            receiving = false;
            release();
            w.reset();
        }

        void remoteClosed() {
            // The asker half-closes after its request; our side closes once the answer is written.
            if (receiving && !answered && w != null) {
                answer(Status.BAD_REQUEST, request == null ? "the stream ended inside the request header"
                        : "the stream ended after " + received + " of " + size + " body bytes", 0, null);
            }
        }

        void closed() {
            answered = true;
            receiving = false;
            release();
        }

        private void release() {
            if (deadline != null) {
                deadline.cancel(false);
                deadline = null;
            }
            if (stallCheck != null) {
                stallCheck.cancel(false);
                stallCheck = null;
            }
            if (body != null) { // an unfinished PUT body (never handed to the store)
                body.release();
                body = null;
            }
            if (head != null) {
                head.release();
                head = null;
            }
            if (holdsReceiptSlot) {
                holdsReceiptSlot = false;
                receiptSlots.release();
            }
            long h = held.getAndSet(0);
            if (h > 0) {
                budget.give(w.remotePeer(), h);
            }
        }
    }

    private static Status statusOf(StoreException e) {
        return switch (e.code()) {
            case NOT_FOUND -> Status.NOT_FOUND;
            case CID_MISMATCH -> Status.CID_MISMATCH;
            case FULL, OVER_QUOTA -> Status.FULL;
            case CORRUPT -> Status.CORRUPT;
            case BAD_RANGE -> Status.BAD_REQUEST;
            case IO, CLOSED -> Status.ERROR;
        };
    }

    /** The store's message when it names what was wrong; for its internal failures, words without local details. */
    private static String words(StoreException e) {
        return switch (e.code()) {
            case IO -> {
                LOG.log(System.Logger.Level.WARNING, "shard store failure: {0}", e.getMessage());
                yield "internal error: the node could not read or write its store";
            }
            case CLOSED -> "the node is stopping";
            default -> e.getMessage();
        };
    }
}
