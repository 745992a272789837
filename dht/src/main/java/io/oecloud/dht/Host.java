package io.oecloud.dht;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A libp2p-compatible host: listens and dials on TCP (epoll where available, else NIO), secures
 * every connection with Noise, multiplexes it with Yamux, answers Identify and Ping, and routes
 * each inbound stream to the handler registered for its protocol.
 *
 * <p>Connection management: one connection per peer is reused (a second one, from a simultaneous
 * dial, stays usable until it idles out); dials time out and failing peers are backed off
 * exponentially; above the high-water mark idle connections are closed down to the low-water mark;
 * connections without streams close after the idle timeout. The peer store keeps addresses and
 * identify results, and survives restarts when a data directory is configured.
 *
 * <pre>{@code
 * Host host = new Host(Identity.loadOrCreate(dir), HostConfig.defaults());
 * host.setStreamHandler("/my/proto/1.0.0", MyHandler::new);
 * host.start();
 * host.newStream(peer, "/my/proto/1.0.0", handler).get();
 * host.close();
 * }</pre>
 */
public final class Host implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Host.class.getName());
    /**
     * Peers whose failed dials we remember for backoff. Lookups dial peers that strangers name,
     * under IDs that cost nothing, so without a bound every bogus ID would stay here for good.
     */
    static final int MAX_BACKOFF = 10_000;

    private final Identity identity;
    private final HostConfig config;
    private final PeerStore peerStore;
    private final Map<String, Supplier<StreamHandler>> handlers = new ConcurrentHashMap<>();
    private final Map<PeerId, CopyOnWriteArrayList<YamuxSession>> connections = new ConcurrentHashMap<>();
    private final Map<PeerId, CompletableFuture<Connection>> pendingDials = new ConcurrentHashMap<>();
    private final Map<PeerId, long[]> backoff = new ConcurrentHashMap<>(); // {failures, retryAtNanos}
    private final Map<Connection, CompletableFuture<PeerStore.Identified>> identified = new ConcurrentHashMap<>();
    private final Map<Connection, Long> idleSince = new ConcurrentHashMap<>();
    private final List<Consumer<Connection>> connectionListeners = new CopyOnWriteArrayList<>();
    private final List<Channel> servers = new ArrayList<>();
    private final List<Multiaddr> listenAddrs = new CopyOnWriteArrayList<>();
    private EventLoopGroup group;
    private volatile boolean closed;

    public Host(Identity identity, HostConfig config) {
        this.identity = identity;
        this.config = config;
        this.peerStore = new PeerStore(config.dataDir());
        handlers.put(Identify.PROTOCOL_ID, () -> Identify.responder(this));
        handlers.put(Ping.PROTOCOL_ID, Ping::responder);
    }

    public Identity identity() {
        return identity;
    }

    public PeerId peerId() {
        return identity.peerId();
    }

    public HostConfig config() {
        return config;
    }

    public PeerStore peerStore() {
        return peerStore;
    }

    /** Routes inbound streams of {@code protocol} to a new handler from {@code factory}. */
    public void setStreamHandler(String protocol, Supplier<StreamHandler> factory) {
        handlers.put(protocol, factory);
    }

    /** Protocols we answer (what identify lists). */
    public Set<String> protocols() {
        return Set.copyOf(handlers.keySet());
    }

    StreamHandler newHandler(String protocol) {
        return handlers.get(protocol).get();
    }

    /** Calls {@code listener} (on an event loop; it must not block) for every new connection. */
    public void onConnection(Consumer<Connection> listener) {
        connectionListeners.add(listener);
    }

    /**
     * Binds the listen addresses and loads the peer store.
     *
     * @throws IOException if an address cannot be bound
     */
    public synchronized Host start() throws IOException {
        if (group != null) {
            throw new IllegalStateException("already started");
        }
        peerStore.load();
        boolean epoll = Epoll.isAvailable();
        group = new MultiThreadIoEventLoopGroup(2, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Class<? extends ServerChannel> serverClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        for (Multiaddr m : config.listen()) {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(serverClass)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                    .childHandler(initializer(false, null, null));
            try {
                Channel ch = b.bind(m.toTcpSocketAddress()).sync().channel();
                servers.add(ch);
                listenAddrs.add(Multiaddr.tcp((InetSocketAddress) ch.localAddress()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while binding " + m, e);
            } catch (Exception e) {
                throw new IOException("cannot listen on " + m + ": " + e.getMessage(), e);
            }
        }
        // saved while running too, not only at close: a process killed with SIGKILL restarts with the
        // peers it knew a minute before (without them a node that had no --bootstrap came back alone)
        group.next().scheduleWithFixedDelay(() -> Thread.startVirtualThread(this::savePeers), PEER_SAVE_SECONDS, PEER_SAVE_SECONDS,
                TimeUnit.SECONDS);
        return this;
    }

    /** How often the peer store is written while the host runs. */
    static final long PEER_SAVE_SECONDS = 30;

    private void savePeers() {
        if (closed) {
            return;
        }
        try {
            peerStore.save();
        } catch (IOException e) {
            log(System.Logger.Level.WARNING, "cannot save the peer store: " + e.getMessage());
        }
    }

    /** Where we listen, with the ports actually bound (no /p2p suffix). */
    public List<Multiaddr> listenAddresses() {
        return List.copyOf(listenAddrs);
    }

    private ChannelInitializer<SocketChannel> initializer(boolean initiator, PeerId expected,
                                                          CompletableFuture<Connection> result) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ConnectionSetup setup = new ConnectionSetup(Host.this, initiator, expected);
                if (result != null) {
                    setup.ready.whenComplete((c, e) -> {
                        if (e != null) {
                            result.completeExceptionally(e);
                        } else {
                            result.complete(c);
                        }
                    });
                }
                // The whole upgrade (security, muxer) has a deadline; a stalled peer is dropped.
                ch.eventLoop().schedule(() -> {
                    if (!setup.ready.isDone()) {
                        setup.ready.completeExceptionally(new TimeoutException("connection upgrade with "
                                + ch.remoteAddress() + " took longer than " + config.dialTimeout()));
                        ch.close();
                    }
                }, config.dialTimeout().toMillis(), TimeUnit.MILLISECONDS);
                ch.pipeline().addLast("security", new SecurityNegotiator(setup));
            }
        };
    }

    /**
     * Dials a multiaddr ({@code /ip4|ip6/.../tcp/PORT[/p2p/ID]}); with /p2p the remote must prove
     * that identity. Reuses an existing connection to that peer.
     */
    public CompletableFuture<Connection> dial(Multiaddr addr) {
        PeerId expected = addr.peerId();
        if (expected != null) {
            Connection existing = connection(expected);
            if (existing != null) {
                return CompletableFuture.completedFuture(existing);
            }
            peerStore.addAddrs(expected, List.of(addr));
        }
        return dialSocket(addr, expected);
    }

    private CompletableFuture<Connection> dialSocket(Multiaddr addr, PeerId expected) {
        CompletableFuture<Connection> result = new CompletableFuture<>();
        InetSocketAddress sa = addr.toTcpSocketAddress();
        if (closed || group == null) {
            result.completeExceptionally(new IllegalStateException("host is not running"));
            return result;
        }
        if (sa == null) {
            result.completeExceptionally(new IllegalArgumentException("cannot dial " + addr + ": only /ip4|ip6/.../tcp"));
            return result;
        }
        if (expected != null && expected.equals(peerId())) {
            result.completeExceptionally(new IllegalArgumentException("refusing to dial ourselves (" + addr + ")"));
            return result;
        }
        if (expected != null) {
            long[] b = backoff.get(expected);
            if (b != null && System.nanoTime() < b[1]) {
                result.completeExceptionally(new IOException("peer " + expected + " is backed off after "
                        + b[0] + " failed dials"));
                return result;
            }
        }
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.dialTimeout().toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                .handler(initializer(true, expected, result));
        ChannelFuture cf = b.connect(sa);
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new IOException("cannot connect to " + addr + ": " + f.cause().getMessage(), f.cause()));
            }
        });
        result.whenComplete((c, e) -> {
            if (expected == null) {
                return;
            }
            if (e == null) {
                backoff.remove(expected);
            } else {
                backoff.compute(expected, (p, old) -> {
                    long failures = old == null ? 1 : old[0] + 1;
                    long wait = Math.min(config.backoffMax().toNanos(),
                            config.backoffBase().toNanos() << Math.min(20, failures - 1));
                    return new long[] {failures, System.nanoTime() + wait};
                });
                if (backoff.size() > MAX_BACKOFF) {
                    trimBackoff();
                }
            }
        });
        return result;
    }

    /**
     * Forgets failures whose wait is over (the peer may be dialed again; only its count for the
     * next wait is lost), then, if still too many, any until three quarters of {@link #MAX_BACKOFF}
     * remain (so the scan runs once per quarter of the bound, not once per failed dial).
     */
    private void trimBackoff() {
        long now = System.nanoTime();
        backoff.values().removeIf(b -> b[1] - now <= 0);
        for (var it = backoff.keySet().iterator(); backoff.size() > MAX_BACKOFF * 3 / 4 && it.hasNext(); ) {
            it.next();
            it.remove();
        }
    }

    /** Peers whose dial failures are remembered (tests). */
    int backoffSize() {
        return backoff.size();
    }

    /** Forgets dial failures of {@code peer} (for tests and operator commands). */
    public void clearBackoff(PeerId peer) {
        backoff.remove(peer);
    }

    /** An open connection to {@code peer}, or null. */
    public Connection connection(PeerId peer) {
        List<YamuxSession> l = connections.get(peer);
        if (l == null) {
            return null;
        }
        for (YamuxSession s : l) {
            if (s.isOpen()) {
                return s;
            }
        }
        return null;
    }

    public Collection<Connection> connections() {
        List<Connection> all = new ArrayList<>();
        for (List<YamuxSession> l : connections.values()) {
            all.addAll(l);
        }
        return all;
    }

    /** The open connection to {@code peer}, or a new one dialed at its known addresses. */
    public CompletableFuture<Connection> connect(PeerId peer) {
        Connection existing = connection(peer);
        if (existing != null) {
            return CompletableFuture.completedFuture(existing);
        }
        CompletableFuture<Connection> pending = pendingDials.get(peer);
        if (pending != null) {
            return pending;
        }
        List<Multiaddr> addrs = peerStore.addrs(peer).stream().filter(a -> a.toTcpSocketAddress() != null).toList();
        if (addrs.isEmpty()) {
            return CompletableFuture.failedFuture(new IOException("no known TCP address for " + peer));
        }
        CompletableFuture<Connection> f = dialInTurn(peer, addrs, 0, null);
        pendingDials.put(peer, f);
        f.whenComplete((c, e) -> pendingDials.remove(peer, f));
        return f;
    }

    private CompletableFuture<Connection> dialInTurn(PeerId peer, List<Multiaddr> addrs, int i, Throwable last) {
        if (i >= addrs.size()) {
            return CompletableFuture.failedFuture(last);
        }
        return dialSocket(addrs.get(i), peer)
                .handle((c, e) -> e == null ? CompletableFuture.completedFuture(c) : dialInTurn(peer, addrs, i + 1, e))
                .thenCompose(x -> x);
    }

    /** Opens a stream to {@code peer} (connecting first if needed). */
    public CompletableFuture<P2pStream> newStream(PeerId peer, String protocol, StreamHandler handler) {
        return Deadlines.orTimeout(connect(peer).thenCompose(c -> c.newStream(protocol, handler)),
                config.dialTimeout().toMillis() + config.negotiationTimeout().toMillis());
    }

    /** Measures one ping round trip to {@code peer}. */
    public CompletableFuture<Duration> ping(PeerId peer) {
        Ping.Dialer d = new Ping.Dialer();
        return Deadlines.orTimeout(newStream(peer, Ping.PROTOCOL_ID, d).thenCompose(s -> d.result),
                config.dialTimeout().toMillis() * 2);
    }

    /** What identify said over {@code connection} (it runs once per connection, when it opens). */
    public CompletableFuture<PeerStore.Identified> identified(Connection connection) {
        return identified.computeIfAbsent(connection, c -> new CompletableFuture<>());
    }

    // ---- called by connections ----

    void connectionReady(YamuxSession s, ConnectionSetup setup) {
        connections.computeIfAbsent(s.remotePeer(), p -> new CopyOnWriteArrayList<>()).add(s);
        if (s.isOutbound() && s.remoteAddress() != null) {
            peerStore.addAddrs(s.remotePeer(), List.of(Multiaddr.tcp(s.remoteAddress())));
        }
        setup.ready.complete(s);
        CompletableFuture<PeerStore.Identified> id = identified(s);
        Identify.Asker asker = new Identify.Asker(this);
        s.newStream(Identify.PROTOCOL_ID, asker).whenComplete((st, e) -> {
            if (e != null) {
                id.completeExceptionally(e);
            }
        });
        asker.result.whenComplete((info, e) -> {
            if (e != null) {
                id.completeExceptionally(e);
            } else {
                id.complete(info);
            }
        });
        for (Consumer<Connection> l : connectionListeners) {
            try {
                l.accept(s);
            } catch (RuntimeException e) {
                log(System.Logger.Level.WARNING, "connection listener failed: " + e);
            }
        }
        trim();
    }

    void connectionClosed(YamuxSession s) {
        List<YamuxSession> l = connections.get(s.remotePeer());
        if (l != null) {
            l.remove(s);
            if (l.isEmpty()) {
                connections.remove(s.remotePeer(), l);
            }
        }
        identified.remove(s);
        idleSince.remove(s);
    }

    /** Once a second per connection: idle close. */
    void connectionTick(YamuxSession s) {
        if (s.streamCount() > 0) {
            idleSince.remove(s);
            return;
        }
        long now = System.nanoTime();
        long since = idleSince.computeIfAbsent(s, k -> now);
        if (now - since > config.connectionIdleTimeout().toNanos()) {
            s.close();
        }
    }

    private void trim() {
        List<Connection> all = new ArrayList<>(connections());
        if (all.size() <= config.highWater()) {
            return;
        }
        all.sort(Comparator.comparingInt(Connection::streamCount));
        int excess = all.size() - config.lowWater();
        for (Connection c : all) {
            if (excess-- <= 0) {
                break;
            }
            c.close();
        }
    }

    void log(System.Logger.Level level, String msg) {
        LOG.log(level, () -> peerId().shortString() + ": " + msg);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Channel ch : servers) {
            ch.close();
        }
        for (Connection c : connections()) {
            c.close();
        }
        try {
            peerStore.save();
        } catch (IOException e) {
            log(System.Logger.Level.WARNING, "cannot save the peer store: " + e.getMessage());
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Override
    public String toString() {
        return "Host(" + peerId() + " " + listenAddrs + ")";
    }
}
