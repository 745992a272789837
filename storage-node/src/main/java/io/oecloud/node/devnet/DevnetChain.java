package io.oecloud.node.devnet;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.node.WalletKey;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Genesis;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.node.CometConfig;
import io.oecloud.dht.Identity;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The devnet's OEChain: four super-nodes (devnet nodes 0-3) with one genesis, made once under
 * {@code D/chain} with {@code cometbft testnet} and reused on later starts. The genesis makes the
 * four super-nodes candidates (their peer IDs are the operators, 10,000 passes self-bonded each,
 * epochs of 20 blocks), funds their accounts and every other node's ({@link #NODE_FUNDS} each:
 * the fees of proofs of storage and the storage contracts its uploads buy; only the nodes the
 * devnet had when its chain was made) and a devnet key, {@code D/wallet/devnet.key}
 * (unencrypted, for trying things), so passes can be sent and staked at once, and sets the
 * protocol's reserve.
 */
final class DevnetChain {
    static final int SUPER_NODES = 4;
    static final String CHAIN_ID = "oe-devnet";
    static final BigInteger SUPER_NODE_FUNDS = Amounts.PASS.multiply(BigInteger.valueOf(10_000));
    /**
     * Each storage node's that is not a super-node (a super-node's balance is the same): its
     * transactions (registration, proofs) cost fees, and every upload through it buys a storage
     * contract from its account. At a price of 1/1,000 pass per GiB per period (the chain's default
     * when no node asks) and devnet periods of 20 blocks (~20 s), the default 30 days are ~129,600
     * periods: ~130 passes per GiB, so 10,000 passes pay for tens of GiB at that price and a few
     * GiB at ten times it.
     */
    static final BigInteger NODE_FUNDS = Amounts.PASS.multiply(BigInteger.valueOf(10_000));
    static final BigInteger DEVNET_FUNDS = Amounts.PASS.multiply(BigInteger.valueOf(1_000_000));
    /** Each super-node's genesis stake, bonded to its own candidacy. */
    static final BigInteger SELF_BOND = Amounts.PASS.multiply(BigInteger.valueOf(10_000));
    /** What every devnet transaction pays, plus {@link #FEE_PER_BYTE} per byte of the signed transaction (base units). */
    static final BigInteger MIN_FEE = BigInteger.valueOf(1000);
    static final BigInteger FEE_PER_BYTE = io.oecloud.chain.ledger.Fees.DEFAULT_PER_BYTE;
    /** The protocol's reserve for future development. */
    static final BigInteger RESERVE = Amounts.PASS.multiply(BigInteger.valueOf(10_000_000));
    private static final ObjectMapper JSON = new ObjectMapper();

    final Path dir;
    final Path cometbft;
    final Path walletKey;

    DevnetChain(Path dataDir, Path cometbft) {
        this.dir = dataDir.resolve("chain");
        this.cometbft = cometbft;
        this.walletKey = dataDir.resolve("wallet").resolve("devnet.key");
    }

    Path home(int i) {
        return dir.resolve("node" + i);
    }

    /** {@link #prepare(Path, int, int)} for a devnet of super-nodes only. */
    void prepare(Path dataDir, int basePort) throws IOException {
        prepare(dataDir, basePort, SUPER_NODES);
    }

