package io.oecloud.chain.ledger;

import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto.ProvenEntry;
import io.oecloud.chain.pb.ChainProto.StateProof;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The authenticated structure behind the app hash: a binary SHA-256 Merkle tree over the state's
 * entries in key order. Leaves are H(0x00 || len(key) || key || value), inner nodes
 * H(0x01 || left || right), and a last odd node is carried up unchanged; the root is
 * H(0x02 || number of leaves || top), so a proof cannot lie about the tree's size. A sorted tree rebuilt per
 * block is the simplest structure whose root is canonical (one state, one hash, whatever the
 * order of the changes) and which proves absence as well as presence (two adjacent leaves
 * around the missing key). Block to block it is updated ({@link #next}): a block that only
 * changes values hashes the changed leaves and their paths; one that adds or removes keys
 * rehashes the inner nodes (every position after the first new key moves) but keeps every
 * unchanged leaf's hash.
 */
public final class StateTree {
    /** The proof op type of a {@link io.oecloud.chain.pb.ChainProto.StateProof} in an ABCI query answer. */
    public static final String PROOF_TYPE = "oe/state/v1";

    private final List<String> keys;
    private final List<byte[]> values;
    /** levels.get(0) are the leaves; the last level holds the root alone. */
    private final List<byte[][]> levels = new ArrayList<>();

    public StateTree(Map<String, byte[]> sortedEntries) {
        this.keys = new ArrayList<>(sortedEntries.keySet());
        this.values = new ArrayList<>(sortedEntries.values());
        byte[][] level = new byte[keys.size()][];
        for (int i = 0; i < level.length; i++) {
            level[i] = leaf(keys.get(i), values.get(i));
        }
        buildInner(level);
    }

    private StateTree(List<String> keys, List<byte[]> values) {
        this.keys = keys;
        this.values = values;
    }

    /**
     * The tree of {@code sortedEntries}, which differ from {@code previous}'s only at the keys in
     * {@code changed} (changed values, new keys, removed keys): the same tree, and root, as
     * {@code new StateTree(sortedEntries)}, without hashing what did not change.
     */
    public static StateTree next(StateTree previous, java.util.SortedMap<String, byte[]> sortedEntries, java.util.Set<String> changed) {
        boolean sameKeys = sortedEntries.size() == previous.keys.size();
        for (String k : changed) {
            if (!sameKeys) {
                break;
            }
            sameKeys = sortedEntries.containsKey(k) == (Collections.binarySearch(previous.keys, k) >= 0);
        }
        if (sameKeys) { // positions stay: new leaves, and the paths above them
            StateTree t = new StateTree(previous.keys, new ArrayList<>(previous.values));
            java.util.TreeSet<Integer> dirty = new java.util.TreeSet<>();
            byte[][] level = previous.levels.get(0).clone();
            for (String k : changed) {
                int i = Collections.binarySearch(t.keys, k);
                if (i >= 0) {
                    byte[] v = sortedEntries.get(k);
                    t.values.set(i, v);
                    level[i] = leaf(k, v);
                    dirty.add(i);
                }
            }
            t.levels.add(level);
            for (int l = 1; l < previous.levels.size(); l++) {
                byte[][] below = level;
                level = previous.levels.get(l).clone();
                java.util.TreeSet<Integer> up = new java.util.TreeSet<>();
                for (int i : dirty) {
                    int p = i / 2;
                    if (up.add(p)) {
                        level[p] = 2 * p + 1 == below.length ? below[2 * p] : inner(below[2 * p], below[2 * p + 1]);
                    }
                }
                t.levels.add(level);
                dirty = up;
            }
            return t;
        }
        // keys came or went: unchanged leaves keep their hashes, the inner nodes are hashed again
        StateTree t = new StateTree(new ArrayList<>(sortedEntries.keySet()), new ArrayList<>(sortedEntries.values()));
        byte[][] leaves = new byte[t.keys.size()][];
        byte[][] old = previous.levels.get(0);
        int j = 0;
        for (int i = 0; i < leaves.length; i++) {
            String k = t.keys.get(i);
            while (j < previous.keys.size() && previous.keys.get(j).compareTo(k) < 0) {
                j++;
            }
            boolean kept = j < previous.keys.size() && previous.keys.get(j).equals(k) && !changed.contains(k);
            leaves[i] = kept ? old[j] : leaf(k, t.values.get(i));
        }
        t.buildInner(leaves);
        return t;
    }

    private void buildInner(byte[][] leaves) {
        byte[][] level = leaves;
        levels.add(level);
        while (level.length > 1) {
            byte[][] up = new byte[(level.length + 1) / 2][];
            for (int i = 0; i < level.length; i += 2) {
                up[i / 2] = i + 1 == level.length ? level[i] : inner(level[i], level[i + 1]);
            }
            levels.add(up);
            level = up;
        }
    }

    /** H(0x02 || total as 8 bytes || top of the tree): the number of leaves is bound into the hash. */
    public byte[] root() {
        byte[][] top = levels.get(levels.size() - 1);
        return bind(keys.size(), top.length == 0 ? new byte[0] : top[0]);
    }

    private static byte[] bind(long total, byte[] top) {
        MessageDigest d = sha256();
        d.update((byte) 2);
        d.update(ByteBuffer.allocate(8).putLong(total).array());
        d.update(top);
        return d.digest();
    }

    /** A proof of {@code key}'s value, or of its absence, in the state after block {@code height}. */
    public StateProof prove(String key, long height) {
        StateProof.Builder p = StateProof.newBuilder().setHeight(height).setTotal(keys.size());
        int i = Collections.binarySearch(keys, key);
        if (i >= 0) {
            return p.addEntries(entry(i)).build();
        }
        int insert = -i - 1;
        if (insert > 0) {
            p.addEntries(entry(insert - 1));
        }
        if (insert < keys.size()) {
            p.addEntries(entry(insert));
        }
        return p.build();
    }

    private ProvenEntry entry(int index) {
        ProvenEntry.Builder e = ProvenEntry.newBuilder().setKey(keys.get(index)).setValue(ByteString.copyFrom(values.get(index)))
                .setIndex(index);
        int i = index;
        for (int l = 0; l < levels.size() - 1; l++) {
            byte[][] level = levels.get(l);
            if ((i & 1) == 1) {
                e.addSiblings(ByteString.copyFrom(level[i - 1]));
            } else if (i + 1 < level.length) {
                e.addSiblings(ByteString.copyFrom(level[i + 1]));
            }
            i >>= 1;
        }
        return e.build();
    }

    /** Thrown when a proof does not hold. */
    public static final class ProofException extends Exception {
        private static final long serialVersionUID = 1L;

        ProofException(String message) {
            super(message);
        }
    }

    /**
     * Checks {@code proof} against {@code appHash} for {@code key}: returns the proven value, or
     * null when the proof shows the key is absent. Throws when the proof does not hold.
     */
    public static byte[] verify(StateProof proof, String key, byte[] appHash) throws ProofException {
        long total = proof.getTotal();
        List<ProvenEntry> es = proof.getEntriesList();
        for (ProvenEntry e : es) {
            if (e.getIndex() >= total || !Arrays.equals(bind(total, rootOf(e, total)), appHash)) {
                throw new ProofException("the proof of '" + e.getKey() + "' does not lead to the app hash");
            }
        }
        if (es.size() == 1 && es.get(0).getKey().equals(key)) {
            return es.get(0).getValue().toByteArray();
        }
        // absence: neighbours adjacent in the tree, on either side of the key, or one at an edge
        if (es.size() == 2 && es.get(0).getIndex() + 1 == es.get(1).getIndex()
                && es.get(0).getKey().compareTo(key) < 0 && es.get(1).getKey().compareTo(key) > 0) {
            return null;
        }
        if (es.size() == 1 && es.get(0).getIndex() == 0 && es.get(0).getKey().compareTo(key) > 0) {
            return null;
        }
        if (es.size() == 1 && es.get(0).getIndex() == total - 1 && es.get(0).getKey().compareTo(key) < 0) {
            return null;
        }
        if (es.isEmpty() && total == 0 && Arrays.equals(bind(0, new byte[0]), appHash)) {
            return null;
        }
        throw new ProofException("the proof neither shows '" + key + "' nor its absence");
    }

    private static byte[] rootOf(ProvenEntry e, long total) throws ProofException {
        byte[] h = leaf(e.getKey(), e.getValue().toByteArray());
        long i = e.getIndex();
        long n = total;
        int s = 0;
        while (n > 1) {
            if ((i & 1) == 1) {
                h = inner(sibling(e, s++), h);
            } else if (i + 1 < n) {
                h = inner(h, sibling(e, s++));
            }
            i >>= 1;
            n = (n + 1) / 2;
        }
        if (s != e.getSiblingsCount()) {
            throw new ProofException("the proof of '" + e.getKey() + "' has " + e.getSiblingsCount() + " siblings, the tree needs " + s);
        }
        return h;
    }

    private static byte[] sibling(ProvenEntry e, int s) throws ProofException {
        if (s >= e.getSiblingsCount() || e.getSiblings(s).size() != 32) {
            throw new ProofException("the proof of '" + e.getKey() + "' is missing a sibling");
        }
        return e.getSiblings(s).toByteArray();
    }

    static byte[] leaf(String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        MessageDigest d = sha256();
        d.update((byte) 0);
        d.update(ByteBuffer.allocate(4).putInt(k.length).array());
        d.update(k);
        d.update(value);
        return d.digest();
    }

    private static byte[] inner(byte[] left, byte[] right) {
        MessageDigest d = sha256();
        d.update((byte) 1);
        d.update(left);
        d.update(right);
        return d.digest();
    }

    private static MessageDigest sha256() {
        return LedgerState.sha256();
    }
}
