package io.oecloud.edge;

/**
 * A request the edge cannot answer with content. The kind decides the status once (the HTTP front
 * maps it); the message is words for the client.
 */
public final class EdgeException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why, in the terms of the status it gets. */
    public enum Kind {
        /** 400: the request names nothing the edge can look for (a bad CID, a path through a file). */
        BAD_REQUEST(400),
        /** 403: the content exists but is not public (encrypted objects are never served by an edge). */
        NOT_PUBLIC(403),
        /** 404: no such object, or no such name in a directory. */
        NOT_FOUND(404),
        /** 502: the origin answered bytes that do not match their CIDs; nothing of it is cached. */
        BAD_ORIGIN(502),
        /** 502: the origin could not give the content now. */
        UNAVAILABLE(502),
        /** 504: the origin did not answer within the edge's deadline. */
        TIMEOUT(504);

        private final int status;

        Kind(int status) {
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Kind kind;

    public EdgeException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public EdgeException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
