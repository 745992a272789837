package io.oecloud.proofs;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The nodes of BLAKE3's tree, one at a time: chaining values (CVs) of chunks, parents and whole
 * subtrees anywhere in an input, for proofs that a 1 KiB chunk belongs to a digest
 * ({@code io.oecloud.proofs.slice}). {@link Blake3} hashes whole inputs and stays as it was; this
 * class shares its compression function and, for whole aligned subtrees of 16 to 512 chunks,
 * its SIMD engine.
 *
 * <p>The tree (BLAKE3 specification, section 2.1 and 5.1): the input is split into 1 KiB chunks
 * (the empty input is one empty chunk); chunk {@code i} is compressed block by block with
 * counter {@code i}, CHUNK_START on its first block and CHUNK_END on its last; a parent
 * compresses its children's CVs (left then right, 64 bytes) with counter 0 and PARENT; a node of
 * {@code c > 1} chunks has a left subtree of the largest power of two strictly less than
 * {@code c} chunks. The root node alone also carries ROOT, and its CV is the digest. So every
 * node starts at a multiple of its size rounded up to a power of two, which the methods here
 * check.
 *
 * <p>The static methods need no state; an instance holds scratch space and the SIMD engine and is
 * not thread-safe.
 */
public final class Blake3Nodes {
    /** Bytes in a chunk. */
    public static final int CHUNK_LEN = Blake3.CHUNK_LEN;
    /** Bytes in a chaining value. */
    public static final int CV_LEN = 32;

    private final boolean vectorized;
    private Blake3Simd simd; // created on first use: small nodes never need it
    private final int[] words = new int[16];
    private final int[] out = new int[16];
    private final int[] pair = new int[16];
    private final byte[] block = new byte[Blake3.BLOCK_LEN];
    private int[] level;

    /** Uses the SIMD engine where {@link Blake3#isVectorized()}. */
    public Blake3Nodes() {
        this(Blake3.isVectorized());
    }

    /** With {@code vectorized} false, everything runs on the scalar path (tests compare the two). */
    Blake3Nodes(boolean vectorized) {
        if (vectorized && !Blake3.isVectorized()) {
            throw new IllegalStateException("the Vector API with 16 int lanes is not available");
        }
        this.vectorized = vectorized;
    }

    private Blake3Simd simd() {
        if (simd == null) {
            simd = new Blake3Simd();
        }
        return simd;
    }

