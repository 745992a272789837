package io.oecloud.node;

import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.proofs.Cid;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the {@code oe id/ping/dht} commands ask of a node: a running one through its HTTP API
 * ({@link ApiClient}), or one started for the command ({@link DhtService} on a transient host).
 */
public interface DhtOps extends AutoCloseable {
    record NodeInfo(String peerId, List<String> addrs, List<String> protocols, String agentVersion) {}

    CompletableFuture<NodeInfo> id();

    CompletableFuture<Duration> ping(Multiaddr addr);

    /** Announces the node as a provider of the CID; completes with the number of peers told. */
    CompletableFuture<Integer> provide(Cid cid);

    CompletableFuture<List<Provider>> findProviders(Cid cid, int max);

    CompletableFuture<List<Multiaddr>> findPeer(PeerId peer);

    /**
     * Signs {@code value} as the node under {@code /oe/<node peer id>/<name>} (a newer sequence
     * number than any before) and stores it in the DHT; completes with the full key.
     */
    CompletableFuture<String> put(String name, byte[] value);

    /** The value under {@code key}: for /oe/ keys the signed payload, checked against its signer. */
    CompletableFuture<byte[]> get(String key);

    @Override
    void close();
}
