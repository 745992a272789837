package io.oecloud.erasure;

/**
 * A coding operation that cannot be carried out with the shards at hand. Bad arguments are
 * {@link IllegalArgumentException}s instead; this is the failure a caller can act on (find more
 * shards, report the object as unavailable).
 */
public final class ErasureException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Code {
        /** Fewer than k shards are present, so nothing can be rebuilt. */
        NOT_ENOUGH_SHARDS
    }

    private final Code code;
    private final int present;
    private final int needed;

    ErasureException(Code code, int present, int needed, String message) {
        super(message);
        this.code = code;
        this.present = present;
        this.needed = needed;
    }

    static ErasureException notEnoughShards(int present, int needed) {
        return new ErasureException(Code.NOT_ENOUGH_SHARDS, present, needed,
                "cannot reconstruct: " + present + " shards present, " + needed + " needed");
    }

    public Code code() {
        return code;
    }

    /** How many shards were present. */
    public int present() {
        return present;
    }

    /** How many shards are needed (k). */
    public int needed() {
        return needed;
    }
}
