package io.oecloud.dht;

import com.google.protobuf.ByteString;
import io.oecloud.dht.pb.Kad;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The Kademlia DHT of the libp2p kad-dht specification: an XOR routing table (k = 20), α = 3
 * iterative lookups, provider records with expiry and republish, and values checked by
 * per-namespace validators. It speaks through a {@link KadNetwork}, so the same code runs over
 * libp2p streams and in the scale simulation.
 *
 * <p>Server side, as go and js expect: FIND_NODE answers the target first when we know it, then
 * the k closest peers with addresses (never the requester); ADD_PROVIDER is accepted only for the
 * sender itself with addresses and never answered; PUT_VALUE of an invalid record or an unknown
 * namespace resets the stream; GET_VALUE returns our record and closer peers.
 */
public final class KadDht implements AutoCloseable {
    /** Longest key we accept, as go does for provider messages. */
    static final int MAX_KEY = 80;
    /** Longest record value we store. */
    static final int MAX_VALUE = 64 * 1024;
    /** Bytes a stored value costs beyond its key and value (map entry, record, arrays), for {@link DhtConfig#maxRecordBytes}. */
    static final int RECORD_OVERHEAD = 200;
    /**
     * Providers in one GET_PROVIDERS answer, oldest records first. Each takes at most ~1.1 KB
     * (ID and {@link ProviderStore#MAX_ADDR_BYTES}), so with k closer peers (16 addresses of at most
     * 1 KiB each) an answer stays well inside the 1 MiB message limit, however many peers announced
     * the key; an asker wants a few (kubo asks for 20).
     */
    static final int MAX_PROVIDERS_PER_REPLY = 100;

    /** Statistics of one lookup, for the scale simulation. */
    public record LookupStats(int hops, int messages, boolean found) {}

    private record StoredRecord(byte[] value, long expiresAtNanos, String timeReceived, long cost) {}

    private final KadNetwork network;
    private final DhtConfig config;
    private final Map<String, RecordValidator> validators;
    private final RoutingTable table;
    private final ProviderStore providers;
    /** Values we hold; read freely, changed only under its own lock (with {@link #recordBytes}). */
    private final Map<ByteBuffer, StoredRecord> records = new ConcurrentHashMap<>();
    private long recordBytes;
    private long lastFullRecordExpire = Long.MIN_VALUE;
    private final Map<ByteBuffer, byte[]> provided = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;
    private final List<ScheduledFuture<?>> tasks = new ArrayList<>();
    private final Set<PeerId> liveness = ConcurrentHashMap.newKeySet();
    private final LongSupplier clock;

    /**
     * @param validators per namespace (the key's first path segment: "pk", "oe", ...)
     * @param scheduler runs refresh, republish and expiry; owned by the caller
     */
    public KadDht(KadNetwork network, DhtConfig config, Map<String, RecordValidator> validators,
                  ScheduledExecutorService scheduler) {
        this(network, config, validators, scheduler, System::nanoTime);
    }

    /** As above, with the clock (nanoseconds) that record expiry follows; tests move it. */
    KadDht(KadNetwork network, DhtConfig config, Map<String, RecordValidator> validators,
           ScheduledExecutorService scheduler, LongSupplier clock) {
        this.clock = clock;
        this.network = network;
        this.config = config;
        this.validators = Map.copyOf(validators);
        this.table = new RoutingTable(network.self(), config.k());
        this.providers = new ProviderStore(ProviderStore.Limits.of(config), clock);
        this.scheduler = scheduler;
        if (config.server()) {
            network.serve(this::handle);
        }
    }

    /** The validators a storage node runs: /pk/ and our signed /oe/ records. */
    public static Map<String, RecordValidator> defaultValidators() {
        return Map.of("pk", Validators.publicKeys(), "oe", Validators.signedRecords());
    }

    /** Starts bucket refresh, provider republish and expiry. */
    public KadDht start() {
        long refresh = config.refreshInterval().toMillis();
        long republish = config.republishInterval().toMillis();
        tasks.add(scheduler.scheduleWithFixedDelay(this::refreshBuckets, refresh, refresh, TimeUnit.MILLISECONDS));
        tasks.add(scheduler.scheduleWithFixedDelay(this::republish, republish, republish, TimeUnit.MILLISECONDS));
        tasks.add(scheduler.scheduleWithFixedDelay(this::expire, 1000, Math.min(refresh, 60_000), TimeUnit.MILLISECONDS));
        return this;
    }

