package io.oecloud.proofs;

/** A CID string or byte form that cannot be parsed; {@link #part()} says which part is wrong. */
public final class CidFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The part of a CID that failed to parse. */
    public enum Part {
        /** Empty input or a multibase prefix other than base32 ('b') and base36 ('k'). */
        MULTIBASE,
        /** A character outside the base36 alphabet (lower case), or a value with leading zero bytes written otherwise. */
        BASE36,
        /** A character outside the base32 alphabet, or non-canonical padding bits. */
        BASE32,
        /** A varint that is truncated, too long or not minimally encoded. */
        VARINT,
        /** A CID version other than 1. */
        VERSION,
        /** A content codec other than raw and the manifest codec. */
        CODEC,
        /** A multihash function other than sha2-256 and blake3. */
        HASH_FUNCTION,
        /** A digest shorter or longer than its hash function's, or than the multihash says. */
        DIGEST_LENGTH
    }

    private final Part part;

    CidFormatException(Part part, String message) {
        super(message);
        this.part = part;
    }

    CidFormatException(Part part, String message, Throwable cause) {
        super(message, cause);
        this.part = part;
    }

    public Part part() {
        return part;
    }
}
