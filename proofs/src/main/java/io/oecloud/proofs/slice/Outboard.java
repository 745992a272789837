package io.oecloud.proofs.slice;

import io.oecloud.proofs.Blake3Nodes;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The parent nodes of a shard's BLAKE3 tree above chunk groups, kept beside the data so a chunk
 * can be proven by reading one group instead of rehashing the shard (Bao's and Iroh's
 * "outboard").
 *
 * <p>A group is {@code groupChunks} chunks (a power of two; {@link #DEFAULT_GROUP_CHUNKS} = 16,
 * 16 KiB), aligned in the content; the last group may be shorter. Every group is a node of the
 * tree ({@link TreeShape}), so the tree above them is BLAKE3's tree over the groups. The outboard
 * stores each node above the groups as its two children's CVs (64 bytes, left then right), in
 * pre-order: the root's pair first, a node's left subtree right after it, its right subtree
 * {@code leftGroups} pairs further. Content of {@code g} groups has {@code g - 1} pairs:
 * {@code 64 * (g - 1)} bytes, 0.39 % of the content with 16 KiB groups (6.25 % with 1 KiB ones);
 * content of one group has an empty outboard.
 *
 * <p>A prover reads the pairs on the path and hashes the group(s) holding the range for the
 * siblings inside them ({@link SliceProver#prove(Outboard, MemorySegment, long, int)}); the proof
 * is the same whatever the group size. Outboard bytes are trusted by the prover (they are its own
 * disk's); a wrong outboard makes proofs that fail to verify, never a wrong accept.
 *
 * <p>Immutable; {@link #bytes()} copies.
 */
public final class Outboard {
    /** 16 chunks (16 KiB) a group: the outboard is 0.39 % of the content. */
    public static final int DEFAULT_GROUP_CHUNKS = 16;
    /** The largest group: 512 chunks (512 KiB). */
    public static final int MAX_GROUP_CHUNKS = 512;
    /** Bytes of one stored parent: its children's CVs. */
    public static final int PAIR_LEN = 2 * Blake3Nodes.CV_LEN;

    private final long contentLength;
    private final int groupChunks;
    private final byte[] pairs;
    private final byte[] root; // null when only the data can give it (one group, from of())

    private Outboard(long contentLength, int groupChunks, byte[] pairs, byte[] root) {
        this.contentLength = contentLength;
        this.groupChunks = groupChunks;
        this.pairs = pairs;
        this.root = root;
    }

    /** Builds the outboard of {@code content}'s bytes with 16 KiB groups. */
    public static Outboard build(MemorySegment content) {
        return build(content, DEFAULT_GROUP_CHUNKS);
    }

    /** Builds the outboard of {@code content} with 16 KiB groups. */
    public static Outboard build(byte[] content) {
        return build(MemorySegment.ofArray(content), DEFAULT_GROUP_CHUNKS);
    }

    /** Builds the outboard of the buffer's remaining bytes (the position does not move). */
    public static Outboard build(ByteBuffer content, int groupChunks) {
        return build(MemorySegment.ofBuffer(content), groupChunks);
    }

    /** Builds the outboard of {@code content}. */
    public static Outboard build(byte[] content, int groupChunks) {
        return build(MemorySegment.ofArray(content), groupChunks);
    }

    /**
     * Builds the outboard of {@code content}'s bytes: one pass over them, whole runs of groups on
     * the SIMD path, then one parent per group. The root it computes is the content's BLAKE3
     * digest.
     *
     * @throws IllegalArgumentException if {@code groupChunks} is not a power of two in [1, 512],
     *     or the outboard would not fit in an array
     */
    public static Outboard build(MemorySegment content, int groupChunks) {
        long n = content.byteSize();
        long groups = groups(n, checkGroup(groupChunks));
        byte[] pairs = new byte[sizeOf(n, groupChunks)];
        Blake3Nodes nodes = new Blake3Nodes();
        if (groups == 1) {
            return new Outboard(n, groupChunks, pairs, nodes.subtreeCv(content, 0, n, 0, true));
        }
        byte[] cvs = new byte[Math.toIntExact(groups * Blake3Nodes.CV_LEN)];
        nodes.levelCvs(content, 0, n, 0, groupChunks, cvs, 0);
        byte[] root = fill(pairs, cvs, 0, groups, 0, true);
        return new Outboard(n, groupChunks, pairs, root);
    }

    /** Writes the pairs of the tree over groups [a, b) from pair {@code p}; returns its CV. */
    private static byte[] fill(byte[] pairs, byte[] cvs, long a, long b, long p, boolean isRoot) {
        if (b - a == 1) {
            return Arrays.copyOfRange(cvs, (int) a * Blake3Nodes.CV_LEN, (int) (a + 1) * Blake3Nodes.CV_LEN);
        }
        long left = TreeShape.leftChunks(b - a);
        byte[] l = fill(pairs, cvs, a, a + left, p + 1, false);
        byte[] r = fill(pairs, cvs, a + left, b, p + left, false);
        System.arraycopy(l, 0, pairs, (int) p * PAIR_LEN, Blake3Nodes.CV_LEN);
        System.arraycopy(r, 0, pairs, (int) p * PAIR_LEN + Blake3Nodes.CV_LEN, Blake3Nodes.CV_LEN);
        return Blake3Nodes.parentCv(l, r, isRoot);
    }

    /** Wraps stored outboard bytes with 16 KiB groups; see {@link #of(byte[], long, int)}. */
    public static Outboard of(byte[] bytes, long contentLength) {
        return of(bytes, contentLength, DEFAULT_GROUP_CHUNKS);
    }

    /**
     * Wraps stored outboard bytes (copied) of content of {@code contentLength} bytes.
     *
     * @throws SliceProofException {@code OUTBOARD_SIZE} if the bytes are not
     *     {@link #sizeOf(long, int)}
     */
    public static Outboard of(byte[] bytes, long contentLength, int groupChunks) {
        if (contentLength < 0 || contentLength > SliceProof.MAX_CONTENT_LENGTH) {
            throw new SliceProofException(SliceProofException.Kind.CONTENT_LENGTH,
                    "content length " + contentLength + " is outside [0, " + SliceProof.MAX_CONTENT_LENGTH + "]");
        }
        long expect = (groups(contentLength, checkGroup(groupChunks)) - 1) * PAIR_LEN;
        if (bytes.length != expect) {
            throw new SliceProofException(SliceProofException.Kind.OUTBOARD_SIZE, "outboard of " + contentLength
                    + " bytes in " + groupChunks + "-chunk groups is " + expect + " bytes, got " + bytes.length);
        }
        byte[] root = bytes.length == 0 ? null
                : Blake3Nodes.parentCv(Arrays.copyOfRange(bytes, 0, Blake3Nodes.CV_LEN),
                        Arrays.copyOfRange(bytes, Blake3Nodes.CV_LEN, PAIR_LEN), true);
        return new Outboard(contentLength, groupChunks, bytes.clone(), root);
    }

    /**
     * Bytes of the outboard of content of {@code contentLength} bytes: 64 a group but one.
     *
     * @throws IllegalArgumentException if that does not fit in an array
     */
    public static int sizeOf(long contentLength, int groupChunks) {
        long size = (groups(contentLength, checkGroup(groupChunks)) - 1) * PAIR_LEN;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("the outboard of " + contentLength + " bytes in " + groupChunks
                    + "-chunk groups would be " + size + " bytes; use larger groups");
        }
        return (int) size;
    }

    private static long groups(long contentLength, int groupChunks) {
        long chunks = TreeShape.chunks(contentLength);
        return (chunks + groupChunks - 1) / groupChunks;
    }

    private static int checkGroup(int groupChunks) {
        if (groupChunks < 1 || groupChunks > MAX_GROUP_CHUNKS || Integer.bitCount(groupChunks) != 1) {
            throw new IllegalArgumentException("groupChunks must be a power of two in [1, " + MAX_GROUP_CHUNKS
                    + "], was " + groupChunks);
        }
        return groupChunks;
    }

    public long contentLength() {
        return contentLength;
    }

    public int groupChunks() {
        return groupChunks;
    }

    /** A copy of the stored bytes (what {@link #of} takes back). */
    public byte[] bytes() {
        return pairs.clone();
    }

    /**
     * The content's BLAKE3 digest this outboard implies (compare it with the shard's CID before
     * trusting the outboard).
     *
     * @throws IllegalStateException for content of one group read back with {@link #of}: its
     *     outboard is empty and only the data gives the root
     */
    public byte[] root() {
        if (root == null) {
            throw new IllegalStateException("content of " + contentLength + " bytes is one " + groupChunks
                    + "-chunk group: its outboard is empty, hash the data for the root");
        }
        return root.clone();
    }

    /**
     * The bytes a prover needs beside the outboard to prove chunks {@code [firstChunk,
     * firstChunk + count)}: the groups they touch, clipped to the content.
     *
     * @throws IllegalArgumentException if the range is not inside the content
     */
    public DataRange dataRange(long firstChunk, int count) {
        SliceProver.checkRange(contentLength, firstChunk, count);
        long from = firstChunk / groupChunks * groupChunks;
        long to = Math.min(TreeShape.chunks(contentLength), (firstChunk + count + groupChunks - 1) / groupChunks * groupChunks);
        long offset = from * Blake3Nodes.CHUNK_LEN;
        return new DataRange(offset, Math.min(to * Blake3Nodes.CHUNK_LEN, contentLength) - offset);
    }

    /** Copies the CV of pair {@code p}'s left (0) or right (1) child. */
    byte[] cv(long p, int side) {
        int at = Math.toIntExact(p * PAIR_LEN + (long) side * Blake3Nodes.CV_LEN);
        return Arrays.copyOfRange(pairs, at, at + Blake3Nodes.CV_LEN);
    }

    /** A byte range of the content: {@code length} bytes from {@code offset}. */
    public record DataRange(long offset, long length) {}
}
