package io.oecloud.node.proving;

/** A {@link Prover} operation that failed; {@link #code()} says why, the message names the period. */
public final class ProvingException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Code {
        /** The period was never committed here (or its hold was released): nothing to answer from. */
        NOT_COMMITTED,
        /** The shard store failed (I/O, or it is closed): the cause is its {@code StoreException}. */
        STORE,
        /** An answer this node built did not verify against its own commitment (a bug; nothing is sent). */
        INVALID_ANSWER
    }

    private final Code code;

    public ProvingException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public ProvingException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