    /** Chunks in an input of {@code length} bytes: at least one (the empty input is one empty chunk). */
    public static long chunkCount(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("length must not be negative, was " + length);
        }
        return length == 0 ? 1 : (length + CHUNK_LEN - 1) / CHUNK_LEN;
    }

    /**
     * Returns the CV of one chunk of 0 to 1024 bytes whose index in the input is {@code counter};
     * with {@code isRoot} (a one-chunk input, so counter 0) the CV is the input's digest.
     *
     * @throws IllegalArgumentException if the length is over 1024, or a root chunk has a counter
     */
    public static byte[] chunkCv(byte[] bytes, int off, int len, long counter, boolean isRoot) {
        java.util.Objects.checkFromIndexSize(off, len, bytes.length);
        return new Blake3Nodes(false).chunkCv(MemorySegment.ofArray(bytes), off, len, counter, isRoot);
    }

    /** Returns the CV of the parent of two 32-byte CVs; with {@code isRoot} it is the digest. */
    public static byte[] parentCv(byte[] left, byte[] right, boolean isRoot) {
        if (left.length != CV_LEN || right.length != CV_LEN) {
            throw new IllegalArgumentException("CVs are " + CV_LEN + " bytes, got " + left.length + " and " + right.length);
        }
        int[] msg = new int[16];
        loadCv(left, 0, msg, 0);
        loadCv(right, 0, msg, 8);
        int[] o = new int[16];
        Blake3.compress(Blake3.IV, msg, 0, Blake3.BLOCK_LEN, Blake3.PARENT | (isRoot ? Blake3.ROOT : 0), o);
        byte[] cv = new byte[CV_LEN];
        storeCv(o, 0, cv, 0);
        return cv;
    }

    /** As {@link #chunkCv(byte[], int, int, long, boolean)}, from a segment. */
    public byte[] chunkCv(MemorySegment seg, long off, int len, long counter, boolean isRoot) {
        if (len < 0 || len > CHUNK_LEN) {
            throw new IllegalArgumentException("a chunk is 0 to " + CHUNK_LEN + " bytes, was " + len);
        }
        checkNode(counter, 1, isRoot);
        int[] cv = new int[8];
        chunk(seg, off, len, counter, isRoot, cv);
        byte[] b = new byte[CV_LEN];
        storeCv(cv, 0, b, 0);
        return b;
    }

    /**
     * Returns the CV of the node whose {@code len} bytes start at {@code off} and whose first
     * chunk has index {@code firstChunk} in the input; {@code len} is a whole number of chunks
     * unless the node ends the input. With {@code isRoot} (the whole input) it is the digest.
     *
     * @throws IllegalArgumentException if {@code firstChunk} is not a multiple of the node's chunk
     *     count rounded up to a power of two (no node starts there), or a root starts past chunk 0
     */
    public byte[] subtreeCv(MemorySegment seg, long off, long len, long firstChunk, boolean isRoot) {
        checkNode(firstChunk, chunkCount(len), isRoot);
        int[] cv = new int[8];
        node(seg, off, len, firstChunk, isRoot, cv);
        byte[] b = new byte[CV_LEN];
        storeCv(cv, 0, b, 0);
        return b;
    }

    /**
     * Writes the CVs of the consecutive nodes of {@code levelChunks} chunks (a power of two) that
     * make up the {@code len} bytes from {@code off} (first chunk {@code firstChunk}, a multiple
     * of {@code levelChunks}), 32 bytes each from {@code dst[dstOff]}; the last node is shorter
     * when the bytes end the input inside it. None is flagged ROOT.
     *
     * @return the number of CVs written
     */
    public int levelCvs(MemorySegment seg, long off, long len, long firstChunk, int levelChunks, byte[] dst, int dstOff) {
        if (levelChunks < 1 || Integer.bitCount(levelChunks) != 1) {
            throw new IllegalArgumentException("levelChunks must be a power of two, was " + levelChunks);
        }
        if (firstChunk < 0 || firstChunk % levelChunks != 0) {
            throw new IllegalArgumentException("firstChunk " + firstChunk + " is not a multiple of " + levelChunks);
        }
        long chunks = chunkCount(len);
        long nodes = (chunks + levelChunks - 1) / levelChunks;
        java.util.Objects.checkFromIndexSize(dstOff, Math.multiplyExact(nodes, CV_LEN), dst.length);
        int[] cv = new int[8];
        long node = 0;
        long fullChunks = len / CHUNK_LEN; // chunks all of whose bytes are here
        while (node < nodes) {
            long start = node * levelChunks;
            long counter = firstChunk + start;
            // A run of whole nodes on the SIMD path: the largest aligned power of two that fits.
            long span = !vectorized ? 0 : Math.min(Blake3Simd.MAX_SUBTREE_CHUNKS, Long.highestOneBit(Math.max(1, fullChunks - start)));
            while (span > 0 && (counter & (span - 1)) != 0) {
                span >>>= 1;
            }
            if (span >= Blake3Simd.LANES && span >= levelChunks && start + span <= fullChunks) {
                int count = (int) (span / levelChunks);
                if (level == null) {
                    level = new int[8 * Blake3Simd.MAX_SUBTREE_CHUNKS];
                }
                simd().subtreeLevel(seg, off + start * CHUNK_LEN, (int) span, counter, levelChunks, level, 0);
                for (int i = 0; i < count; i++) {
                    storeCv(level, 8 * i, dst, (int) (dstOff + (node + i) * CV_LEN));
                }
                node += count;
            } else {
                long nodeLen = Math.min((long) levelChunks * CHUNK_LEN, len - start * CHUNK_LEN);
                node(seg, off + start * CHUNK_LEN, Math.max(0, nodeLen), counter, false, cv);
                storeCv(cv, 0, dst, (int) (dstOff + node * CV_LEN));
                node++;
            }
        }
        return (int) nodes;
    }

    private static void checkNode(long firstChunk, long chunks, boolean isRoot) {
        if (isRoot && firstChunk != 0) {
            throw new IllegalArgumentException("the root starts at chunk 0, not " + firstChunk);
        }
        long aligned = Long.highestOneBit(chunks) == chunks ? chunks : Long.highestOneBit(chunks) << 1;
        if (firstChunk < 0 || firstChunk % aligned != 0) {
            throw new IllegalArgumentException("no node of " + chunks + " chunks starts at chunk " + firstChunk);
        }
    }

    /** The CV of a node (no shape checks), into cv[0..8). */
    private void node(MemorySegment seg, long off, long len, long first, boolean root, int[] cv) {
        long chunks = chunkCount(len);
        if (chunks == 1) {
            chunk(seg, off, (int) len, first, root, cv);
        } else if (vectorized && chunks >= Blake3Simd.LANES && chunks <= Blake3Simd.MAX_SUBTREE_CHUNKS
                && Long.bitCount(chunks) == 1 && len == chunks * CHUNK_LEN) {
            simd().subtree(seg, off, (int) chunks, first, pair);
            parent(pair, root, cv);
        } else {
            long left = Long.highestOneBit(chunks - 1);
            int[] children = new int[16];
            int[] half = new int[8];
            node(seg, off, left * CHUNK_LEN, first, false, half);
            System.arraycopy(half, 0, children, 0, 8);
            node(seg, off + left * CHUNK_LEN, len - left * CHUNK_LEN, first + left, false, half);
            System.arraycopy(half, 0, children, 8, 8);
            parent(children, root, cv);
        }
    }

    /** Parent of children[0..8) and children[8..16), into cv[0..8). */
    private void parent(int[] children, boolean root, int[] cv) {
        Blake3.compress(Blake3.IV, children, 0, Blake3.BLOCK_LEN, Blake3.PARENT | (root ? Blake3.ROOT : 0), out);
        System.arraycopy(out, 0, cv, 0, 8);
    }

    private void chunk(MemorySegment seg, long off, int len, long counter, boolean root, int[] cv) {
        System.arraycopy(Blake3.IV, 0, cv, 0, 8);
        int blocks = Math.max(1, (len + Blake3.BLOCK_LEN - 1) / Blake3.BLOCK_LEN);
        for (int b = 0; b < blocks; b++) {
            int blockLen = Math.min(Blake3.BLOCK_LEN, len - b * Blake3.BLOCK_LEN);
            long at = off + (long) b * Blake3.BLOCK_LEN;
            if (blockLen == Blake3.BLOCK_LEN) {
                for (int i = 0; i < 16; i++) {
                    words[i] = Blake3.readLe(seg, at + 4L * i);
                }
            } else {
                java.util.Arrays.fill(block, (byte) 0);
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, at, block, 0, blockLen);
                for (int i = 0; i < 16; i++) {
                    words[i] = (block[4 * i] & 0xff) | (block[4 * i + 1] & 0xff) << 8
                            | (block[4 * i + 2] & 0xff) << 16 | (block[4 * i + 3] & 0xff) << 24;
                }
            }
            int flags = (b == 0 ? Blake3.CHUNK_START : 0)
                    | (b == blocks - 1 ? Blake3.CHUNK_END | (root ? Blake3.ROOT : 0) : 0);
            Blake3.compress(cv, words, counter, blockLen, flags, out);
            System.arraycopy(out, 0, cv, 0, 8);
        }
    }

    private static void loadCv(byte[] b, int off, int[] w, int wOff) {
        for (int i = 0; i < 8; i++) {
            int o = off + 4 * i;
            w[wOff + i] = (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
        }
    }

    private static void storeCv(int[] w, int wOff, byte[] b, int off) {
        for (int i = 0; i < 8; i++) {
            int v = w[wOff + i];
            int o = off + 4 * i;
            b[o] = (byte) v;
            b[o + 1] = (byte) (v >>> 8);
            b[o + 2] = (byte) (v >>> 16);
            b[o + 3] = (byte) (v >>> 24);
        }
    }
}
