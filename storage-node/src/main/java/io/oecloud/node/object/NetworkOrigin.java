package io.oecloud.node.object;

import io.oecloud.edge.Origin;
import io.oecloud.edge.OriginException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.slice.SliceProof;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The network as a CDN edge's {@link Origin}, through this node's object parts: manifests from
 * {@link ManifestStore} (this node's copy, the nearest nodes, the DHT's providers; checked by
 * {@link Manifests} on the way), slices by PROVE from a shard's listed holders then its providers
 * ({@link ShardFetcher}), and a segment's data shards by {@link SegmentReader} (hedged, decoded
 * from parity when a holder is missing). The edge checks every answer against the CIDs again: it
 * does not take this node's word either.
 */
final class NetworkOrigin implements Origin {
    /** How long one slice may take; the edge's own deadline bounds the whole read. */
    private static final long SLICE_SECONDS = 20;

    private final ObjectService objects;

    NetworkOrigin(ObjectService objects) {
        this.objects = objects;
    }

    @Override
    public byte[] manifest(Cid object) throws OriginException {
        try {
            // ManifestStore keeps manifests only in their canonical encoding, so these are the bytes the CID names
            return objects.manifests.get(object).toByteArray();
        } catch (ObjectException e) {
            throw new OriginException(e.code() == ObjectException.Code.NOT_FOUND ? OriginException.Kind.NOT_FOUND
                    : OriginException.Kind.UNAVAILABLE, e.getMessage(), e);
        }
    }

    @Override
    public SliceProof slice(Manifest m, int segment, int shard, long firstChunk, int count) throws OriginException {
        Segment seg = m.getSegments(segment);
        CompletableFuture<SliceProof> f = objects.fetcher.prove(seg.getShards(shard), firstChunk, count, Manifests.shardSize(m, seg));
        try {
            return f.get(SLICE_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new OriginException(OriginException.Kind.UNAVAILABLE, "interrupted while fetching a slice");
        } catch (ExecutionException | TimeoutException e) {
            f.cancel(true);
            throw new OriginException(OriginException.Kind.UNAVAILABLE, "no holder of shard " + shard + " of segment " + segment
                    + " gave a slice: " + (e.getCause() == null ? "it ran late" : e.getCause().getMessage()));
        }
    }

    @Override
    public List<byte[]> dataShards(Manifest m, int segment) throws OriginException {
        if (m.hasEncryption()) {
            throw new OriginException(OriginException.Kind.UNAVAILABLE, "an encrypted object's segments are not served to an edge");
        }
        try {
            Decoded d = objects.reader.read(m, segment, m.getSegments(segment), null);
            List<byte[]> out = new ArrayList<>(d.pieces().length);
            for (byte[] p : d.pieces()) {
                out.add(p);
            }
            return out;
        } catch (ObjectException e) {
            throw new OriginException(OriginException.Kind.UNAVAILABLE, e.getMessage(), e);
        }
    }
}
