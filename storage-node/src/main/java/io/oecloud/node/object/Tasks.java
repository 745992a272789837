package io.oecloud.node.object;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for the segment tasks of uploads, downloads and probes. */
final class Tasks {
    private Tasks() {}

    /**
     * The task's result; its ObjectException or IOException as it was thrown, anything else
     * wrapped in an IOException. An interrupt sets the flag again and ends the wait with an IOException.
     */
    static <T> T await(Future<T> f) throws ObjectException, IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ObjectException oe) {
                throw oe;
            }
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }
}
