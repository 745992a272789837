package io.oecloud.dht;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.function.Predicate;

/**
 * The XOR routing table: bucket i holds up to k peers whose ID shares exactly i leading bits with
 * ours. Least recently seen first in each bucket. A full bucket takes a new peer only after its
 * least recently seen peer fails a liveness check (the caller runs it: {@link #add} returns that
 * candidate), so long-lived peers are kept, as Kademlia prefers. Thread-safe.
 */
final class RoutingTable {
    /** An entry: the peer and when we last heard from it. */
    record Entry(PeerId peer, KadKey key, long lastSeenNanos) {}

    /** Outcome of {@link #add}. */
    record AddResult(boolean added, PeerId evictionCandidate) {}

    private final KadKey self;
    private final int k;
    private final List<Deque<Entry>> buckets = new ArrayList<>();
    private final long[] lastRefreshNanos = new long[KadKey.BITS + 1];

    RoutingTable(PeerId self, int k) {
        this.self = KadKey.of(self);
        this.k = k;
        for (int i = 0; i <= KadKey.BITS; i++) {
            buckets.add(new ArrayDeque<>());
        }
        long now = System.nanoTime();
        java.util.Arrays.fill(lastRefreshNanos, now);
    }

    KadKey selfKey() {
        return self;
    }

    int bucketIndex(KadKey key) {
        return self.commonPrefixLength(key);
    }

    /**
     * Adds or refreshes {@code peer}. When its bucket is full, nothing changes and the bucket's
     * least recently seen peer is returned for a liveness check.
     */
    synchronized AddResult add(PeerId peer) {
        KadKey key = KadKey.of(peer);
        int idx = bucketIndex(key);
        if (idx == KadKey.BITS) {
            return new AddResult(false, null); // ourselves
        }
        Deque<Entry> b = buckets.get(idx);
        b.removeIf(e -> e.peer.equals(peer));
        if (b.size() < k) {
            b.addLast(new Entry(peer, key, System.nanoTime()));
            return new AddResult(true, null);
        }
        return new AddResult(false, b.peekFirst().peer);
    }

    /** Replaces {@code dead} (which failed its liveness check) with {@code fresh}. */
    synchronized boolean replace(PeerId dead, PeerId fresh) {
        remove(dead);
        return add(fresh).added;
    }

    synchronized boolean remove(PeerId peer) {
        Deque<Entry> b = buckets.get(bucketIndex(KadKey.of(peer)));
        return b.removeIf(e -> e.peer.equals(peer));
    }

    synchronized boolean contains(PeerId peer) {
        return buckets.get(bucketIndex(KadKey.of(peer))).stream().anyMatch(e -> e.peer.equals(peer));
    }

    synchronized int size() {
        int n = 0;
        for (Deque<Entry> b : buckets) {
            n += b.size();
        }
        return n;
    }

    synchronized List<PeerId> peers() {
        List<PeerId> all = new ArrayList<>();
        for (Deque<Entry> b : buckets) {
            for (Entry e : b) {
                all.add(e.peer);
            }
        }
        return all;
    }

    /** Up to {@code n} peers closest to {@code target}, nearest first, that pass {@code filter}. */
    synchronized List<PeerId> closest(KadKey target, int n, Predicate<PeerId> filter) {
        List<Entry> all = new ArrayList<>();
        for (Deque<Entry> b : buckets) {
            for (Entry e : b) {
                if (filter.test(e.peer)) {
                    all.add(e);
                }
            }
        }
        all.sort(Comparator.comparing(Entry::key, target::compareDistance));
        List<PeerId> out = new ArrayList<>(Math.min(n, all.size()));
        for (int i = 0; i < all.size() && i < n; i++) {
            out.add(all.get(i).peer);
        }
        return out;
    }

    /** Marks a bucket as just looked up. */
    synchronized void refreshed(int bucket) {
        lastRefreshNanos[Math.min(bucket, KadKey.BITS)] = System.nanoTime();
    }

    /** Non-empty-range buckets not looked up within {@code intervalNanos}, up to the deepest useful one. */
    synchronized List<Integer> staleBuckets(long intervalNanos) {
        int deepest = 0;
        for (int i = 0; i < KadKey.BITS; i++) {
            if (!buckets.get(i).isEmpty()) {
                deepest = i;
            }
        }
        List<Integer> out = new ArrayList<>();
        long now = System.nanoTime();
        for (int i = 0; i <= Math.min(deepest + 1, 15); i++) {
            if (now - lastRefreshNanos[i] > intervalNanos) {
                out.add(i);
            }
        }
        return out;
    }

    /**
     * A random peer ID (a sha2-256 multihash) whose position falls in bucket {@code i}: FIND_NODE
     * for it refreshes that bucket. Positions are hashes, so this draws until one lands there
     * (about 2^(i+1) draws; refresh stops at bucket 15).
     */
    PeerId randomPeerInBucket(int i) {
        byte[] mh = new byte[34];
        mh[0] = 0x12;
        mh[1] = 32;
        for (int tries = 0; tries < 1 << 20; tries++) {
            byte[] r = new byte[32];
            Crypto.RANDOM.nextBytes(r);
            System.arraycopy(r, 0, mh, 2, 32);
            PeerId p = PeerId.fromBytes(mh);
            if (bucketIndex(KadKey.of(p)) == i) {
                return p;
            }
        }
        throw new IllegalStateException("no random key found for bucket " + i);
    }
}
