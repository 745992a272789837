package io.oecloud.node.proving;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.NodeEntry;
import java.util.List;

/**
 * A node's answer to a period's challenges, verified by the node before it is returned: what the
 * chain client encodes into its transaction(s).
 *
 * @param commitment the commitment the proofs verify against
 * @param challenges how many challenges were asked (c)
 * @param proofs one per challenge, in challenge order ({@code proofs.get(j).j() == j}; none for a
 *     commitment of 0 entries): the chain's {@code SubmitProof} takes them in this order, from
 *     any {@code first}, so they may be split over transactions
 * @param entries {@code EntriesProof.encode()} of the distinct entries all c challenges pick: the
 *     {@code entries} of a SubmitProof of every answer (a transaction of some of them carries the
 *     proof of its own challenges' entries, {@link Prover#entries}); empty for 0 entries; not copied
 * @param faults the CIDs of challenged shards that could not be proven (lost, corrupt, unreadable),
 *     each once, in the order first met; their challenges carry no slice
 */
public record Answer(Commitment commitment, int challenges, List<Proof> proofs, byte[] entries, List<Cid> faults) {
    public Answer {
        proofs = List.copyOf(proofs);
        faults = List.copyOf(faults);
        if (proofs.size() != (commitment.count() == 0 ? 0 : challenges)) {
            throw new IllegalArgumentException(proofs.size() + " proofs for " + challenges + " challenges over "
                    + commitment.count() + " entries");
        }
        if (entries == null || entries.length == 0 && !proofs.isEmpty()) {
            throw new IllegalArgumentException("answers to " + proofs.size() + " challenges need an entries proof");
        }
        for (int j = 0; j < proofs.size(); j++) {
            if (proofs.get(j).j() != j) {
                throw new IllegalArgumentException("proof " + j + " answers challenge " + proofs.get(j).j());
            }
        }
    }

    /**
     * The answer to challenge {@code j}: the challenged entry (proven in the answer's entries
     * proof) and the challenged 1 KiB chunk's path to the shard's CID, in the proofs module's
     * encoding. A challenge whose shard is a fault has no slice: what the chain accepts for an
     * entry declared faulty before the seed (chain-bridge/README.md, "Storage nodes and proofs").
     *
     * @param j the challenge's number, {@code 0 <= j < c}
     * @param index the challenged entry's index in the node root
     * @param entry the challenged entry
     * @param slice {@code SliceProof.encode()} of the challenged chunk (a one-chunk range), or null
     *     when the shard could not be proven; not copied
     */
    public record Proof(int j, long index, NodeEntry entry, byte[] slice) {
        public Proof {
            if (j < 0 || index < 0 || entry == null) {
                throw new IllegalArgumentException("challenge " + j + " needs a number >= 0, an entry index >= 0 and an entry");
            }
        }

        /** Whether the challenged chunk is proven (false: its shard is a fault). */
        public boolean proven() {
            return slice != null;
        }

        /** Encoded bytes of the slice (0 without one). */
        public int bytes() {
            return slice == null ? 0 : slice.length;
        }
    }

    /** Whether every challenge was answered with its chunk (no fault). */
    public boolean complete() {
        return faults.isEmpty();
    }

    /** Encoded bytes of the entries proof and all slices (what the answer costs in one transaction, before its framing). */
    public long proofBytes() {
        long n = entries.length;
        for (Proof p : proofs) {
            n += p.bytes();
        }
        return n;
    }
}
