package io.oecloud.edge;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProofException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;

/**
 * Reads object bytes from an {@link Origin} and checks every one of them against the CIDs before
 * handing them on: the code is systematic, so object bytes lie in the data shards as they are
 * (data shard {@code j} of a segment holds its bytes {@code [j × shardSize, (j + 1) × shardSize)}),
 * and a range of them is proven by verified slices of just those shards (1 KiB chunks with their
 * sibling hashes, against the shard's CID and size): a 1 MiB chunk of a 1 GiB object costs 1 MiB
 * and a few KiB of proof, not a segment. When a slice cannot be had (its holders down), the
 * origin rebuilds the segment's data shards, and each is hashed against its CID here.
 *
 * <p>Not by slices: inline objects (under 64 KiB, inside the manifest, which hashes to the object's
 * CID) and encrypted ones (never served by an edge).
 */
public final class ObjectReader {
    /** Chunks a slice request carries at most (1 MiB), as the shard protocol's PROVE allows. */
    static final int MAX_SLICE_CHUNKS = 1024;

    private final Origin origin;
    private final long deadlineNanos;
    private final EdgeMetrics metrics;

    /**
     * @param deadlineMillis how long one read may wait for the origin in all (its slices and the
     *     fallback); past it the read fails with TIMEOUT
     */
    public ObjectReader(Origin origin, long deadlineMillis, EdgeMetrics metrics) {
        this.origin = origin;
        this.deadlineNanos = TimeUnit.MILLISECONDS.toNanos(deadlineMillis);
        this.metrics = metrics;
    }

    /** The object {@code cid}, its manifest fetched and checked. */
    public EdgeObject object(Cid cid) throws EdgeException {
        long t0 = System.nanoTime();
        byte[] block = call(() -> origin.manifest(cid), t0 + deadlineNanos, "the manifest of " + cid);
        try {
            return EdgeObject.of(cid, block);
        } catch (EdgeException e) {
            if (e.kind() == EdgeException.Kind.BAD_ORIGIN) {
                metrics.verificationFailure();
            }
            throw e;
        }
    }

    /**
     * Object bytes {@code [from, to)} of {@code o} (a public file), checked.
     *
     * @throws EdgeException BAD_ORIGIN when the origin's bytes do not match their CIDs (nothing of
     *     them is returned); UNAVAILABLE, NOT_FOUND or TIMEOUT from the origin
     */
    public byte[] read(EdgeObject o, long from, long to) throws EdgeException {
        if (o.directory() || o.encrypted()) {
            throw new IllegalArgumentException("only public files have bytes to read: " + o);
        }
        if (from < 0 || to > o.size() || from > to) {
            throw new IllegalArgumentException("bytes " + from + "-" + to + " are outside " + o);
        }
        byte[] inline = o.inline();
        if (inline != null) {
            return java.util.Arrays.copyOfRange(inline, (int) from, (int) to);
        }
        long deadline = System.nanoTime() + deadlineNanos;
        byte[] out = new byte[Math.toIntExact(to - from)];
        for (int s = from == to ? o.segments() : o.segmentAt(from); s < o.segments() && o.segmentStart(s) < to; s++) {
            long base = o.segmentStart(s);
            int a = (int) (Math.max(from, base) - base);
            int b = (int) (Math.min(to, o.segmentStart(s + 1)) - base);
            readSegment(o, s, a, b, out, (int) (base + a - from), deadline);
        }
        return out;
    }

    /** Segment bytes {@code [a, b)} of segment {@code s} into {@code out} at {@code at}: slices, else data shards. */
    private void readSegment(EdgeObject o, int s, int a, int b, byte[] out, int at, long deadline) throws EdgeException {
        if (readSlices(o, s, a, b, out, at, deadline)) {
            return;
        }
        metrics.wholeSegmentFallback();
        int shardSize = o.shardSize(s);
        List<byte[]> shards = call(() -> origin.dataShards(o.manifest(), s), deadline, "segment " + s + " of " + o.cid());
        if (shards.size() != o.k()) {
            metrics.verificationFailure();
            throw new EdgeException(EdgeException.Kind.BAD_ORIGIN, "the origin gave " + shards.size() + " data shards of segment "
                    + s + " of " + o.cid() + ", not k = " + o.k());
        }
        for (int j = a / shardSize; j < o.k() && (long) j * shardSize < b; j++) {
            byte[] data = shards.get(j);
            Cid shard = o.shard(s, j);
            if (data == null || data.length != shardSize || !shard.verify(data)) {
                metrics.verificationFailure();
                throw new EdgeException(EdgeException.Kind.BAD_ORIGIN, "the origin's data shard " + j + " of segment " + s + " of "
                        + o.cid() + " does not hash to its CID " + shard);
            }
            metrics.shardFetched(data.length);
            long base = (long) j * shardSize;
            long c0 = Math.max(base, a);
            long c1 = Math.min(base + shardSize, b);
            System.arraycopy(data, (int) (c0 - base), out, (int) (at + c0 - a), (int) (c1 - c0));
        }
    }

