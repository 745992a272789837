package io.oecloud.edge;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.slice.SliceProof;
import java.util.List;

/**
 * Where the edge gets content: the object contract of the storage node, at the level at which the
 * edge can check every answer itself. Nothing an origin returns is trusted: a manifest must hash
 * to the CID asked for, a slice must verify against its shard's CID and size, a data shard must
 * hash to its CID ({@link ObjectReader} checks). So an origin may be a node of the network, a
 * peer edge, or anything else, and a lying one costs a 502, never a wrong byte served or cached.
 *
 * <p>Every method blocks (network work) and is called from virtual threads; the edge bounds each
 * call by its own deadline and cancels it by interrupting. Failures are {@link OriginException}s.
 */
public interface Origin {
    /**
     * The bytes of the manifest block named by {@code object} (an oe-manifest CID), as stored.
     *
     * @throws OriginException NOT_FOUND when no node has it; UNAVAILABLE when it could not be had now
     */
    byte[] manifest(Cid object) throws OriginException;

    /**
     * A verified slice of data shard {@code shard} of segment {@code segment} of the object whose
     * manifest is {@code m}: chunks {@code [firstChunk, firstChunk + count)} (1 KiB each; at most
     * 1,024) with the sibling hashes that prove them against the shard's CID.
     *
     * @throws OriginException UNAVAILABLE when no holder gave one now (the edge then asks for the
     *     segment's data shards, which the origin can rebuild from parity)
     */
    SliceProof slice(Manifest m, int segment, int shard, long firstChunk, int count) throws OriginException;

    /**
     * The k data shards of segment {@code segment}, in order, each whole (rebuilt from parity by
     * the origin when a holder is missing): the edge checks each against its CID.
     *
     * @throws OriginException UNAVAILABLE when fewer than k shards of the segment could be had
     */
    List<byte[]> dataShards(Manifest m, int segment) throws OriginException;
}
