package io.oecloud.proofs.storage;

import io.oecloud.proofs.Cid;

/**
 * One shard a node holds: its CID and its size in bytes, a leaf of the node's {@link NodeRoot}.
 *
 * <p>Entries are ordered by the CID's binary form ({@link Cid#compareTo}), the order a node root
 * requires.
 *
 * @param cid the shard's CID (a BLAKE3 raw CID in the network; any CID is hashed the same way)
 * @param size the shard's length in bytes, {@code >= 0}
 */
public record NodeEntry(Cid cid, long size) {
    /** The longest CID binary form an entry may have (a CIDv1 with a 32-byte digest has at most 39). */
    public static final int MAX_CID_BYTES = 64;

    public NodeEntry {
        if (cid == null) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "an entry's CID must not be null");
        }
        if (size < 0) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "entry " + cid + " has a negative size " + size);
        }
    }

    /** The number of 1 KiB chunks a challenge chooses from: {@code max(1, ceil(size / 1024))}. */
    public long chunks() {
        return Challenges.chunks(size);
    }

    @Override
    public String toString() {
        return cid + " (" + size + " bytes)";
    }
}
