package io.oecloud.node.object;

/** An object operation that failed; {@link #code()} maps to an HTTP status once, at the API. */
public final class ObjectException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Code {
        /** No manifest for that CID could be found. */
        NOT_FOUND,
        /** Fewer than k shards of a segment are reachable (503 with the counts). */
        NOT_ENOUGH_SHARDS,
        /** Not enough nodes took the shards of a segment. */
        PLACEMENT_FAILED,
        /** A range outside the object. */
        BAD_RANGE,
        /** Bytes that did not match their CID after every retry. */
        CORRUPT,
        /** Only the owner's key may unpin an object (or open an encrypted one). */
        NOT_OWNER,
        /** A malformed request: a bad directory entry name, a path through a file (400). */
        BAD_INPUT,
        /** The node's memory budget stayed full: try again later or elsewhere (503). */
        BUSY,
        /** The payer's account could not pay for the object's storage contract; the chain's reason in the message (402). */
        PAYMENT_REQUIRED,
        /** The chain could not be reached or did not answer in time, so nothing could be paid (503). */
        CHAIN_UNAVAILABLE
    }

    private final Code code;

    public ObjectException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
