package io.oecloud.dht;

import io.oecloud.dht.pb.Kad;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;

/**
 * How the DHT reaches other peers. {@link HostKadNetwork} runs it over libp2p streams
 * ({@code /ipfs/kad/1.0.0}); the scale simulation runs the same DHT code over an in-memory one.
 */
public interface KadNetwork {
    PeerId self();

    /** Our addresses, as we announce them in provider records. */
    List<Multiaddr> selfAddrs();

    /** Known addresses of {@code peer} (for peer entries in replies). */
    List<Multiaddr> addrs(PeerId peer);

    /** Remembers addresses a reply told us about. */
    void learn(PeerId peer, List<Multiaddr> addrs);

    /** Sends a request and completes with the reply (or fails: unreachable, reset, timeout). */
    CompletableFuture<Kad.Message> request(PeerId peer, Kad.Message request);

    /** Sends a message that gets no reply (ADD_PROVIDER). */
    CompletableFuture<Void> send(PeerId peer, Kad.Message message);

    /** Whether the peer answers a liveness check. */
    CompletableFuture<Boolean> isAlive(PeerId peer);

    /**
     * Routes inbound messages to {@code server}: it returns the reply, null for none, or throws
     * {@link ProtocolException} to reset the stream without a reply.
     */
    void serve(BiFunction<PeerId, Kad.Message, Kad.Message> server);
}
