package io.oecloud.node.object;

import io.oecloud.dht.PeerId;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The nodes that hold blocks (shards and manifest copies), this one included, reached by peer ID:
 * the object parts never ask whether a peer is this node; the implementation sends this node's
 * own peer ID to its store and every other to the shard protocol ({@link NodeShardHolders}).
 *
 * <p>Every call returns at once; cancelling a returned future stops the transfer under way. A put
 * pins the block by this node's key, except where noted.
 */
interface ShardHolders {
    /** This node's peer ID: a candidate like any other, and the one whose copy costs no transfer. */
    PeerId self();

    /**
     * Stores {@code block}, whose {@code cid} this node computed from it a moment ago (an upload's
     * shard or manifest): its own store does not hash it again. A write to this node's store that
     * finds its future cancelled takes its pin back, so a placement that gave the copy up leaves
     * no pin nobody knows of.
     */
    CompletableFuture<Void> put(PeerId peer, Cid cid, byte[] block);

    /**
     * Stores a rebuilt block (repair): in this node's store pinned by {@code owner} (the object's
     * key) after checking it against its CID, on the caller's thread; on a peer pinned by this
     * node's key, since only the owner could sign a pin for the owner.
     */
    CompletableFuture<Void> putRebuilt(PeerId peer, Cid cid, byte[] block, byte[] owner);

    /**
     * The block's bytes, checked against its CID, from a node listed as its holder: when a peer
     * fails (wrong bytes, an error, no answer) it is noted in {@link Troubled}.
     */
    CompletableFuture<byte[]> get(PeerId peer, Cid cid);

    /**
     * The block's bytes, checked against its CID, from a node that may well not hold it (a manifest
     * looked for among the nearest nodes): a failure says nothing against the peer.
     */
    CompletableFuture<byte[]> find(PeerId peer, Cid cid);

    /**
     * Chunks {@code [firstChunk, firstChunk + count)} of a block with their proof, verified against
     * its CID and {@code size} (the block's size, which the manifest gives), from a node listed as
     * its holder: a failure is noted in {@link Troubled} as a failed GET is.
     */
    CompletableFuture<SliceProof> prove(PeerId peer, Cid cid, long firstChunk, int count, long size);

    /** Whether {@code peer} holds a good copy (HAS); false for no answer or an error. */
    CompletableFuture<Boolean> has(PeerId peer, Cid cid);

    /**
     * Whether any of {@code peers} answers a HAS for {@code cid}, whatever it says: a node that
     * could take a block now. This node always answers, without a request to anyone.
     */
    CompletableFuture<Boolean> anyAnswers(List<PeerId> peers, Cid cid);

    /** Removes this node's key's pin there; false for no pin, no answer or an error. */
    CompletableFuture<Boolean> unpin(PeerId peer, Cid cid);
}