    /**
     * Segment bytes {@code [a, b)} from verified slices, all asked for at once; false (nothing
     * trusted, the caller reads data shards) when the origin could not give one.
     */
    private boolean readSlices(EdgeObject o, int s, int a, int b, byte[] out, int at, long deadline) throws EdgeException {
        int shardSize = o.shardSize(s);
        record Asked(Future<SliceProof> proof, int shard, long firstChunk, int count) {}
        List<Asked> asked = new ArrayList<>();
        try (ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                for (int j = a / shardSize; j < o.k() && (long) j * shardSize < b; j++) {
                    long lo = Math.max(a, (long) j * shardSize) - (long) j * shardSize;
                    long hi = Math.min(b, (long) (j + 1) * shardSize) - (long) j * shardSize;
                    for (long c = lo / 1024; c < Math.ceilDiv(hi, 1024); c += MAX_SLICE_CHUNKS) {
                        long first = c;
                        int count = (int) Math.min(MAX_SLICE_CHUNKS, Math.ceilDiv(hi, 1024) - c);
                        int shard = j;
                        asked.add(new Asked(calls.submit(() -> origin.slice(o.manifest(), s, shard, first, count)), j, c, count));
                    }
                }
                for (Asked q : asked) {
                    SliceProof p;
                    try {
                        p = q.proof().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (ExecutionException e) {
                        return false; // a holder down or refusing: the origin can rebuild the shard from parity
                    } catch (TimeoutException e) {
                        throw timeout(o, s);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new EdgeException(EdgeException.Kind.UNAVAILABLE, "interrupted while reading " + o.cid());
                    }
                    Cid shard = o.shard(s, q.shard());
                    if (p.firstChunk() != q.firstChunk() || p.chunkCount() != q.count()) {
                        metrics.verificationFailure();
                        throw new EdgeException(EdgeException.Kind.BAD_ORIGIN, "the origin's slice of shard " + shard + " of " + o.cid()
                                + " holds chunks " + p.firstChunk() + "+" + p.chunkCount() + " where " + q.firstChunk() + "+"
                                + q.count() + " were asked for");
                    }
                    try {
                        p.verify(shard, shardSize);
                    } catch (SliceProofException e) {
                        metrics.verificationFailure();
                        throw new EdgeException(EdgeException.Kind.BAD_ORIGIN, "the origin's slice of shard " + shard + " of "
                                + o.cid() + " does not verify: " + e.getMessage());
                    }
                    metrics.sliceFetched(p.chunks().length);
                    long sliceAt = (long) q.shard() * shardSize + q.firstChunk() * 1024; // segment offset of the slice
                    long c0 = Math.max(sliceAt, a);
                    long c1 = Math.min(sliceAt + p.chunks().length, b);
                    if (c1 > c0) {
                        System.arraycopy(p.chunks(), (int) (c0 - sliceAt), out, (int) (at + c0 - a), (int) (c1 - c0));
                    }
                }
                return true;
            } finally {
                asked.forEach(q -> q.proof().cancel(true)); // the executor's close waits for them: interrupted, they end
            }
        }
    }

    private static EdgeException timeout(EdgeObject o, int s) {
        return new EdgeException(EdgeException.Kind.TIMEOUT, "the network did not give segment " + s + " of " + o.cid() + " in time");
    }

    /** An origin call on its own virtual thread, bounded by {@code deadline} (interrupted past it). */
    private <T> T call(OriginCall<T> c, long deadline, String what) throws EdgeException {
        try (ExecutorService one = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<T> f = one.submit(c::call);
            try {
                return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                f.cancel(true);
                throw new EdgeException(EdgeException.Kind.TIMEOUT, "the network did not give " + what + " in time");
            } catch (InterruptedException e) {
                f.cancel(true);
                Thread.currentThread().interrupt();
                throw new EdgeException(EdgeException.Kind.UNAVAILABLE, "interrupted while fetching " + what);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof OriginException oe) {
                    throw new EdgeException(oe.kind() == OriginException.Kind.NOT_FOUND ? EdgeException.Kind.NOT_FOUND
                            : EdgeException.Kind.UNAVAILABLE, oe.getMessage(), oe);
                }
                throw new EdgeException(EdgeException.Kind.UNAVAILABLE, "the origin failed fetching " + what + ": " + e.getCause(), e.getCause());
            }
        }
    }

    @FunctionalInterface
    private interface OriginCall<T> {
        T call() throws Exception;
    }
}
