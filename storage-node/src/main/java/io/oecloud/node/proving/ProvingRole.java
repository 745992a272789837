package io.oecloud.node.proving;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.client.CometRpc;
import io.oecloud.chain.ledger.Storage;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.ProofAnswer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.Windows;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A storage node's proving role: proves on OEChain, by itself, that it holds what it committed to
 * ({@link Prover} over the node's {@link ShardStore}; chain-bridge's {@code Storage} rules).
 *
 * <p>One daemon thread runs {@link #tick} every {@code every} (never two at once); a tick that
 * fails is caught, counted and shown in {@link #status}, and the next one starts over from what
 * the chain says. Each tick reads the chain's height (CometBFT's {@code /status}) and this node's
 * record ({@code /storage-node}: collateral, counts, roots with their window seeds, fault lists),
 * then, judging every transaction by the next block (the mempool's check state is at height + 1):
 * <ol>
 *   <li>registers the node ({@code RegisterStorageNode}, the configured collateral or the chain's
 *       minimum) when the chain does not know it, and tops the collateral up to that amount when
 *       penalties left the node inactive (below the minimum); nothing else in that tick. A node
 *       whose record says it is leaving ({@code UnregisterStorageNode}, e.g. {@code oe chain
 *       storage-unregister}) is neither topped up nor registered again by this role (not even once
 *       its withdrawal has matured and the chain forgot it, nor after a restart: {@link #leftMarker}
 *       keeps it on disk); see {@link #standing};
 *   <li>declares the shards the store dropped since the last tick ({@link Prover#scrubFaults}) for
 *       each committed period still holding them whose window has not begun, and, once a period's
 *       root is on the chain, the entries it committed that the store does not have
 *       ({@link Prover#absent}: blocks a contract pays for that were lost before the commitment)
 *       ({@code DeclareFaults}, at most 1,024 a transaction), kept and retried until declared or too late;
 *   <li>commits the root for the next period ({@link Prover#commit}, {@code CommitRoot}) while
 *       the next block is at most {@code P·(p+1) − commitDeadline}, unless the node is leaving;
 *   <li>answers each open root whose window is open and whose seed the chain recorded:
 *       {@link Prover#answer} once per period, the answers from {@code first} = those accepted so
 *       far, in ONE {@code SubmitProof} (one entries proof for all of them, a slice each) when it
 *       fits in {@link #MAX_SUBMIT_PROOF_BYTES} (it does at c = 32 for 100,000 entries of 8 MiB
 *       shards: about 59 KB), split into several, each with the entries proof of its own
 *       challenges ({@link Prover#entries}), only when it does not; retried each tick until the
 *       root is proven or the window closes (a leaving node too: leaving does not end the periods it
 *       committed); an entry declared faulty is answered without its slice (also when repair put the
 *       shard back since); an answer naming a fault not declared before the seed cannot be accepted and is
 *       not sent (the window is missed; the dropped shards are declared for later periods);
 *   <li>releases the holds of periods that ended ({@link Prover#release}).
 * </ol>
 */
public final class ProvingRole implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ProvingRole.class.getName());

    /**
     * The most bytes a {@code SubmitProof} message may take: the chain's transaction limit less room
     * for the rest of the signed transaction (chain ID, sender, nonce, fee, signature and their
     * framing: about 150 bytes).
     */
    public static final int MAX_SUBMIT_PROOF_BYTES = io.oecloud.chain.ledger.Ledger.MAX_TX_BYTES - 1024;
    /** CIDs per {@code DeclareFaults} transaction (the ledger's limit). */
    public static final int MAX_CIDS_PER_DECLARATION = 1024;

    /** What a tick does after reading the node's record ({@link #standing}). */
    enum Standing {
        /** The chain does not know the node: register it. */
        REGISTER,
        /** Penalties left it inactive below the collateral it should hold: top it up. */
        TOP_UP,
        /** Registered: declare faults, commit the next root, answer the open windows. */
        PROVE,
        /** Unregistered, its collateral withdrawing: declare faults and answer the committed periods, commit nothing. */
        LEAVING,
        /** It left (this role saw it leaving) and the chain forgot it: nothing more, never registering again. */
        LEFT
    }

    /**
     * The rule of a tick's first step: {@code rec} is the node's record (null: not registered),
     * {@code left} whether this role saw it leaving before, {@code target} the collateral it keeps.
     */
    static Standing standing(JsonNode rec, boolean left, BigInteger target) {
        if (rec == null) {
            return left ? Standing.LEFT : Standing.REGISTER;
        }
        if (rec.path("leaving").asBoolean(false)) {
            return Standing.LEAVING;
        }
        BigInteger held = new BigInteger(rec.path("collateral").asText("0"));
        return !rec.path("active").asBoolean(true) && held.compareTo(target) < 0 ? Standing.TOP_UP : Standing.PROVE;
    }

    /** The chain's storage parameters this role follows. */
    record Params(long periodBlocks, int windows, int challenges, BigInteger minCollateral, long commitDeadline) {
        Windows windowing() {
            return new Windows(periodBlocks, windows);
        }
    }

    private final ChainClient client;
    private final List<CometRpc> rpcs = new ArrayList<>();
    private final Prover prover;
    private final ShardStore store;
    private final BigInteger collateral;
    /** The ask to publish (null: none), and whether the chain has it (read or sent since this role started). */
    private volatile BigInteger ask;
    private volatile boolean askPublished;
    private final long capacity;
    private final String address;
    private final byte[] nodeId;
    private final ScheduledExecutorService timer;

    private final Counter built;
    private final Counter submitted;
    private final Counter accepted;
    private final Counter failed;
    private final Counter proofBytes;
    private final Timer buildTime;

    private Params params; // the tick thread's
    private long handled = -1; // the tick thread's: the height of the last round that went through
    private long lastAnsweredTried = -1; // the tick thread's: the period whose answer was built last
    private Answer lastAnswer; // the tick thread's
    private List<ChainProto.ContractAnswer> lastContractAnswers; // the tick thread's: lastAnswer's contract answers, null until built
    private final Map<Long, Set<Cid>> toDeclare = new TreeMap<>(); // the tick thread's
    private final Set<Long> absentChecked = new java.util.HashSet<>(); // the tick thread's: periods whose absent entries were queued
    private final AtomicLong ticks = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong topUps = new AtomicLong();
    private volatile JsonNode record; // the chain's record of this node as last read (null: not registered or not read)
    private volatile boolean recordRead;
    private volatile boolean left; // this role saw the node's record leaving: it never registers it again
    private volatile java.nio.file.Path leftMarker; // where "left" outlives the process (null: memory only)
    private volatile long height = -1;
    private volatile long lastCommitted = -1;
    private volatile long lastAnswered = -1;
    private volatile String lastError;
    private volatile Instant lastErrorAt;

    /**
     * A role over {@code prover} (and its {@code store}), sending through {@code client}, reading the
     * chain from {@code rpc}; not started.
     *
     * @param collateral base units to bond at registration, or null for the chain's minimum
     * @param capacity the capacity the node registers with (bytes)
     */
    public ProvingRole(ChainClient client, List<InetSocketAddress> rpc, Prover prover, ShardStore store, MeterRegistry registry,
            BigInteger collateral, long capacity) {
        this.client = client;
        for (InetSocketAddress a : rpc) {
            rpcs.add(new CometRpc(a, 10_000));
        }
        this.prover = prover;
        this.store = store;
        this.collateral = collateral;
        this.capacity = capacity;
        this.address = client.address();
        this.nodeId = Storage.nodeId(address);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "oe-proving");
            t.setDaemon(true);
            return t;
        });
        built = Counter.builder("oe_proofs_built_total").description("Period answers built (challenges answered from the store)")
                .register(registry);
        submitted = Counter.builder("oe_proofs_submitted_total").description("SubmitProof transactions sent").register(registry);
        accepted = Counter.builder("oe_proofs_accepted_total").description("SubmitProof transactions the chain accepted")
                .register(registry);
        failed = Counter.builder("oe_proofs_failed_total")
                .description("SubmitProof transactions refused or unsent, and answers that could not be built or sent").register(registry);
        proofBytes = Counter.builder("oe_proof_bytes_total").description("Proof bytes (entries proofs and slices) the chain accepted")
                .register(registry);
        buildTime = Timer.builder("oe_proof_build_seconds").description("Time to build a period's answer (and verify it)")
                .register(registry);
    }

    /**
     * Keeps "this node left" in {@code marker} (the node's data directory's {@link #LEFT_MARKER}),
     * so a restarted node does not register itself again once the chain has forgotten it: written
     * when the role first sees its record leaving, read here. Deleting the file lets it register
     * again.
     */
    /**
     * The price this node asks (base units per GiB per period), published with its registration and
     * again whenever the chain's record of it differs (a restart with another {@code storage-ask});
     * null publishes none.
     */
    public ProvingRole asking(BigInteger ask) {
        this.ask = ask;
        return this;
    }

    public ProvingRole leftMarker(java.nio.file.Path marker) {
        this.leftMarker = marker;
        if (java.nio.file.Files.exists(marker)) {
            left = true;
        }
        return this;
    }

    /** The file, in the node's data directory, that says the node left the chain's storage nodes. */
    public static final String LEFT_MARKER = "proving-left";

    /** Starts ticking every {@code every}, the first tick now. */
    public ProvingRole start(Duration every) {
        timer.scheduleWithFixedDelay(this::tick, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** One round: never throws (a periodic task that never dies); a failure is counted and shown. */
    void tick() {
        ticks.incrementAndGet();
        try {
            step();
        } catch (Exception | Error e) {
            errors.incrementAndGet();
            lastError = e.getMessage() == null ? e.toString() : e.getMessage();
            lastErrorAt = Instant.now();
            LOG.log(System.Logger.Level.WARNING, "proving: " + lastError, e instanceof IOException ? null : e);
        }
    }

    private void step() throws IOException, ProvingException, StoreException {
        if (params == null) {
            JsonNode p = query("/params", "");
            if (p == null) {
                throw new IOException("the chain did not answer its parameters (/params)");
            }
            JsonNode s = p.path("storage");
            params = new Params(s.path("periodBlocks").asLong(), s.path("windows").asInt(), s.path("challenges").asInt(),
                    new BigInteger(s.path("minCollateral").asText("0")), s.path("commitDeadline").asLong(1));
        }
        long h = read(rpc -> rpc.get("/status").join().at("/result/sync_info/latest_block_height").asLong(-1), "the chain's height");
        if (h < 0) {
            throw new IOException("the chain's status named no height");
        }
        if (h == handled) {
            return; // no new block since the last round that went through
        }
        height = h;
        JsonNode rec = query("/storage-node", address);
        record = rec;
        recordRead = true;
        BigInteger target = collateral == null ? params.minCollateral() : collateral.max(params.minCollateral());
        Standing standing = standing(rec, left, target);
        if (standing == Standing.LEAVING && !left) {
            left = true;
            rememberLeft(rec.path("withdrawAt").asLong());
            LOG.log(System.Logger.Level.INFO, "unregistered: no new roots; answering the committed periods until the collateral returns at block "
                    + rec.path("withdrawAt").asLong());
        }
        if (standing == Standing.LEFT) { // every period it committed has ended: release their holds, and nothing more
            for (long p : prover.committedPeriods()) {
                prover.release(p);
            }
            handled = h;
            return;
        }
        if (standing == Standing.REGISTER) {
            BigInteger bond = collateral == null ? params.minCollateral() : collateral;
            client.submit(ChainClient.registerStorageNodeTx(capacity, bond, ask));
            LOG.log(System.Logger.Level.INFO, "registered as a storage node with " + bond + " base units of collateral"
                    + (ask == null ? "" : ", asking " + ask + " base units per GiB per period"));
            askPublished = true;
            return;
        }
        if (ask != null && !askPublished && standing != Standing.LEAVING && publishAsk()) {
            return;
        }
        BigInteger held = new BigInteger(rec.path("collateral").asText("0"));
        if (standing == Standing.TOP_UP) {
            // penalties took the collateral below the minimum: registering again tops it up and reactivates the node
            BigInteger topUp = target.subtract(held);
            client.submit(TxBody.newBuilder().setRegisterStorageNode(ChainProto.RegisterStorageNode.newBuilder().setCapacity(capacity)
                    .setCollateral(ByteString.copyFrom(io.oecloud.chain.ledger.Amounts.encode(topUp)))));
            topUps.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "collateral " + held + " fell below the chain's minimum: topped up by " + topUp);
            return;
        }
        long next = h + 1; // the earliest block a transaction sent now can be in
        Windows windows = params.windowing();
        long current = windows.period(next);
        Map<Long, JsonNode> roots = new TreeMap<>();
        for (JsonNode r : rec.path("roots")) {
            roots.put(r.path("period").asLong(), r);
        }
        Map<Long, Set<String>> declared = new TreeMap<>();
        for (JsonNode f : rec.path("faults")) {
            Set<String> cids = new LinkedHashSet<>();
            f.path("cids").forEach(c -> cids.add(c.asText()));
            declared.put(f.path("period").asLong(), cids);
        }
        declareFaults(next, roots, declared);
        commitNext(next, current, roots, standing == Standing.PROVE && rec.path("active").asBoolean(true));
        for (Map.Entry<Long, JsonNode> e : roots.entrySet()) {
            answer(e.getKey(), e.getValue(), next, declared.getOrDefault(e.getKey(), Set.of()));
        }
        for (long p : prover.committedPeriods()) {
            if (p < current) {
                prover.release(p);
            }
        }
        handled = h;
    }

    /** Declares the store's dropped shards for every committed period holding them whose window is still ahead. */
    private void declareFaults(long next, Map<Long, JsonNode> roots, Map<Long, Set<String>> declared)
            throws IOException, ProvingException, StoreException {
        for (Cid cid : prover.scrubFaults()) {
            for (long p : store.heldBy(cid)) {
                toDeclare.computeIfAbsent(p, x -> new LinkedHashSet<>()).add(cid);
            }
        }
        queueAbsent(roots.keySet());
        var it = toDeclare.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            long p = e.getKey();
            Windows.BlockRange w = params.windowing().nodeBlocks(nodeId, p);
            e.getValue().removeIf(c -> declared.getOrDefault(p, Set.of()).contains(c.toString()));
            if (e.getValue().isEmpty() || next >= w.first()) {
                if (!e.getValue().isEmpty()) {
                    LOG.log(System.Logger.Level.WARNING, "period {0}: {1} dropped shards found after the window began; not declared",
                            p, e.getValue().size());
                }
                it.remove();
                continue;
            }
            if (!roots.containsKey(p)) {
                continue; // the root is not on the chain yet: declared once it is
            }
            List<Cid> cids = List.copyOf(e.getValue());
            for (int i = 0; i < cids.size(); i += MAX_CIDS_PER_DECLARATION) {
                ChainProto.DeclareFaults.Builder d = ChainProto.DeclareFaults.newBuilder().setPeriod(p);
                for (Cid c : cids.subList(i, Math.min(cids.size(), i + MAX_CIDS_PER_DECLARATION))) {
                    d.addCids(ByteString.copyFrom(c.toBytes()));
                }
                client.submit(TxBody.newBuilder().setDeclareFaults(d));
            }
            LOG.log(System.Logger.Level.INFO, "period {0}: declared {1} faulty shards", p, cids.size());
            it.remove();
        }
    }

    /**
     * Queues for declaration, once per period whose root is on the chain ({@code onChain}), the
     * entries this node committed without holding them ({@link Prover#absent}: blocks a contract
     * pays for that the store lost before the commitment). Forgets the periods no longer on the chain.
     */
    void queueAbsent(Set<Long> onChain) throws ProvingException {
        for (long p : prover.committedPeriods()) {
            if (onChain.contains(p) && !absentChecked.contains(p)) {
                List<Cid> absent = prover.absent(p); // a store failure throws: the period is checked again next tick
                if (!absent.isEmpty()) {
                    LOG.log(System.Logger.Level.WARNING, "period {0}: {1} committed blocks that contracts pay for are not in the store"
                            + " (lost); declaring them", p, absent.size());
                    toDeclare.computeIfAbsent(p, x -> new LinkedHashSet<>()).addAll(absent);
                }
                absentChecked.add(p);
            }
        }
        absentChecked.retainAll(onChain);
    }

    /** The faults queued for declaration, by period (the tick thread's; for tests). */
    Map<Long, Set<Cid>> toDeclare() {
        return toDeclare;
    }

    /** Commits the root for the period after the next block's, while the chain still takes it. */
    private void commitNext(long next, long current, Map<Long, JsonNode> roots, boolean active) throws IOException, ProvingException {
        long p = current + 1;
        // not in the range's first block: a mempool a block behind the height read here would refuse it (TOO_SOON)
        if (!active || roots.containsKey(p) || next < current * params.periodBlocks() + 2
                || next > p * params.periodBlocks() - params.commitDeadline()) {
            return;
        }
        Commitment c = prover.commit(p);
        client.submit(TxBody.newBuilder().setCommitRoot(ChainProto.CommitRoot.newBuilder().setPeriod(p)
                .setRoot(ByteString.copyFrom(c.root())).setCount(c.count())));
        lastCommitted = p;
        LOG.log(System.Logger.Level.DEBUG, "period {0}: committed {1} entries", p, c.count());
    }

    /** Answers period {@code p}'s open root in its window, from the answers the chain accepted so far. */
    private void answer(long p, JsonNode root, long next, Set<String> declared) throws IOException, ProvingException {
        if (!"open".equals(root.path("status").asText()) || root.path("seed").isMissingNode() || root.path("seed").isNull()) {
            return;
        }
        Windows.BlockRange w = params.windowing().nodeBlocks(nodeId, p);
        if (next <= w.first() || next >= w.end()) {
            return; // the seed's own block, or the window closed
        }
        Commitment mine = prover.commitment(p);
        if (mine == null || mine.count() != root.path("count").asLong()
                || !HexFormat.of().formatHex(mine.root()).equals(root.path("root").asText())) {
            if (lastAnsweredTried != p) {
                lastAnsweredTried = p;
                lastAnswer = null;
                failed.increment();
                throw new IOException("period " + p + ": the root on the chain is not one this node holds (lost its hold?)");
            }
            return;
        }
        if (lastAnsweredTried != p || lastAnswer == null) {
            lastAnsweredTried = p;
            byte[] seed = HexFormat.of().parseHex(root.path("seed").asText());
            long t0 = System.nanoTime();
            lastAnswer = prover.answer(p, seed, nodeId, params.challenges());
            buildTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            built.increment();
            lastContractAnswers = null;
            List<String> undeclared = lastAnswer.faults().stream().map(Cid::toString).filter(c -> !declared.contains(c)).toList();
            if (!undeclared.isEmpty()) {
                failed.increment();
                throw new IOException("period " + p + ": " + undeclared.size() + " challenged shards cannot be proven and were not"
                        + " declared before the seed (" + undeclared.getFirst() + (undeclared.size() > 1 ? ", ..." : "")
                        + "): the window will be missed");
            }
            try {
                lastContractAnswers = ContractAnswers.build(store, io.oecloud.chain.client.ChainViews.contractPicks(record, p), p, declared);
            } catch (IOException e) {
                failed.increment();
                throw e; // said once: the window will be missed
            }
        }
        Answer a = lastAnswer;
        List<ChainProto.ContractAnswer> contract = lastContractAnswers;
        if (!a.faults().stream().allMatch(c -> declared.contains(c.toString())) || contract == null) {
            return; // said once, above
        }
        for (ChainProto.SubmitProof tx : transactions(prover, p, a, root.path("answered").asInt(), declared, contract,
                MAX_SUBMIT_PROOF_BYTES)) {
            long bytes = tx.getEntries().size();
            for (ProofAnswer pa : tx.getAnswersList()) {
                bytes += pa.getSlice().size();
            }
            for (ChainProto.ContractAnswer ca : tx.getContractAnswersList()) {
                bytes += ca.getEntries().size() + ca.getSlice().size();
            }
            submitted.increment();
            try {
                client.submit(TxBody.newBuilder().setSubmitProof(tx));
            } catch (IOException e) {
                failed.increment();
                throw e; // the next tick reads the chain's count and goes on from there
            }
            accepted.increment();
            proofBytes.increment(bytes);
        }
        lastAnswered = p;
    }

    /**
     * The SubmitProofs that carry answers {@code first ..} of {@code a}, in order: one holding them
     * all when its message fits in {@code maxBytes}, else each the longest run from where the last
     * stopped that fits (a single answer always goes, the chain judging its size). Each carries the
     * entries proof of its own challenges ({@link Prover#entries}) and a slice an answer, except for
     * an entry declared faulty, answered without its slice even when the shard came back since
     * (repair). The one that completes the window carries the contract challenges' answers
     * ({@code contract}), as the chain wants them.
     */
    static List<ChainProto.SubmitProof> transactions(Prover prover, long p, Answer a, int first, Set<String> declared,
                                                     List<ChainProto.ContractAnswer> contract, int maxBytes) throws ProvingException {
        List<ChainProto.SubmitProof> out = new ArrayList<>();
        int total = a.proofs().size();
        while (first < total) {
            int n = total - first;
            ChainProto.SubmitProof tx = submitProof(prover, p, a, first, n, declared, contract);
            while (tx.getSerializedSize() > maxBytes && n > 1) { // split only when it does not fit
                n = Math.max(1, Math.min(n - 1, (int) ((long) n * maxBytes / tx.getSerializedSize())));
                tx = submitProof(prover, p, a, first, n, declared, contract);
            }
            while (n + first < total) { // the shrinking may undershoot: take more while they fit
                ChainProto.SubmitProof more = submitProof(prover, p, a, first, n + 1, declared, contract);
                if (more.getSerializedSize() > maxBytes) {
                    break;
                }
                tx = more;
                n++;
            }
            out.add(tx);
            first += n;
        }
        return out;
    }

    static ChainProto.SubmitProof submitProof(Prover prover, long p, Answer a, int first, int n, Set<String> declared,
                                              List<ChainProto.ContractAnswer> contract) throws ProvingException {
        ChainProto.SubmitProof.Builder b = ChainProto.SubmitProof.newBuilder().setPeriod(p).setFirst(first)
                .setEntries(ByteString.copyFrom(prover.entries(a, first, first + n)));
        for (Answer.Proof proof : a.proofs().subList(first, first + n)) {
            ProofAnswer.Builder pa = ProofAnswer.newBuilder();
            if (proof.slice() != null && !declared.contains(proof.entry().cid().toString())) {
                pa.setSlice(ByteString.copyFrom(proof.slice()));
            }
            b.addAnswers(pa);
        }
        if (first + n == a.proofs().size()) {
            b.addAllContractAnswers(contract);
        }
        return b.build();
    }

    /** What {@code GET /v1/status} shows under "proving": the chain's record as last read and this role's progress. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        JsonNode r = record;
        m.put("registered", r != null);
        if (r == null && left) {
            m.put("state", "left: unregistered and its collateral returned; this role does not register it again");
        }
        if (r != null) {
            m.put("leaving", r.path("leaving").asBoolean(false));
            if (r.path("leaving").asBoolean(false)) {
                m.put("withdrawAt", r.path("withdrawAt").asLong());
                m.put("withdrawing", r.path("withdrawing").asText("0"));
            }
            m.put("collateral", r.path("collateral").asText());
            m.put("active", r.path("active").asBoolean());
            m.put("window", r.path("window").asInt());
            m.put("proven", r.path("proven").asLong());
            m.put("missed", r.path("missed").asLong());
            m.put("faultsDeclared", r.path("faultsDeclared").asLong());
            m.put("penalties", r.path("penalties").asText());
        } else if (!recordRead && !left) {
            m.put("state", "not read yet");
        }
        if (height >= 0) {
            m.put("height", height);
        }
        if (lastCommitted >= 0) {
            m.put("lastCommitted", lastCommitted);
        }
        if (lastAnswered >= 0) {
            m.put("lastAnswered", lastAnswered);
        }
        if (topUps.get() > 0) {
            m.put("topUps", topUps.get());
        }
        m.put("errors", errors.get());
        if (lastError != null) {
            m.put("lastError", lastError);
            m.put("lastErrorAt", lastErrorAt.toString());
        }
        return m;
    }

    /**
     * Publishes this node's ask when the chain's price record does not show it (a node registered
     * before asks, or restarted with another {@code storage-ask}): a registration that changes only
     * the ask. Returns whether a transaction was sent (this round is then over).
     */
    private boolean publishAsk() throws IOException {
        JsonNode price = query("/price", "");
        String self = client.address();
        for (JsonNode a : price.path("asks")) {
            if (self.equals(a.path("node").asText()) && ask.toString().equals(a.path("ask").asText())) {
                askPublished = true;
                return false;
            }
        }
        client.submit(ChainClient.registerStorageNodeTx(capacity, BigInteger.ZERO, ask));
        askPublished = true;
        LOG.log(System.Logger.Level.INFO, "published this node's ask: " + ask + " base units per GiB per period");
        return true;
    }

    private JsonNode query(String path, String data) throws IOException {
        return read(rpc -> rpc.query(path, data).join(), path);
    }

    private <T> T read(java.util.function.Function<CometRpc, T> call, String what) throws IOException {
        RuntimeException last = null;
        for (CometRpc rpc : rpcs) {
            try {
                return call.apply(rpc);
            } catch (RuntimeException e) {
                last = e;
            }
        }
        Throwable cause = last != null && last.getCause() != null ? last.getCause() : last;
        throw new IOException("could not read " + what + " from the chain: " + (cause == null ? "no RPC address" : cause.getMessage()),
                cause);
    }

    /** Writes the left marker, if any (a failure is logged: the role still remembers it in memory). */
    void rememberLeft(long withdrawAt) {
        java.nio.file.Path m = leftMarker;
        if (m == null) {
            return;
        }
        try {
            java.nio.file.Files.writeString(m, address + " unregistered; collateral returns at block " + withdrawAt
                    + ". Delete this file to let the proving role register the node again.\n");
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not write " + m + " (" + e.getMessage()
                    + "): a restart after the withdrawal would register the node again");
        }
    }

    /** The address this role proves as (the node's account). */
    public String address() {
        return address;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        rpcs.forEach(CometRpc::close);
    }
}
