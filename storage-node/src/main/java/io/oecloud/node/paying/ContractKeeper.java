package io.oecloud.node.paying;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.proofs.Cid;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the objects this node pays for whole, from this node: every {@code every} it repairs each
 * object of a live contract of its account itself ({@link Repair}: rebuilding what is short,
 * whatever this node's distance to the keys), so a rebuilt block goes to its new holder pinned by
 * this node's key, that holder can sign a receipt for it, and the repair's listener
 * ({@link ContractBuyer#placed}) moves the contract's share to it.
 *
 * <p>Why: a block repair places from another node is pinned by that node's key (it cannot sign for
 * the owner), so no receipt for this payer covers it and its holder drops it after the grace; and
 * a holder that gave no receipt at upload drops its block the same way. Either way the object runs
 * short, and this is where it is made whole again with a paid holder.
 *
 * <p>With a {@link Renewal} it also renews, before the repairs, each contract whose object is
 * still wanted and whose paid periods end within the renewal's margin (the S3 gateway's pieces:
 * paid like any upload, renewed while a key refers to them, ended by the gateway on delete).
 * Without one (the node's own API uploads) nothing is renewed: their owner renews them
 * ({@code oe renew}).
 *
 * <p>A periodic task never dies: a failed read, renewal or repair is logged and counted, and the
 * next run comes on schedule (a renewal still due is tried again then).
 */
public final class ContractKeeper implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ContractKeeper.class.getName());

    /** Repairs one object from this node (short segments rebuilt, manifest copies added). */
    @FunctionalInterface
    public interface Repair {
        void repair(Cid object) throws Exception;
    }

    private final ContractBuyer buyer;
    private final Repair repair;
    private final Counter runs;
    private final Counter failures;
    private final Renewal renewal; // null: nothing is renewed
    private final Counter renewals;
    private final Counter renewalFailures;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-contract-keeper");
        t.setDaemon(true);
        return t;
    });

    /** A keeper that repairs and renews nothing. */
    public ContractKeeper(ContractBuyer buyer, Repair repair, MeterRegistry metrics) {
        this(buyer, repair, metrics, null);
    }

    /** A keeper that also renews by {@code renewal} (null: renews nothing). */
    public ContractKeeper(ContractBuyer buyer, Repair repair, MeterRegistry metrics, Renewal renewal) {
        this.buyer = buyer;
        this.repair = repair;
        this.renewal = renewal;
        this.renewals = Counter.builder("oe_contract_keeper_renewals").description("Contracts the keeper renewed (their objects still wanted)")
                .register(metrics);
        this.renewalFailures = Counter.builder("oe_contract_keeper_renewal_failures")
                .description("Renewals due that failed: refused, the account cannot pay, the chain did not answer (tried again next run)")
                .register(metrics);
        this.runs = Counter.builder("oe_contract_keeper_objects").description("Paid objects this node looked after (repaired if short)")
                .register(metrics);
        this.failures = Counter.builder("oe_contract_keeper_failures").description("Paid objects whose look-after failed (tried again next run)")
                .register(metrics);
    }

    /** Runs every {@code every}, the first after one {@code every}. */
    public ContractKeeper start(Duration every) {
        timer.scheduleWithFixedDelay(this::runOnce, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** One run over the account's live contracts (renewals first, then repairs); never throws. */
    public void runOnce() {
        java.util.List<ContractBuyer.Bought> contracts;
        long period;
        try {
            contracts = buyer.contracts();
            period = buyer.chain().price().period();
        } catch (Exception | Error e) {
            failures.increment();
            LOG.log(System.Logger.Level.WARNING, "reading this node''s contracts failed (next run tries again): {0}", e.getMessage());
            return;
        }
        if (renewal != null) {
            renew(contracts, period);
        }
        for (ContractBuyer.Bought c : contracts) {
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            if (c.end() <= period + 1) {
                continue; // nothing paid after this period: the holders let it go
            }
            try {
                repair.repair(Cid.parse(c.object()));
                runs.increment();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception | Error e) {
                failures.increment();
                LOG.log(System.Logger.Level.WARNING, "looking after paid object {0} failed: {1}", c.object(), String.valueOf(e));
            }
        }
    }

    /** Renews each contract of {@code contracts} that is due and still wanted; {@code period} is the current one. */
    private void renew(java.util.List<ContractBuyer.Bought> contracts, long period) {
        long periodBlocks;
        PayerChain.Pace pace;
        try {
            periodBlocks = buyer.chain().periodBlocks();
            pace = buyer.chain().pace();
        } catch (Exception | Error e) {
            renewalFailures.increment();
            LOG.log(System.Logger.Level.WARNING, "reading the chain''s pace for renewals failed (next run tries again): {0}", e.getMessage());
            return;
        }
        for (ContractBuyer.Bought c : contracts) {
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            try {
                if (!renewal.due(c.end(), periodBlocks, pace.height(), pace.blockMillis())) {
                    continue;
                }
                Cid object = Cid.parse(c.object());
                if (!renewal.wanted().test(object)) {
                    continue; // not wanted any more: its owner ends it, or it runs out
                }
                if (c.end() <= period + 1) {
                    renewalFailures.increment(); // the chain renews no contract without a paid period ahead
                    LOG.log(System.Logger.Level.WARNING, "the contract of wanted object {0} has no paid period after {1}: too late to"
                            + " renew it; it must be bought again once the chain drops it", c.object(), period);
                    continue;
                }
                ContractBuyer.Bought after = buyer.renew(object, renewal.terms());
                renewals.increment();
                LOG.log(System.Logger.Level.INFO, "renewed the contract of {0} by {1}: paid through period {2} (was {3})", c.object(),
                        renewal.terms(), after.paidThrough(), c.paidThrough());
            } catch (Exception | Error e) {
                renewalFailures.increment();
                LOG.log(System.Logger.Level.WARNING, "renewing the contract of {0} failed (next run tries again): {1}", c.object(),
                        String.valueOf(e));
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
