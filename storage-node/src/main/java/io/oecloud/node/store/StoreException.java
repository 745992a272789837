package io.oecloud.node.store;

/** A shard store operation that failed; {@link #code()} says why, the message names the shard. */
public final class StoreException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Code {
        /** Storing would exceed the configured capacity. */
        FULL,
        /** Pinning would take the owner key (or all untrusted keys together) beyond its quota ({@link Quotas}). */
        OVER_QUOTA,
        /** The bytes do not hash to the CID they were offered under. */
        CID_MISMATCH,
        /** No such shard here. */
        NOT_FOUND,
        /** The stored bytes no longer match their CID: the shard was dropped and must be repaired. */
        CORRUPT,
        /** A range outside the shard. */
        BAD_RANGE,
        /** The disk or RocksDB failed. */
        IO,
        /** The store was closed (the node is stopping). */
        CLOSED
    }

    private final Code code;

    public StoreException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public StoreException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
