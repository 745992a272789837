package io.oecloud.dht;

import java.io.IOException;

/**
 * What a DHT lookup did not find: a peer's addresses, a record under a key. Typed so that a
 * caller (the node's HTTP API answers 404 for it) never has to read the message to know.
 */
public final class NotFoundException extends IOException {
    private static final long serialVersionUID = 1L;

    public NotFoundException(String message) {
        super(message);
    }
}
