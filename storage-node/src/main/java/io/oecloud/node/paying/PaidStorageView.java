package io.oecloud.node.paying;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What {@code GET /v1/status} shows of paid storage, read from the chain every {@code every} on
 * a thread of its own and answered from memory: as a payer, this node's account's contracts (count,
 * bytes, escrow left); as a holder, the contracts that name it (count, its bytes, what they pay it a
 * period), its payments (the last period's, and the sum over the periods the chain still lists),
 * its collateral and penalties. A read that fails keeps the last view and says why; the reads go
 * on (a periodic task never dies).
 */
public final class PaidStorageView implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PaidStorageView.class.getName());

    /** One read's figures; immutable. */
    record View(Map<String, Object> figures, Instant at) {}

    private final PayerChain chain;
    private final String self;
    private final InstantSource clock;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-paid-storage");
        t.setDaemon(true);
        return t;
    });
    private volatile View view;
    private volatile String error;
    private volatile double escrowLeft;
    private volatile double earnedLast;

    /** @param self this node's address: the payer of its uploads and a holder of others' */
    public PaidStorageView(PayerChain chain, String self, InstantSource clock, MeterRegistry metrics) {
        this.chain = chain;
        this.self = self;
        this.clock = clock;
        Gauge.builder("oe_contract_escrow_left_base_units", this, v -> v.escrowLeft)
                .description("Base units left in the escrow of this node's account's contracts").register(metrics);
        Gauge.builder("oe_storage_earned_last_period_base_units", this, v -> v.earnedLast)
                .description("Base units the chain paid this node for the last settled period").register(metrics);
    }

    /** Reads now and then every {@code every}. */
    public PaidStorageView start(Duration every) {
        timer.scheduleWithFixedDelay(this::refresh, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** One read; never throws. */
    void refresh() {
        try {
            view = new View(read(), clock.instant());
            error = null;
        } catch (Exception | Error e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.log(why.equals(error) ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    "reading paid storage from the chain failed (the last view is kept): {0}", why);
            error = why;
        }
    }

    Map<String, Object> read() throws java.io.IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        PayerChain.Price price = chain.price();
        m.put("period", price.period());
        m.put("price", price.price().toString());
        m.put("priceIsDefault", price.fallback());

        List<PayerChain.Contract> paid = chain.contractsPaid(self);
        long paidBytes = 0;
        BigInteger escrow = BigInteger.ZERO;
        BigInteger perPeriod = BigInteger.ZERO;
        for (PayerChain.Contract c : paid) {
            paidBytes += c.bytes();
            escrow = escrow.add(c.escrow());
            if (c.end() > price.period()) {
                perPeriod = perPeriod.add(c.costPerPeriod());
            }
        }
        Map<String, Object> payer = new LinkedHashMap<>();
        payer.put("contracts", paid.size());
        payer.put("bytes", paidBytes);
        payer.put("costPerPeriod", perPeriod.toString());
        payer.put("escrow", escrow.toString());
        m.put("paying", payer);
        escrowLeft = escrow.doubleValue();

        List<PayerChain.Contract> held = chain.contractsHeld(self);
        long heldBytes = 0;
        BigInteger shares = BigInteger.ZERO;
        for (PayerChain.Contract c : held) {
            for (PayerChain.Holder h : c.holders()) {
                if (h.holder().equals(self)) {
                    heldBytes += h.bytes();
                    shares = shares.add(h.share());
                }
            }
        }
        Map<String, Object> holder = new LinkedHashMap<>();
        holder.put("contracts", held.size());
        holder.put("bytes", heldBytes);
        PayerChain.Payments pay = chain.payments(self);
        holder.put("ratePerPeriod", pay.rate().toString());
        BigInteger recent = BigInteger.ZERO;
        for (PayerChain.Payment p : pay.payments()) {
            if (p.paid()) {
                recent = recent.add(p.amount());
            }
        }
        PayerChain.Payment last = pay.payments().isEmpty() ? null : pay.payments().getFirst();
        if (last != null) {
            holder.put("lastPeriod", last.period());
            holder.put("earnedLastPeriod", last.paid() ? last.amount().toString() : "0");
            holder.put("lastPeriodPaid", last.paid());
        }
        earnedLast = last != null && last.paid() ? last.amount().doubleValue() : 0;
        holder.put("earnedRecent", recent.toString());
        holder.put("recentPeriods", pay.payments().size());
        holder.put("earnedTotal", pay.earned().toString()); // since genesis: the chain keeps the sum as it pays
        List<Map<String, Object>> payments = new java.util.ArrayList<>();
        for (PayerChain.Payment p : pay.payments()) { // the periods the chain still lists, newest first: the dashboard's chart
            payments.add(Map.of("period", p.period(), "amount", p.amount().toString(), "paid", p.paid()));
        }
        holder.put("payments", payments);
        JsonNode node = chain.storageNode(self);
        if (node != null) {
            holder.put("collateral", node.path("collateral").asText("0"));
            holder.put("penalties", node.path("penalties").asText("0"));
            holder.put("proven", node.path("proven").asLong());
            holder.put("missed", node.path("missed").asLong());
        } else {
            holder.put("registered", false);
        }
        m.put("holding", holder);
        return m;
    }

    /** The figures as last read, when, and the last failure since. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        View v = view;
        if (v == null) {
            m.put("state", "not read yet");
        } else {
            m.putAll(v.figures());
            m.put("readAt", v.at().toString());
        }
        String e = error;
        if (e != null) {
            m.put("error", e);
        }
        return m;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
