package io.oecloud.chain.node;

import io.oecloud.chain.ledger.Block;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.ledger.StateTree;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The committed state and how a block becomes it: a finalized block's entries (the committed
 * ones with the block's changes), its {@link StateTree} and app hash, built from what the block
 * changed (only those leaves and their paths are hashed again), and at Commit the one synced
 * RocksDB batch that writes them with the height ({@link LedgerStore}). Tests set
 * {@code -Doe.ledger.crossCheck=true}: each block's entries and app hash are then compared with
 * ones built from the whole state.
 *
 * <p>Threading: not thread-safe; called under the {@link LedgerApp}'s monitor.
 */
final class BlockCommitter {
    private static final boolean CROSS_CHECK = Boolean.getBoolean("oe.ledger.crossCheck");

    private final LedgerStore store;
    private LedgerState committed;
    /** The committed state's entries (null after a restart until the first block needs them). */
    private TreeMap<String, byte[]> committedEntries;
    /** The committed state's tree, for proofs (built on first use after a restart). */
    private StateTree committedTree;
    /** The block FinalizeBlock built, until Commit writes it (null otherwise). */
    private Finalized finalized;

    /**
     * A block finalized but not yet committed: the state after it, its transactions' hashes and
     * results in the block's order, its entries, the entry keys written or removed, its tree and
     * app hash.
     */
    record Finalized(LedgerState state, List<String> hashes, List<Ledger.Result> results, TreeMap<String, byte[]> entries,
                     Set<String> changed, StateTree tree, byte[] appHash) {
    }

    /** Loads the committed state from {@code store} (which stays the caller's to close). */
    BlockCommitter(LedgerStore store) throws IOException {
        this.store = store;
        this.committed = store.load();
    }

    LedgerState committed() {
        return committed;
    }

    /** The committed block's app hash (empty before the first block), as Info reports it. */
    byte[] appHash() throws IOException {
        return committed.height() == 0 ? new byte[0] : store.appHash();
    }

    /** The committed state's tree (built from its entries on first use after a restart). */
    StateTree tree() {
        if (committedTree == null) {
            committedTree = new StateTree(committed.entries());
        }
        return committedTree;
    }

    /** Commits a genesis state (InitChain runs on an empty store) and returns its app hash. */
    byte[] genesis(LedgerState s) throws IOException {
        Map<String, byte[]> entries = s.entries();
        StateTree tree = new StateTree(entries);
        byte[] hash = tree.root();
        store.commit(entries, entries.keySet(), s.height(), hash);
        committedEntries = new TreeMap<>(entries);
        committed = s;
        committedTree = tree;
        return hash;
    }

    /**
     * The app hash of {@code block} (ended) on top of the committed state, kept with
     * {@code hashes} and {@code results} until {@link #commit}.
     */
    byte[] finish(Block block, List<String> hashes, List<Ledger.Result> results) {
        finalized = null;
        LedgerState working = block.state();
        if (committedEntries == null) { // the first block after a restart
            committedEntries = new TreeMap<>(committed.entries());
        }
        if (committedTree == null) {
            committedTree = new StateTree(committedEntries);
        }
        TreeMap<String, byte[]> entries = new TreeMap<>(committedEntries);
        for (String k : block.changed()) {
            byte[] v = working.entry(k);
            if (v == null) {
                entries.remove(k);
            } else {
                entries.put(k, v);
            }
        }
        Map<String, byte[]> scalars = working.scalarEntries();
        entries.putAll(scalars);
        Set<String> changed = new HashSet<>(block.changed());
        changed.addAll(scalars.keySet());
        StateTree tree = StateTree.next(committedTree, entries, changed);
        byte[] hash = tree.root();
        if (CROSS_CHECK) {
            crossCheck(working, entries, hash);
        }
        finalized = new Finalized(working, hashes, results, entries, changed, tree, hash);
        return hash;
    }

    /** The block's entries and app hash as the whole state gives them, against what was built from the changes. */
    private static void crossCheck(LedgerState working, TreeMap<String, byte[]> entries, byte[] hash) {
        Map<String, byte[]> full = working.entries();
        boolean same = full.size() == entries.size();
        for (Map.Entry<String, byte[]> e : full.entrySet()) {
            if (!same) {
                break;
            }
            same = Arrays.equals(e.getValue(), entries.get(e.getKey()));
        }
        if (!same || !Arrays.equals(new StateTree(full).root(), hash)) {
            Set<String> differ = new TreeSet<>(full.keySet());
            differ.addAll(entries.keySet());
            differ.removeIf(k -> Arrays.equals(full.get(k), entries.get(k)));
            throw new IllegalStateException("block " + working.height() + ": the entries or app hash built from the block's changes differ"
                    + " from the whole state's; entries that differ: " + differ.stream().limit(10).toList());
        }
    }

    /**
     * Writes the finalized block (atomically, with its height: a crash before this replays the
     * block) and makes it the committed state. Returns what was committed.
     */
    Finalized commit() throws IOException {
        Finalized f = finalized;
        if (f == null) {
            throw new IllegalStateException("Commit without FinalizeBlock");
        }
        store.commit(f.entries(), f.changed(), f.state().height(), f.appHash());
        committedEntries = f.entries();
        committed = f.state();
        committedTree = f.tree();
        finalized = null;
        return f;
    }
}
