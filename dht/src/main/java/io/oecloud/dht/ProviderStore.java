package io.oecloud.dht;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Provider records we hold for others: key -> (provider -> addresses, expiry). Bounded per
 * provider peer, so one peer cannot fill us. Thread-safe.
 */
final class ProviderStore {
    private record Entry(List<Multiaddr> addrs, long expiresAtNanos) {}

    private final Map<ByteBuffer, LinkedHashMap<PeerId, Entry>> byKey = new HashMap<>();
    private final Map<PeerId, Integer> perPeer = new HashMap<>();
    private final int maxPerPeer;
    private final java.util.function.LongSupplier clock;

    ProviderStore(int maxPerPeer, java.util.function.LongSupplier clock) {
        this.maxPerPeer = maxPerPeer;
        this.clock = clock;
    }

    /** Adds or refreshes a record; false when the provider already has its maximum of keys. */
    synchronized boolean add(byte[] key, PeerId provider, List<Multiaddr> addrs, long ttlNanos) {
        LinkedHashMap<PeerId, Entry> m = byKey.computeIfAbsent(ByteBuffer.wrap(key.clone()), k -> new LinkedHashMap<>());
        boolean fresh = !m.containsKey(provider);
        if (fresh && perPeer.getOrDefault(provider, 0) >= maxPerPeer) {
            if (m.isEmpty()) {
                byKey.remove(ByteBuffer.wrap(key));
            }
            return false;
        }
        m.put(provider, new Entry(List.copyOf(addrs), clock.getAsLong() + ttlNanos));
        if (fresh) {
            perPeer.merge(provider, 1, Integer::sum);
        }
        return true;
    }

    synchronized List<Provider> get(byte[] key) {
        LinkedHashMap<PeerId, Entry> m = byKey.get(ByteBuffer.wrap(key));
        if (m == null) {
            return List.of();
        }
        long now = clock.getAsLong();
        List<Provider> out = new ArrayList<>();
        for (Map.Entry<PeerId, Entry> e : m.entrySet()) {
            if (e.getValue().expiresAtNanos > now) {
                out.add(new Provider(e.getKey(), e.getValue().addrs));
            }
        }
        return out;
    }

    /** Drops expired records. */
    synchronized void expire() {
        long now = clock.getAsLong();
        for (Iterator<LinkedHashMap<PeerId, Entry>> it = byKey.values().iterator(); it.hasNext(); ) {
            LinkedHashMap<PeerId, Entry> m = it.next();
            for (Iterator<Map.Entry<PeerId, Entry>> e = m.entrySet().iterator(); e.hasNext(); ) {
                Map.Entry<PeerId, Entry> x = e.next();
                if (x.getValue().expiresAtNanos <= now) {
                    e.remove();
                    perPeer.computeIfPresent(x.getKey(), (p, n) -> n > 1 ? n - 1 : null);
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
        return perPeer.getOrDefault(provider, 0);
    }
}
