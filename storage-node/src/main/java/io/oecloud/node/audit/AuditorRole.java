package io.oecloud.node.audit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Audits.Outcome;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.PeerId;
import io.oecloud.node.pb.AuditProto.AuditRequest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The auditor role of a super-node (storage-node/README.md, "Timed retrieval audits"): each tick
 * it reads the chain's current window ({@link AuditChain#window}); when this node's account is
 * on the window's committee and the window is not audited yet, it picks up to
 * {@code auditTargets} of the window's targets (never itself) and for each an entry and a chunk
 * range with its own {@link SecureRandom} (not the public seed: a node cannot know what it will
 * be asked, so it cannot fetch it ahead), asks them all at once over {@code /oe/proof/1.0.0}
 * ({@link AuditClient}, the chain's deadline), and records the verdicts in one
 * {@code AuditVerdicts} transaction, retried each tick until accepted or the chain's bound passes.
 * A tick that fails is counted and shown; the next one starts again from the chain.
 */
public final class AuditorRole implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AuditorRole.class.getName());

    private final AuditChain chain;
    private final AuditClient client;
    private final String self;
    /** Makes sure a target can be dialed (a connection, or its addresses from the DHT) before its deadline runs. */
    private final Function<PeerId, CompletableFuture<?>> reach;
    private final SecureRandom rnd = new SecureRandom();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-auditor");
        t.setDaemon(true);
        return t;
    });
    private final Map<Outcome, Counter> sent = new EnumMap<>(Outcome.class);
    private final AtomicLong windowsAudited = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();

    private long doneFirstBlock = -1; // the tick thread's: the window whose verdicts the chain took
    private long pendingFirstBlock = -1; // the tick thread's: the window whose verdicts wait to be sent
    private ChainProto.AuditVerdicts pending;
    private volatile Map<String, String> lastVerdicts = Map.of();
    private volatile String lastWindow;
    private volatile String lastError;
    private volatile Instant lastErrorAt;

    /**
     * @param self this node's account address (its peer ID)
     * @param reach called before each target's audit; its failure makes the verdict TIMEOUT (the node cannot be reached)
     */
    public AuditorRole(AuditChain chain, AuditClient client, String self, Function<PeerId, CompletableFuture<?>> reach, MeterRegistry registry) {
        this.chain = chain;
        this.client = client;
        this.self = self;
        this.reach = reach;
        for (Outcome o : Outcome.values()) {
            sent.put(o, Counter.builder("oe_audits_sent_total").tag("verdict", o.word())
                    .description("Audit verdicts this node recorded on the chain as a committee member").register(registry));
        }
    }

    public AuditorRole start(Duration every) {
        timer.scheduleWithFixedDelay(this::tick, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** One round; never throws. */
    public void tick() {
        try {
            step();
        } catch (Exception | Error e) {
            errors.incrementAndGet();
            lastError = e.getMessage() == null ? e.toString() : e.getMessage();
            lastErrorAt = Instant.now();
            LOG.log(System.Logger.Level.WARNING, "auditing: " + lastError);
        }
    }

    private void step() throws Exception {
        AuditChain.Window w = chain.window();
        if (pending != null && pendingFirstBlock != w.firstBlock() && w.height() + 1 > pendingVerdictsUntil) {
            LOG.log(System.Logger.Level.WARNING, "verdicts of the window from block {0} were not recorded in time", pendingFirstBlock);
            pending = null;
        }
        if (pending != null) {
            send();
            return;
        }
        if (!w.committee().contains(self) || w.firstBlock() == doneFirstBlock || w.height() + 1 > w.verdictsUntil()) {
            return;
        }
        if (judgedPeriod != w.period()) {
            judgedPeriod = w.period();
            judged.clear();
        }
        // the ledger takes one verdict per auditor, target and period: a node judged in an earlier
        // window of this period is not asked again (its verdict would be refused)
        List<AuditChain.Target> targets = new ArrayList<>(w.targets().stream()
                .filter(t -> !t.address().equals(self) && t.count() > 0 && !judged.contains(t.address())).toList());
        doneFirstBlock = w.firstBlock();
        if (targets.isEmpty()) {
            return;
        }
        Collections.shuffle(targets, rnd);
        targets = targets.subList(0, Math.min(Math.max(1, w.auditTargets()), targets.size()));
        List<CompletableFuture<AuditClient.Result>> asks = new ArrayList<>();
        for (AuditChain.Target t : targets) {
            AuditRequest r = AuditClient.request(rnd, w.period(), t.count(), 1 + rnd.nextInt(AuditProtocol.MAX_CHUNKS));
            PeerId peer = PeerId.parse(t.address());
            asks.add(reach.apply(peer).handle((x, e) -> e)
                    .thenCompose(e -> e != null ? CompletableFuture.completedFuture(new AuditClient.Result(Outcome.TIMEOUT, -1,
                            "unreachable: " + e.getMessage())) : client.audit(peer, r, t.root(), t.count(), w.deadlineMillis())));
        }
        ChainProto.AuditVerdicts.Builder v = ChainProto.AuditVerdicts.newBuilder().setPeriod(w.period()).setWindow(w.window());
        Map<String, String> shown = new LinkedHashMap<>();
        for (int i = 0; i < targets.size(); i++) {
            AuditClient.Result res = asks.get(i).get(w.deadlineMillis() + 60_000, TimeUnit.MILLISECONDS);
            v.addVerdicts(ChainProto.AuditVerdict.newBuilder().setTarget(targets.get(i).address()).setOutcome(res.outcome().ordinal()));
            shown.put(targets.get(i).address(), res.outcome().word() + (res.millis() >= 0 ? " in " + res.millis() + " ms" : "") + ": "
                    + res.detail());
            LOG.log(res.outcome() == Outcome.PASS ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    "audit of {0} in period {1}: {2}", targets.get(i).address(), w.period(), shown.get(targets.get(i).address()));
        }
        lastVerdicts = Map.copyOf(shown);
        lastWindow = "period " + w.period() + " window " + w.window();
        pending = v.build();
        pendingFirstBlock = w.firstBlock();
        pendingVerdictsUntil = w.verdictsUntil();
        send();
    }

    private long pendingVerdictsUntil;
    private long judgedPeriod = -1;
    private final java.util.Set<String> judged = new java.util.HashSet<>(); // targets recorded in judgedPeriod (timer thread only)

    private int attempts;

    /** Sends the pending verdicts; after 5 failed attempts they are dropped (logged): the chain refuses them for good, or is away. */
    private void send() throws Exception {
        ChainProto.AuditVerdicts v = pending;
        try {
            chain.submit(TxBody.newBuilder().setAuditVerdicts(v));
        } catch (java.io.IOException e) {
            if (e instanceof ChainClient.Refused r && r.code() == Ledger.Code.VERDICT_EXISTS.value()) {
                // an earlier attempt was committed after its answer timed out: recorded, not refused
                LOG.log(System.Logger.Level.DEBUG, "verdicts of period {0} window {1} were recorded by an earlier attempt",
                        v.getPeriod(), v.getWindow());
            } else {
                if (++attempts >= 5) {
                    pending = null;
                    attempts = 0;
                    LOG.log(System.Logger.Level.WARNING, "verdicts of period {0} window {1} dropped after 5 attempts", v.getPeriod(), v.getWindow());
                }
                throw e;
            }
        }
        attempts = 0;
        pending = null;
        if (v.getPeriod() == judgedPeriod) {
            v.getVerdictsList().forEach(x -> judged.add(x.getTarget()));
        }
        windowsAudited.incrementAndGet();
        for (ChainProto.AuditVerdict x : v.getVerdictsList()) {
            sent.get(Outcome.of(x.getOutcome())).increment();
        }
    }

    /** What {@code GET /v1/status} shows under "auditing". */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("windowsAudited", windowsAudited.get());
        for (Outcome o : Outcome.values()) {
            m.put("sent" + Character.toUpperCase(o.word().charAt(0)) + o.word().substring(1), (long) sent.get(o).count());
        }
        if (lastWindow != null) {
            m.put("lastWindow", lastWindow);
            m.put("lastVerdicts", lastVerdicts);
        }
        m.put("errors", errors.get());
        if (lastError != null) {
            m.put("lastError", lastError);
            m.put("lastErrorAt", lastErrorAt.toString());
        }
        return m;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
