package io.oecloud.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request a route refuses: the status and the words to answer with ({@code {"error": words}}).
 * Thrown by a {@link Route} (or completing its future), answered by the server's error mapping.
 * The words are written for the client: name the bad value, never Java's text.
 */
public final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient HttpResponseStatus status;

    public HttpError(HttpResponseStatus status, String words) {
        super(words);
        this.status = status;
    }

    public HttpResponseStatus status() {
        return status;
    }
}
