package io.oecloud.node;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;

/**
 * Starts a node's roles in order and closes what it started in reverse: the one place that knows
 * the order (today storage, super-node, API; later edge and S3). A role that fails to start closes
 * the ones before it, newest first, and its failure goes on up with any close failures suppressed
 * in it; {@link #close} closes every started role even when some throw, and closes each once.
 *
 * <p>Usage: {@code Store s = roles.start("storage", () -> Store.open(...)); roles.start("API", ...);}
 * then, at shutdown, {@code roles.close()}. One thread starts; close may come from another (a shutdown hook).
 */
final class Roles implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Roles.class.getName());

    private record Started(String name, AutoCloseable role) {}

    private final Deque<Started> started = new ArrayDeque<>();

    /**
     * Starts a role; from now on this starter owns it and closes it.
     *
     * @param name what to call it in a close failure's log line
     * @throws Exception whatever {@code start} threw, after the roles started before were closed
     */
    <T extends AutoCloseable> T start(String name, Callable<T> start) throws Exception {
        T role;
        try {
            role = start.call();
        } catch (Exception | Error e) {
            closeAll(e);
            throw e;
        }
        synchronized (this) {
            started.push(new Started(name, role));
        }
        return role;
    }

    /** Closes every started role, newest first; a failure is logged and the others still close. */
    @Override
    public synchronized void close() {
        closeAll(null);
    }

    private synchronized void closeAll(Throwable cause) {
        for (Started s; (s = started.poll()) != null; ) {
            try {
                s.role().close();
            } catch (Exception | Error e) {
                if (cause != null) {
                    cause.addSuppressed(e);
                }
                LOG.log(System.Logger.Level.WARNING, "closing " + s.name() + " failed; closing the others", e);
            }
        }
    }
}
