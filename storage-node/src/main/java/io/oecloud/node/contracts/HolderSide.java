package io.oecloud.node.contracts;

import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.chain.client.CometRpc;
import io.oecloud.dht.Identity;
import io.oecloud.node.shard.Receipts;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.time.InstantSource;

/**
 * The holder side of paid storage on a node with a chain link, wired together: admission of PUTs
 * ({@link PaidAdmission}, through {@link ShardServer#admitThrough}), coverage of its contracts
 * ({@link Coverage}: what the node keeps and proves), and receipts ({@link Receipts}, through
 * {@link ShardServer#signReceipts} and {@link ShardClient#useChain}) once the chain's ID is known
 * (read now and every few seconds until it is: a super-node's chain may still be starting).
 */
public final class HolderSide implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HolderSide.class.getName());
    /** How long fetching a manifest this node lacks (for a receipt) may take. */
    static final long MANIFEST_FETCH_MILLIS = 30_000;

    private final PaidAdmission admission;
    private final Coverage coverage;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-holder-side");
        t.setDaemon(true);
        return t;
    });
    private final List<AutoCloseable> owned = new ArrayList<>();
    private volatile Receipts receipts;

    private HolderSide(PaidAdmission admission, Coverage coverage) {
        this.admission = admission;
        this.coverage = coverage;
    }

    /**
     * Starts the holder side.
     *
     * @param shards the node's shard client: its receipts are checked for the chain once known
     * @param chainId reads the chain's ID (retried every 5 s until it answers)
     */
    public static HolderSide start(ShardStore store, ShardServer server, ShardClient shards, Identity id, ChainSource chain,
                                   Callable<String> chainId, PaidConfig config, InstantSource clock, MeterRegistry metrics)
            throws StoreException {
        PaidAdmission admission = new PaidAdmission(store, chain, config, clock);
        Coverage coverage = new Coverage(store, chain, id.peerId(), config, admission, clock, metrics);
        HolderSide h = new HolderSide(admission, coverage);
        server.admitThrough(admission);
        coverage.start();
        h.timer.execute(() -> h.learnChain(store, server, shards, id, chainId));
        return h;
    }

    private void learnChain(ShardStore store, ShardServer server, ShardClient shards, Identity id, Callable<String> chainId) {
        try {
            String chain = chainId.call();
            Receipts r = new Receipts(store, id, chain, new ManifestBlocks(store, shards, MANIFEST_FETCH_MILLIS))
                    .periodsNear(() -> coverage.view().period());
            shards.useChain(chain);
            server.signReceipts(r);
            receipts = r;
        } catch (Exception | Error e) {
            LOG.log(System.Logger.Level.DEBUG, "the chain''s ID could not be read yet (receipts wait for it): {0}", String.valueOf(e));
            timer.schedule(() -> learnChain(store, server, shards, id, chainId), 5, TimeUnit.SECONDS);
        }
    }

    /** A {@link ChainSource} over super-nodes' RPC (the first that answers), each call within {@code deadlineMillis}; closed with this. */
    public static ChainSource over(List<InetSocketAddress> rpc, long deadlineMillis, List<AutoCloseable> closeWith) {
        List<CometRpc> clients = new ArrayList<>();
        for (InetSocketAddress a : rpc) {
            CometRpc c = new CometRpc(a, deadlineMillis);
            clients.add(c);
            closeWith.add(c);
        }
        return (path, data) -> {
            IOException last = null;
            for (int i = 0; i < clients.size(); i++) {
                try {
                    return clients.get(i).query(path, data).get(deadlineMillis + 1_000, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                } catch (Exception e) {
                    Throwable c = e.getCause() != null ? e.getCause() : e;
                    last = new IOException(path + " from " + rpc.get(i).getHostString() + ":" + rpc.get(i).getPort() + ": "
                            + (c.getMessage() == null ? c.toString() : c.getMessage()), c);
                }
            }
            throw last != null ? last : new IOException("no chain RPC address configured");
        };
    }

    /** Closes {@code c} with this (the RPC clients of {@link #over}). */
    public HolderSide owning(List<AutoCloseable> c) {
        owned.addAll(c);
        return this;
    }

    /** What the node's root for a period names, held or not: exactly the blocks its contracts pay it for then. */
    public java.util.function.LongFunction<java.util.Collection<io.oecloud.proofs.storage.NodeEntry>> owes() {
        return coverage::owed;
    }

    public Coverage coverage() {
        return coverage;
    }

    public PaidAdmission admission() {
        return admission;
    }

    /** The node's receipts (its own, for objects it holds blocks of itself), or null until the chain's ID is known. */
    public Receipts receipts() {
        return receipts;
    }

    /** The status view of the holder side. */
    public HolderView view() {
        return coverage.view();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        coverage.close();
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                // closing: nothing more to do
            }
        }
    }
}