    PeerId self() {
        return network.self();
    }

    DhtConfig config() {
        return config;
    }

    KadNetwork network() {
        return network;
    }

    public int routingTableSize() {
        return table.size();
    }

    public List<PeerId> routingTablePeers() {
        return table.peers();
    }

    // ---- routing table upkeep ----

    /**
     * A DHT server was seen (connected and identified). Joins its bucket; when the bucket is full,
     * its least recently seen peer is checked and replaced only if it is dead.
     */
    public void peerSeen(PeerId peer) {
        RoutingTable.AddResult r = table.add(peer);
        if (r.added() || r.evictionCandidate() == null) {
            return;
        }
        PeerId old = r.evictionCandidate();
        if (!liveness.add(old)) {
            return; // a check of it is already running
        }
        Deadlines.orTimeout(network.isAlive(old), config.requestTimeout().toMillis())
                .whenComplete((alive, e) -> {
                    liveness.remove(old);
                    if (e != null || !Boolean.TRUE.equals(alive)) {
                        table.replace(old, peer);
                    } else {
                        table.add(old); // seen now: moves to the tail
                    }
                });
    }

    /** A request to {@code peer} failed: it leaves the routing table. */
    void peerFailed(PeerId peer) {
        table.remove(peer);
    }

    void learn(PeerId id, Kad.Message.Peer entry) {
        List<Multiaddr> addrs = new ArrayList<>();
        for (ByteString a : entry.getAddrsList()) {
            try {
                addrs.add(Multiaddr.fromBytes(a.toByteArray()));
            } catch (IllegalArgumentException e) {
                // unknown transport: skip
            }
        }
        if (!addrs.isEmpty()) {
            network.learn(id, addrs);
        }
    }

    /** Adds the peers and looks ourselves up, which fills the buckets near us. */
    public CompletableFuture<Void> bootstrap(List<PeerId> peers) {
        for (PeerId p : peers) {
            table.add(p);
        }
        return findClosestPeers(self().toBytes()).thenAccept(r -> { });
    }

    private void refreshBuckets() {
        try {
            for (int i : table.staleBuckets(config.refreshInterval().toNanos())) {
                PeerId random = table.randomPeerInBucket(i);
                table.refreshed(i);
                findClosestPeers(random.toBytes());
            }
        } catch (RuntimeException e) {
            // refresh is best effort; the next round tries again
        }
    }

    // ---- client operations ----

    private Kad.Message.Builder message(Kad.Message.MessageType type, byte[] key) {
        return Kad.Message.newBuilder().setType(type).setKey(ByteString.copyFrom(key));
    }

