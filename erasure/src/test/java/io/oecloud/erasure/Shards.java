package io.oecloud.erasure;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.stream.Stream;

/** Test helpers: shard sets, copies, buffer views and the backends this JVM can run. */
final class Shards {
    private Shards() {}

    static Stream<ErasureBackend> backends() {
        return Stream.of(ErasureBackend.values()).filter(ErasureBackend::isAvailable);
    }

    /** n arrays of {@code size} bytes; the first k random, the rest garbage that encode overwrites. */
    static byte[][] random(Random rnd, int k, int n, int size) {
        byte[][] s = new byte[n][size];
        for (byte[] a : s) {
            rnd.nextBytes(a);
        }
        return s;
    }

    static byte[][] copy(byte[][] s) {
        byte[][] c = new byte[s.length][];
        for (int i = 0; i < s.length; i++) {
            c[i] = s[i].clone();
        }
        return c;
    }

    static ByteBuffer[] buffers(byte[][] s, boolean direct) {
        ByteBuffer[] b = new ByteBuffer[s.length];
        for (int i = 0; i < s.length; i++) {
            b[i] = direct ? ByteBuffer.allocateDirect(s[i].length) : ByteBuffer.allocate(s[i].length);
            b[i].put(0, s[i]);
        }
        return b;
    }

    static byte[][] arrays(ByteBuffer[] b) {
        byte[][] s = new byte[b.length][];
        for (int i = 0; i < b.length; i++) {
            s[i] = new byte[b[i].limit()];
            b[i].get(0, s[i]);
        }
        return s;
    }

    /** The xorshift32 stream (13, 17, 5) that erasure/tools/isal-vectors.c fills data shards with. */
    static byte[][] xorshiftData(int k, int m, int len, int seed) {
        byte[][] s = new byte[k + m][len];
        int x = seed;
        for (int i = 0; i < k; i++) {
            for (int b = 0; b < len; b++) {
                x ^= x << 13;
                x ^= x >>> 17;
                x ^= x << 5;
                s[i][b] = (byte) x;
            }
        }
        return s;
    }
}
