package io.oecloud.node.store;

/**
 * How a node holds a shard: the shard (named by its CID) is one thing, the replica this node keeps
 * of it another. Today every replica is {@link Raw}; sealed replicas (a copy unique to this node
 * inside a sealed sector, committed to by CommR) join as another kind without touching the CIDs.
 */
public sealed interface Holding {
    /** The shard's bytes as they are; the commitment is the CID's own digest (CommD). */
    record Raw() implements Holding {}

    /** Stable byte for the metadata encoding. */
    default byte tag() {
        return 0;
    }
}
