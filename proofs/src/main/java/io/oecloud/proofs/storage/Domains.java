package io.oecloud.proofs.storage;

import io.oecloud.proofs.Blake3;
import java.nio.charset.StandardCharsets;

/**
 * The hash domains of this package: plain BLAKE3 (hash mode, 32-byte output) over a fixed ASCII
 * tag, then fixed-layout fields. These layouts are consensus rules; proofs/README.md ("Node roots
 * and challenges") lists them, and the tests rebuild each input byte by byte.
 *
 * <pre>
 * leaf      BLAKE3("oe/node-root/leaf/v1"  || u8 cidLength || cid bytes || u64be size)
 * node      BLAKE3("oe/node-root/node/v1"  || left 32 || right 32)
 * root      BLAKE3("oe/node-root/root/v1"  || u64be count || top 32)   top: the tree's top node
 * empty     BLAKE3("oe/node-root/empty/v1")                        the root of zero entries
 * challenge BLAKE3("oe/challenge/v1" || seed 32 || u8 idLength || node ID || u64be period || u32be j)
 * window    BLAKE3("oe/node-window/v1" || node ID)
 * </pre>
 *
 * <p>Why the tags separate the domains: any two tags differ at a byte inside the shorter one
 * ("oe/c" against "oe/n"; "oe/node-w" against "oe/node-r"; "leaf", "node", "root", "empty" at
 * their first letter), so no input of one domain is an input of another, whatever follows the tag. In
 * particular a leaf's input never equals an inner node's, so an inner node cannot be passed off as
 * a leaf or the other way round (the second-preimage trick RFC 6962 prevents with its 0x00 / 0x01
 * prefixes).
 *
 * <p>Not thread-safe: one instance per thread ({@link #local()}) or per call. An instance holds a
 * {@code Blake3} (about 20 KB with its vector scratch), which is why verifiers reuse one per thread;
 * no method here calls back into another user of the same instance.
 */
final class Domains {
    private static final ThreadLocal<Domains> LOCAL = ThreadLocal.withInitial(Domains::new);

    /** This thread's instance; callers use it for one computation and never hold it across calls out. */
    static Domains local() {
        return LOCAL.get();
    }

    static final byte[] LEAF = ascii("oe/node-root/leaf/v1");
    static final byte[] NODE = ascii("oe/node-root/node/v1");
    static final byte[] ROOT = ascii("oe/node-root/root/v1");
    static final byte[] EMPTY = ascii("oe/node-root/empty/v1");
    static final byte[] CHALLENGE = ascii("oe/challenge/v1");
    static final byte[] WINDOW = ascii("oe/node-window/v1");

    static final int HASH_BYTES = 32;

    private final Blake3 blake3 = new Blake3();
    // The longest input: the challenge's 15 + 32 + 1 + 255 + 8 + 4 bytes.
    private final byte[] buf = new byte[CHALLENGE.length + 32 + 1 + Challenges.MAX_NODE_ID_BYTES + 8 + 4];

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Writes the leaf hash of {@code e} at {@code dst[off]}. */
    void leaf(NodeEntry e, byte[] dst, int off) {
        byte[] cid = e.cid().toBytes();
        if (cid.length > NodeEntry.MAX_CID_BYTES) {
            // Cid never produces one this long; the check keeps the layout's u8 length honest.
            throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE,
                    "entry " + e.cid() + " has a " + cid.length + "-byte CID, longer than " + NodeEntry.MAX_CID_BYTES);
        }
        int o = put(LEAF, 0);
        buf[o++] = (byte) cid.length;
        o = put(cid, o);
        o = putLong(e.size(), o);
        digest(o, dst, off);
    }

    /** Writes the inner node hash of the two children at {@code l[lo]} and {@code r[ro]} at {@code dst[off]}. */
    void node(byte[] l, int lo, byte[] r, int ro, byte[] dst, int off) {
        int o = put(NODE, 0);
        System.arraycopy(l, lo, buf, o, HASH_BYTES);
        o += HASH_BYTES;
        System.arraycopy(r, ro, buf, o, HASH_BYTES);
        o += HASH_BYTES;
        digest(o, dst, off);
    }

    /** Writes the root of a tree of {@code count} entries whose top node is at {@code top[0]}: the count is bound in. */
    void root(long count, byte[] top, byte[] dst) {
        int o = put(ROOT, 0);
        o = putLong(count, o);
        System.arraycopy(top, 0, buf, o, HASH_BYTES);
        o += HASH_BYTES;
        digest(o, dst, 0);
    }

    /** The root of zero entries. */
    byte[] empty() {
        byte[] d = new byte[HASH_BYTES];
        digest(put(EMPTY, 0), d, 0);
        return d;
    }

    /** Writes the 32-byte challenge hash for ({@code seed}, {@code nodeId}, {@code period}, {@code j}); arguments checked by the caller. */
    void challenge(byte[] seed, byte[] nodeId, long period, int j, byte[] dst) {
        int o = put(CHALLENGE, 0);
        o = put(seed, o);
        buf[o++] = (byte) nodeId.length;
        o = put(nodeId, o);
        o = putLong(period, o);
        buf[o++] = (byte) (j >>> 24);
        buf[o++] = (byte) (j >>> 16);
        buf[o++] = (byte) (j >>> 8);
        buf[o++] = (byte) j;
        digest(o, dst, 0);
    }

    /** The 32-byte window hash of {@code nodeId}; the caller checked its length. */
    byte[] window(byte[] nodeId) {
        int o = put(WINDOW, 0);
        o = put(nodeId, o);
        byte[] d = new byte[HASH_BYTES];
        digest(o, d, 0);
        return d;
    }

    private int put(byte[] b, int o) {
        System.arraycopy(b, 0, buf, o, b.length);
        return o + b.length;
    }

    private int putLong(long v, int o) {
        for (int s = 56; s >= 0; s -= 8) {
            buf[o++] = (byte) (v >>> s);
        }
        return o;
    }

    private void digest(int len, byte[] dst, int off) {
        blake3.reset();
        blake3.update(buf, 0, len);
        blake3.digest(dst, off, HASH_BYTES);
    }

    /** Reads 8 bytes at {@code b[off]} as a big-endian (unsigned) long. */
    static long longAt(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[off + i] & 0xff);
        }
        return v;
    }
}
