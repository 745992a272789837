package io.oecloud.chain;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A super-node's chain side: the ledger (RocksDB under {@code dataDir}), its ABCI server on the
 * address CometBFT's config names as {@code proxy_app}, its mempool's HTTP endpoints and gossip
 * ({@link TxService}, from {@code HOME/config/mempool.json}), and CometBFT itself as a supervised
 * child on {@code home}, with its own mempool off ({@code [mempool] type = "nop"}: the ledger keeps
 * the mempool). Started in that order (CometBFT needs the app listening), closed in reverse.
 */
public final class ChainNode implements AutoCloseable {
    private final LedgerStore store;
    private final LedgerApp app;
    private final AbciServer abci;
    private final TxService txs;
    private final CometBftProcess engine;
    private final CometRpc rpc;
    private final InetSocketAddress rpcAddress;

    private ChainNode(LedgerStore store, LedgerApp app, AbciServer abci, TxService txs, CometBftProcess engine, InetSocketAddress rpcAddress) {
        this.store = store;
        this.app = app;
        this.abci = abci;
        this.txs = txs;
        this.engine = engine;
        this.rpcAddress = rpcAddress;
        this.rpc = new CometRpc(rpcAddress, 30_000);
    }

    /**
     * @param self the node's key: its peer ID is its operator account, and it signs the mempool
     *     gossip to the other super-nodes
     */
    public static ChainNode start(Path cometbft, Path home, Path dataDir, io.oecloud.dht.Identity self) throws IOException {
        Path config = home.resolve("config/config.toml");
        if (!Files.exists(config)) {
            throw new IOException("no CometBFT configuration at " + config + " (run 'cometbft init --home " + home + "' or use oe devnet)");
        }
        InetSocketAddress proxy = address(tomlValue(config, "", "proxy_app"), "proxy_app");
        InetSocketAddress rpcAt = address(tomlValue(config, "rpc", "laddr"), "rpc.laddr");
        LocalTestnet.toml(config, "mempool", "type", "\"nop\"");
        TxService.Config mempool = TxService.Config.read(home);
        LedgerStore store = LedgerStore.open(dataDir);
        AbciServer abci;
        LedgerApp app;
        try {
            app = new LedgerApp(store);
            abci = new AbciServer(app).start(proxy);
        } catch (IOException e) {
            store.close();
            throw e;
        }
        TxService txs;
        try {
            txs = TxService.start(app, mempool, self);
        } catch (IOException e) {
            abci.close();
            store.close();
            throw e;
        }
        CometBftProcess engine;
        try {
            engine = CometBftProcess.start(cometbft, home);
        } catch (IOException e) {
            txs.close();
            abci.close();
            store.close();
            throw e;
        }
        return new ChainNode(store, app, abci, txs, engine, rpcAt);
    }

    /** A value of {@code key} in {@code [section]} ("" for the top) of a TOML file, unquoted. */
    public static String tomlValue(Path file, String section, String key) throws IOException {
        String current = "";
        List<String> lines = Files.readAllLines(file);
        for (String raw : lines) {
            String l = raw.strip();
            if (l.startsWith("[") && l.endsWith("]")) {
                current = l.substring(1, l.length() - 1);
            } else if (current.equals(section) && l.startsWith(key + " =")) {
                return l.substring(l.indexOf('=') + 1).strip().replaceAll("^\"|\"$", "");
            }
        }
        throw new IOException("no " + key + " in [" + section + "] of " + file);
    }

    private static InetSocketAddress address(String url, String what) throws IOException {
        try {
            URI u = URI.create(url);
            return new InetSocketAddress(u.getHost(), u.getPort());
        } catch (IllegalArgumentException e) {
            throw new IOException(what + " '" + url + "' is not tcp://HOST:PORT");
        }
    }

    public LedgerApp app() {
        return app;
    }

    public CometRpc rpc() {
        return rpc;
    }

    public InetSocketAddress rpcAddress() {
        return rpcAddress;
    }

    /** Where this node takes transactions (POST /v1/chain/txs) and its peers' gossip. */
    public InetSocketAddress txAddress() {
        return txs.address();
    }

    public long enginePid() {
        return engine.pid();
    }

    @Override
    public void close() {
        rpc.close();
        engine.close();
        txs.close();
        abci.close();
        store.close();
    }
}
