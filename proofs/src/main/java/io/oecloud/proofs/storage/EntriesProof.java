package io.oecloud.proofs.storage;

import io.oecloud.proofs.Cid;
import io.oecloud.wire.Uvarint;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Proof that several entries sit at their indices in one node root (a Merkle multiproof): the
 * entries and every sibling hash the verifier cannot compute from the proven entries themselves,
 * each once. A period's 32 challenges share the upper levels of their paths, so one proof of all
 * of them is much smaller than 32 {@link InclusionProof}s: about 12 KB against 17.4 KB at 100,000
 * entries (proofs/README.md, "Entries proofs").
 *
 * <pre>{@code
 * EntriesProof p = tree.proveEntries(challengedIndices);     // any order, duplicates shared
 * byte[] wire = p.encode();
 * EntriesProof q = EntriesProof.decode(wire, maxBytes, maxEntries);
 * q.verify(root, count, challengedIndices);                  // against the ledger's (root, count)
 * NodeEntry e = q.entry(challenge.entry());
 * }</pre>
 *
 * <p>Encoded form ({@link #encode()}; every varint unsigned LEB128 in its shortest form):
 *
 * <pre>
 * uvarint k                  1..maxEntries (the decoder's limit), the proven entries
 * k × {                      in strictly increasing index order
 *   uvarint index            < 2^32 (NodeRoot.MAX_COUNT)
 *   uvarint cidLength        1..64 (NodeEntry.MAX_CID_BYTES)
 *   cid bytes                the CID's binary form (CIDv1)
 *   uvarint size             < 2^63
 * }
 * uvarint siblingCount       0..k × 32, and exactly what (indices, count) imply when verifying
 * siblingCount × 32 bytes    the siblings, in the order of the walk below
 * </pre>
 *
 * Nothing may follow.
 *
 * <p>Immutable; {@link #verify} is thread-safe (it uses the calling thread's hasher).
 */
public final class EntriesProof {
    /*
     * The walk. Level 0 holds the proven leaves at their indices; for each level of width w > 1,
     * from the bottom up, the known nodes are taken left to right:
     *   - an even position i whose right neighbour i+1 is known too: the two make their parent;
     *   - an even position i with i+1 = w: the level's lone last node, promoted unchanged (the
     *     tree never pairs it, NodeRoot);
     *   - otherwise the neighbour (i+1 for an even i, i-1 for an odd one) is the next sibling of
     *     the proof, on the side the position gives.
     * The parents (i / 2) are the next level's known nodes, again strictly increasing, until the
     * width is 1; the top node is wrapped with the count into the root, as NodeRoot does. So the
     * siblings are ordered level by level from the leaves up, and left to right in a level; the
     * order, like their number, follows from (indices, count) alone: a verifier counts them
     * before hashing anything, and no sibling a proven node provides is ever sent.
     *
     * One index gives exactly InclusionProof's path. The root check binds every proven entry to
     * its index (the positions choose the sides), and the count is bound into the root, so a
     * proof verifies against one (root, count) and one index set only.
     */

    /** The most entries one proof may name (the decoder's own limit is usually far lower). */
    public static final int MAX_ENTRIES = Challenges.MAX_PER_PERIOD;
    /** The most bytes an encoded entry takes: index, CID length, CID, size. */
    static final int MAX_ENTRY_BYTES = 5 + 1 + NodeEntry.MAX_CID_BYTES + Uvarint.MAX_BYTES;

    private final long[] indices;
    private final List<NodeEntry> entries;
    private final byte[] siblings;

    /**
     * A proof of {@code entries} at {@code indices} with {@code siblings} (32 bytes each, in the
     * walk's order); checks the form only.
     *
     * @param indices the proven indices, strictly increasing, each below 2^32; copied
     * @param entries the entries at those indices, as many; copied
     * @param siblings the siblings concatenated; copied
     * @throws StorageProofException {@code ARGUMENT} (nulls, lengths), {@code FIELD_RANGE},
     *     {@code INDEX_ORDER}
     */
    public EntriesProof(long[] indices, List<NodeEntry> entries, byte[] siblings) {
        if (indices == null || entries == null || siblings == null) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "indices, entries and siblings must not be null");
        }
        if (indices.length < 1 || indices.length > MAX_ENTRIES || indices.length != entries.size()) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, indices.length + " indices and " + entries.size()
                    + " entries; a proof names 1 to " + MAX_ENTRIES + " entries, one per index");
        }
        checkIndices(indices);
        for (int a = 0; a < entries.size(); a++) {
            if (entries.get(a) == null) {
                throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "entry " + a + " is null");
            }
        }
        if (siblings.length % Domains.HASH_BYTES != 0 || siblings.length / Domains.HASH_BYTES > (long) indices.length * NodeRoot.MAX_DEPTH) {
            throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE, "siblings are " + siblings.length
                    + " bytes; a proof of " + indices.length + " entries has a multiple of 32 bytes up to "
                    + indices.length * NodeRoot.MAX_DEPTH + " hashes");
        }
        this.indices = indices.clone();
        this.entries = List.copyOf(entries);
        this.siblings = siblings.clone();
    }

    private static void checkIndices(long[] indices) {
        for (int a = 0; a < indices.length; a++) {
            if (indices[a] < 0 || indices[a] >= NodeRoot.MAX_COUNT) {
                throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE,
                        "entry index " + indices[a] + " is outside [0, " + NodeRoot.MAX_COUNT + ")");
            }
            if (a > 0 && indices[a] <= indices[a - 1]) {
                throw new StorageProofException(StorageProofException.Kind.INDEX_ORDER, "entry index " + indices[a]
                        + " (the " + (a + 1) + "th) does not follow " + indices[a - 1] + ": indices are strictly increasing");
            }
        }
    }

    /**
     * The distinct values of {@code indices} in increasing order: the index set a proof of those
     * challenges proves (two challenges of the same entry share it).
     */
    public static long[] distinctSorted(long[] indices) {
        long[] s = indices.clone();
        Arrays.sort(s);
        int n = 0;
        for (int a = 0; a < s.length; a++) {
            if (n == 0 || s[a] != s[n - 1]) {
                s[n++] = s[a];
            }
        }
        return Arrays.copyOf(s, n);
    }

    /** A copy of the proven indices, increasing. */
    public long[] indices() {
        return indices.clone();
    }

    /** The proven entries, in index order (unmodifiable). */
    public List<NodeEntry> entries() {
        return entries;
    }

    /** A copy of the siblings, in the walk's order. */
    public byte[] siblings() {
        return siblings.clone();
    }

    /** The number of sibling hashes. */
    public int siblingCount() {
        return siblings.length / Domains.HASH_BYTES;
    }

    /**
     * The proven entry at {@code index}.
     *
     * @throws StorageProofException {@code WRONG_INDEX} when the proof does not name that index
     */
    public NodeEntry entry(long index) {
        int a = Arrays.binarySearch(indices, index);
        if (a < 0) {
            throw new StorageProofException(StorageProofException.Kind.WRONG_INDEX, "the proof names no entry " + index);
        }
        return entries.get(a);
    }

    /**
     * The number of siblings a proof of {@code indices} (strictly increasing) has in a tree of
     * {@code count} entries: the walk of the class comment without hashing. At most
     * {@code k × ceil(log2(count))}.
     *
     * @throws StorageProofException {@code COUNT}, {@code INDEX} (an index at or above the count),
     *     {@code INDEX_ORDER}, {@code FIELD_RANGE}
     */
    public static int siblingCount(long[] indices, long count) {
        NodeRoot.checkCount(count);
        checkIndices(indices);
        if (indices.length > 0 && indices[indices.length - 1] >= count) {
            throw new StorageProofException(StorageProofException.Kind.INDEX,
                    "entry index " + indices[indices.length - 1] + " is outside [0, " + count + ")");
        }
        long[] pos = indices.clone();
        int k = pos.length;
        int need = 0;
        for (long width = count; width > 1; width = (width + 1) >>> 1) {
            int out = 0;
            for (int a = 0; a < k; a++) {
                long i = pos[a];
                if ((i & 1) == 0 && i + 1 < width && a + 1 < k && pos[a + 1] == i + 1) {
                    a++; // a pair of known nodes
                } else if ((i & 1) == 1 || i + 1 < width) {
                    need++;
                } // else: the lone last node, promoted
                pos[out++] = i >>> 1;
            }
            k = out;
        }
        return need;
    }

    /**
     * Checks that the proof proves exactly the distinct entries of {@code challenged} (in any
     * order, duplicates allowed) under the commitment (root, count).
     *
     * @throws StorageProofException {@code WRONG_INDEX} naming the first index that differs, or what
     *     {@link #verify(byte[], long)} throws
     */
    public void verify(byte[] root, long count, long[] challenged) {
        if (challenged == null) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "the challenged indices must not be null");
        }
        long[] want = distinctSorted(challenged);
        if (!Arrays.equals(want, indices)) {
            int a = 0;
            while (a < want.length && a < indices.length && want[a] == indices[a]) {
                a++;
            }
            String what = a < want.length && a < indices.length
                    ? "names entry " + indices[a] + " where the challenges ask for entry " + want[a]
                    : a < want.length ? "lacks challenged entry " + want[a] : "names entry " + indices[a] + ", which no challenge asks for";
            throw new StorageProofException(StorageProofException.Kind.WRONG_INDEX, "the proof of " + indices.length
                    + " entries " + what + " (" + want.length + " distinct entries challenged)");
        }
        verify(root, count);
    }

    /**
     * Checks that every entry is the entry at its index in the tree committed to by ({@code root},
     * {@code count}): the indices are below the count, the sibling count is what they imply, and
     * the walk of the class comment gives the root (compared in constant time).
     *
     * @throws StorageProofException {@code COUNT}, {@code INDEX}, {@code PATH_LENGTH},
     *     {@code ROOT_MISMATCH}, or {@code ARGUMENT} for a root that is not 32 bytes
     */
    public void verify(byte[] root, long count) {
        if (root == null || root.length != Domains.HASH_BYTES) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "a node root is 32 bytes, was " + (root == null ? "null" : root.length));
        }
        int expected = siblingCount(indices, count);
        if (siblingCount() != expected) {
            throw new StorageProofException(StorageProofException.Kind.PATH_LENGTH, "the proof has " + siblingCount()
                    + " siblings; its " + indices.length + " entries in a tree of " + count + " need " + expected);
        }
        Domains h = Domains.local();
        int k = indices.length;
        long[] pos = indices.clone();
        byte[] nodes = new byte[k * Domains.HASH_BYTES];
        for (int a = 0; a < k; a++) {
            h.leaf(entries.get(a), nodes, a * Domains.HASH_BYTES);
        }
        int s = 0; // the next sibling
        for (long width = count; width > 1; width = (width + 1) >>> 1) {
            int out = 0;
            for (int a = 0; a < k; a++, out++) {
                long i = pos[a];
                int at = a * Domains.HASH_BYTES;
                int to = out * Domains.HASH_BYTES; // out <= a: the inputs are read before the output is written
                if ((i & 1) == 0 && i + 1 < width && a + 1 < k && pos[a + 1] == i + 1) {
                    h.node(nodes, at, nodes, at + Domains.HASH_BYTES, nodes, to);
                    a++;
                } else if ((i & 1) == 1) {
                    h.node(siblings, s++ * Domains.HASH_BYTES, nodes, at, nodes, to);
                } else if (i + 1 < width) {
                    h.node(nodes, at, siblings, s++ * Domains.HASH_BYTES, nodes, to);
                } else if (to != at) { // the lone last node, promoted
                    System.arraycopy(nodes, at, nodes, to, Domains.HASH_BYTES);
                }
                pos[out] = i >>> 1;
            }
            k = out;
        }
        byte[] got = new byte[Domains.HASH_BYTES];
        h.root(count, nodes, got);
        if (!MessageDigest.isEqual(got, root)) {
            throw new StorageProofException(StorageProofException.Kind.ROOT_MISMATCH, "the " + indices.length + " entries (indices "
                    + indices[0] + ".." + indices[indices.length - 1] + ") and " + siblingCount() + " siblings hash to "
                    + HexFormat.of().formatHex(got) + ", not the committed root " + HexFormat.of().formatHex(root));
        }
    }

    /** The encoded form (see the class comment). */
    public byte[] encode() {
        int size = Uvarint.size(indices.length) + Uvarint.size(siblingCount()) + siblings.length;
        byte[][] cids = new byte[indices.length][];
        for (int a = 0; a < indices.length; a++) {
            cids[a] = entries.get(a).cid().toBytes();
            size += Uvarint.size(indices[a]) + Uvarint.size(cids[a].length) + cids[a].length + Uvarint.size(entries.get(a).size());
        }
        byte[] out = new byte[size];
        int o = Uvarint.write(out, 0, indices.length);
        for (int a = 0; a < indices.length; a++) {
            o = Uvarint.write(out, o, indices[a]);
            o = Uvarint.write(out, o, cids[a].length);
            System.arraycopy(cids[a], 0, out, o, cids[a].length);
            o += cids[a].length;
            o = Uvarint.write(out, o, entries.get(a).size());
        }
        o = Uvarint.write(out, o, siblingCount());
        System.arraycopy(siblings, 0, out, o, siblings.length);
        return out;
    }

    /**
     * An upper bound of the encoded size of any proof of at most {@code entries} entries (each
     * with a path of at most {@link NodeRoot#MAX_DEPTH} siblings): a limit to check before decoding.
     */
    public static int maxEncodedBytes(int entries) {
        if (entries < 1 || entries > MAX_ENTRIES) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "a proof names 1 to " + MAX_ENTRIES + " entries, not " + entries);
        }
        long siblings = (long) entries * NodeRoot.MAX_DEPTH;
        long b = Uvarint.size(entries) + (long) entries * MAX_ENTRY_BYTES + Uvarint.size(siblings) + siblings * Domains.HASH_BYTES;
        return (int) Math.min(Integer.MAX_VALUE, b);
    }

    /**
     * Decodes a proof, refusing anything but the exact canonical form; checks only the form (call
     * {@link #verify} next). Nothing is allocated beyond what {@code maxEntries} and the input's
     * own length allow.
     *
     * @param bytes the encoded proof, read in place
     * @param maxBytes the reader's limit on the encoded length (checked first, from the length alone)
     * @param maxEntries the most entries the reader accepts (e.g. the answers of a transaction)
     * @throws StorageProofException {@code TOO_LARGE}, {@code TRUNCATED}, {@code VARINT},
     *     {@code FIELD_RANGE}, {@code INDEX_ORDER}, {@code CID}, {@code TRAILING_BYTES};
     *     {@code ARGUMENT} for null bytes or {@code maxEntries} outside [1, MAX_ENTRIES]
     */
    public static EntriesProof decode(byte[] bytes, int maxBytes, int maxEntries) {
        if (bytes == null) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "bytes must not be null");
        }
        if (maxEntries < 1 || maxEntries > MAX_ENTRIES) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "the entry limit " + maxEntries + " is outside [1, " + MAX_ENTRIES + "]");
        }
        if (bytes.length > maxBytes) {
            throw new StorageProofException(StorageProofException.Kind.TOO_LARGE,
                    "an entries proof of " + bytes.length + " bytes is over the limit of " + maxBytes);
        }
        int[] pos = {0};
        long k = ProofBytes.varint(bytes, pos, "entry count");
        if (k < 1 || k > maxEntries) {
            throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE,
                    "entry count " + Long.toUnsignedString(k) + " is outside [1, " + maxEntries + "]");
        }
        if (k > (bytes.length - pos[0]) / 4) { // an entry takes at least 4 bytes
            throw new StorageProofException(StorageProofException.Kind.TRUNCATED,
                    k + " entries need at least " + 4 * k + " bytes, " + (bytes.length - pos[0]) + " are left");
        }
        long[] indices = new long[(int) k];
        List<NodeEntry> entries = new ArrayList<>((int) k);
        for (int a = 0; a < k; a++) {
            long index = ProofBytes.varint(bytes, pos, "entry " + a + "'s index");
            if (index >= NodeRoot.MAX_COUNT) {
                throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE,
                        "entry " + a + "'s index " + Long.toUnsignedString(index) + " is at or above " + NodeRoot.MAX_COUNT);
            }
            if (a > 0 && index <= indices[a - 1]) {
                throw new StorageProofException(StorageProofException.Kind.INDEX_ORDER, "entry " + a + "'s index " + index
                        + " does not follow " + indices[a - 1] + ": indices are strictly increasing");
            }
            indices[a] = index;
            long cidLength = ProofBytes.varint(bytes, pos, "entry " + a + "'s CID length");
            if (cidLength < 1 || cidLength > NodeEntry.MAX_CID_BYTES) {
                throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE, "entry " + a + "'s CID length "
                        + Long.toUnsignedString(cidLength) + " is outside [1, " + NodeEntry.MAX_CID_BYTES + "]");
            }
            byte[] cidBytes = ProofBytes.take(bytes, pos, (int) cidLength, "entry " + a + "'s CID");
            Cid cid;
            try {
                cid = Cid.fromBytes(cidBytes);
            } catch (IllegalArgumentException e) { // CidFormatException
                throw new StorageProofException(StorageProofException.Kind.CID, "entry " + a + "'s CID: " + e.getMessage(), e);
            }
            long size = ProofBytes.varint(bytes, pos, "entry " + a + "'s size");
            if (size < 0) {
                throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE,
                        "entry " + a + "'s size " + Long.toUnsignedString(size) + " is at or above 2^63");
            }
            entries.add(new NodeEntry(cid, size));
        }
        long count = ProofBytes.varint(bytes, pos, "sibling count");
        if (count < 0 || count > k * NodeRoot.MAX_DEPTH) {
            throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE, "sibling count " + Long.toUnsignedString(count)
                    + " is above " + k * NodeRoot.MAX_DEPTH + " (" + NodeRoot.MAX_DEPTH + " an entry)");
        }
        byte[] siblings = ProofBytes.take(bytes, pos, (int) count * Domains.HASH_BYTES, "siblings");
        if (pos[0] != bytes.length) {
            throw new StorageProofException(StorageProofException.Kind.TRAILING_BYTES,
                    (bytes.length - pos[0]) + " bytes follow the last sibling");
        }
        return new EntriesProof(indices, entries, siblings);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EntriesProof p && Arrays.equals(indices, p.indices) && entries.equals(p.entries)
                && Arrays.equals(siblings, p.siblings);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(indices) * 31 + entries.hashCode() * 17 + Arrays.hashCode(siblings);
    }

    @Override
    public String toString() {
        return "EntriesProof[entries=" + indices.length + ", siblings=" + siblingCount() + "]";
    }
}
