package io.oecloud.node;

import io.oecloud.dht.Connection;
import io.oecloud.dht.DhtConfig;
import io.oecloud.dht.Host;
import io.oecloud.dht.HostConfig;
import io.oecloud.dht.HostKadNetwork;
import io.oecloud.dht.Identity;
import io.oecloud.dht.KadDht;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** A libp2p host with its DHT: the network side of a node, or a transient one for a command. */
public final class P2pNode implements AutoCloseable {
    final Host host;
    final KadDht dht;
    private final ScheduledExecutorService scheduler;

    private P2pNode(Host host, KadDht dht, ScheduledExecutorService scheduler) {
        this.host = host;
        this.dht = dht;
        this.scheduler = scheduler;
    }

    public static P2pNode start(Identity id, List<Multiaddr> listen, Path dataDir, boolean dhtServer) throws IOException {
        Host host = new Host(id, HostConfig.defaults().withListen(listen).withDataDir(dataDir)).start();
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dht-maintenance");
            t.setDaemon(true);
            return t;
        });
        KadDht dht = HostKadNetwork.attach(host, DhtConfig.defaults().withServer(dhtServer),
                KadDht.defaultValidators(), scheduler);
        return new P2pNode(host, dht, scheduler);
    }

    /** Remembered peers dialed at a start without bootstrap addresses: the most recently identified. */
    static final int REMEMBERED_BOOTSTRAP_PEERS = 32;

    /**
     * Dials the bootstrap peers and looks ourselves up. When none are given, the peers of the last
     * run are dialed, but only those that connected and identified then, at an address shown to
     * reach them ({@link io.oecloud.dht.PeerStore#bootstrapPeers}): never an address some peer
     * merely told us, or a stranger's DHT reply could make every restart dial whom it likes.
     * All dials run at once, so a start waits one dial deadline, not one per dead peer. Peers
     * that fail are reported, not fatal, while one succeeds.
     *
     * @return the peers reached
     */
    public List<PeerId> bootstrap(List<Multiaddr> addrs, java.io.PrintWriter err) {
        List<PeerId> reached = new ArrayList<>();
        List<Multiaddr> targets = addrs.isEmpty()
                ? host.peerStore().bootstrapPeers(REMEMBERED_BOOTSTRAP_PEERS) : List.copyOf(addrs);
        List<CompletableFuture<Connection>> dials = new ArrayList<>();
        for (Multiaddr a : targets) {
            try {
                dials.add(host.dial(a));
            } catch (RuntimeException e) {
                dials.add(CompletableFuture.failedFuture(e));
            }
        }
        for (int i = 0; i < targets.size(); i++) {
            try {
                reached.add(dials.get(i).get(host.config().dialTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS).remotePeer());
            } catch (Exception e) {
                err.println("bootstrap " + targets.get(i) + ": " + rootMessage(e));
            }
        }
        if (!reached.isEmpty()) {
            try {
                dht.bootstrap(reached).get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                err.println("DHT bootstrap: " + rootMessage(e));
            }
        }
        return reached;
    }

    public static String rootMessage(Throwable t) {
        while ((t instanceof java.util.concurrent.ExecutionException || t instanceof java.util.concurrent.CompletionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    public DhtOps service(Runnable onClose) {
        return new DhtService(host, dht, onClose);
    }

    @Override
    public void close() {
        dht.close();
        host.close();
        scheduler.shutdownNow();
    }
}
