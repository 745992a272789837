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
 * <p>A periodic task never dies: a failed read or repair is logged and counted, and the next run
 * comes on schedule.
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
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-contract-keeper");
        t.setDaemon(true);
        return t;
    });

    public ContractKeeper(ContractBuyer buyer, Repair repair, MeterRegistry metrics) {
        this.buyer = buyer;
        this.repair = repair;
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

    /** One run over the account's live contracts; never throws. */
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

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