    /**
     * Creates the chain's homes and genesis unless they exist, funding nodes 0 to {@code nodes - 1}.
     * {@code basePort} 0 picks free ports.
     */
    void prepare(Path dataDir, int basePort, int nodes) throws IOException {
        if (Files.exists(home(SUPER_NODES - 1).resolve("config/genesis.json"))) {
            if (!Files.exists(home(0).resolve(io.oecloud.chain.node.TxService.CONFIG))) { // a devnet made before the ledger kept the mempool
                int[] free = basePort == 0 ? CometConfig.freePorts(SUPER_NODES) : null;
                int[] txs = new int[SUPER_NODES];
                for (int i = 0; i < SUPER_NODES; i++) {
                    txs[i] = basePort == 0 ? free[i] : basePort + 144 + i;
                }
                writeMempoolConfigs(dataDir, txs);
            } else if (!mempoolConfigsComplete()) { // made before gossip was signed: same ports, the peers' IDs added
                int[] txs = new int[SUPER_NODES];
                for (int i = 0; i < SUPER_NODES; i++) {
                    txs[i] = io.oecloud.chain.node.TxService.Config.read(home(i)).listen().getPort();
                }
                writeMempoolConfigs(dataDir, txs);
            }
            return;
        }
        CometConfig.testnet(cometbft, dir, SUPER_NODES, 0);
        if (!Files.exists(walletKey)) {
            byte[] seed = new byte[32];
            new SecureRandom().nextBytes(seed);
            WalletKey.write(walletKey, seed, null);
        }
        ObjectNode app = JSON.createObjectNode().put("minFee", MIN_FEE.toString()).put("feePerByte", FEE_PER_BYTE.toString())
                .put("reserve", RESERVE.toString());
        app.putObject("params").put("epochBlocks", 20).put("maxValidators", 21).put("unbondingBlocks", 40)
                .put("minSelfBond", Amounts.PASS.toString()).put("blockReward", Amounts.PASS.toString())
                .put("downtimeWindow", 1000).put("downtimeMaxMissed", 500);
        // proofs of storage: periods of seconds (20 blocks, 4 windows of 5), c = 32, a pass of collateral at least
        app.putObject("storage").put("periodBlocks", 20).put("windows", 4).put("challenges", 32)
                .put("minCollateral", Amounts.PASS.toString()).put("penaltyPpm", 100_000)
                .put("faultFee", Amounts.PASS.divide(java.math.BigInteger.valueOf(1000)).toString()).put("commitDeadline", 1);
        ArrayNode accounts = app.putArray("accounts");
        ArrayNode candidates = app.putArray("candidates");
        for (int i = 0; i < SUPER_NODES; i++) {
            Identity id = Identity.loadOrCreate(dataDir.resolve("node-" + i));
            accounts.addObject().put("address", Ledger.address(id.publicKey())).put("balance", SUPER_NODE_FUNDS.toString());
            JsonNode key = JSON.readTree(home(i).resolve("config/priv_validator_key.json").toFile());
            // the beacon key comes from the node's identity, which runs its ledger (ChainNode)
            Genesis.putBeaconKey(candidates.addObject().put("address", Ledger.address(id.publicKey())).put("moniker", "oe-devnet-" + i)
                    .put("validatorKey", key.at("/pub_key/value").asText()).put("selfBond", SELF_BOND.toString())
                    .put("commissionPpm", 100_000), id);
        }
        for (int i = SUPER_NODES; i < nodes; i++) {
            Identity id = Identity.loadOrCreate(dataDir.resolve("node-" + i));
            accounts.addObject().put("address", Ledger.address(id.publicKey())).put("balance", NODE_FUNDS.toString());
        }
        accounts.addObject().put("address", WalletKey.address(walletKey)).put("balance", DEVNET_FUNDS.toString());
        String g = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(CometConfig.genesis(home(0), CHAIN_ID, app));
        int[] p2p = new int[SUPER_NODES];
        int[] rpc = new int[SUPER_NODES];
        int[] abci = new int[SUPER_NODES];
        int[] txs = new int[SUPER_NODES];
        String[] ids = new String[SUPER_NODES];
        int[] free = basePort == 0 ? CometConfig.freePorts(4 * SUPER_NODES) : null;
        for (int i = 0; i < SUPER_NODES; i++) {
            p2p[i] = basePort == 0 ? free[4 * i] : basePort + 2 * i;
            rpc[i] = basePort == 0 ? free[4 * i + 1] : basePort + 1 + 2 * i;
            abci[i] = basePort == 0 ? free[4 * i + 2] : basePort + 100 + i;
            txs[i] = basePort == 0 ? free[4 * i + 3] : basePort + 144 + i;
            ids[i] = CometConfig.nodeId(cometbft, home(i));
        }
        for (int i = 0; i < SUPER_NODES; i++) {
            CometConfig.configureLoopback(home(i), "tcp://127.0.0.1:" + abci[i], rpc[i], i, ids, p2p, "500ms");
            CometConfig.toml(home(i).resolve("config/config.toml"), "", "moniker", "\"oe-devnet-" + i + "\"");
            Files.writeString(home(i).resolve("config/genesis.json"), g, StandardCharsets.UTF_8);
        }
        writeMempoolConfigs(dataDir, txs);
    }

