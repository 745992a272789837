package io.oecloud.node.shard;

import io.oecloud.dht.PeerId;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes of shard requests a node holds in memory (PUT bodies as they arrive, GET answers until they
 * are sent): at most {@code total} from all peers together and {@code perPeer} from any one.
 * Thread-safe; every {@link #take} that succeeds is matched by one {@link #give} of the same count.
 */
final class IncomingBudget {
    private final long total;
    private final long perPeer;
    private final AtomicLong used = new AtomicLong();
    private final ConcurrentHashMap<PeerId, Long> byPeer = new ConcurrentHashMap<>();

    IncomingBudget(long total, long perPeer) {
        if (total <= 0 || perPeer <= 0) {
            throw new IllegalArgumentException("budgets must be positive, were " + total + " in all and " + perPeer + " per peer");
        }
        this.total = total;
        this.perPeer = perPeer;
    }

    /** Takes {@code n} bytes for {@code peer}; false (and nothing taken) when either limit would be passed. */
    boolean take(PeerId peer, long n) {
        boolean[] ok = {false};
        byPeer.compute(peer, (p, v) -> {
            long cur = v == null ? 0 : v;
            if (cur + n > perPeer) {
                return v;
            }
            ok[0] = true;
            return cur + n;
        });
        if (!ok[0]) {
            return false;
        }
        if (used.addAndGet(n) > total) {
            give(peer, n);
            return false;
        }
        return true;
    }

    /** Gives back {@code n} bytes {@link #take}n for {@code peer}. */
    void give(PeerId peer, long n) {
        used.addAndGet(-n);
        byPeer.computeIfPresent(peer, (p, v) -> v - n <= 0 ? null : v - n);
    }

    /** Bytes held now, all peers together. */
    long used() {
        return used.get();
    }

    /** Bytes held now for {@code peer}. */
    long used(PeerId peer) {
        return byPeer.getOrDefault(peer, 0L);
    }

    long total() {
        return total;
    }

    long perPeer() {
        return perPeer;
    }
}
