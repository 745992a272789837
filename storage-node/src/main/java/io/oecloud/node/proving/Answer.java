package io.oecloud.node.proving;

import io.oecloud.proofs.Cid;
import java.util.List;

/**
 * A node's answer to a period's challenges, verified by the node before it is returned: what the
 * chain client encodes into its transaction.
 *
 * @param commitment the commitment the proofs verify against
 * @param challenges how many challenges were asked (c)
 * @param proofs one per challenge whose shard could be proven, in challenge order
 * @param faults the CIDs of challenged shards that could not be proven (lost, corrupt, unreadable),
 *     each once, in the order first met
 */
public record Answer(Commitment commitment, int challenges, List<Proof> proofs, List<Cid> faults) {
    public Answer {
        proofs = List.copyOf(proofs);
        faults = List.copyOf(faults);
    }

    /**
     * The answer to challenge {@code j}: the entry's path to the node root and the challenged 1 KiB
     * chunk's path to the shard's CID, both in the proofs module's encodings.
     *
     * @param j the challenge's number, {@code 0 <= j < c}
     * @param inclusion {@code InclusionProof.encode()} of the challenged entry; not copied
     * @param slice {@code SliceProof.encode()} of the challenged chunk (a one-chunk range); not copied
     */
    public record Proof(int j, byte[] inclusion, byte[] slice) {
        public Proof {
            if (j < 0 || inclusion == null || slice == null) {
                throw new IllegalArgumentException("challenge " + j + " needs a number >= 0 and both proofs");
            }
        }

        /** Encoded bytes of both proofs. */
        public int bytes() {
            return inclusion.length + slice.length;
        }
    }

    /** Whether every challenge was answered. */
    public boolean complete() {
        return faults.isEmpty() && proofs.size() == (commitment.count() == 0 ? 0 : challenges);
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
