package io.oecloud.dht;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Provider records we hold for others: key -> providers (oldest first) with their expiry, and
 * per provider the addresses it announced last. Thread-safe.
 *
 * <p>Everything a stranger can grow is bounded, because peer IDs cost nothing to make: records per
 * provider, records in all, distinct keys, distinct providers, and the addresses kept per provider
 * ({@link #MAX_ADDRS} addresses, {@link #MAX_ADDR_BYTES} bytes encoded; go keeps them in its
 * peerstore, we keep one list per provider, shared by all its records, not one per record).
 *
 * <p>When a limit is reached, expired records are dropped first (at most once a second, so a
 * flood against a full store does not buy a full scan per message); if the store is still full the
 * new record is refused, and the records already held stay. Refusing rather than evicting is
 * deliberate: eviction would let anyone with enough fresh peer IDs push out every record we hold
 * at once, and make content unfindable here; refusal costs a new announcement one of its k = 20
 * copies, and a held record that its provider republishes is always refreshed. Our own records
 * are not kept here ({@link KadDht} answers them from what it provides), so they never compete
 * with strangers' for room.
 */
final class ProviderStore {
    /** Addresses kept per provider (a go or js node announces a handful: ip4/ip6 x tcp/quic). */
    static final int MAX_ADDRS = 8;
    /** Encoded bytes of addresses kept per provider (a multiaddr may be 1 KiB; real ones are tens of bytes). */
    static final int MAX_ADDR_BYTES = 1024;

    /** What {@link #add} did. */
    enum Outcome {
        ADDED, REFRESHED, PROVIDER_FULL, RECORDS_FULL, KEYS_FULL, PROVIDERS_FULL;

        boolean accepted() {
            return this == ADDED || this == REFRESHED;
        }
    }

    /** The limits; see {@link DhtConfig}. */
    record Limits(int perProvider, int records, int keys, int providers) {
        Limits {
            if (perProvider < 1 || records < 1 || keys < 1 || providers < 1) {
                throw new IllegalArgumentException("provider store limits must be >= 1, were " + perProvider
                        + ", " + records + ", " + keys + ", " + providers);
            }
        }

        static Limits of(DhtConfig c) {
            return new Limits(c.maxProvidersPerPeer(), c.maxProviderRecords(), c.maxProviderKeys(), c.maxProviderPeers());
        }
    }

    private static final class Announcer {
        List<Multiaddr> addrs;
        int records;

        Announcer(List<Multiaddr> addrs) {
            this.addrs = addrs;
        }
    }

    private static final long FULL_EXPIRE_INTERVAL_NANOS = 1_000_000_000L;

    private final Map<ByteBuffer, LinkedHashMap<PeerId, Long>> byKey = new HashMap<>();
    private final Map<PeerId, Announcer> byProvider = new HashMap<>();
    private final Limits limits;
    private final LongSupplier clock;
    private int records;
    private long lastFullExpire = Long.MIN_VALUE;

    ProviderStore(Limits limits, LongSupplier clock) {
        this.limits = limits;
        this.clock = clock;
    }

    /**
     * Adds or refreshes a record (refreshing also replaces the provider's addresses).
     *
     * @return whether it was taken, and if not, which limit refused it
     */
    synchronized Outcome add(byte[] key, PeerId provider, List<Multiaddr> addrs, long ttlNanos) {
        ByteBuffer k = ByteBuffer.wrap(key);
        LinkedHashMap<PeerId, Long> m = byKey.get(k);
        long expiry = clock.getAsLong() + ttlNanos;
        if (m != null && m.containsKey(provider)) {
            m.put(provider, expiry); // keeps its place: older providers of a key are answered first
            byProvider.get(provider).addrs = bounded(addrs);
            return Outcome.REFRESHED;
        }
        Outcome refused = refusal(m == null, provider);
        if (refused != null && expireIfDue()) {
            m = byKey.get(k);
            refused = refusal(m == null, provider);
        }
        if (refused != null) {
            return refused;
        }
        if (m == null) {
            m = new LinkedHashMap<>();
            byKey.put(ByteBuffer.wrap(key.clone()), m);
        }
        m.put(provider, expiry);
        Announcer a = byProvider.computeIfAbsent(provider, p -> new Announcer(List.of()));
        a.addrs = bounded(addrs);
        a.records++;
        records++;
        return Outcome.ADDED;
    }

    /** The limit a new record would break, or null. */
    private Outcome refusal(boolean newKey, PeerId provider) {
        Announcer a = byProvider.get(provider);
        if (a != null && a.records >= limits.perProvider()) {
            return Outcome.PROVIDER_FULL;
        }
        if (records >= limits.records()) {
            return Outcome.RECORDS_FULL;
        }
        if (newKey && byKey.size() >= limits.keys()) {
            return Outcome.KEYS_FULL;
        }
        if (a == null && byProvider.size() >= limits.providers()) {
            return Outcome.PROVIDERS_FULL;
        }
        return null;
    }

    /** Runs {@link #expire} unless it ran for a full store within the last second; true if it ran. */
    private boolean expireIfDue() {
        long now = clock.getAsLong();
        if (lastFullExpire != Long.MIN_VALUE && now - lastFullExpire < FULL_EXPIRE_INTERVAL_NANOS) {
            return false;
        }
        lastFullExpire = now;
        expire();
        return true;
    }

    /** The first {@link #MAX_ADDRS} addresses that fit in {@link #MAX_ADDR_BYTES} bytes. */
    static List<Multiaddr> bounded(List<Multiaddr> addrs) {
        List<Multiaddr> out = new ArrayList<>(Math.min(addrs.size(), MAX_ADDRS));
        int bytes = 0;
        for (Multiaddr a : addrs) {
            if (out.size() == MAX_ADDRS) {
                break;
            }
            int n = a.length();
            if (bytes + n <= MAX_ADDR_BYTES) {
                out.add(a);
                bytes += n;
            }
        }
        return List.copyOf(out);
    }

    /** Up to {@code max} live providers of {@code key}, oldest first; expired ones met on the way are dropped. */
    synchronized List<Provider> get(byte[] key, int max) {
        LinkedHashMap<PeerId, Long> m = byKey.get(ByteBuffer.wrap(key));
        if (m == null) {
            return List.of();
        }
        long now = clock.getAsLong();
        List<Provider> out = new ArrayList<>();
        for (Iterator<Map.Entry<PeerId, Long>> it = m.entrySet().iterator(); it.hasNext() && out.size() < max; ) {
            Map.Entry<PeerId, Long> e = it.next();
            if (e.getValue() > now) {
                out.add(new Provider(e.getKey(), byProvider.get(e.getKey()).addrs));
            } else {
                it.remove();
                dropped(e.getKey());
            }
        }
        if (m.isEmpty()) {
            byKey.remove(ByteBuffer.wrap(key));
        }
        return out;
    }

    private void dropped(PeerId provider) {
        records--;
        Announcer a = byProvider.get(provider);
        if (--a.records == 0) {
            byProvider.remove(provider);
        }
    }

    /** Drops expired records. */
    synchronized void expire() {
        long now = clock.getAsLong();
        for (Iterator<LinkedHashMap<PeerId, Long>> it = byKey.values().iterator(); it.hasNext(); ) {
            LinkedHashMap<PeerId, Long> m = it.next();
            for (Iterator<Map.Entry<PeerId, Long>> e = m.entrySet().iterator(); e.hasNext(); ) {
                Map.Entry<PeerId, Long> x = e.next();
                if (x.getValue() <= now) {
                    e.remove();
                    dropped(x.getKey());
                }
            }
            if (m.isEmpty()) {
                it.remove();
            }
        }
    }

    /** Live records of {@code provider}. */
    synchronized int countFor(PeerId provider) {
        expire();
        Announcer a = byProvider.get(provider);
        return a == null ? 0 : a.records;
    }

    /** Records held, keys and providers (expired ones included until the next expiry pass). */
    synchronized int[] sizes() {
        return new int[] {records, byKey.size(), byProvider.size()};
    }
}
