package io.oecloud.proofs.storage;

import java.util.List;

/**
 * A node's commitment to the shards it holds: a BLAKE3 Merkle tree over its entries (shard CID,
 * size), sorted by CID bytes without duplicates. The commitment is the pair (root, entry count);
 * the ledger records both.
 *
 * <pre>{@code
 * NodeRoot tree = NodeRoot.build(entries);              // sorted by CID, no duplicates
 * byte[] root = tree.root();  long count = tree.count(); // what the ledger records
 * InclusionProof p = tree.prove(challenge.entry());
 * p.verify(root, count, challenge.entry());             // a verifier, from the ledger's pair
 * }</pre>
 *
 * <p>Immutable and thread-safe once built; it keeps every level (2 × 32 bytes an entry) so that a
 * proof costs one array walk.
 */
public final class NodeRoot {
    /*
     * Shape. Level 0 holds the leaf hashes in entry order; each next level pairs neighbours
     * (0,1), (2,3), ... with the node hash, and a level's lone last node, when the level is odd, is
     * promoted to the next level unchanged: it is never paired with itself. Duplicating it, as
     * Bitcoin's merkle tree does, lets two different entry lists share a root (CVE-2012-2459).
     * Pairing from the left with promotion gives the left-balanced tree BLAKE3 and RFC 6962 use:
     * the left subtree holds the largest power of two of entries strictly less than the total.
     *
     * A proof's sibling count therefore follows from (index, count) alone (pathLength), and a
     * verifier holding the ledger's count rejects a path of any other length before hashing. The
     * index fixes which side each sibling is on; leaves and inner nodes hash in different domains
     * (Domains), so neither can stand in for the other.
     *
     * The root is not the top node itself but BLAKE3("oe/node-root/root/v1" || u64be count || top):
     * the count is bound into the root, so one root names one tree shape. Without it, a proof for
     * an entry in the first 512 of 1,000 entries also verifies against (root, 1024), where the
     * same path reaches the same top node.
     */

    /** The most entries a committed count may claim (2^32): proofs have at most {@link #MAX_DEPTH} siblings. */
    public static final long MAX_COUNT = 1L << 32;
    /** The longest path: {@code ceil(log2(MAX_COUNT))}. */
    public static final int MAX_DEPTH = 32;
    /** The most entries one in-memory tree holds: its leaf level is one array. */
    public static final int MAX_BUILD_ENTRIES = (Integer.MAX_VALUE - 64) / Domains.HASH_BYTES;

    private static final byte[] EMPTY_ROOT = new Domains().empty();

    private final List<NodeEntry> entries;
    /** levels[0]: the leaf hashes, 32 bytes each; the last level holds the top node alone. */
    private final byte[][] levels;
    private final byte[] root;

    private NodeRoot(List<NodeEntry> entries, byte[][] levels, byte[] root) {
        this.entries = entries;
        this.levels = levels;
        this.root = root;
    }

