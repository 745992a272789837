package io.oecloud.node.api;

import io.netty.handler.codec.http.HttpResponseStatus;

/** A request the API refuses, with the status and words to answer; thrown by routes, answered by {@link Failures}. */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient HttpResponseStatus status;

    ApiException(HttpResponseStatus status, String message) {
        super(message);
        this.status = status;
    }
}
