package io.oecloud.node;

import io.oecloud.dht.KadDht;
import io.oecloud.proofs.Cid;
import java.util.LinkedHashSet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Announces stored blocks in the DHT in the background, a few at a time. A provider record costs
 * a lookup and a message to each of the closest peers; made inline for every shard of an upload,
 * those messages took a third of the network's CPU from the upload itself. Downloads find shards
 * through the manifest's holder list first, so a record arriving seconds later costs nothing; one
 * dropped when the queue is full is made by the DHT's periodic republish of what this node holds.
 */
final class Announcer implements AutoCloseable {
    static final int MAX_QUEUED = 1_000_000;
    private static final System.Logger LOG = System.getLogger(Announcer.class.getName());

    private final KadDht dht;
    private final Semaphore inFlight;
    private final LinkedHashSet<Cid> queue = new LinkedHashSet<>();
    private final Thread worker;
    private volatile boolean closed;

    /** @param concurrency announcements under way at once */
    Announcer(KadDht dht, int concurrency) {
        this.dht = dht;
        this.inFlight = new Semaphore(concurrency);
        this.worker = Thread.ofVirtual().name("dht-announcer").start(this::run);
    }

    /** Queues {@code cid} (once, however often it is stored). */
    void announce(Cid cid) {
        synchronized (queue) {
            if (queue.size() < MAX_QUEUED) {
                queue.add(cid);
                queue.notifyAll();
            }
        }
    }

    int queued() {
        synchronized (queue) {
            return queue.size();
        }
    }

    private void run() {
        while (!closed) {
            Cid next;
            try {
                synchronized (queue) {
                    while (queue.isEmpty() && !closed) {
                        queue.wait(1000);
                    }
                    if (closed) {
                        return;
                    }
                    var it = queue.iterator();
                    next = it.next();
                    it.remove();
                }
                if (!inFlight.tryAcquire(60, TimeUnit.SECONDS)) {
                    continue; // lookups that never end time out on their own; try again
                }
            } catch (InterruptedException e) {
                return;
            }
            try {
                dht.provide(DhtService.providerKey(next)).whenComplete((n, e) -> inFlight.release());
            } catch (RuntimeException e) {
                inFlight.release();
                LOG.log(System.Logger.Level.DEBUG, "announcing {0} failed: {1}", next, e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
    }
}
