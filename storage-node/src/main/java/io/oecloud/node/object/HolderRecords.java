package io.oecloud.node.object;

import io.oecloud.dht.PeerId;
import io.oecloud.proofs.Cid;

/**
 * What a record kept outside the network says about the nodes that hold blocks: on a node linked to
 * OEChain, the chain's fault lists and its registered storage nodes (the node package's
 * {@code ChainRecords}); without a chain, {@link #NONE}, and everything behaves as if no record
 * existed. The object parts never see chain types, only this.
 *
 * <p>Two uses. Repair does not count a holder that is {@link #suspect} of a shard as holding it,
 * even when it answers HAS (a node may lie to a probe; the chain caught it), and rebuilds the shard
 * elsewhere; placement puts nodes in {@link #standing} order (stable, so distance decides within a
 * rank). Calls answer from memory: they never wait on the network (uploads call them).
 */
public interface HolderRecords {
    /** How a node stands, best first: placement tries the ranks in this order. */
    enum Standing {
        /** Registered with collateral, active, and no fault the record still holds. */
        CLEAN,
        /** Registered, with a fault the record still holds or inactive (collateral below the minimum). */
        RECORD,
        /** Not registered, or no record read yet: a network of new nodes, a devnet without a chain. */
        UNKNOWN
    }

    /** Whether {@code peer} must not be counted as a holder of {@code cid}, whatever it answers. */
    boolean suspect(PeerId peer, Cid cid);

    /** Whether {@code peer} is suspect of any block now (it is placed last by repair). */
    boolean suspectOfAny(PeerId peer);

    /** How {@code peer} stands. */
    Standing standing(PeerId peer);

    /**
     * A number that changes whenever a holder becomes suspect of something it was not suspect of
     * before: repair looks for the affected objects again then, and only then.
     */
    long generation();

    /** No record: no holder suspect, every node {@link Standing#UNKNOWN}. */
    HolderRecords NONE = new HolderRecords() {
        @Override
        public boolean suspect(PeerId peer, Cid cid) {
            return false;
        }

        @Override
        public boolean suspectOfAny(PeerId peer) {
            return false;
        }

        @Override
        public Standing standing(PeerId peer) {
            return Standing.UNKNOWN;
        }

        @Override
        public long generation() {
            return 0;
        }
    };
}
