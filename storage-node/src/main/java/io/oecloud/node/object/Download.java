package io.oecloud.node.object;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Writes a byte range of an object out, fetching only the segments it touches
 * ({@link SegmentReader}). Read-ahead: the next segment is fetched and decoded while this one is
 * written out, when the node's {@link MemoryBudget} has a slot to spare; each fetched segment
 * holds a slot until written. An unencrypted segment goes out as its data shards are, never joined
 * into one array.
 *
 * <p>Ranges: a public segment of which at most {@link #SLICE_FRACTION} is wanted (an HTTP Range of
 * a few KiB, say) is read from verified slices of just the data shards holding those bytes
 * ({@link SegmentReader#readSlices}), not k whole shards; when a slice cannot be had it is read
 * whole after all. Encrypted segments are always read whole: AES-GCM authenticates the segment as
 * one message (its tag covers every byte), so a part of it cannot be checked on its own.
 */
final class Download {
    /** Segments fetched at once by one download: the one being written and the next. */
    static final int READ_AHEAD = 2;
    /**
     * A part of a segment up to this share of it is read from slices. Slices move only the chunks
     * wanted (plus under 2.5 KiB of proof per slice of up to 1 MiB) and spare the holders
     * whole-shard reads and hashes; but a part lies in fewer data shards than k, so it comes from
     * fewer holders at once, in 1 MiB requests. Measured on loopback (RangeDownloadNetworkTest, 8
     * MiB segments at RS(4,2), best of 3, 2-core box, two runs): 4 KiB 8-13 ms by slices against
     * 46-63 ms whole, 1 MiB 13-18 against 39-45, 2 MiB 14-31 against 33-53, 4 MiB 41-64 against
     * 39-46, 8 MiB 63-93 against 60. The whole-segment path also hedges slow holders.
     */
    static final double SLICE_FRACTION = 0.25;
    /** Test seam: the share in force ({@link #SLICE_FRACTION}; tests that time both paths move it). */
    static volatile double sliceFraction = SLICE_FRACTION;

    private final ObjectService.Config config;
    private final Identity owner;
    private final SegmentReader reader;
    private final MemoryBudget budget;
    private final Counter downloads;
    private final Counter downloadFailures;
    private final Counter downloadBytes;
    private final Timer downloadTime;

    /** @param owner this node's identity: the only key that opens the objects it encrypted */
    Download(ObjectService.Config config, Identity owner, SegmentReader reader, MemoryBudget budget, MeterRegistry metrics) {
        this.config = config;
        this.owner = owner;
        this.reader = reader;
        this.budget = budget;
        this.downloads = Counter.builder("oe_downloads").description("Downloads served (whole objects and ranges)").register(metrics);
        this.downloadFailures = Counter.builder("oe_download_failures").description("Downloads that failed").register(metrics);
        this.downloadBytes = Counter.builder("oe_download_bytes").description("Object bytes served").register(metrics);
        this.downloadTime = Timer.builder("oe_download_duration").description("Time to serve an object or range").register(metrics);
    }

    /** Writes bytes [from, to) of the object to {@code out}, fetching only the segments they touch. */
    void download(Manifest m, long from, long to, OutputStream out) throws IOException, ObjectException {
        long t0 = System.nanoTime();
        try {
            checkReadable(m);
            write(m, from, to, out);
            downloads.increment();
        } catch (IOException | ObjectException | RuntimeException e) {
            downloadFailures.increment();
            throw e;
        } finally {
            downloadTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Checks a manifest handed to {@link #download} (one that {@link ManifestStore#get} returned
     * passed already; a caller may have built or changed it) and that its segments fit this node's
     * memory budget, whose slots are counted in segments of its own size and RS parameters: a
     * segment may take up to twice what a slot stands for, not more (64 MiB segments from another
     * node would otherwise take 8 times what a default node's slot counts).
     *
     * @throws ObjectException CORRUPT for a malformed manifest; BUSY (503) for segments too large for this node
     */
    void checkReadable(Manifest m) throws ObjectException {
        Manifests.check(m);
        long slot = Manifests.segmentMemory(config.segmentSize(), config.k(), config.m());
        if (m.getSegmentsCount() > 0 && Manifests.segmentMemory(m) > 2 * slot) {
            throw new ObjectException(ObjectException.Code.BUSY, "this object's segments of " + m.getSegmentSize()
                    + " bytes at RS(" + m.getK() + ", " + m.getM() + ") need " + Manifests.segmentMemory(m)
                    + " bytes of memory each; this node reads at most " + 2 * slot
                    + " (twice a slot of its own segments): read it through a node configured for larger segments");
        }
    }

    private void write(Manifest m, long from, long to, OutputStream out) throws IOException, ObjectException {
        if (m.getKind() == Kind.DIRECTORY) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "this object is a directory: list it, or name a path inside it");
        }
        if (from < 0 || to > m.getSize() || from > to) {
            throw new ObjectException(ObjectException.Code.BAD_RANGE, "range " + from + "-" + to
                    + " is outside the object of " + m.getSize() + " bytes");
        }
        if (!m.getInlineData().isEmpty() || m.getSegmentsCount() == 0) {
            byte[] bytes = m.getInlineData().toByteArray();
            if (m.hasEncryption()) {
                bytes = SegmentCipher.open(owner, m.getEncryption(), "this object").open(0, bytes, bytes.length, "of the inline bytes");
            }
            out.write(bytes, (int) from, (int) (to - from));
            downloadBytes.increment(to - from);
            return;
        }
        SegmentCipher cipher = m.hasEncryption() ? SegmentCipher.open(owner, m.getEncryption(), "this object") : null;
        record Part(long index, Segment seg, int a, int b) {}
        List<Part> parts = new ArrayList<>();
        long segStart = 0;
        for (int i = 0; i < m.getSegmentsCount() && segStart < to; i++) {
            Segment seg = m.getSegments(i);
            long segEnd = segStart + seg.getSize();
            if (segEnd > from) {
                parts.add(new Part(i, seg, (int) Math.max(0, from - segStart), (int) Math.min(seg.getSize(), to - segStart)));
            }
            segStart = segEnd;
        }
        // Read-ahead: the next segment is fetched and decoded while this one is written out, when
        // the node's memory budget has a slot to spare; each fetched segment holds a slot until written.
        record Fetched(Decoded data, int base) {}
        ArrayDeque<Future<Fetched>> ahead = new ArrayDeque<>();
        try (var fetchers = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                int next = 0;
                for (Part p : parts) {
                    while (next < parts.size() && ahead.size() < READ_AHEAD) {
                        if (ahead.isEmpty()) {
                            budget.awaitSlot();
                        } else if (!budget.tryAcquire()) {
                            break;
                        }
                        Part q = parts.get(next++);
                        ahead.add(fetchers.submit(() -> {
                            if (cipher == null && q.b() - q.a() <= sliceFraction * q.seg().getSize()) {
                                byte[] part = reader.readSlices(m, q.seg(), q.a(), q.b());
                                if (part != null) {
                                    return new Fetched(Decoded.of(part), q.a());
                                }
                            }
                            return new Fetched(reader.read(m, q.index(), q.seg(), cipher), 0);
                        }));
                    }
                    try {
                        Fetched f = Tasks.await(ahead.poll());
                        f.data().writeTo(out, p.a() - f.base(), p.b() - f.base());
                        downloadBytes.increment(p.b() - p.a());
                    } finally {
                        budget.release();
                    }
                }
            } finally {
                for (Future<Fetched> f : ahead) {
                    f.cancel(true);
                    budget.release();
                }
            }
        }
    }
}