    private CompletableFuture<Lookup.Result> lookup(byte[] key, Kad.Message request, Lookup.Visitor visitor) {
        if (key.length > MAX_KEY) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "key of " + key.length + " bytes is longer than " + MAX_KEY));
        }
        KadKey target = KadKey.of(key);
        table.refreshed(table.bucketIndex(target));
        return new Lookup(this, target, request, visitor).run(table.closest(target, config.k(), p -> true));
    }

    /** The k peers closest to {@code key} that answered (FIND_NODE walk). */
    public CompletableFuture<List<PeerId>> findClosestPeers(byte[] key) {
        return lookup(key, message(Kad.Message.MessageType.FIND_NODE, key).build(), null)
                .thenApply(Lookup.Result::closest);
    }

    /** Addresses of {@code peer}: known ones, else from a FIND_NODE walk that stops when it shows up. */
    public CompletableFuture<List<Multiaddr>> findPeer(PeerId peer) {
        List<Multiaddr> known = network.addrs(peer);
        if (!known.isEmpty()) {
            return CompletableFuture.completedFuture(known);
        }
        byte[] key = peer.toBytes();
        Lookup.Visitor v = (from, reply, hops) -> {
            for (Kad.Message.Peer p : reply.getCloserPeersList()) {
                if (p.getId().equals(ByteString.copyFrom(key)) && p.getAddrsCount() > 0) {
                    return true;
                }
            }
            return false;
        };
        return lookup(key, message(Kad.Message.MessageType.FIND_NODE, key).build(), v)
                .thenApply(r -> {
                    List<Multiaddr> a = network.addrs(peer);
                    if (a.isEmpty()) {
                        throw new java.util.concurrent.CompletionException(
                                new NotFoundException("peer " + peer + " not found in the DHT"));
                    }
                    return a;
                });
    }

    /**
     * Announces that we hold {@code key} (a multihash): to ourselves and to the k closest peers,
     * again every republish interval.
     *
     * @return completes with the number of peers told
     */
    public CompletableFuture<Integer> provide(byte[] key) {
        provided.put(ByteBuffer.wrap(key.clone()), key.clone());
        return announce(key);
    }

    /** Stops republishing {@code key}; records at other peers expire with their TTL. */
    public void unprovide(byte[] key) {
        provided.remove(ByteBuffer.wrap(key));
    }

    private CompletableFuture<Integer> announce(byte[] key) {
        Kad.Message.Peer me = peerEntry(self(), network.selfAddrs());
        Kad.Message add = message(Kad.Message.MessageType.ADD_PROVIDER, key).addProviderPeers(me).build();
        return findClosestPeers(key).thenCompose(peers -> {
            List<CompletableFuture<Boolean>> sends = new ArrayList<>();
            for (PeerId p : peers) {
                sends.add(Deadlines.orTimeout(network.send(p, add), config.requestTimeout().toMillis())
                        .handle((ok, e) -> e == null));
            }
            return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
                    .thenApply(x -> (int) sends.stream().filter(CompletableFuture::join).count());
        });
    }

    private CompletableFuture<Void> republish() {
        List<CompletableFuture<Integer>> all = new ArrayList<>();
        for (byte[] key : provided.values()) {
            all.add(announce(key));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /** Republishes what we provide and drops expired records (the scheduler runs both). */
    CompletableFuture<Void> maintain() {
        expire();
        return republish();
    }

    private void expire() {
        providers.expire();
        expireRecords();
    }

    private void expireRecords() {
        long now = clock.getAsLong();
        synchronized (records) {
            for (var it = records.values().iterator(); it.hasNext(); ) {
                StoredRecord r = it.next();
                if (r.expiresAtNanos <= now) {
                    it.remove();
                    recordBytes -= r.cost;
                }
            }
        }
    }

    /**
     * Providers of {@code key} we know without asking: ourselves while we provide it (our own
     * records are not in the provider store, so they never compete with strangers' for room),
     * then the records peers gave us, oldest first.
     */
    private List<Provider> localProviders(byte[] key, int max) {
        List<Provider> out = new ArrayList<>();
        if (provided.containsKey(ByteBuffer.wrap(key))) {
            out.add(new Provider(self(), network.selfAddrs()));
        }
        if (out.size() < max) {
            out.addAll(providers.get(key, max - out.size()));
        }
        return out;
    }

    /** Providers of {@code key}, local ones first; stops once {@code max} are known. */
    public CompletableFuture<List<Provider>> findProviders(byte[] key, int max) {
        return findProvidersWithStats(key, max).thenApply(ProvidersFound::providers);
    }

    /** Providers and how the lookup went. */
    public record ProvidersFound(List<Provider> providers, LookupStats stats) {}

    public CompletableFuture<ProvidersFound> findProvidersWithStats(byte[] key, int max) {
        Map<PeerId, Provider> found = new LinkedHashMap<>();
        for (Provider p : localProviders(key, Math.max(max, 0))) {
            found.put(p.peer(), p);
        }
        if (found.size() >= max) {
            return CompletableFuture.completedFuture(new ProvidersFound(limit(found, max), new LookupStats(0, 0, true)));
        }
        Lookup.Visitor v = (from, reply, hops) -> {
            synchronized (found) {
                for (Kad.Message.Peer pp : reply.getProviderPeersList()) {
                    if (found.size() >= max) {
                        break; // the rest of a long list is neither needed nor learned
                    }
                    try {
                        PeerId id = PeerId.fromBytes(pp.getId().toByteArray());
                        learn(id, pp);
                        found.putIfAbsent(id, new Provider(id, addrsOf(pp)));
                    } catch (IllegalArgumentException e) {
                        // skip malformed entry
                    }
                }
                return found.size() >= max;
            }
        };
        return lookup(key, message(Kad.Message.MessageType.GET_PROVIDERS, key).build(), v)
                .thenApply(r -> {
                    synchronized (found) {
                        return new ProvidersFound(limit(found, max),
                                new LookupStats(r.hops(), r.messages(), !found.isEmpty()));
                    }
                });
    }

    private static List<Provider> limit(Map<PeerId, Provider> m, int max) {
        return m.values().stream().limit(max).toList();
    }

    private static List<Multiaddr> addrsOf(Kad.Message.Peer p) {
        List<Multiaddr> addrs = new ArrayList<>();
        for (ByteString a : p.getAddrsList()) {
            try {
                addrs.add(Multiaddr.fromBytes(a.toByteArray()));
            } catch (IllegalArgumentException e) {
                // skip
            }
        }
        return addrs;
    }

    /**
     * Stores {@code value} under {@code key} here and at the k closest peers.
     *
     * @return completes with the number of peers that accepted it
     * @throws IllegalArgumentException (in the future) if the record is invalid for its namespace
     */
    public CompletableFuture<Integer> putValue(byte[] key, byte[] value) {
        try {
            validate(key, value);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        storeIfBetter(key, value);
        Kad.Message put = message(Kad.Message.MessageType.PUT_VALUE, key)
                .setRecord(record(key, value, Instant.now().toString())).build();
        return findClosestPeers(key).thenCompose(peers -> {
            List<CompletableFuture<Boolean>> puts = new ArrayList<>();
            for (PeerId p : peers) {
                puts.add(Deadlines.orTimeout(network.request(p, put), config.requestTimeout().toMillis())
                        .handle((reply, e) -> e == null && reply.getRecord().getValue().equals(put.getRecord().getValue())));
            }
            return CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new))
                    .thenApply(x -> (int) puts.stream().filter(CompletableFuture::join).count());
        });
    }

    /** The best valid value for {@code key} among ours and the k closest peers'. */
    public CompletableFuture<byte[]> getValue(byte[] key) {
        List<byte[]> values = new ArrayList<>();
        StoredRecord mine = records.get(ByteBuffer.wrap(key));
        if (mine != null) {
            values.add(mine.value);
        }
        byte[] keyCopy = key.clone();
        Lookup.Visitor v = (from, reply, hops) -> {
            if (reply.hasRecord() && reply.getRecord().getKey().equals(ByteString.copyFrom(keyCopy))) {
                byte[] val = reply.getRecord().getValue().toByteArray();
                try {
                    validate(keyCopy, val);
                    synchronized (values) {
                        values.add(val);
                    }
                } catch (IllegalArgumentException e) {
                    // a peer holding an invalid record: ignore it
                }
            }
            return false;
        };
        return lookup(key, message(Kad.Message.MessageType.GET_VALUE, key).build(), v).thenApply(r -> {
            synchronized (values) {
                if (values.isEmpty()) {
                    throw new java.util.concurrent.CompletionException(
                            new NotFoundException("no record for " + printable(keyCopy)));
                }
                return values.get(validatorFor(keyCopy).select(keyCopy, values));
            }
        });
    }

    // ---- server side ----

    private RecordValidator validatorFor(byte[] key) {
        String k = new String(key, StandardCharsets.UTF_8);
        if (!k.startsWith("/") || k.indexOf('/', 1) < 0) {
            throw new IllegalArgumentException("record key must be /<namespace>/..., was " + printable(key));
        }
        String ns = k.substring(1, k.indexOf('/', 1));
        RecordValidator v = validators.get(ns);
        if (v == null) {
            throw new IllegalArgumentException("no validator for namespace '" + ns + "'");
        }
        return v;
    }

    private void validate(byte[] key, byte[] value) {
        if (key.length > MAX_KEY * 4) {
            throw new IllegalArgumentException("record key of " + key.length + " bytes is too long");
        }
        if (value.length > MAX_VALUE) {
            throw new IllegalArgumentException("record value of " + value.length + " bytes exceeds " + MAX_VALUE);
        }
        validatorFor(key).validate(key, value);
    }

    /**
     * Keeps {@code value} unless the one we hold is better. Bounded in count and in bytes: values
     * are free to make (any fresh identity signs its own {@code /oe/} records), so when the store is
     * full, expired values are dropped first (at most once a second) and then a new value is
     * refused; held values stay until they expire.
     *
     * @throws IllegalArgumentException if the store is full
     */
    private void storeIfBetter(byte[] key, byte[] value) {
        ByteBuffer k = ByteBuffer.wrap(key.clone());
        long cost = (long) key.length + value.length + RECORD_OVERHEAD;
        synchronized (records) {
            StoredRecord old = records.get(k);
            if (old != null && !java.util.Arrays.equals(old.value, value)
                    && validatorFor(key).select(key, List.of(old.value, value)) == 0) {
                return; // ours is better
            }
            if (full(old, cost)) {
                long now = clock.getAsLong();
                if (lastFullRecordExpire == Long.MIN_VALUE || now - lastFullRecordExpire >= 1_000_000_000L) {
                    lastFullRecordExpire = now;
                    expireRecords();
                    old = records.get(k);
                }
                if (full(old, cost)) {
                    throw new IllegalArgumentException("record store is full (" + records.size() + " values, "
                            + recordBytes + " of " + config.maxRecordBytes() + " bytes)");
                }
            }
            StoredRecord r = new StoredRecord(value.clone(), clock.getAsLong() + config.recordTtl().toNanos(),
                    Instant.now().toString(), cost);
            records.put(k, r);
            recordBytes += cost - (old == null ? 0 : old.cost);
        }
    }

    private boolean full(StoredRecord old, long cost) {
        return (old == null && records.size() >= config.maxRecords())
                || recordBytes + cost - (old == null ? 0 : old.cost) > config.maxRecordBytes();
    }

    private static Kad.Record record(byte[] key, byte[] value, String time) {
        return Kad.Record.newBuilder().setKey(ByteString.copyFrom(key)).setValue(ByteString.copyFrom(value))
                .setTimeReceived(time).build();
    }

    private Kad.Message.Peer peerEntry(PeerId p, List<Multiaddr> addrs) {
        Kad.Message.Peer.Builder b = Kad.Message.Peer.newBuilder().setId(ByteString.copyFrom(p.toBytes()));
        for (Multiaddr a : addrs) {
            b.addAddrs(ByteString.copyFrom(a.withoutPeerId().toBytes()));
        }
        return b.build();
    }

    private List<Kad.Message.Peer> closerPeers(byte[] key, PeerId requester) {
        List<Kad.Message.Peer> out = new ArrayList<>();
        for (PeerId p : table.closest(KadKey.of(key), config.k(), p -> !p.equals(requester))) {
            List<Multiaddr> a = network.addrs(p);
            if (!a.isEmpty()) {
                out.add(peerEntry(p, a));
            }
        }
        return out;
    }

    /**
     * Answers one inbound message.
     *
     * @return the reply, or null when none is due (ADD_PROVIDER)
     * @throws ProtocolException to reset the stream without a reply (invalid records, bad keys)
     */
    Kad.Message handle(PeerId from, Kad.Message m) {
        if (m.getType() == Kad.Message.MessageType.UNRECOGNIZED) { // before anything reads it: its enum has no number
            throw new ProtocolException("unknown kad message type " + m.getTypeValue());
        }
        byte[] key = m.getKey().toByteArray();
        Kad.Message.Builder reply = Kad.Message.newBuilder().setType(m.getType()).setKey(m.getKey());
        switch (m.getType()) {
            case FIND_NODE -> {
                PeerId target = PeerId.tryFromBytes(key); // null for a key that is no peer ID: closer peers only
                if (target != null) {
                    List<Multiaddr> a = target.equals(self()) ? network.selfAddrs() : network.addrs(target);
                    if (!a.isEmpty()) {
                        reply.addCloserPeers(peerEntry(target, a));
                    }
                }
                for (Kad.Message.Peer p : closerPeers(key, from)) {
                    if (!p.getId().equals(m.getKey())) { // the target is listed once, first
                        reply.addCloserPeers(p);
                    }
                }
                return reply.build();
            }
            case GET_PROVIDERS -> {
                if (key.length > MAX_KEY) {
                    throw new ProtocolException("GET_PROVIDERS key of " + key.length + " bytes");
                }
                for (Provider p : localProviders(key, MAX_PROVIDERS_PER_REPLY)) {
                    reply.addProviderPeers(peerEntry(p.peer(), p.addrs()));
                }
                reply.addAllCloserPeers(closerPeers(key, from));
                return reply.build();
            }
            case ADD_PROVIDER -> {
                if (key.length > MAX_KEY) {
                    throw new ProtocolException("ADD_PROVIDER key of " + key.length + " bytes");
                }
                ByteString sender = ByteString.copyFrom(from.toBytes());
                Kad.Message.Peer own = null;
                for (Kad.Message.Peer p : m.getProviderPeersList()) {
                    // The spec: only the sender may announce itself; entries without addresses are useless.
                    if (p.getId().equals(sender) && p.getAddrsCount() > 0) {
                        own = p;
                        break;
                    }
                }
                if (own == null) {
                    if (m.getProviderPeersCount() > 0) {
                        throw new ProtocolException("ADD_PROVIDER from " + from + " names someone else or no address");
                    }
                    return null;
                }
                List<Multiaddr> addrs = ProviderStore.bounded(addrsOf(own)); // may be empty: kinds we do not parse
                network.learn(from, addrs);
                ProviderStore.Outcome outcome = providers.add(key, from, addrs, config.providerTtl().toNanos());
                if (!outcome.accepted()) {
                    throw new ProtocolException("ADD_PROVIDER from " + from + " refused: " + switch (outcome) {
                        case PROVIDER_FULL -> "it has " + config.maxProvidersPerPeer() + " records here already";
                        case RECORDS_FULL -> "the store holds " + config.maxProviderRecords() + " records";
                        case KEYS_FULL -> "the store holds records for " + config.maxProviderKeys() + " keys";
                        default -> "the store holds records of " + config.maxProviderPeers() + " peers";
                    });
                }
                for (var l : providerListeners) {
                    l.accept(key.clone(), from);
                }
                return null;
            }
            case PUT_VALUE -> {
                if (!m.hasRecord() || !m.getRecord().getKey().equals(m.getKey())) {
                    throw new ProtocolException("PUT_VALUE without a record for its key");
                }
                byte[] value = m.getRecord().getValue().toByteArray();
                try {
                    validate(key, value);
                    storeIfBetter(key, value);
                } catch (IllegalArgumentException e) {
                    throw new ProtocolException("PUT_VALUE refused: " + e.getMessage());
                }
                return m; // echoed, as go and js expect
            }
            case GET_VALUE -> {
                StoredRecord r = records.get(ByteBuffer.wrap(key));
                if (r != null && r.expiresAtNanos > clock.getAsLong()) {
                    reply.setRecord(record(key, r.value, r.timeReceived));
                }
                reply.addAllCloserPeers(closerPeers(key, from));
                return reply.build();
            }
            case PING -> {
                return reply.build();
            }
            default -> throw new ProtocolException("unknown kad message type " + m.getTypeValue());
        }
    }

    int providersHeldFor(PeerId provider) {
        return providers.countFor(provider);
    }

    /** Provider records, keys and provider peers held (tests). */
    int[] providerStoreSizes() {
        return providers.sizes();
    }

    /** Values held and their bytes as {@link DhtConfig#maxRecordBytes} counts them (tests). */
    long[] recordStoreSizes() {
        synchronized (records) {
            return new long[] {records.size(), recordBytes};
        }
    }

    private final List<java.util.function.BiConsumer<byte[], PeerId>> providerListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Calls {@code listener} (on the network thread, so it must be quick) with the key and the
     * provider of every ADD_PROVIDER this node accepts: the message has no answer, so this is how
     * one knows that a peer's announcement arrived.
     */
    public void onProviderAccepted(java.util.function.BiConsumer<byte[], PeerId> listener) {
        providerListeners.add(listener);
    }

    static String printable(byte[] key) {
        String s = new String(key, StandardCharsets.UTF_8);
        return s.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? s : java.util.HexFormat.of().formatHex(key);
    }

    @Override
    public void close() {
        for (ScheduledFuture<?> t : tasks) {
            t.cancel(false);
        }
    }
}