    /** Each super-node's mempool endpoint on {@code txs[i]}, gossiping to the other three (named by their node keys). */
    private void writeMempoolConfigs(Path dataDir, int[] txs) throws IOException {
        String[] ids = new String[SUPER_NODES];
        for (int i = 0; i < SUPER_NODES; i++) {
            ids[i] = Identity.loadOrCreate(dataDir.resolve("node-" + i)).peerId().toString();
        }
        for (int i = 0; i < SUPER_NODES; i++) {
            io.oecloud.chain.node.TxService.Config.loopbackMesh(txs, ids, i).write(home(i));
        }
    }

    private boolean mempoolConfigsComplete() throws IOException {
        for (int i = 0; i < SUPER_NODES; i++) {
            if (!Files.exists(home(i).resolve(io.oecloud.chain.node.TxService.CONFIG))
                    || !io.oecloud.chain.node.TxService.Config.read(home(i)).complete()) {
                return false;
            }
        }
        return true;
    }

    /**
     * What a node that is not a super-node is told to reach the chain through ({@code chain-rpc}
     * and {@code chain-mempool}, HOST:PORT): every super-node's CometBFT RPC and mempool endpoint.
     */
    Map<String, List<String>> clientSettings() throws IOException {
        List<String> rpc = new ArrayList<>();
        List<String> mempool = new ArrayList<>();
        for (int i = 0; i < SUPER_NODES; i++) {
            rpc.add(CometConfig.tomlValue(home(i).resolve("config/config.toml"), "rpc", "laddr").replace("tcp://", ""));
            java.net.InetSocketAddress m = io.oecloud.chain.node.TxService.Config.read(home(i)).listen();
            mempool.add(m.getHostString() + ":" + m.getPort());
        }
        Map<String, List<String>> s = new LinkedHashMap<>();
        s.put("chain-rpc", rpc);
        s.put("chain-mempool", mempool);
        return s;
    }

    /** What devnet.json says of the chain. */
    Map<String, Object> describe() throws IOException {
        Path dataDir = dir.getParent();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chainId", CHAIN_ID);
        List<Map<String, Object>> validators = new ArrayList<>();
        for (int i = 0; i < SUPER_NODES; i++) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("node", i);
            v.put("rpc", CometConfig.tomlValue(home(i).resolve("config/config.toml"), "rpc", "laddr").replace("tcp://", "http://"));
            java.net.InetSocketAddress mempool = io.oecloud.chain.node.TxService.Config.read(home(i)).listen();
            v.put("mempool", "http://" + mempool.getHostString() + ":" + mempool.getPort());
            v.put("validatorAddress", JSON.readTree(home(i).resolve("config/priv_validator_key.json").toFile()).path("address").asText());
            v.put("operator", Ledger.address(Identity.loadOrCreate(dataDir.resolve("node-" + i)).publicKey()));
            v.put("home", home(i).toString());
            validators.add(v);
        }
        m.put("validators", validators);
        m.put("devnetKey", walletKey.toString());
        m.put("devnetAddress", WalletKey.address(walletKey));
        m.put("devnetPasses", DEVNET_FUNDS.divide(Amounts.PASS).toString());
        m.put("superNodePasses", SUPER_NODE_FUNDS.divide(Amounts.PASS).toString());
        m.put("superNodeSelfBond", SELF_BOND.divide(Amounts.PASS).toString());
        m.put("epochBlocks", 20);
        return m;
    }
}