    /**
     * Builds the tree over {@code entries}, which must be sorted by CID bytes without duplicates.
     *
     * @param entries the node's entries in CID order; copied
     * @return the tree (an empty list gives the root {@link #emptyRoot()} and count 0)
     * @throws StorageProofException {@code UNSORTED} or {@code DUPLICATE} naming the offending entry
     *     and its position, {@code TOO_MANY_ENTRIES} above {@link #MAX_BUILD_ENTRIES}
     */
    public static NodeRoot build(List<NodeEntry> entries) {
        if (entries == null) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "entries must not be null");
        }
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i) == null) {
                throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "entry " + i + " is null");
            }
        }
        List<NodeEntry> list = List.copyOf(entries);
        int n = list.size();
        if (n > MAX_BUILD_ENTRIES) {
            throw new StorageProofException(StorageProofException.Kind.TOO_MANY_ENTRIES,
                    n + " entries, more than one tree holds in memory (" + MAX_BUILD_ENTRIES + ")");
        }
        for (int i = 1; i < n; i++) {
            int c = list.get(i - 1).cid().compareTo(list.get(i).cid());
            if (c == 0) {
                throw new StorageProofException(StorageProofException.Kind.DUPLICATE,
                        "entry " + i + " (" + list.get(i) + ") repeats the CID of entry " + (i - 1));
            }
            if (c > 0) {
                throw new StorageProofException(StorageProofException.Kind.UNSORTED,
                        "entry " + i + " (" + list.get(i) + ") sorts before entry " + (i - 1) + " ("
                                + list.get(i - 1).cid() + "); entries must be sorted by CID bytes");
            }
        }
        if (n == 0) {
            return new NodeRoot(list, new byte[0][], EMPTY_ROOT.clone());
        }
        Domains h = new Domains();
        byte[][] levels = new byte[pathLength(0, n) + 1][];
        byte[] level = new byte[n * Domains.HASH_BYTES];
        for (int i = 0; i < n; i++) {
            h.leaf(list.get(i), level, i * Domains.HASH_BYTES);
        }
        levels[0] = level;
        for (int d = 1, width = n; width > 1; d++) {
            int next = (width + 1) / 2;
            byte[] up = new byte[next * Domains.HASH_BYTES];
            for (int i = 0; i + 1 < width; i += 2) {
                h.node(level, i * Domains.HASH_BYTES, level, (i + 1) * Domains.HASH_BYTES, up, i / 2 * Domains.HASH_BYTES);
            }
            if ((width & 1) == 1) { // the lone last node moves up unchanged
                System.arraycopy(level, (width - 1) * Domains.HASH_BYTES, up, (next - 1) * Domains.HASH_BYTES, Domains.HASH_BYTES);
            }
            levels[d] = up;
            level = up;
            width = next;
        }
        byte[] root = new byte[Domains.HASH_BYTES];
        h.root(n, level, root);
        return new NodeRoot(list, levels, root);
    }

    /** The root of zero entries: {@code BLAKE3("oe/node-root/empty/v1")}. No proof verifies against it. */
    public static byte[] emptyRoot() {
        return EMPTY_ROOT.clone();
    }

    /** A copy of the 32-byte root: {@code BLAKE3("oe/node-root/root/v1" || u64be count || top node)}. */
    public byte[] root() {
        return root.clone();
    }

    /** The number of entries, the other half of the commitment. */
    public long count() {
        return entries.size();
    }

    /** The entries in CID order (unmodifiable). */
    public List<NodeEntry> entries() {
        return entries;
    }

    /**
     * Returns the inclusion proof of entry {@code index}: its siblings from the leaf level up.
     *
     * @throws StorageProofException {@code INDEX} if {@code index} is not in {@code [0, count)}
     */
    public InclusionProof prove(long index) {
        int n = entries.size();
        if (index < 0 || index >= n) {
            throw new StorageProofException(StorageProofException.Kind.INDEX,
                    "entry index " + index + " is outside [0, " + n + ")");
        }
        byte[] siblings = new byte[pathLength(index, n) * Domains.HASH_BYTES];
        int k = 0;
        long i = index;
        for (int d = 0, width = n; width > 1; d++, width = (width + 1) / 2, i >>>= 1) {
            long s = i ^ 1;
            if (s < width) {
                System.arraycopy(levels[d], (int) s * Domains.HASH_BYTES, siblings, k * Domains.HASH_BYTES, Domains.HASH_BYTES);
                k++;
            }
        }
        return new InclusionProof(index, entries.get((int) index), siblings);
    }

    /**
     * Returns one proof of the entries at {@code indices} (an {@link EntriesProof}): each sibling
     * hash the entries' paths need, once, in the proof's walk order.
     *
     * @param indices entry indices in any order; duplicates name one entry (two challenges of it)
     * @throws StorageProofException {@code INDEX} if an index is not in {@code [0, count)},
     *     {@code ARGUMENT} for no index or more than {@link EntriesProof#MAX_ENTRIES} distinct ones
     */
    public EntriesProof proveEntries(long... indices) {
        if (indices == null || indices.length == 0) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "an entries proof names at least one index");
        }
        int n = entries.size();
        long[] pos = EntriesProof.distinctSorted(indices);
        if (pos[0] < 0 || pos[pos.length - 1] >= n) {
            long bad = pos[0] < 0 ? pos[0] : pos[pos.length - 1];
            throw new StorageProofException(StorageProofException.Kind.INDEX, "entry index " + bad + " is outside [0, " + n + ")");
        }
        if (pos.length > EntriesProof.MAX_ENTRIES) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    pos.length + " distinct entries; a proof names at most " + EntriesProof.MAX_ENTRIES);
        }
        List<NodeEntry> proven = new java.util.ArrayList<>(pos.length);
        for (long i : pos) {
            proven.add(entries.get((int) i));
        }
        long[] indicesSorted = pos.clone();
        byte[] siblings = new byte[EntriesProof.siblingCount(pos, n) * Domains.HASH_BYTES];
        int s = 0;
        int k = pos.length;
        for (int d = 0, width = n; width > 1; d++, width = (width + 1) / 2) { // EntriesProof's walk
            int out = 0;
            for (int a = 0; a < k; a++) {
                long i = pos[a];
                if ((i & 1) == 0 && i + 1 < width && a + 1 < k && pos[a + 1] == i + 1) {
                    a++;
                } else if ((i & 1) == 1 || i + 1 < width) {
                    System.arraycopy(levels[d], (int) (i ^ 1) * Domains.HASH_BYTES, siblings, s++ * Domains.HASH_BYTES, Domains.HASH_BYTES);
                }
                pos[out++] = i >>> 1;
            }
            k = out;
        }
        return new EntriesProof(indicesSorted, proven, siblings);
    }

    /**
     * The number of sibling hashes on the path of entry {@code index} in a tree of {@code count}
     * entries: one per level where the entry's ancestor has a neighbour (a promoted node has none).
     * At most {@code ceil(log2(count))}: 17 for 100,000 entries.
     *
     * @throws StorageProofException {@code COUNT} or {@code INDEX} if the pair is out of range
     */
    public static int pathLength(long index, long count) {
        checkCount(count);
        if (index < 0 || index >= count) {
            throw new StorageProofException(StorageProofException.Kind.INDEX,
                    "entry index " + index + " is outside [0, " + count + ")");
        }
        int len = 0;
        for (long i = index, width = count; width > 1; i >>>= 1, width = (width + 1) >>> 1) {
            if ((i ^ 1) < width) {
                len++;
            }
        }
        return len;
    }

    /** The leaf hash of {@code entry} (its layout: proofs/README.md, "Node roots and challenges"). */
    public static byte[] leafHash(NodeEntry entry) {
        byte[] d = new byte[Domains.HASH_BYTES];
        Domains.local().leaf(entry, d, 0);
        return d;
    }

    static void checkCount(long count) {
        if (count < 1 || count > MAX_COUNT) {
            throw new StorageProofException(StorageProofException.Kind.COUNT,
                    "entry count " + count + " is outside [1, " + MAX_COUNT + "]");
        }
    }
}
