package io.oecloud.node.object;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.erasure.ReedSolomon;
import io.oecloud.proofs.pb.ManifestProto.Encryption;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Stores a stream as an object: reads it segment by segment, encrypts (optionally), codes each
 * segment into k + m shards named by BLAKE3 CIDs, places them ({@link Placer}, nodes from
 * {@link Candidates}) and stores the signed manifest ({@link ManifestStore}). Objects under the
 * inline threshold live inside their manifest.
 *
 * <p>Pipelining: at most {@link #PIPELINE} segments per upload are coded and placed on virtual
 * threads while the next is read, and only while the node's {@link MemoryBudget} has slots to
 * spare. A whole unencrypted segment is read straight into its k data-shard arrays
 * ({@link SegmentPieces}), so the body is copied once, from the socket's buffers.
 *
 * <p>An upload that fails takes back every pin it placed ({@link PinRelease}).
 */
final class Upload {
    /** Segments coded and in transit at once during one upload. */
    static final int PIPELINE = 2;

    private final ObjectService.Config config;
    private final Identity owner;
    private final ReedSolomon rs;
    private final Candidates candidates;
    private final Placer placer;
    private final ManifestStore manifests;
    private final PinRelease release;
    private final MemoryBudget budget;
    private final Counter uploads;
    private final Counter uploadFailures;
    private final Counter uploadBytes;
    private final Timer uploadTime;

    Upload(ObjectService.Config config, Identity owner, ReedSolomon rs, Candidates candidates, Placer placer,
           ManifestStore manifests, PinRelease release, MemoryBudget budget, MeterRegistry metrics) {
        this.config = config;
        this.owner = owner;
        this.rs = rs;
        this.candidates = candidates;
        this.placer = placer;
        this.manifests = manifests;
        this.release = release;
        this.budget = budget;
        this.uploads = Counter.builder("oe_uploads").description("Objects uploaded through this node").register(metrics);
        this.uploadFailures = Counter.builder("oe_upload_failures").description("Uploads that failed").register(metrics);
        this.uploadBytes = Counter.builder("oe_upload_bytes").description("Object bytes uploaded through this node").register(metrics);
        this.uploadTime = Timer.builder("oe_upload_duration").description("Time to store an object").register(metrics);
    }

    /**
     * Reads {@code in} to its end and stores it; returns the object's CID (its manifest's).
     *
     * @param encrypt encrypt the segments (AES-256-GCM) with a key only this node's identity can open
     */
    Cid upload(InputStream in, String contentType, boolean encrypt) throws IOException, ObjectException {
        return upload(in, contentType, encrypt, StoredHook.NONE);
    }

    /** {@link #upload(InputStream, String, boolean)}, with {@code hook} as its last step (a throw fails it and takes its pins back). */
    Cid upload(InputStream in, String contentType, boolean encrypt, StoredHook hook) throws IOException, ObjectException {
        String badType = contentType == null ? null : Manifests.contentTypeProblem(contentType);
        if (badType != null) { // refused before any byte is read or placed: the manifest could not carry it
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "content type " + badType);
        }
        long t0 = System.nanoTime();
        try {
            Stored r = storeOrNothing(in, contentType, encrypt, hook);
            uploads.increment();
            uploadBytes.increment(r.size());
            return r.cid();
        } catch (IOException | ObjectException | RuntimeException e) {
            uploadFailures.increment();
            throw e;
        } finally {
            uploadTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    private record Stored(Cid cid, long size, Manifest manifest) {}

    /**
     * Stores the object, or nothing: when anything fails (the body ends early or breaks off, a
     * segment cannot reach its write quorum, the manifest cannot be placed) every pin the upload
     * had already placed is taken back, in the background ({@link PinRelease}), so an upload that
     * was not acknowledged leaves no pinned shards behind.
     */
    private Stored storeOrNothing(InputStream in, String contentType, boolean encrypt, StoredHook hook)
            throws IOException, ObjectException {
        Queue<Pin> pinned = new ConcurrentLinkedQueue<>();
        boolean stored = false;
        try {
            Stored r = store(in, contentType, encrypt, pinned);
            hook.stored(r.cid(), r.manifest(), ManifestStore.copies(r.cid(), pinned));
            stored = true;
            return r;
        } finally {
            if (!stored) {
                release.release(pinned, "a failed upload");
            }
        }
    }

    private Stored store(InputStream in, String contentType, boolean encrypt, Queue<Pin> pinned)
            throws IOException, ObjectException {
        Manifest.Builder mb = Manifest.newBuilder().setContentType(contentType == null ? "application/octet-stream" : contentType)
                .setSegmentSize(config.segmentSize()).setK(config.k()).setM(config.m()).setKind(Kind.FILE)
                .setOwner(ByteString.copyFrom(owner.publicKey()));
        // The first bytes go to a buffer of the inline threshold's size: an object that ends within
        // it is stored inline and never takes a segment slot nor a segment's k arrays (8 MiB zeroed
        // for each 4 KiB PUT was most of a small-object upload's garbage: 530 GC pauses in 40 s).
        byte[] head = in.readNBytes(config.inlineThreshold());
        if (head.length < config.inlineThreshold()) {
            int first = head.length;
            byte[] bytes = head;
            if (encrypt) { // sealed inline as segment 0: a small private object costs one manifest, not k + m shards
                Encryption.Builder eb = Encryption.newBuilder();
                bytes = SegmentCipher.create(owner, eb).seal(0, bytes, first);
                mb.setEncryption(eb);
            }
            mb.setSize(first).setInlineData(ByteString.copyFrom(bytes));
            Manifest inline = mb.build();
            return new Stored(manifests.store(inline, pinned), first, inline);
        }
        budget.awaitSlot();
        boolean holding = true; // the slot of the segment buffer being read
        ArrayDeque<Future<Segment>> inflight = new ArrayDeque<>();
        long total = 0;
        try {
            SegmentPieces segment = new SegmentPieces(config.segmentSize(), config.k());
            int first = segment.readFrom(new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(head), in));
            SegmentCipher cipher = null;
            if (encrypt) {
                Encryption.Builder eb = Encryption.newBuilder();
                cipher = SegmentCipher.create(owner, eb);
                mb.setEncryption(eb);
            }
            // Segments are coded and placed on virtual threads while the next one is read: at most
            // PIPELINE per upload, and only while the node's memory budget has slots to spare.
            try (var segments = Executors.newVirtualThreadPerTaskExecutor()) {
                // On a failure (the body broke off, a segment missed its quorum) the segments
                // already under way finish rather than being cancelled: a cancelled transfer that
                // the peer had just stored would leave a pin nobody knows of, while every finished
                // one is taken back with the rest. They are bounded (placement gives up after
                // 120 s) and at most PIPELINE of them; only an interrupt cancels them.
                try {
                    int len = first;
                    SegmentPieces current = segment;
                    long index = 0;
                    while (len > 0 || (index == 0 && cipher != null)) {
                        SegmentPieces data = current;
                        int n = len;
                        long idx = index++;
                        SegmentCipher c = cipher;
                        inflight.add(segments.submit(() -> {
                            try {
                                return segment(idx, data, n, c, pinned);
                            } finally {
                                budget.release();
                            }
                        }));
                        holding = false; // the task releases it
                        total += len;
                        if (len < current.capacity) {
                            break; // a short read is the end of the stream
                        }
                        while (true) { // a slot for the next buffer; while we hold others, wait for our oldest
                            if (inflight.size() < PIPELINE && budget.tryAcquire()) {
                                break;
                            }
                            if (inflight.isEmpty()) {
                                budget.awaitSlot();
                                break;
                            }
                            mb.addSegments(Tasks.await(inflight.poll()));
                        }
                        holding = true;
                        current = new SegmentPieces(config.segmentSize(), config.k());
                        len = current.readFrom(in);
                        if (len == 0) {
                            break;
                        }
                    }
                    while (!inflight.isEmpty()) {
                        mb.addSegments(Tasks.await(inflight.poll()));
                    }
                } finally {
                    if (Thread.currentThread().isInterrupted()) {
                        inflight.forEach(f -> f.cancel(true)); // the node is stopping: stop the others before waiting for them
                    }
                }
            }
        } finally {
            if (holding) {
                budget.release();
            }
        }
        Manifest whole = mb.setSize(total).build();
        return new Stored(manifests.store(whole, pinned), total, whole);
    }

    /**
     * A segment's name (the manifest's {@code Segment.cid}): the BLAKE3 CID of its data shards'
     * CIDs end to end. It keys placement and repair. The data shards' CIDs are what fix the
     * segment's bytes: a decoded segment is checked against them, so no pass over the segment's
     * own bytes is needed, on upload or download (a quarter of the hashing of each).
     */
    static Cid segmentKey(List<Cid> dataShards) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Cid c : dataShards) {
            b.writeBytes(c.toBytes());
        }
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b.toByteArray());
    }

    /** Codes segment {@code index} and places its shards; returns its manifest entry. */
    private Segment segment(long index, SegmentPieces plain, int plainLen, SegmentCipher cipher, Queue<Pin> pinned)
            throws ObjectException {
        int k = config.k();
        int n = k + config.m();
        byte[][] s = new byte[n][];
        int shardSize;
        if (cipher == null && plainLen == plain.capacity) { // a whole segment: the pieces are its data shards
            shardSize = plain.pieceSize;
            System.arraycopy(plain.pieces, 0, s, 0, k);
        } else { // the last, short segment, or ciphertext: cut into shards of its own size
            byte[] data = cipher == null ? plain.join(plainLen) : cipher.seal(index, plain.join(plainLen), plainLen);
            int len = data.length;
            shardSize = (len + k - 1) / k;
            for (int i = 0; i < k; i++) {
                s[i] = new byte[shardSize];
                int from = i * shardSize;
                if (from < len) { // a tiny segment may leave the last shards all padding
                    System.arraycopy(data, from, s[i], 0, Math.min(shardSize, len - from));
                }
            }
        }
        for (int i = k; i < n; i++) {
            s[i] = new byte[shardSize];
        }
        rs.encode(s, 0, shardSize);
        List<Cid> cids = new ArrayList<>();
        for (byte[] shard : s) {
            cids.add(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, shard));
        }
        Cid segCid = segmentKey(cids.subList(0, k));
        List<PeerId> holders = placer.place("segment " + index, cids, Arrays.asList(s),
                candidates.forPlacement(segCid.toBytes(), n), config.writeQuorum(), pinned);
        // A shard no node could take is recorded with no holders: the manifest says what is
        // missing, downloads take any k of the others, and repair rebuilds it (RepairService).
        Segment.Builder sb = Segment.newBuilder().setSize(plainLen).setCid(ByteString.copyFrom(segCid.toBytes()));
        for (int i = 0; i < n; i++) {
            Shard.Builder shard = Shard.newBuilder().setCid(ByteString.copyFrom(cids.get(i).toBytes()));
            if (holders.get(i) != null) {
                shard.addHolders(ByteString.copyFrom(holders.get(i).toBytes()));
            }
            sb.addShards(shard);
        }
        return sb.build();
    }
}
