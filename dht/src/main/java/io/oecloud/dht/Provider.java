package io.oecloud.dht;

import java.util.List;

/** A peer that announced it holds a key, and where to reach it. */
public record Provider(PeerId peer, List<Multiaddr> addrs) {
    public Provider {
        addrs = List.copyOf(addrs);
    }
}
