package io.oecloud.proofs.slice;

/**
 * A slice proof, its encoding or an outboard that is wrong; {@link #kind()} says what, the
 * message names the values (counts, lengths, indexes) in words a peer may be shown.
 *
 * <p>An {@link IllegalArgumentException}, as the module's other format errors
 * ({@code CidFormatException}, {@code WireException}): a proof is input from a peer.
 */
public final class SliceProofException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** What is wrong. */
    public enum Kind {
        /** The path recomputed from the chunks and siblings does not end at the expected root. */
        ROOT_MISMATCH,
        /** A content length other than the one the verifier knows (from a node's root, a manifest). */
        LENGTH_MISMATCH,
        /** Fewer sibling CVs than the tree of the claimed content length needs for the range. */
        TOO_FEW_SIBLINGS,
        /** More sibling CVs than the tree of the claimed content length needs for the range. */
        TOO_MANY_SIBLINGS,
        /** Sibling bytes that are not a whole number of 32-byte CVs. */
        SIBLING_BYTES,
        /** A content length below zero or above {@link SliceProof#MAX_CONTENT_LENGTH}. */
        CONTENT_LENGTH,
        /** A first chunk below zero, or a chunk count below one or above {@link SliceProof#MAX_CHUNK_COUNT}. */
        BAD_RANGE,
        /** A chunk range that ends past the content's last chunk. */
        RANGE_OUTSIDE_CONTENT,
        /** Chunk bytes of another length than the range has in content of the claimed length. */
        CHUNK_BYTES_LENGTH,
        /** A CID of another hash function than BLAKE3, the only kind a slice proves against. */
        NOT_BLAKE3_CID,
        /** An encoding whose format version is not {@link SliceProof#FORMAT_VERSION}. */
        VERSION,
        /** A varint in the encoding that is truncated, too long or not minimal. */
        VARINT,
        /** An encoding that ends before the sizes in its header say. */
        TRUNCATED,
        /** An encoding with bytes after the sizes in its header. */
        TRAILING_BYTES,
        /** An encoding longer than the caller's limit, or a header asking for more. */
        TOO_LARGE,
        /** Outboard bytes of another size than the content length and group size imply. */
        OUTBOARD_SIZE
    }

    private final Kind kind;

    SliceProofException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    SliceProofException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
