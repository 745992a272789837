package io.oecloud.node.s3;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The places for request bodies streamed in at once: {@code total} for the node, and a share of
 * {@code perClient} for each client, which a client may go past only while a share's worth of
 * places stays free after it: one address that opens bodies and stalls them (each is cut only
 * after the body silence) cannot take every place and starve the others, while one busy client
 * alone on the node (an SDK with 32 connections) still gets the places nobody else wants. With
 * 64 and 16: one address holds at most 48, and 16 always stay for the others. A client is its
 * IPv4 address, or its IPv6 /64 (one host may hold a whole /64). Over either limit a request gets
 * SlowDown, as S3 answers a burst. Thread-safe; a place is given back once however often it is
 * closed.
 */
final class BodyPlaces {
    /** A place held; {@link #close} gives it back. */
    final class Place implements AutoCloseable {
        private final Object client;
        private final AtomicBoolean held = new AtomicBoolean(true);

        private Place(Object client) {
            this.client = client;
        }

        @Override
        public void close() {
            if (held.compareAndSet(true, false)) {
                give(client);
            }
        }
    }

    private final int total;
    private final int perClient;
    private final Map<Object, Integer> byClient = new HashMap<>(); // guarded by this; clients holding places only
    private int inFlight; // guarded by this

    BodyPlaces(int total, int perClient) {
        if (total < 1 || perClient < 1 || perClient > total) {
            throw new IllegalArgumentException("body places need 1 <= per client <= total, were " + perClient + " of " + total);
        }
        this.total = total;
        this.perClient = perClient;
    }

    /**
     * A place for a body from {@code client} (null: unknown, all such share one share).
     *
     * @throws S3Exception SlowDown when the node's places are all taken, or this client's share is and
     *     taking one more would leave fewer than a share free
     */
    Place take(InetAddress client) throws S3Exception {
        Object key = key(client);
        synchronized (this) {
            if (inFlight >= total) {
                throw new S3Exception(S3Error.SlowDown, "Please reduce your request rate: " + total + " uploads are streaming in");
            }
            int mine = byClient.getOrDefault(key, 0);
            if (mine >= perClient && total - inFlight - 1 < perClient) {
                throw new S3Exception(S3Error.SlowDown, "Please reduce your request rate: " + mine
                        + " uploads from your address are streaming in (past its share of " + perClient + " only while "
                        + perClient + " places stay free for others)");
            }
            byClient.put(key, mine + 1);
            inFlight++;
        }
        return new Place(key);
    }

    private synchronized void give(Object key) {
        inFlight--;
        byClient.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1);
    }

    /** Bodies streaming in now. */
    synchronized int inFlight() {
        return inFlight;
    }

    /** Bodies streaming in now from {@code client}'s share. */
    synchronized int inFlight(InetAddress client) {
        return byClient.getOrDefault(key(client), 0);
    }

    /** Whose share a body counts against: the IPv4 address, or the IPv6 /64 prefix. */
    private static Object key(InetAddress client) {
        if (client == null) {
            return "unknown";
        }
        byte[] a = client.getAddress();
        return client instanceof Inet6Address ? new Prefix(Arrays.copyOf(a, 8)) : client;
    }

    private record Prefix(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Prefix p && Arrays.equals(bytes, p.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }
}
