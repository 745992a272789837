package io.oecloud.proofs.slice;

import io.oecloud.proofs.Blake3Nodes;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Recomputes the root a slice proof implies: walking down from the root, a node inside the range
 * is hashed from the proof's chunks (its CV flagged ROOT only if it is the whole content), a
 * node outside it takes the next sibling CV, a node partly inside is the parent of its children.
 * The shape is checked first ({@link SliceProof#checkShape()}), so the walk never runs out of
 * siblings or chunk bytes.
 */
final class SliceVerifier {
    private final long contentLength;
    private final long first;
    private final long end;
    private final MemorySegment chunks;
    private final byte[] siblings;
    private final Blake3Nodes nodes;
    private int next;

    private SliceVerifier(SliceProof proof, byte[] chunks, byte[] siblings) {
        this.contentLength = proof.contentLength();
        this.first = proof.firstChunk();
        this.end = first + proof.chunkCount();
        this.chunks = MemorySegment.ofArray(chunks);
        this.siblings = siblings;
        this.nodes = new Blake3Nodes();
    }

    /** The root {@code proof}'s chunks and siblings (its own arrays, not copied) hash to. */
    static byte[] root(SliceProof proof, byte[] chunks, byte[] siblings) {
        proof.checkShape();
        SliceVerifier v = new SliceVerifier(proof, chunks, siblings);
        byte[] root = v.node(0, proof.contentChunks(), true);
        if (v.next * SliceProof.CV_LEN != siblings.length) { // checkShape counted them: cannot happen
            throw new IllegalStateException("walk used " + v.next + " siblings of " + siblings.length / SliceProof.CV_LEN);
        }
        return root;
    }

    private byte[] node(long a, long b, boolean root) {
        if (b <= first || a >= end) {
            int at = next++ * SliceProof.CV_LEN;
            return Arrays.copyOfRange(siblings, at, at + SliceProof.CV_LEN);
        }
        if (first <= a && b <= end) {
            long off = (a - first) * Blake3Nodes.CHUNK_LEN;
            long len = Math.min(b * Blake3Nodes.CHUNK_LEN, contentLength) - a * Blake3Nodes.CHUNK_LEN;
            return nodes.subtreeCv(chunks, off, Math.max(0, len), a, root);
        }
        long l = a + TreeShape.leftChunks(b - a);
        byte[] left = node(a, l, false);
        byte[] right = node(l, b, false);
        return Blake3Nodes.parentCv(left, right, root);
    }
}
