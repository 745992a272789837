package io.oecloud.node.object;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.erasure.ErasureException;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.node.store.ShardStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One segment of an object, fetched, decoded and checked: data shards first (with all of them no
 * decoding is needed), the first k that verify against their CIDs, decoded only when a data shard
 * is missing, every rebuilt data shard checked against its CID, then decrypted. Nothing of a
 * segment leaves here before its checks passed.
 *
 * <p>Hedging: when the shards asked for are slower than four times the recent shard time (20 ms
 * to 2 s), one more is asked, and again each such interval; a shard GET that fails asks the next
 * shard. Holders that failed lately ({@link Troubled}) are asked last and never as a hedge. The
 * clock is a {@link Ticker}.
 *
 * <p>A small range of a public segment can be read without any whole shard ({@link #readSlices}):
 * the code is systematic, data shard {@code i} holds the segment's bytes {@code [i * shardSize,
 * (i + 1) * shardSize)} (the last ones zero-padded), so the chunks of the data shards covering the
 * range are fetched as slices verified against those shards' CIDs (PROVE), and nothing is decoded.
 */
final class SegmentReader {
    /** How long one segment may take to gather k shards. */
    static final long SEGMENT_SECONDS = 60;

    private final ShardFetcher fetcher;
    private final Troubled troubled;
    private final Codecs codecs;
    private final Ticker ticker;
    private final Counter hedges;
    private final Counter shardBytes;
    private final Counter slices;
    private final Counter sliceBytes;
    private final Counter sliceFallbacks;
    /** Smoothed time of one successful shard GET, for the hedging delay. */
    private volatile double shardFetchNanos = TimeUnit.MILLISECONDS.toNanos(50);

    SegmentReader(ShardFetcher fetcher, Troubled troubled, Codecs codecs, Ticker ticker, MeterRegistry metrics) {
        this.fetcher = fetcher;
        this.troubled = troubled;
        this.codecs = codecs;
        this.ticker = ticker;
        this.hedges = Counter.builder("oe_shard_hedged_requests")
                .description("Extra shard GETs started because the first ones ran late").register(metrics);
        this.shardBytes = Counter.builder("oe_segment_shard_bytes")
                .description("Bytes of whole shards fetched to read segments").register(metrics);
        this.slices = Counter.builder("oe_segment_slices")
                .description("Verified slices (PROVE) fetched to read parts of segments").register(metrics);
        this.sliceBytes = Counter.builder("oe_segment_slice_bytes")
                .description("Chunk bytes of verified slices fetched to read parts of segments").register(metrics);
        this.sliceFallbacks = Counter.builder("oe_segment_slice_fallbacks")
                .description("Partial segment reads that fell back to whole shards (a slice could not be had)").register(metrics);
    }

    /**
     * Bytes {@code [from, to)} of a public (unencrypted) segment, from verified slices of the data
     * shards that hold them: chunks of at most {@link ShardStore#MAX_PROVE_CHUNKS} a request, all at
     * once, each from the shard's first holder that answers with a proof that verifies against the
     * shard's CID and size. Returns null, to read the whole segment instead, when any slice fails or
     * is not there within a few shard times (a data shard's holders down or slow): only the whole
     * segment's path can do without a data shard (decoding from parity).
     *
     * @throws ObjectException never for a missing slice (null instead); NOT_ENOUGH_SHARDS when interrupted
     */
    byte[] readSlices(Manifest m, Segment seg, int from, int to) throws ObjectException {
        int shardSize = Manifests.shardSize(m, seg);
        byte[] out = new byte[to - from];
        record Asked(CompletableFuture<SliceProof> proof, int shardIndex, long firstChunk) {}
        List<Asked> asked = new ArrayList<>();
        int max = ShardStore.MAX_PROVE_CHUNKS;
        for (int i = from / shardSize; i < m.getK() && (long) i * shardSize < to; i++) {
            long base = (long) i * shardSize;
            long lo = Math.max(from, base) - base;
            long hi = Math.min(to, base + shardSize) - base;
            for (long c = lo / 1024; c < Math.ceilDiv(hi, 1024); c += max) {
                int count = (int) Math.min(max, Math.ceilDiv(hi, 1024) - c);
                asked.add(new Asked(fetcher.prove(seg.getShards(i), c, count, shardSize), i, c));
            }
        }
        long wait = Math.clamp((long) (8 * shardFetchNanos), TimeUnit.MILLISECONDS.toNanos(250), TimeUnit.SECONDS.toNanos(5));
        long deadline = ticker.read() + wait;
        try {
            for (Asked a : asked) {
                SliceProof p = a.proof().get(Math.max(0, deadline - ticker.read()), TimeUnit.NANOSECONDS);
                slices.increment();
                byte[] chunks = p.chunks();
                sliceBytes.increment(chunks.length);
                long at = (long) a.shardIndex() * shardSize + a.firstChunk() * 1024; // segment offset of the slice
                long a0 = Math.max(at, from);
                long a1 = Math.min(at + chunks.length, to);
                if (a1 > a0) {
                    System.arraycopy(chunks, (int) (a0 - at), out, (int) (a0 - from), (int) (a1 - a0));
                }
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, "interrupted while fetching slices of segment "
                    + Cid.fromBytes(seg.getCid().toByteArray()));
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            sliceFallbacks.increment();
            return null;
        } finally {
            asked.forEach(a -> a.proof().cancel(true));
        }
    }

