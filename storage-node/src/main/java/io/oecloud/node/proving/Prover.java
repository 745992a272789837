package io.oecloud.node.proving;

import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.EntriesProof;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The storage node's side of proofs of storage: commits to what the store holds for a proving
 * period and answers the period's challenges from the store.
 *
 * <pre>{@code
 * Prover prover = new Prover(store);
 * Commitment c = prover.commit(period);                    // before the period's seed exists
 * // ... the chain client submits (c.root(), c.count()); later the seed is final:
 * Answer a = prover.answer(period, seed, nodeId, 32);      // verified here before it is returned
 * // ... the chain client submits a.entries() and a.proofs()' slices and declares a.faults(); once the period ends:
 * prover.release(period);
 * }</pre>
 *
 * <p>Durable state is the store's: {@link ShardStore#hold} keeps the committed entries per period
 * (synced, surviving restarts) and the root is a pure function of them, so after a restart
 * {@link #answer} rebuilds the tree of any period still held. The last {@link #CACHED_PERIODS}
 * trees stay in memory (entries and levels: about 240 bytes an entry, 24 MB for 100,000 shards).
 *
 * <p>Thread-safe.
 */
public final class Prover {
    private static final System.Logger LOG = System.getLogger(Prover.class.getName());

    /** Period trees kept in memory; older periods are rebuilt from the store's hold when asked. */
    public static final int CACHED_PERIODS = 2;
    /** Dropped shards remembered between two {@link #scrubFaults} calls; beyond, the oldest go (logged). */
    public static final int MAX_REMEMBERED_FAULTS = 65_536;

    private record Committed(Commitment commitment, NodeRoot tree) {}

    private final ShardStore store;
    /** Which entries a commitment takes (all, without paid storage). */
    private final java.util.function.Predicate<Cid> include;
    /** What a commitment must take whether the store has it or not: the blocks contracts pay for in a period. */
    private final java.util.function.LongFunction<java.util.Collection<NodeEntry>> owed;
    /** Access-ordered, at most {@link #CACHED_PERIODS} (guarded by itself). */
    private final Map<Long, Committed> trees = new LinkedHashMap<>(4, 0.75f, true);
    /**
     * Held by whatever makes a tree from the store's hold or releases one (commit, a cache miss,
     * release), so a released period is never cached again. Answers from a cached tree do not take it.
     */
    private final Object loading = new Object();
    /** Shards the store dropped since the last {@link #scrubFaults} (guarded by itself). */
    private final Set<Cid> dropped = new LinkedHashSet<>();

    /** A prover over {@code store}; it listens to the store's drops for {@link #scrubFaults}. */
    public Prover(ShardStore store) {
        this(store, c -> true);
    }

    /**
     * A prover that commits to the store's entries {@code include} accepts only: on a node that
     * sells storage, the blocks its contracts cover ({@code contracts.Coverage#covers}); blocks
     * admitted provisionally are neither paid nor proven.
     */
    public Prover(ShardStore store, java.util.function.Predicate<Cid> include) {
        this(store, include, period -> List.of());
    }

    /**
     * A prover for a node that sells storage: each period's root names exactly the blocks its
     * contracts pay it for in that period ({@code contracts.Coverage#owed}), those it holds with the
     * store's size and those it lost as the contract names them ({@link #absent}, declared as
     * faults). Blocks admitted provisionally, or whose contract ended, are neither proven nor paid.
     */
    public static Prover ofContracts(ShardStore store, java.util.function.LongFunction<java.util.Collection<NodeEntry>> owed) {
        return new Prover(store, cid -> false, owed);
    }

    /**
     * A prover that commits to the store's entries {@code include} accepts and to every entry
     * {@code owed(period)} names, held or not: on a node that sells storage, the blocks its
     * contracts pay it for in that period ({@code contracts.Coverage#owed}). A paid block the store
     * lost stays in the root and is declared ({@link #absent}): the chain sees the loss (a fault,
     * repair) instead of paying for blocks that quietly left the root.
     */
    public Prover(ShardStore store, java.util.function.Predicate<Cid> include,
                  java.util.function.LongFunction<java.util.Collection<NodeEntry>> owed) {
        this.store = Objects.requireNonNull(store, "store");
        this.include = Objects.requireNonNull(include, "include");
        this.owed = Objects.requireNonNull(owed, "owed");
        store.onCorrupt(this::droppedByStore);
    }

    /**
     * Commits to the store's entries for {@code period}: holds them ({@link ShardStore#hold}, so
     * none is collected before {@link #release}) and builds the node root over them. Idempotent: a
     * period committed before (also before a restart) gives the same commitment, whatever the store
     * took in or lost since.
     *
     * @throws ProvingException STORE when the store fails
     * @throws IllegalArgumentException for a negative period
     */
    public Commitment commit(long period) throws ProvingException {
        synchronized (trees) {
            Committed c = trees.get(period);
            if (c != null) {
                return c.commitment();
            }
        }
        synchronized (loading) {
            ShardStore.Held held;
            try {
                held = store.hold(period, include, owed.apply(period));
            } catch (StoreException e) {
                throw new ProvingException(ProvingException.Code.STORE, "cannot hold the entries of period " + period
                        + ": " + e.getMessage(), e);
            }
            return remember(held).commitment();
        }
    }

    /**
     * The commitment made for {@code period}, or null when it was never committed here (or was released).
     *
     * @throws ProvingException STORE when the store fails
     */
    public Commitment commitment(long period) throws ProvingException {
        Committed c = committed(period);
        return c == null ? null : c.commitment();
    }

    /**
     * Answers challenges {@code 0..c-1} of {@code period} ({@link Challenges#derive}) from the
     * committed tree and the store: one {@link EntriesProof} of the challenged entries (each
     * sibling hash once) and, for each challenge, a proof of the challenged 1 KiB chunk
     * ({@link ShardStore#prove}, reading one 16 KiB group and the outboard). A challenged shard
     * that cannot be proven (its file lost, its bytes corrupt, or unreadable) is a fault, named
     * once, instead of failing the answer: its challenges carry no slice (the chain accepts that
     * only for an entry declared faulty before the seed). Every proof is decoded from its encoding
     * and verified against the commitment and the challenges before the answer is returned.
     * A period of 0 entries has nothing to answer: no proofs, no faults.
     *
     * @param seed the period's (window's) 32-byte seed from the chain
     * @param nodeId the node's ID bytes, as the chain derives the challenges with (the ASCII bytes
     *     of the node's account address, its base58 peer ID)
     * @param c challenges, in {@code [1, Challenges.MAX_PER_PERIOD]}
     * @throws ProvingException NOT_COMMITTED; STORE when the store is closed; INVALID_ANSWER when a
     *     proof made here does not verify (a bug: nothing of the answer is returned)
     * @throws IllegalArgumentException for a bad seed, node ID or {@code c} (the message names it)
     */
    public Answer answer(long period, byte[] seed, byte[] nodeId, int c) throws ProvingException {
        if (c < 1 || c > Challenges.MAX_PER_PERIOD) {
            throw new IllegalArgumentException("challenge count " + c + " is outside [1, " + Challenges.MAX_PER_PERIOD + "]");
        }
        Committed committed = committed(period);
        if (committed == null) {
            throw new ProvingException(ProvingException.Code.NOT_COMMITTED, "period " + period
                    + " was not committed here (or its hold was released)");
        }
        Commitment commitment = committed.commitment();
        if (commitment.count() == 0) {
            Challenges.derive(seed, nodeId, period, 1, c); // the same argument checks as a real answer
            return new Answer(commitment, c, List.of(), new byte[0], List.of());
        }
        byte[] root = commitment.root();
        List<Challenge> challenges = Challenges.derive(seed, nodeId, period, commitment.count(), c);
        List<Answer.Proof> proofs = new ArrayList<>(c);
        Set<Cid> faults = new LinkedHashSet<>();
        long[] picked = new long[c];
        for (Challenge ch : challenges) {
            NodeEntry entry = committed.tree().entries().get((int) ch.entry());
            picked[ch.j()] = ch.entry();
            long chunk = ch.chunk(entry.size());
            SliceProof slice = null;
            if (!faults.contains(entry.cid())) {
                try {
                    slice = store.prove(entry.cid(), chunk, 1);
                } catch (StoreException e) {
                    if (e.code() == StoreException.Code.CLOSED) {
                        throw new ProvingException(ProvingException.Code.STORE, "cannot answer period " + period + ": "
                                + e.getMessage(), e);
                    }
                    LOG.log(System.Logger.Level.WARNING, "period {0}: challenge {1} names shard {2}, which cannot be "
                            + "proven ({3}: {4}); reported as a fault", period, ch.j(), entry.cid(), e.code(), e.getMessage());
                    faults.add(entry.cid());
                }
            }
            proofs.add(new Answer.Proof(ch.j(), ch.entry(), entry, slice == null ? null : slice.encode()));
        }
        byte[] entries = committed.tree().proveEntries(picked).encode();
        EntriesProof proven = checkEntries(entries, root, commitment.count(), picked, period, "challenges 0 to " + (c - 1));
        for (int j = 0; j < c; j++) {
            check(proofs.get(j), proven.entry(picked[j]), challenges.get(j), period);
        }
        return new Answer(commitment, c, proofs, entries, List.copyOf(faults));
    }

    /**
     * The entries proof of challenges {@code from .. to-1} of {@code answer} alone: what a
     * SubmitProof carrying only those answers needs (the chain wants exactly the entries of its own
     * challenges), verified before it is returned.
     *
     * @throws ProvingException NOT_COMMITTED when the answer's period is no longer held (or was
     *     committed to another root); INVALID_ANSWER when the proof does not verify (a bug)
     * @throws IllegalArgumentException for a range outside {@code [0, proofs)} or an empty one
     */
    public byte[] entries(Answer answer, int from, int to) throws ProvingException {
        if (from < 0 || to > answer.proofs().size() || from >= to) {
            throw new IllegalArgumentException("challenges [" + from + ", " + to + ") of " + answer.proofs().size());
        }
        long period = answer.commitment().period();
        if (from == 0 && to == answer.proofs().size()) {
            return answer.entries();
        }
        Committed committed = committed(period);
        if (committed == null || !java.util.Arrays.equals(committed.commitment().root(), answer.commitment().root())) {
            throw new ProvingException(ProvingException.Code.NOT_COMMITTED, "period " + period
                    + " is not held here with the answer's root (released?)");
        }
        long[] picked = new long[to - from];
        for (int j = from; j < to; j++) {
            picked[j - from] = answer.proofs().get(j).index();
        }
        byte[] entries = committed.tree().proveEntries(picked).encode();
        checkEntries(entries, answer.commitment().root(), answer.commitment().count(), picked, period,
                "challenges " + from + " to " + (to - 1));
        return entries;
    }

    /** Decodes and verifies an entries proof made here, as the chain will. */
    private static EntriesProof checkEntries(byte[] entries, byte[] root, long count, long[] picked, long period, String what)
            throws ProvingException {
        try {
            EntriesProof p = EntriesProof.decode(entries, entries.length, picked.length);
            p.verify(root, count, picked);
            return p;
        } catch (IllegalArgumentException e) { // StorageProofException
            throw new ProvingException(ProvingException.Code.INVALID_ANSWER, "period " + period + ", " + what
                    + ": the entries proof built here does not verify: " + e.getMessage(), e);
        }
    }

    /**
     * Checks a proof as a verifier would, from its bytes: the entry is the one the entries proof
     * proves at the challenged index, and the slice is the challenged chunk of that entry's shard.
     */
    private static void check(Answer.Proof p, NodeEntry e, Challenge ch, long period) throws ProvingException {
        try {
            if (!e.equals(p.entry()) || p.index() != ch.entry()) {
                throw new IllegalArgumentException("the proof names entry " + p.index() + " (" + p.entry()
                        + "), the entries proof has " + e + " at challenged entry " + ch.entry());
            }
            if (p.slice() == null) {
                return; // a fault: the entry alone (in the entries proof)
            }
            SliceProof slice = SliceProof.decode(p.slice(), p.slice().length);
            long chunk = ch.chunk(e.size());
            if (slice.firstChunk() != chunk || slice.chunkCount() != 1) {
                throw new IllegalArgumentException("the slice covers chunks [" + slice.firstChunk() + ", "
                        + (slice.firstChunk() + slice.chunkCount()) + "), the challenge asks for chunk " + chunk);
            }
            slice.verify(e.cid(), e.size());
        } catch (IllegalArgumentException x) { // StorageProofException and SliceProofException are ones
            throw new ProvingException(ProvingException.Code.INVALID_ANSWER, "period " + period + ", challenge " + ch.j()
                    + ": the answer built here does not verify: " + x.getMessage(), x);
        }
    }

    /**
     * Releases {@code period}'s hold (once the period is over on the chain): its shards may be
     * collected again, and the period can no longer be answered.
     *
     * @return whether the period was held
     * @throws ProvingException STORE when the store fails
     */
    public boolean release(long period) throws ProvingException {
        synchronized (loading) { // no answer can load the period's tree from the hold meanwhile and cache it again
            try {
                return store.release(period) >= 0;
            } catch (StoreException e) {
                throw new ProvingException(ProvingException.Code.STORE, "cannot release period " + period + ": "
                        + e.getMessage(), e);
            } finally {
                synchronized (trees) {
                    trees.remove(period);
                }
            }
        }
    }

    /**
     * The periods committed and not yet released, ascending (after a restart: what to answer or release).
     *
     * @throws ProvingException STORE when the store fails
     */
    public List<Long> committedPeriods() throws ProvingException {
        try {
            return store.heldPeriods();
        } catch (StoreException e) {
            throw new ProvingException(ProvingException.Code.STORE, "cannot list held periods: " + e.getMessage(), e);
        }
    }

    /**
     * The CIDs of shards the store dropped (scrub, or a read or proof that found them lost or
     * corrupt) since the last call, that a committed period still holds: the faults the node
     * declares (for the periods {@link ShardStore#heldBy} names whose windows have not begun).
     * Shards no committed root names are left out (nothing to declare).
     *
     * @throws ProvingException STORE when the store fails
     */
    public List<Cid> scrubFaults() throws ProvingException {
        List<Cid> all;
        synchronized (dropped) {
            all = List.copyOf(dropped);
            dropped.clear();
        }
        List<Cid> held = new ArrayList<>();
        try {
            for (Cid cid : all) {
                if (store.isHeld(cid)) {
                    held.add(cid);
                }
            }
        } catch (StoreException e) {
            synchronized (dropped) {
                dropped.addAll(all); // asked again next time
            }
            throw new ProvingException(ProvingException.Code.STORE, "cannot check held shards: " + e.getMessage(), e);
        }
        return held;
    }

    /**
     * The entries committed for {@code period} that the store has no record of (lost and dropped
     * before or after the commitment, or committed because a contract pays for them): faults to
     * declare before the period's window. Empty when the period is not committed here. One index
     * read an entry ({@link ShardStore#metadata}, no file is touched), asked once a period.
     *
     * @throws ProvingException STORE when the store fails
     */
    public List<Cid> absent(long period) throws ProvingException {
        Committed c = committed(period);
        if (c == null) {
            return List.of();
        }
        List<Cid> out = new ArrayList<>();
        try {
            for (NodeEntry e : c.tree().entries()) {
                if (store.metadata(e.cid()) == null) {
                    out.add(e.cid());
                }
            }
        } catch (StoreException e) {
            throw new ProvingException(ProvingException.Code.STORE, "cannot check the entries of period " + period + ": "
                    + e.getMessage(), e);
        }
        return out;
    }

    /** The committed entries of {@code period} in CID order, or null: for tests. */
    List<NodeEntry> entries(long period) throws ProvingException {
        Committed c = committed(period);
        return c == null ? null : c.tree().entries();
    }

    private void droppedByStore(Cid cid) {
        synchronized (dropped) {
            if (dropped.size() >= MAX_REMEMBERED_FAULTS) {
                Cid oldest = dropped.iterator().next();
                dropped.remove(oldest);
                LOG.log(System.Logger.Level.WARNING, "more than {0} dropped shards not yet declared; forgetting {1}",
                        MAX_REMEMBERED_FAULTS, oldest);
            }
            dropped.add(cid);
        }
    }

    private Committed committed(long period) throws ProvingException {
        synchronized (trees) {
            Committed c = trees.get(period);
            if (c != null) {
                return c;
            }
        }
        synchronized (loading) {
            synchronized (trees) {
                Committed c = trees.get(period); // loaded by another caller meanwhile
                if (c != null) {
                    return c;
                }
            }
            return load(period);
        }
    }

    /** Rebuilds a period's tree from the store's hold (holding {@link #loading}); null when not held. */
    private Committed load(long period) throws ProvingException {
        ShardStore.Held held;
        try {
            held = store.held(period);
        } catch (StoreException e) {
            throw new ProvingException(ProvingException.Code.STORE, "cannot read the hold of period " + period + ": "
                    + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            return null; // a negative period was never committed
        }
        if (held == null) {
            return null;
        }
        try {
            return remember(held);
        } catch (IllegalArgumentException e) { // StorageProofException: entries out of order, a damaged hold
            throw new ProvingException(ProvingException.Code.STORE, "the hold of period " + period
                    + " does not make a node root: " + e.getMessage(), e);
        }
    }

    private Committed remember(ShardStore.Held held) {
        NodeRoot tree = NodeRoot.build(held.entries()); // sorted and unique: the store's key order
        Committed c = new Committed(new Commitment(held.period(), tree.root(), tree.count(), held.unprovable()), tree);
        synchronized (trees) {
            trees.put(held.period(), c);
            while (trees.size() > CACHED_PERIODS) {
                trees.remove(trees.keySet().iterator().next());
            }
        }
        return c;
    }
}
