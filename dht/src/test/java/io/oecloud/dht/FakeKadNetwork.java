package io.oecloud.dht;

import io.oecloud.dht.pb.Kad;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * A KadNetwork in memory for tests of one node's server side: the DHT's handler is captured, peers
 * named in {@link #answers} reply from a function, everyone else is unreachable, and every address
 * the node learns is counted.
 */
final class FakeKadNetwork implements KadNetwork {
    final PeerId self;
    final Map<PeerId, List<Multiaddr>> book = new ConcurrentHashMap<>();
    final Map<PeerId, BiFunction<PeerId, Kad.Message, Kad.Message>> answers = new ConcurrentHashMap<>();
    volatile BiFunction<PeerId, Kad.Message, Kad.Message> server;

    FakeKadNetwork(PeerId self) {
        this.self = self;
    }

    /** A fresh peer ID (a sha2-256 multihash, as for keys too long to inline), from {@code rnd}. */
    static PeerId randomPeer(Random rnd) {
        byte[] mh = new byte[34];
        mh[0] = 0x12;
        mh[1] = 32;
        byte[] d = new byte[32];
        rnd.nextBytes(d);
        System.arraycopy(d, 0, mh, 2, 32);
        return PeerId.fromBytes(mh);
    }

    @Override
    public PeerId self() {
        return self;
    }

    @Override
    public List<Multiaddr> selfAddrs() {
        return List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/4001"));
    }

    @Override
    public List<Multiaddr> addrs(PeerId peer) {
        return book.getOrDefault(peer, List.of());
    }

    @Override
    public void learn(PeerId peer, List<Multiaddr> addrs) {
        book.put(peer, List.copyOf(addrs));
    }

    @Override
    public CompletableFuture<Kad.Message> request(PeerId peer, Kad.Message request) {
        BiFunction<PeerId, Kad.Message, Kad.Message> a = answers.get(peer);
        if (a == null) {
            return CompletableFuture.failedFuture(new java.io.IOException("unreachable " + peer));
        }
        return CompletableFuture.completedFuture(a.apply(self, request));
    }

    @Override
    public CompletableFuture<Void> send(PeerId peer, Kad.Message message) {
        return request(peer, message).thenAccept(r -> { });
    }

    @Override
    public CompletableFuture<Boolean> isAlive(PeerId peer) {
        return CompletableFuture.completedFuture(answers.containsKey(peer));
    }

    @Override
    public void serve(BiFunction<PeerId, Kad.Message, Kad.Message> s) {
        this.server = s;
    }
}
