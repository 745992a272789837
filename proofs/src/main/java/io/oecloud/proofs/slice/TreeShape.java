package io.oecloud.proofs.slice;

import io.oecloud.proofs.Blake3Nodes;

/**
 * The shape of BLAKE3's tree over content of a given length, in chunk indexes (pure arithmetic).
 *
 * <p>Content of {@code n} bytes has {@code max(1, ceil(n / 1024))} chunks (the empty content is
 * one empty chunk). A node covering chunks {@code [a, b)} with {@code b - a > 1} has the left
 * child {@code [a, a + L)}, {@code L} the largest power of two strictly less than {@code b - a},
 * and the right child {@code [a + L, b)}; a lone chunk is the root. So every node starts at a
 * multiple of its chunk count rounded up to a power of two, and every whole aligned power-of-two
 * run of chunks is a node.
 *
 * <p>A slice proof for chunks {@code [f, e)} carries the CVs of the maximal subtrees that do not
 * overlap the range: walking down from the root, a node inside the range is recomputed from the
 * chunks, a node outside it is one sibling CV, and a node partly inside is split.
 */
public final class TreeShape {
    private TreeShape() {}

    /** Chunks in content of {@code contentLength} bytes (at least one). */
    public static long chunks(long contentLength) {
        return Blake3Nodes.chunkCount(contentLength);
    }

    /** Chunks in the left child of a node of {@code chunks > 1} chunks. */
    public static long leftChunks(long chunks) {
        if (chunks < 2) {
            throw new IllegalArgumentException("a node of " + chunks + " chunks has no children");
        }
        return Long.highestOneBit(chunks - 1);
    }

    /** Bytes of chunks {@code [first, first + count)} in content of {@code contentLength} bytes. */
    public static long rangeBytes(long contentLength, long first, long count) {
        long end = Math.min((first + count) * Blake3Nodes.CHUNK_LEN, contentLength);
        return Math.max(0, end - first * Blake3Nodes.CHUNK_LEN);
    }

    /**
     * Sibling CVs a proof of chunks {@code [first, first + count)} carries in a tree of
     * {@code chunks} chunks: at most two a level. The range must lie inside the tree.
     */
    public static int siblingCount(long chunks, long first, long count) {
        if (first < 0 || count < 1 || first + count > chunks) {
            throw new IllegalArgumentException("chunks [" + first + ", " + (first + count) + ") are not inside [0, " + chunks + ")");
        }
        return siblings(0, chunks, first, first + count);
    }

    private static int siblings(long a, long b, long f, long e) {
        if (b <= f || a >= e) {
            return 1;
        }
        if (f <= a && b <= e) {
            return 0;
        }
        long l = a + leftChunks(b - a);
        return siblings(a, l, f, e) + siblings(l, b, f, e);
    }
}
