package io.oecloud.proofs.slice;

import io.oecloud.proofs.Blake3Nodes;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A proof that chunks {@code [firstChunk, firstChunk + chunkCount)} of content of
 * {@code contentLength} bytes belong to the content's BLAKE3 digest, without the rest of it
 * (verified streaming, as Bao and Iroh do).
 *
 * <p>{@code chunks} holds the range's bytes (1 KiB a chunk, the content's last chunk shorter);
 * {@code siblings} holds 32-byte chaining values, one for each maximal subtree of the tree
 * ({@link TreeShape}) that lies outside the range, in the order a depth-first, left-first walk
 * from the root meets them (the pre-order of the pruned tree, Bao's order; it is also the
 * subtrees' left-to-right order). For one chunk that is its path top-down: the root's child
 * first, the chunk's own sibling last; {@code ceil(log2(chunks))} CVs at most.
 *
 * <pre>{@code
 * SliceProof p = SliceProver.prove(content, 5, 1);   // chunk 5
 * byte[] wire = p.encode();
 * SliceProof.decode(wire, 64 * 1024).verify(cid);   // throws SliceProofException if it is not
 * }</pre>
 *
 * <p><b>The content length is authenticated only when the range includes the content's last
 * chunk</b> (the last chunk's length and its place on the tree's right edge then fix it). A proof
 * of other chunks also verifies under any other length that gives its path the same shape (4096
 * and 4095 bytes, or 5 and 6 chunks for chunk 1), as in Bao: the chunks' positions and bytes are
 * proven, the length is not. A verifier that relies on the length must know it independently (a
 * node's root commits to each shard's size; a manifest lists segment sizes) and call
 * {@link #verify(byte[], long)}.
 *
 * <p>The compact constructor checks what a proof is on its own (lengths in range, whole CVs) and
 * copies the arrays; {@link #verify} checks everything against the tree the content length
 * implies before it hashes, so a proof built from hostile values fails with a typed error.
 * Accessors return copies.
 */
public record SliceProof(long contentLength, long firstChunk, int chunkCount, byte[] chunks, byte[] siblings) {
    /** The encoding's format version. */
    public static final int FORMAT_VERSION = 1;
    /** The largest content a proof may claim: 2^48 bytes, so a tree is at most 38 levels deep. */
    public static final long MAX_CONTENT_LENGTH = 1L << 48;
    /** The most chunks one proof may carry: 2^20 (1 GiB). */
    public static final int MAX_CHUNK_COUNT = 1 << 20;
    /** Bytes in a sibling chaining value. */
    public static final int CV_LEN = Blake3Nodes.CV_LEN;

    public SliceProof {
        if (chunks == null || siblings == null) {
            throw new NullPointerException("chunks and siblings must not be null");
        }
        if (contentLength < 0 || contentLength > MAX_CONTENT_LENGTH) {
            throw new SliceProofException(SliceProofException.Kind.CONTENT_LENGTH,
                    "content length " + contentLength + " is outside [0, " + MAX_CONTENT_LENGTH + "]");
        }
        if (firstChunk < 0) {
            throw new SliceProofException(SliceProofException.Kind.BAD_RANGE, "first chunk " + firstChunk + " is negative");
        }
        if (chunkCount < 1 || chunkCount > MAX_CHUNK_COUNT) {
            throw new SliceProofException(SliceProofException.Kind.BAD_RANGE,
                    "chunk count " + chunkCount + " is outside [1, " + MAX_CHUNK_COUNT + "]");
        }
        if (siblings.length % CV_LEN != 0) {
            throw new SliceProofException(SliceProofException.Kind.SIBLING_BYTES,
                    "sibling bytes " + siblings.length + " are not a multiple of " + CV_LEN);
        }
        chunks = chunks.clone();
        siblings = siblings.clone();
    }

    /** A copy of the range's bytes. */
    @Override
    public byte[] chunks() {
        return chunks.clone();
    }

    /** A copy of the sibling CVs, 32 bytes each, in the documented order. */
    @Override
    public byte[] siblings() {
        return siblings.clone();
    }

    /** Sibling CVs carried. */
    public int siblingCount() {
        return siblings.length / CV_LEN;
    }

    /** A copy of sibling {@code i}. */
    public byte[] sibling(int i) {
        java.util.Objects.checkIndex(i, siblingCount());
        return Arrays.copyOfRange(siblings, i * CV_LEN, (i + 1) * CV_LEN);
    }

    /** Chunks in the content the proof claims. */
    public long contentChunks() {
        return TreeShape.chunks(contentLength);
    }

    /**
     * Checks that the chunks and siblings hash up to {@code root}, the content's 32-byte BLAKE3
     * digest (compared in constant time): the chunks are those at their indexes in that content.
     * The claimed length is proven only if {@link #includesLastChunk()}; see the class comment.
     *
     * @throws SliceProofException naming what is wrong: the range against the content length,
     *     the chunk bytes' length, too few or too many siblings, or the root
     * @throws IllegalArgumentException if {@code root} is not 32 bytes
     */
    public void verify(byte[] root) {
        if (root == null || root.length != CV_LEN) {
            throw new IllegalArgumentException("a BLAKE3 root is " + CV_LEN + " bytes, got "
                    + (root == null ? "null" : root.length));
        }
        byte[] computed = SliceVerifier.root(this, chunks, siblings);
        if (!MessageDigest.isEqual(computed, root)) {
            throw new SliceProofException(SliceProofException.Kind.ROOT_MISMATCH, "chunks [" + firstChunk + ", "
                    + (firstChunk + chunkCount) + ") of " + contentLength + " bytes hash to root "
                    + HexFormat.of().formatHex(computed) + ", not " + HexFormat.of().formatHex(root));
        }
    }

    /**
     * Checks that the proof claims {@code contentLength} bytes and then, as {@link #verify(byte[])},
     * that its chunks and siblings hash up to {@code root}: the form to use whenever the range may
     * not include the last chunk and the length matters.
     *
     * @throws SliceProofException {@code LENGTH_MISMATCH}, or what {@link #verify(byte[])} throws
     */
    public void verify(byte[] root, long contentLength) {
        if (this.contentLength != contentLength) {
            throw new SliceProofException(SliceProofException.Kind.LENGTH_MISMATCH, "proof claims "
                    + this.contentLength + " bytes of content, the verifier knows " + contentLength);
        }
        verify(root);
    }

    /** As {@link #verify(byte[], long)}, against a BLAKE3 CID's digest. */
    public void verify(Cid cid, long contentLength) {
        if (this.contentLength != contentLength) {
            throw new SliceProofException(SliceProofException.Kind.LENGTH_MISMATCH, "proof claims "
                    + this.contentLength + " bytes of content, the verifier knows " + contentLength);
        }
        verify(cid);
    }

    /** Whether the range includes the content's last chunk, so that {@link #verify(byte[])} also proves the length. */
    public boolean includesLastChunk() {
        return firstChunk + chunkCount == contentChunks();
    }

    /**
     * Checks the proof against a BLAKE3 CID's digest, as {@link #verify(byte[])}. The codec is a
     * label (raw shards, manifests): a BLAKE3 CID's digest is the BLAKE3 hash of the bytes whatever
     * it names, so manifest copies are proven as shards are (paid storage pays for both).
     *
     * @throws SliceProofException {@code NOT_BLAKE3_CID} for a CID of another hash function, or what
     *     {@link #verify(byte[])} throws
     */
    public void verify(Cid cid) {
        if (cid.function() != HashFunction.BLAKE3) {
            throw new SliceProofException(SliceProofException.Kind.NOT_BLAKE3_CID, "CID " + cid + " is "
                    + cid.codec() + " with " + cid.function().label() + "; slices prove against BLAKE3 CIDs only");
        }
        verify(cid.digest());
    }

    /**
     * The binary form: {@code uvarint(version) uvarint(contentLength) uvarint(firstChunk)
     * uvarint(chunkCount)}, then the sibling CVs (32 bytes each) and the chunk bytes, whose sizes
     * follow from the header and are not written.
     */
    public byte[] encode() {
        return SliceCodec.encode(this, chunks, siblings);
    }

    /**
     * Parses {@link #encode()}'s form; sizes are checked against the header before anything is
     * allocated, and the input must end where they say.
     *
     * @param maxBytes the largest encoding accepted (the caller's budget for one proof)
     * @throws SliceProofException naming what is wrong
     */
    public static SliceProof decode(byte[] bytes, int maxBytes) {
        return SliceCodec.decode(bytes, maxBytes);
    }

    /** Bytes {@link #encode()} writes. */
    public int encodedSize() {
        return SliceCodec.headerSize(contentLength, firstChunk, chunkCount) + siblings.length + chunks.length;
    }

    /** Checks the range, chunk bytes and sibling count against the claimed content length. */
    void checkShape() {
        long total = contentChunks();
        if (firstChunk >= total || chunkCount > total - firstChunk) {
            throw new SliceProofException(SliceProofException.Kind.RANGE_OUTSIDE_CONTENT, "chunks [" + firstChunk
                    + ", " + (firstChunk + chunkCount) + ") are outside content of " + contentLength + " bytes ("
                    + total + " chunks)");
        }
        long expectBytes = TreeShape.rangeBytes(contentLength, firstChunk, chunkCount);
        if (chunks.length != expectBytes) {
            throw new SliceProofException(SliceProofException.Kind.CHUNK_BYTES_LENGTH, "chunks [" + firstChunk + ", "
                    + (firstChunk + chunkCount) + ") of " + contentLength + " bytes are " + expectBytes
                    + " bytes, the proof carries " + chunks.length);
        }
        int expectSiblings = TreeShape.siblingCount(total, firstChunk, chunkCount);
        if (siblingCount() != expectSiblings) {
            throw new SliceProofException(siblingCount() < expectSiblings
                    ? SliceProofException.Kind.TOO_FEW_SIBLINGS : SliceProofException.Kind.TOO_MANY_SIBLINGS,
                    "chunks [" + firstChunk + ", " + (firstChunk + chunkCount) + ") of " + total + " chunks need "
                    + expectSiblings + " sibling CVs, the proof carries " + siblingCount());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SliceProof p && contentLength == p.contentLength && firstChunk == p.firstChunk
                && chunkCount == p.chunkCount && Arrays.equals(chunks, p.chunks) && Arrays.equals(siblings, p.siblings);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(contentLength) * 31 + Long.hashCode(firstChunk) * 17 + chunkCount
                + Arrays.hashCode(siblings);
    }

    @Override
    public String toString() {
        return "SliceProof[contentLength=" + contentLength + ", chunks=[" + firstChunk + ", "
                + (firstChunk + chunkCount) + "), " + chunks.length + " bytes, " + siblingCount() + " siblings]";
    }
}
