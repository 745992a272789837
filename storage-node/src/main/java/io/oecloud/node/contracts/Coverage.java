package io.oecloud.node.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.dht.PeerId;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.NodeEntry;
import java.io.IOException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which blocks this node's contracts cover, and the dropping of those nothing pays for.
 *
 * <p>Every {@link PaidConfig#every} a pass reads the current period ({@code /price}) and the
 * contracts that list this node ({@code /contracts-held}, page by page), then, from the receipts
 * this node signed ({@link ShardStore#receipts}): a block is <em>covered</em> for owner O when a
 * receipt of (object, O) lists it and the chain's contract of (object, O) is live (its end plus
 * {@link PaidConfig#gracePeriods} is after the current period) and names this node as a holder.
 *
 * <p>Then each pin of an owner the operator does not trust, and each pin of a trusted owner
 * (this node's own key, {@code trust-owner}) that a receipt names, so that blocks a contract paid
 * for go when it ends whoever the payer is: covered → kept (a provisional record
 * of it is forgotten: it is paid for now); provisional for less than {@link PaidConfig#grace} →
 * kept; pinned without a record (pinned before paid storage, or its contract ended) → recorded now,
 * so the grace starts; otherwise the owner's pin goes ({@link ShardStore#unpinAll}) and the garbage
 * collector reclaims the block once no pin is left. Expiry and early deletion reclaim blocks the
 * same way: the contract stops covering them, the grace runs, the pin goes.
 *
 * <p>Failures: a read that fails or an answer that does not make sense keeps the last view, drops
 * nothing, is counted and shown ({@link #view}); the task never dies. A pin is dropped only when the
 * chain answered, in full, and the answer did not cover it.
 */
public final class Coverage implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Coverage.class.getName());
    /** Contracts in one page, pages in one read (a node holding more is refused, loudly). */
    static final int MAX_PAGE = 1_000;
    static final int MAX_PAGES = 1_024;
    /** Holders one contract may list (the chain's receipts limit). */
    static final int MAX_HOLDERS = 256;

    /** One contract as this node needs it. */
    record Held(Cid object, PeerId payer, long end, boolean listsThisNode) {}

    /** What a read found: the current period and the contracts listing this node, by (object, payer). */
    record Read(long period, Map<String, Held> contracts, Instant at) {}

    /** What the last pass acted on: the read, the store's mutation count before it, when its first provisional grace ends. */
    private record Inputs(long period, Map<String, Held> contracts, long mutations, long deadline) {}

    /** A pin: a block and its owner's key, compared as five words (no hex strings built a pass). */
    private record Pin(Cid cid, long o0, long o1, long o2, long o3) {
        static Pin of(Cid cid, byte[] owner) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(owner);
            return new Pin(cid, b.getLong(0), b.getLong(8), b.getLong(16), b.getLong(24));
        }
    }

    /** Passes skipped in a row at most: a full pass at least this often whatever the inputs say (a minute on a devnet). */
    static final int FULL_EVERY = 12;

    private final ShardStore store;
    private final ChainSource chain;
    private final PeerId self;
    private final PaidConfig config;
    private final PaidAdmission admission;
    private final InstantSource clock;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-coverage");
        t.setDaemon(true);
        return t;
    });
    private final Counter failures;
    private final Counter droppedProvisional;
    private final Counter droppedUncovered;
    private final Counter passesApplied;
    private final Counter passesSkipped;
    private final AtomicLong dropped = new AtomicLong();
    private volatile Set<Cid> covered = Set.of();
    private volatile Map<NodeEntry, Long> owed = Map.of();
    private volatile HolderView view = HolderView.NOT_READ;
    private volatile String error;
    private Inputs last; // the timer thread's
    private int skipped; // the timer thread's
    private long nextDeadline = Long.MAX_VALUE; // apply's: when the first pending provisional grace ends

    public Coverage(ShardStore store, ChainSource chain, PeerId self, PaidConfig config, PaidAdmission admission,
                    InstantSource clock, MeterRegistry metrics) {
        this.store = store;
        this.chain = chain;
        this.self = self;
        this.config = config;
        this.admission = admission;
        this.clock = clock;
        this.failures = Counter.builder("oe_coverage_failures")
                .description("Reads of this node's contracts from the chain that failed or were refused (nothing dropped)")
                .register(metrics);
        this.droppedProvisional = Counter.builder("oe_paid_pins_dropped").tag("reason", "no-contract")
                .description("Pins dropped because no contract covered the block within the grace").register(metrics);
        this.droppedUncovered = Counter.builder("oe_paid_pins_dropped").tag("reason", "contract-ended") // or never made after a receipt
                .description("Pins dropped because no contract covered the block within the grace").register(metrics);
        this.passesApplied = Counter.builder("oe_coverage_passes").tag("result", "applied")
                .description("Coverage passes over the store's pins and receipts").register(metrics);
        this.passesSkipped = Counter.builder("oe_coverage_passes").tag("result", "skipped")
                .description("Coverage passes skipped: the chain's answer and the store unchanged, no grace ending").register(metrics);
        Gauge.builder("oe_paid_contracts_held", this, c -> c.view.contracts()).description("Live contracts listing this node")
                .register(metrics);
        Gauge.builder("oe_paid_covered_bytes", this, c -> c.view.coveredBytes()).description("Bytes of blocks contracts cover")
                .register(metrics);
        Gauge.builder("oe_paid_provisional_bytes", this, c -> c.view.provisionalBytes())
                .description("Bytes of blocks admitted provisionally, awaiting a contract").register(metrics);
    }

    /** Reads now and then every {@link PaidConfig#every}. */
    public Coverage start() {
        timer.scheduleWithFixedDelay(this::refresh, 0, config.every().toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Whether a live contract (or one in its grace periods) covers {@code cid} for some owner: its pins are kept. */
    public boolean covers(Cid cid) {
        return covered.contains(cid);
    }

    /**
     * The blocks contracts pay this node for in {@code period}, as its receipts name them: those of
     * contracts that list this node and end after {@code period}, in CID order. The node's root for
     * the period must name each of them, held or not ({@code proving.Prover}): a lost one is declared
     * as a fault instead of being left out, so the chain does not pay for blocks the root quietly
     * lost. As of the last read (a contract the payer ended or moved away since is still owed until
     * the next read, a few seconds; a root committed meanwhile names it, and it is held or declared).
     */
    public java.util.List<NodeEntry> owed(long period) {
        java.util.List<NodeEntry> out = new java.util.ArrayList<>();
        for (Map.Entry<NodeEntry, Long> e : owed.entrySet()) {
            if (e.getValue() > period) {
                out.add(e.getKey());
            }
        }
        out.sort(java.util.Comparator.comparing(NodeEntry::cid));
        return out;
    }

    /** What the status shows of the holder side. */
    public HolderView view() {
        return view;
    }

    /** One pass; never throws (a periodic task never dies). */
    public void refresh() {
        Read read;
        try {
            read = read();
        } catch (Exception | Error e) {
            failures.increment();
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.log(why.equals(error) ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    "reading this node''s contracts from the chain failed (nothing is dropped, the last view is kept): {0}", why);
            error = why;
            view = view.withError(why);
            return;
        }
        error = null;
        try {
            if (unchangedSince(read)) {
                skipped++;
                passesSkipped.increment();
                view = view.readAt(read.at());
                return;
            }
            skipped = 0;
            long mutations = store.mutations(); // before the pass: its own writes make the next pass run once more
            apply(read);
            passesApplied.increment();
            last = new Inputs(read.period(), read.contracts(), mutations, nextDeadline);
        } catch (Exception | Error e) {
            failures.increment();
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.log(System.Logger.Level.WARNING, "acting on this node''s contracts failed: {0}", why);
            view = view.withError(why);
        }
    }

    /**
     * Whether a pass over {@code read} would do what the last one did: the same period and
     * contracts, no write to the store's shards, pins, receipts or provisional records since it
     * read them ({@link ShardStore#mutations}), no provisional grace ending, and fewer than
     * {@link #FULL_EVERY} passes skipped in a row. Measured: on a devnet the pass ran every 5 s over
     * every shard, pin and receipt whether anything had changed or not (2.9 s of JIT compilation
     * during three 1 GiB round trips); downloads change none of it.
     */
    boolean unchangedSince(Read read) {
        Inputs l = last;
        return l != null && skipped < FULL_EVERY && l.period() == read.period() && l.contracts().equals(read.contracts())
                && l.mutations() == store.mutations() && clock.millis() < l.deadline();
    }

    /** Reads the period and every contract listing this node; throws with the reason when the answer is refused. */
    Read read() throws IOException {
        JsonNode price = chain.query("/price", "");
        if (price == null || !price.path("period").canConvertToLong() || price.path("period").asLong(-1) < 0) {
            throw new IOException("the chain's /price answer has no period");
        }
        long period = price.path("period").asLong();
        Map<String, Held> contracts = new HashMap<>();
        String cursor = "";
        Set<String> cursors = new HashSet<>();
        String me = self.toString();
        for (int page = 0; ; page++) {
            if (page == MAX_PAGES) {
                throw new IOException("the chain's /contracts-held answer goes on past " + MAX_PAGES + " pages: refused");
            }
            JsonNode p = chain.query("/contracts-held", cursor.isEmpty() ? me : me + "/" + cursor);
            if (p == null || !p.path("contracts").isArray()) {
                throw new IOException("the chain's /contracts-held answer has no list of contracts");
            }
            JsonNode list = p.path("contracts");
            if (list.size() > MAX_PAGE) {
                throw new IOException("a /contracts-held page holds " + list.size() + " contracts, more than " + MAX_PAGE);
            }
            for (JsonNode c : list) {
                Held h = held(c, me);
                contracts.put(key(h.object(), h.payer()), h);
            }
            String next = p.path("next").asText("");
            if (next.isEmpty()) {
                break;
            }
            if (next.length() > 300 || !cursors.add(next)) {
                throw new IOException("the chain's /contracts-held cursor '" + abbreviate(next) + "' is too long or was given"
                        + " before (the pages would not end)");
            }
            cursor = next;
        }
        return new Read(period, Map.copyOf(contracts), clock.instant());
    }

    private static Held held(JsonNode c, String me) throws IOException {
        Cid object;
        PeerId payer;
        try {
            object = Cid.parse(c.path("object").asText());
            payer = PeerId.parse(c.path("payer").asText());
        } catch (RuntimeException e) {
            throw new IOException("a /contracts-held contract names '" + abbreviate(c.path("object").asText()) + "' by '"
                    + abbreviate(c.path("payer").asText()) + "': not an object CID and a payer address");
        }
        JsonNode end = c.path("end");
        JsonNode holders = c.path("holders");
        if (!end.canConvertToLong() || end.asLong(-1) < 0 || !holders.isArray() || holders.size() > MAX_HOLDERS) {
            throw new IOException("a /contracts-held contract of " + object + " is malformed (end " + abbreviate(end.toString())
                    + ", " + (holders.isArray() ? holders.size() + " holders" : "no holders") + ")");
        }
        boolean listed = false;
        for (JsonNode h : holders) {
            listed |= me.equals(h.path("holder").asText());
        }
        return new Held(object, payer, end.asLong(), listed);
    }

    private static String key(Cid object, PeerId payer) {
        return object + "/" + payer;
    }

    /** Computes the covered blocks from the store's receipts and drops the pins nothing pays for. */
    void apply(Read read) throws StoreException {
        long now = clock.millis();
        Set<Pin> coveredPins = new HashSet<>();
        Set<Cid> coveredCids = new HashSet<>();
        long coveredBytes = 0;
        int live = 0;
        Set<String> liveKeys = new HashSet<>();
        for (Held h : read.contracts().values()) {
            if (h.listsThisNode() && h.end() + config.gracePeriods() > read.period()) {
                liveKeys.add(key(h.object(), h.payer()));
                live++;
            }
        }
        Set<Pin> signedPins = new HashSet<>(); // pins some receipt names, covered or not
        Map<NodeEntry, Long> owedEnds = new HashMap<>(); // blocks of contracts listing this node -> the last end
        java.util.List<ShardStore.SignedReceipt> stale = new java.util.ArrayList<>();
        for (ShardStore.SignedReceipt r : store.receipts()) {
            byte[] payer = r.payer();
            for (NodeEntry e : r.blocks()) {
                signedPins.add(Pin.of(e.cid(), payer));
            }
            Held contract = read.contracts().get(key(r.object(), PeerId.fromEd25519(r.payer())));
            if (contract != null && contract.listsThisNode()) { // paid until its end: owed in every root until then
                for (NodeEntry e : r.blocks()) {
                    owedEnds.merge(e, contract.end(), Math::max);
                }
            }
            if (liveKeys.contains(key(r.object(), PeerId.fromEd25519(r.payer())))) {
                for (NodeEntry e : r.blocks()) {
                    if (coveredPins.add(Pin.of(e.cid(), payer)) && coveredCids.add(e.cid())) {
                        coveredBytes += e.size();
                    }
                }
            } else if (r.period() + 2 < read.period()) {
                stale.add(r); // too old for a new contract, and no live one uses it: forgotten once its pins are gone
            }
        }
        Map<Pin, ShardStore.Provisional> provisional = new HashMap<>();
        for (ShardStore.Provisional p : store.provisionals()) {
            provisional.put(Pin.of(p.cid(), p.owner()), p);
        }
        Set<Pin> pinned = new HashSet<>();
        long grace = config.grace().toMillis();
        long deadline = Long.MAX_VALUE; // when the first pending grace ends: a pass must run then
        long provisionalBytes = 0;
        int provisionalBlocks = 0;
        for (StoredShard s : store.list()) {
            for (byte[] owner : s.owners()) {
                Pin k = Pin.of(s.cid(), owner);
                if (store.quotas().trusts(owner) && !signedPins.contains(k)) {
                    continue; // the operator's keys: stored as before paid storage, unless a contract paid for it and is over
                }
                pinned.add(k);
                ShardStore.Provisional p = provisional.get(k);
                if (coveredPins.contains(k)) {
                    if (p != null) {
                        store.forgetProvisional(s.cid(), owner);
                    }
                    continue;
                }
                if (p == null) {
                    // pinned before paid storage, or its contract ended: the grace starts now
                    store.recordProvisional(new ShardStore.Provisional(s.cid(), owner, s.size(), now));
                    provisionalBytes += s.size();
                    provisionalBlocks++;
                    deadline = Math.min(deadline, now + grace);
                    continue;
                }
                if (now - p.admittedAtMillis() < grace) {
                    provisionalBytes += s.size();
                    provisionalBlocks++;
                    deadline = Math.min(deadline, p.admittedAtMillis() + grace);
                    continue;
                }
                if (store.unpinAll(s.cid(), owner)) {
                    pinned.remove(k);
                    boolean signed = signedPins.contains(k); // a receipt was signed: its contract ended (or never came)
                    dropped.incrementAndGet();
                    (signed ? droppedUncovered : droppedProvisional).increment();
                    LOG.log(System.Logger.Level.INFO, "dropped {0}''s pin of {1} ({2} bytes): no contract covers it {3} after {4}",
                            PeerId.fromEd25519(owner), s.cid(), s.size(), config.grace(),
                            signed ? "its receipt (the contract ended, or never came)" : "its provisional admission");
                }
                store.forgetProvisional(s.cid(), owner);
            }
        }
        for (var e : provisional.entrySet()) {
            if (!pinned.contains(e.getKey())) {
                store.forgetProvisional(e.getValue().cid(), e.getValue().owner()); // unpinned or collected meanwhile
            }
        }
        for (ShardStore.SignedReceipt r : stale) {
            byte[] payer = r.payer();
            if (r.blocks().stream().noneMatch(e -> pinned.contains(Pin.of(e.cid(), payer)))) {
                store.forgetReceipt(r.object(), r.payer());
            }
        }
        nextDeadline = deadline;
        covered = Set.copyOf(coveredCids);
        owed = Map.copyOf(owedEnds);
        if (admission != null) {
            admission.recount();
        }
        view = new HolderView(read.period(), live, coveredCids.size(), coveredBytes, provisionalBlocks, provisionalBytes,
                dropped.get(), read.at(), null);
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
