package io.oecloud.dht;

/** The peer answered "na": it does not speak the protocol we proposed. */
public final class UnsupportedProtocolException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    public UnsupportedProtocolException(String protocol) {
        super("peer does not support " + protocol);
    }
}