    /** A shard GET that ended: its index and bytes, or the error. */
    private record Fetched(int index, byte[] data, Throwable error, long nanos) {}

    /**
     * Segment {@code index} of {@code m} ({@link Manifests#check} passed: its sizes and counts are in range).
     *
     * @param cipher the object's segment cipher, null for public content
     * @throws ObjectException NOT_ENOUGH_SHARDS with the counts; CORRUPT when shards disagree with the manifest
     */
    Decoded read(Manifest m, long index, Segment seg, SegmentCipher cipher) throws ObjectException {
        int k = m.getK(); // checked: 1 <= k, k + m <= 256, shards within the limits (download checked the manifest)
        int n = k + m.getM();
        long coded = seg.getSize() + (cipher == null ? 0 : SegmentCipher.TAG);
        int shardSize = Manifests.shardSize(m, seg);
        byte[][] s = new byte[n][];
        boolean[] present = new boolean[n];
        Cid segCid = Cid.fromBytes(seg.getCid().toByteArray());
        // Data shards first (with all of them no decoding is needed); a failure asks the next
        // shard; when the ones asked run late, one more is asked (hedging); the first k win.
        BlockingQueue<Fetched> done = new LinkedBlockingQueue<>();
        List<CompletableFuture<byte[]>> asked = new ArrayList<>();
        int[] next = {0};
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        // stable: data first among the good; then shards whose holders failed lately; last the
        // shards an upload could not place (no holders listed: only the DHT knows where repair put them)
        order.sort(Comparator.comparingInt((Integer i) -> seg.getShards(i).getHoldersCount() == 0 ? 2 : troubled.allHolders(seg.getShards(i)) ? 1 : 0));
        BooleanSupplier ask = () -> {
            if (next[0] >= n) {
                return false;
            }
            int i = order.get(next[0]++);
            long t = ticker.read();
            CompletableFuture<byte[]> f = fetcher.fetch(seg.getShards(i));
            asked.add(f);
            f.whenComplete((b, e) -> done.add(new Fetched(i, b, e, ticker.read() - t)));
            return true;
        };
        int got = 0;
        int running = 0;
        long deadline = ticker.read() + TimeUnit.SECONDS.toNanos(SEGMENT_SECONDS);
        try {
            for (int i = 0; i < k; i++) {
                running += ask.getAsBoolean() ? 1 : 0;
            }
            long hedgeDelay = Math.clamp((long) (4 * shardFetchNanos), TimeUnit.MILLISECONDS.toNanos(20), TimeUnit.SECONDS.toNanos(2));
            while (got < k && running > 0) {
                long now = ticker.read();
                if (now >= deadline) {
                    break;
                }
                Fetched f = done.poll(Math.min(hedgeDelay, deadline - now), TimeUnit.NANOSECONDS);
                if (f == null) {
                    // a hedge is for slowness: it never goes to a holder that failed or lied lately;
                    // those are asked only when a shard GET fails and no one else is left
                    if (next[0] < n && !troubled.allHolders(seg.getShards(order.get(next[0]))) && ask.getAsBoolean()) {
                        running++;
                        hedges.increment();
                    }
                    continue;
                }
                running--;
                if (f.error() == null && f.data().length != shardSize) {
                    // its CID matched, so the manifest itself is inconsistent: no shard set can decode
                    throw new ObjectException(ObjectException.Code.CORRUPT, "segment " + segCid + ": shard " + f.index()
                            + " is " + f.data().length + " bytes where the manifest's sizes give " + shardSize);
                }
                if (f.error() == null) {
                    shardBytes.increment(f.data().length);
                    s[f.index()] = f.data();
                    present[f.index()] = true;
                    got++;
                    shardFetchNanos = 0.9 * shardFetchNanos + 0.1 * f.nanos();
                } else if (got + running < k) {
                    running += ask.getAsBoolean() ? 1 : 0; // unreachable or corrupt: the next shard takes its place
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, "interrupted while fetching segment " + segCid);
        } finally {
            asked.forEach(f -> f.cancel(true));
        }
        if (got < k) {
            throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, "segment " + segCid
                    + ": " + got + " of its shards were found, " + k + " are needed");
        }
        for (int i = 0; i < n; i++) {
            if (!present[i]) {
                s[i] = new byte[shardSize];
            }
        }
        boolean allData = true;
        for (int i = 0; i < k; i++) {
            allData &= present[i];
        }
        if (!allData) {
            try {
                codecs.of(k, m.getM()).reconstruct(s, present, 0, shardSize);
            } catch (ErasureException e) {
                throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, e.getMessage());
            }
            // The decoded bytes must be the ones the manifest names: shards that each match their
            // CID can still come from an uploader that coded them inconsistently. Data shards that
            // were fetched matched their CIDs already; the rebuilt ones are checked here.
            for (int i = 0; i < k; i++) {
                if (!present[i] && !Cid.fromBytes(seg.getShards(i).getCid().toByteArray()).verify(s[i])) {
                    throw new ObjectException(ObjectException.Code.CORRUPT, "segment " + segCid + " decoded to the wrong bytes: data shard "
                            + i + " rebuilt from the others does not match its CID (its shards were not coded together)");
                }
            }
        }
        if (cipher == null) {
            return new Decoded(Arrays.copyOf(s, k), shardSize, (int) coded);
        }
        byte[] data = SegmentPieces.join(s, shardSize, (int) coded);
        return Decoded.of(cipher.open(index, data, data.length, segCid.toString()));
    }
}
