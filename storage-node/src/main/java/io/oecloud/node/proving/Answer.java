package io.oecloud.node.proving;

import io.oecloud.proofs.Cid;
import java.util.List;

/**
 * A node's answer to a period's challenges, verified by the node before it is returned: what the
 * chain client encodes into its transaction.
 *
 * @param commitment the commitment the proofs verify against
 * @param challenges how many challenges were asked (c)
 * @param proofs one per challenge, in challenge order ({@code proofs.get(j).j() == j}; none for a
 *     commitment of 0 entries): the chain's {@code SubmitProof} takes them in this order, from
 *     any {@code first}, so they may be split over transactions
 * @param faults the CIDs of challenged shards that could not be proven (lost, corrupt, unreadable),
 *     each once, in the order first met; their challenges carry no slice
 */
public record Answer(Commitment commitment, int challenges, List<Proof> proofs, List<Cid> faults) {
    public Answer {
        proofs = List.copyOf(proofs);
        faults = List.copyOf(faults);
        if (proofs.size() != (commitment.count() == 0 ? 0 : challenges)) {
            throw new IllegalArgumentException(proofs.size() + " proofs for " + challenges + " challenges over "
                    + commitment.count() + " entries");
        }
        for (int j = 0; j < proofs.size(); j++) {
            if (proofs.get(j).j() != j) {
                throw new IllegalArgumentException("proof " + j + " answers challenge " + proofs.get(j).j());
            }
        }
    }

    /**
     * The answer to challenge {@code j}: the entry's path to the node root and the challenged 1 KiB
     * chunk's path to the shard's CID, both in the proofs module's encodings. A challenge whose
     * shard is a fault has the inclusion proof and no slice: what the chain accepts for an entry
     * declared faulty before the seed (chain-bridge/README.md, "Storage nodes and proofs").
     *
     * @param j the challenge's number, {@code 0 <= j < c}
     * @param inclusion {@code InclusionProof.encode()} of the challenged entry; not copied
     * @param slice {@code SliceProof.encode()} of the challenged chunk (a one-chunk range), or null
     *     when the shard could not be proven; not copied
     */
    public record Proof(int j, byte[] inclusion, byte[] slice) {
        public Proof {
            if (j < 0 || inclusion == null) {
                throw new IllegalArgumentException("challenge " + j + " needs a number >= 0 and an inclusion proof");
            }
        }

        /** Whether the challenged chunk is proven (false: its shard is a fault). */
        public boolean proven() {
            return slice != null;
        }

        /** Encoded bytes of both proofs. */
        public int bytes() {
            return inclusion.length + (slice == null ? 0 : slice.length);
        }
    }

    /** Whether every challenge was answered with its chunk (no fault). */
    public boolean complete() {
        return faults.isEmpty();
    }

    /** Encoded bytes of all proofs (what the answer costs on the chain, before the transaction's framing). */
    public long proofBytes() {
        long n = 0;
        for (Proof p : proofs) {
            n += p.bytes();
        }
        return n;
    }
}
