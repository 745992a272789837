package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.oecloud.dht.pb.Kad;
import io.oecloud.wire.LengthPrefix;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * The DHT over libp2p: requests as uvarint-length-prefixed protobufs on {@code /ipfs/kad/1.0.0}
 * streams that are kept open for the next request ({@link KadStreams}, as go does); as server,
 * every message on a stream is answered in turn until the asker closes, ADD_PROVIDER never.
 */
public final class HostKadNetwork implements KadNetwork {
    public static final String PROTOCOL_ID = "/ipfs/kad/1.0.0";
    /** Largest kad message we read (go's limit is 4 MiB; records here are at most 64 KiB). */
    static final int MAX_MESSAGE = 1 << 20;

    private final Host host;
    private final int maxInboundPerPeer;
    private final Map<PeerId, AtomicInteger> inbound = new ConcurrentHashMap<>();
    private final KadStreams streams;

    HostKadNetwork(Host host, int maxInboundPerPeer) {
        this.host = host;
        this.maxInboundPerPeer = maxInboundPerPeer;
        this.streams = new KadStreams(host, MAX_MESSAGE);
    }

    /**
     * Runs a DHT on {@code host}: serves the protocol (in server mode) and adds every peer whose
     * identify lists it to the routing table.
     */
    public static KadDht attach(Host host, DhtConfig config, Map<String, RecordValidator> validators,
                                ScheduledExecutorService scheduler) {
        return attach(host, config, validators, scheduler, System::nanoTime);
    }

    static KadDht attach(Host host, DhtConfig config, Map<String, RecordValidator> validators,
                         ScheduledExecutorService scheduler, java.util.function.LongSupplier clock) {
        HostKadNetwork net = new HostKadNetwork(host, config.maxInboundRequestsPerPeer());
        KadDht dht = new KadDht(net, config, validators, scheduler, clock);
        host.onConnection(c -> host.identified(c).thenAccept(info -> {
            if (info.protocols().contains(PROTOCOL_ID)) {
                dht.peerSeen(c.remotePeer());
            }
        }));
        return dht.start();
    }

    @Override
    public PeerId self() {
        return host.peerId();
    }

    @Override
    public List<Multiaddr> selfAddrs() {
        return host.listenAddresses();
    }

    @Override
    public List<Multiaddr> addrs(PeerId peer) {
        return host.peerStore().addrs(peer);
    }

    @Override
    public void learn(PeerId peer, List<Multiaddr> addrs) {
        if (!peer.equals(host.peerId())) {
            host.peerStore().addAddrs(peer, addrs);
        }
    }

    @Override
    public CompletableFuture<Kad.Message> request(PeerId peer, Kad.Message request) {
        return streams.request(peer, request);
    }

    @Override
    public CompletableFuture<Void> send(PeerId peer, Kad.Message message) {
        return streams.send(peer, message);
    }

    /** Idle kad streams kept for reuse (tests). */
    int idleStreams() {
        return streams.idleCount();
    }

    @Override
    public CompletableFuture<Boolean> isAlive(PeerId peer) {
        return host.ping(peer).thenApply(rtt -> true);
    }

    @Override
    public void serve(BiFunction<PeerId, Kad.Message, Kad.Message> server) {
        host.setStreamHandler(PROTOCOL_ID, () -> new StreamHandler() {
            private final LengthPrefixed framer = new LengthPrefixed(MAX_MESSAGE);
            private AtomicInteger counter;

            @Override
            public void onOpen(P2pStream s) {
                counter = inbound.computeIfAbsent(s.remotePeer(), p -> new AtomicInteger());
                if (counter.incrementAndGet() > maxInboundPerPeer) {
                    s.reset(); // a flood from one peer must not starve the others
                }
            }

            @Override
            public void onData(P2pStream s, ByteBuf data) {
                try {
                    for (byte[] m : framer.feed(s.alloc(), data)) {
                        Kad.Message reply = server.apply(s.remotePeer(), Kad.Message.parseFrom(m));
                        if (reply != null) {
                            s.write(LengthPrefix.encode(s.alloc(), reply.toByteArray()));
                        }
                    }
                    if (!s.isWritable()) {
                        s.pauseReading(); // an asker that pipelines without reading gets no more answers queued
                    }
                } catch (Exception e) { // malformed or refused: reset this stream only
                    s.reset();
                }
            }

            @Override
            public void onWritable(P2pStream s) {
                s.resumeReading();
            }

            @Override
            public void onClose(P2pStream s, Throwable error) {
                framer.release();
                if (counter != null && counter.decrementAndGet() <= 0) {
                    inbound.remove(s.remotePeer(), counter);
                }
            }
        });
    }
}
