package io.oecloud.chain.node;

import io.oecloud.chain.client.CometRpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A super-node's chain side: its ledger ({@link LedgerNode}: the store under {@code dataDir}, the
 * ABCI server on the address CometBFT's config names as {@code proxy_app}, the mempool's HTTP
 * endpoints and gossip from {@code HOME/config/mempool.json}), and CometBFT itself as a supervised
 * child on {@code home}, with its own mempool off ({@code [mempool] type = "nop"}: the ledger keeps
 * the mempool). Started in that order (CometBFT needs the app listening), closed in reverse.
 */
public final class ChainNode implements AutoCloseable {
    private final LedgerNode ledger;
    private final CometBftProcess engine;
    private final CometRpc rpc;
    private final InetSocketAddress rpcAddress;

    private ChainNode(LedgerNode ledger, CometBftProcess engine, InetSocketAddress rpcAddress) {
        this.ledger = ledger;
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
        InetSocketAddress proxy = address(CometConfig.tomlValue(config, "", "proxy_app"), "proxy_app");
        InetSocketAddress rpcAt = address(CometConfig.tomlValue(config, "rpc", "laddr"), "rpc.laddr");
        CometConfig.toml(config, "mempool", "type", "\"nop\"");
        TxService.Config mempool = TxService.Config.read(home);
        LedgerNode ledger = LedgerNode.start(dataDir, proxy, mempool, self);
        CometBftProcess engine;
        try {
            engine = CometBftProcess.start(cometbft, home);
        } catch (IOException e) {
            ledger.close();
            throw e;
        }
        return new ChainNode(ledger, engine, rpcAt);
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
        return ledger.app();
    }

    public CometRpc rpc() {
        return rpc;
    }

    public InetSocketAddress rpcAddress() {
        return rpcAddress;
    }

    /** Where this node takes transactions (POST /v1/chain/txs) and its peers' gossip. */
    public InetSocketAddress txAddress() {
        return ledger.txAddress();
    }

    public long enginePid() {
        return engine.pid();
    }

    @Override
    public void close() {
        rpc.close();
        engine.close();
        ledger.close();
    }
}
