package io.oecloud.dht;

/**
 * A peer broke the wire protocol: a malformed or oversized frame, a bad handshake, an
 * unexpected message. It closes the stream or connection it happened on, never the process.
 */
public class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
