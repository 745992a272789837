package io.oecloud.node;

import io.oecloud.dht.Host;
import io.oecloud.dht.KadDht;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.dht.Validators;
import io.oecloud.proofs.Cid;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/** {@link DhtOps} on a host and DHT in this process (a running node's, or a transient one's). */
final class DhtService implements DhtOps {
    private final Host host;
    private final KadDht dht;
    private final Runnable onClose;
    /** Sequence numbers of our signed records: wall-clock milliseconds, strictly increasing. */
    private final AtomicLong lastSeq = new AtomicLong();

    DhtService(Host host, KadDht dht, Runnable onClose) {
        this.host = host;
        this.dht = dht;
        this.onClose = onClose;
    }

    Host host() {
        return host;
    }

    /** The multihash a CID's providers are filed under (what js and go use as the kad key). */
    static byte[] providerKey(Cid cid) {
        return cid.multihash();
    }

    @Override
    public CompletableFuture<NodeInfo> id() {
        return CompletableFuture.completedFuture(new NodeInfo(host.peerId().toString(),
                host.listenAddresses().stream().map(a -> a.withPeerId(host.peerId()).toString()).toList(),
                host.protocols().stream().sorted().toList(), host.config().agentVersion()));
    }

    @Override
    public CompletableFuture<Duration> ping(Multiaddr addr) {
        if (addr.peerId() == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("ping needs a /p2p/PEERID address: " + addr));
        }
        return host.dial(addr).thenCompose(c -> host.ping(c.remotePeer()));
    }

    @Override
    public CompletableFuture<Integer> provide(Cid cid) {
        return dht.provide(providerKey(cid));
    }

    @Override
    public CompletableFuture<List<Provider>> findProviders(Cid cid, int max) {
        return dht.findProviders(providerKey(cid), max);
    }

    @Override
    public CompletableFuture<List<Multiaddr>> findPeer(PeerId peer) {
        return dht.findPeer(peer);
    }

    @Override
    public CompletableFuture<String> put(String name, byte[] value) {
        if (name.isEmpty() || name.contains("/")) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "record name must be non-empty and without '/', was '" + name + "'"));
        }
        long seq = lastSeq.updateAndGet(prev -> Math.max(prev + 1, System.currentTimeMillis()));
        byte[][] kv = Validators.SignedRecord.sign(host.identity(), name, value, seq);
        return dht.putValue(kv[0], kv[1]).thenApply(n -> new String(kv[0], StandardCharsets.UTF_8));
    }

    @Override
    public CompletableFuture<byte[]> get(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return dht.getValue(k).thenApply(v -> key.startsWith("/oe/") ? Validators.SignedRecord.payload(k, v) : v);
    }

    @Override
    public void close() {
        onClose.run();
    }
}
