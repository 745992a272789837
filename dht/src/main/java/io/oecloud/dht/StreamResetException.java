package io.oecloud.dht;

/** A stream ended abnormally: reset by either side, timed out, or its connection closed. */
public final class StreamResetException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    public StreamResetException(String message) {
        super(message);
    }
}
