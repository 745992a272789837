package io.oecloud.node.object;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * Shard-sized arrays of finished segments, handed to the next segment of an upload instead of new
 * ones. The JVM zeroes every new array (and a 2 MiB one is a humongous object for G1): that
 * zeroing alone took about a tenth of the CPU of the node taking an upload. An array comes back
 * only once nothing can read it: every transfer of its segment succeeded (a cancelled or failed
 * transfer may still have its bytes queued). A reused array is not zeroed; users overwrite or
 * zero all of what they use. At most {@code max} arrays wait here, so the heap a finished upload
 * leaves behind is bounded.
 */
final class ShardArrays {
    private final int size;
    private final ArrayBlockingQueue<byte[]> spare;

    ShardArrays(int size, int max) {
        this.size = size;
        this.spare = new ArrayBlockingQueue<>(Math.max(1, max));
    }

    /** The length of the arrays kept here. */
    int size() {
        return size;
    }

    /** A spare array, or a new one: either way {@link #size()} bytes of unspecified content. */
    byte[] take() {
        byte[] a = spare.poll();
        return a != null ? a : new byte[size];
    }

    /** Keeps {@code a} for reuse if it has the right size and there is room; the caller must not touch it again. */
    void give(byte[] a) {
        if (a.length == size) {
            spare.offer(a);
        }
    }
}
