package io.oecloud.erasure;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/** Argument checks shared by every {@link ReedSolomon} operation; messages name the bad value. */
final class ShardChecks {
    private ShardChecks() {}

    /**
     * Checks byte-array shards.
     *
     * @param outputs indices the operation writes; each must be a distinct array
     */
    static void arrays(byte[][] shards, int n, int offset, int length, int[] outputs) {
        if (shards == null) {
            throw new IllegalArgumentException("shards is null");
        }
        count(shards.length, n);
        for (int i = 0; i < n; i++) {
            if (shards[i] == null) {
                throw new IllegalArgumentException("shards[" + i + "] is null");
            }
            if (shards[i].length != shards[0].length) {
                throw new IllegalArgumentException("shards[" + i + "].length is " + shards[i].length
                        + " but shards[0].length is " + shards[0].length + "; shards must have equal length");
            }
        }
        range(offset, length, shards[0].length);
        for (int out : outputs) {
            for (int i = 0; i < n; i++) {
                if (i != out && shards[i] == shards[out]) {
                    throw new IllegalArgumentException("shards[" + out + "] is the same array as shards[" + i + "]");
                }
            }
        }
    }

    /**
     * Checks buffer shards and views them as memory segments over their whole limit.
     *
     * @param outputs indices the operation writes; each must be a distinct, writable buffer
     */
    static MemorySegment[] buffers(ByteBuffer[] shards, int n, int offset, int length, int[] outputs) {
        if (shards == null) {
            throw new IllegalArgumentException("shards is null");
        }
        count(shards.length, n);
        for (int i = 0; i < n; i++) {
            if (shards[i] == null) {
                throw new IllegalArgumentException("shards[" + i + "] is null");
            }
            if (shards[i].limit() != shards[0].limit()) {
                throw new IllegalArgumentException("shards[" + i + "].limit() is " + shards[i].limit()
                        + " but shards[0].limit() is " + shards[0].limit() + "; shards must have equal length");
            }
        }
        range(offset, length, shards[0].limit());
        for (int out : outputs) {
            if (shards[out].isReadOnly()) {
                throw new IllegalArgumentException("shards[" + out + "] is read-only but is written");
            }
            for (int i = 0; i < n; i++) {
                if (i != out && shards[i] == shards[out]) {
                    throw new IllegalArgumentException("shards[" + out + "] is the same buffer as shards[" + i + "]");
                }
            }
        }
        MemorySegment[] segs = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            // ofBuffer views [position, limit); a view from 0 keeps offsets absolute.
            ByteBuffer b = shards[i];
            segs[i] = MemorySegment.ofBuffer(b.position() == 0 ? b : b.duplicate().position(0));
        }
        return segs;
    }

    private static void count(int actual, int n) {
        if (actual != n) {
            throw new IllegalArgumentException("shards.length must be k + m = " + n + ", was " + actual);
        }
    }

    private static void range(int offset, int length, int shardLength) {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, was " + offset);
        }
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, was " + length);
        }
        if ((long) offset + length > shardLength) {
            throw new IllegalArgumentException("offset " + offset + " + length " + length
                    + " exceeds the shard length " + shardLength);
        }
    }
}
