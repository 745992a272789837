package io.oecloud.proofs.storage;

import io.oecloud.proofs.Blake3;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The layouts of proofs/README.md ("Node roots and challenges") written out again, byte by byte
 * and recursively (the left-balanced split, BigInteger arithmetic), independently of the code
 * under test: the tests compare the two.
 */
final class Reference {
    private Reference() {}

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] u64(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    static byte[] leaf(NodeEntry e) {
        byte[] cid = e.cid().toBytes();
        return Blake3.hash(concat(ascii("oe/node-root/leaf/v1"), new byte[] {(byte) cid.length}, cid, u64(e.size())));
    }

    static byte[] node(byte[] l, byte[] r) {
        return Blake3.hash(concat(ascii("oe/node-root/node/v1"), l, r));
    }

    /** The committed root of all of {@code es}: the top node under the root tag with the count. */
    static byte[] root(List<NodeEntry> es) {
        return wrap(es.size(), top(es, 0, es.size()));
    }

    static byte[] wrap(long count, byte[] top) {
        return Blake3.hash(concat(ascii("oe/node-root/root/v1"), u64(count), top));
    }

    /** The top node of entries [from, to): the left subtree takes the largest power of two below the total. */
    static byte[] top(List<NodeEntry> es, int from, int to) {
        int n = to - from;
        if (n == 1) {
            return leaf(es.get(from));
        }
        int left = Integer.highestOneBit(n - 1);
        return node(top(es, from, from + left), top(es, from + left, to));
    }

    /** Siblings of entry i among [from, to), leaf level first. */
    static List<byte[]> path(List<NodeEntry> es, int from, int to, int i) {
        int n = to - from;
        if (n == 1) {
            return new ArrayList<>();
        }
        int mid = from + Integer.highestOneBit(n - 1);
        List<byte[]> p;
        if (i < mid) {
            p = path(es, from, mid, i);
            p.add(top(es, mid, to));
        } else {
            p = path(es, mid, to, i);
            p.add(top(es, from, mid));
        }
        return p;
    }

    static byte[] challengeHash(byte[] seed, byte[] nodeId, long period, int j) {
        return Blake3.hash(concat(ascii("oe/challenge/v1"), seed, new byte[] {(byte) nodeId.length}, nodeId,
                u64(period), u32(j)));
    }

    /** floor(x × n / 2^128) for x the 16 big-endian bytes at h[off]. */
    static long pick(byte[] h, int off, long n) {
        byte[] x = new byte[17];
        System.arraycopy(h, off, x, 1, 16);
        return new BigInteger(x).multiply(BigInteger.valueOf(n)).shiftRight(128).longValueExact();
    }

    static NodeEntry randomEntry(Random r) {
        byte[] d = new byte[32];
        r.nextBytes(d);
        return new NodeEntry(Cid.of(ContentCodec.RAW, HashFunction.BLAKE3, d), r.nextLong(1L << 40));
    }

    /** {@code n} entries with random BLAKE3 raw CIDs and sizes, sorted by CID. */
    static List<NodeEntry> entries(int n, long seed) {
        Random r = new Random(seed);
        List<NodeEntry> es = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            es.add(randomEntry(r));
        }
        es.sort((a, b) -> a.cid().compareTo(b.cid()));
        return es;
    }
}
