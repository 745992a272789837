package io.oecloud.edge;

/** An origin could not answer. Its message is words for a client (the edge's 404, 502 or 504 carries it). */
public final class OriginException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What went wrong, which decides the edge's status. */
    public enum Kind {
        /** Nobody has the content (404). */
        NOT_FOUND,
        /** It could not be had now: nodes down, slow, refusing (502; a later request may succeed). */
        UNAVAILABLE
    }

    private final Kind kind;

    public OriginException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public OriginException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
