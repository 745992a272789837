package io.oecloud.chain.node;

import io.oecloud.dht.Identity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A super-node's ledger, everything of its chain side but CometBFT: the store (RocksDB under
 * {@code dataDir}), the {@link LedgerApp}, its ABCI server, and its mempool's HTTP endpoints and
 * gossip ({@link TxService}). Started in that order (each needs the one before), closed in
 * reverse; a start that fails closes what it had started. {@link ChainNode} adds CometBFT.
 */
public final class LedgerNode implements AutoCloseable {
    private final LedgerStore store;
    private final LedgerApp app;
    private final AbciServer abci;
    private final TxService txs;

    private LedgerNode(LedgerStore store, LedgerApp app, AbciServer abci, TxService txs) {
        this.store = store;
        this.app = app;
        this.abci = abci;
        this.txs = txs;
    }

    /**
     * @param abciAt where CometBFT's {@code proxy_app} connects
     * @param mempool the mempool's endpoint and gossip peers ({@code HOME/config/mempool.json})
     * @param self the node's key: its peer ID is its operator account, and it signs the mempool
     *     gossip to the other super-nodes
     */
    public static LedgerNode start(Path dataDir, InetSocketAddress abciAt, TxService.Config mempool, Identity self) throws IOException {
        LedgerStore store = LedgerStore.open(dataDir);
        AbciServer abci = null;
        try {
            LedgerApp app = new LedgerApp(store);
            app.beaconKey(io.oecloud.chain.beacon.Bls.SecretKey.fromIdentity(self)); // the node's identity is its candidacy's operator
            abci = new AbciServer(app).start(abciAt);
            return new LedgerNode(store, app, abci, TxService.start(app, mempool, self));
        } catch (IOException | RuntimeException e) {
            if (abci != null) {
                abci.close();
            }
            store.close();
            throw e;
        }
    }

    public LedgerApp app() {
        return app;
    }

    /** Where this node takes transactions (POST /v1/chain/txs) and its peers' gossip. */
    public InetSocketAddress txAddress() {
        return txs.address();
    }

    @Override
    public void close() {
        txs.close();
        abci.close();
        store.close();
    }
}
