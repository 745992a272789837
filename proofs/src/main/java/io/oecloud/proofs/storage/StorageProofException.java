package io.oecloud.proofs.storage;

/**
 * A node root, inclusion proof, challenge or window computation that cannot go on; {@link #kind()}
 * says why and the message names the value (the entry, the index, the length) in words a peer may
 * be shown.
 *
 * <p>An {@link IllegalArgumentException}, as {@code CidFormatException} and {@code WireException}
 * are: every failure here comes from input (a peer's proof, a list of entries, a parameter), and a
 * verifier that refuses any bad proof catches this one type.
 */
public final class StorageProofException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** What is wrong. */
    public enum Kind {
        /** Building a root: an entry's CID is not above the one before it (entries must be sorted by CID bytes). */
        UNSORTED,
        /** Building a root: two entries have the same CID. */
        DUPLICATE,
        /** Building a root: more entries than one in-memory tree holds. */
        TOO_MANY_ENTRIES,
        /** An entry count of zero or above {@link NodeRoot#MAX_COUNT}. */
        COUNT,
        /** An entry index at or beyond the entry count. */
        INDEX,
        /** A proof for another entry index than the one asked for (the challenged entry), or of other entries than the challenged ones. */
        WRONG_INDEX,
        /** An entries proof whose indices are not strictly increasing. */
        INDEX_ORDER,
        /** A proof with more or fewer sibling hashes than its index (indices) and the entry count imply. */
        PATH_LENGTH,
        /** The recomputed root is not the committed root (a tampered entry, sibling or index). */
        ROOT_MISMATCH,
        /** An encoded proof longer than the reader's limit (refused before it is read). */
        TOO_LARGE,
        /** An encoded proof that ends inside a field. */
        TRUNCATED,
        /** A varint that is too long or not in its shortest form. */
        VARINT,
        /** A field outside its range (an index, a size, a CID length, a sibling count). */
        FIELD_RANGE,
        /** An entry's CID bytes that are not a CID. */
        CID,
        /** Bytes after the last field of an encoded proof. */
        TRAILING_BYTES,
        /** A parameter outside its range (a seed, a node ID, a challenge count, a period, a window, a height). */
        ARGUMENT
    }

    private final Kind kind;

    StorageProofException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    StorageProofException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
