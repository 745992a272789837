package io.oecloud.node.api;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many uploads stream into the node at once: per client address and in all. An upload holds
 * a segment of the node's memory budget and up to 8 MiB of queued body while it runs, so a client
 * that opens many and sends slowly would otherwise hold what every other request needs (issue 22:
 * ten stalled uploads held the API for four minutes). Admission is checked before the body is
 * read ({@code Expect: 100-continue} clients send nothing more); each admitted upload is released
 * exactly once.
 */
final class UploadLimits {
    /** Why an upload was not admitted, and its status (429 for the address, 503 for the node). */
    record Refusal(HttpResponseStatus status, String reason) {}

    private final int perAddress;
    private final int total;
    private final AtomicInteger running = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> byAddress = new ConcurrentHashMap<>();

    UploadLimits(int perAddress, int total) {
        if (perAddress < 1 || total < perAddress) {
            throw new IllegalArgumentException("upload limits need 1 <= per address <= total, were " + perAddress + " and " + total);
        }
        this.perAddress = perAddress;
        this.total = total;
    }

    /** Admits one upload from {@code client}, or says why not; an admitted one must be {@link #release}d. */
    Refusal admit(InetAddress client) {
        if (running.incrementAndGet() > total) {
            running.decrementAndGet();
            return new Refusal(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "the node is taking " + total + " uploads at once, its limit; try again when one has finished");
        }
        boolean[] ok = {false};
        byAddress.compute(client, (a, n) -> {
            int now = n == null ? 0 : n;
            ok[0] = now < perAddress;
            return ok[0] ? now + 1 : n;
        });
        if (!ok[0]) {
            running.decrementAndGet();
            return new Refusal(HttpResponseStatus.TOO_MANY_REQUESTS, "there are already " + perAddress + " uploads from "
                    + client.getHostAddress() + " at once, the limit per client address; wait for one to finish");
        }
        return null;
    }

    void release(InetAddress client) {
        byAddress.computeIfPresent(client, (a, n) -> n <= 1 ? null : n - 1);
        running.decrementAndGet();
    }

    int running() {
        return running.get();
    }
}
