package io.oecloud.chain.testnet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.node.CometConfig;
import io.oecloud.chain.node.LedgerApp;
import io.oecloud.chain.node.LedgerNode;
import io.oecloud.chain.node.TxService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A network of N CometBFT validators on loopback for tests and benchmarks, each driving its own
 * ledger ({@link LedgerNode}: own RocksDB, own ABCI server and mempool endpoint in this JVM) or
 * CometBFT's built-in kvstore app: made with {@code cometbft testnet}, then given free ports, each
 * other as persistent peers, a short commit timeout and the ledger's genesis ({@link CometConfig}).
 * Test code: other modules reach it through chain-bridge's test-jar, which holds this package only.
 */
public final class LocalTestnet implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final boolean kvstore;
    private final Path cometbft;
    private final Path dir;
    private final int n;
    public final int[] rpc;
    private final int[] abci;
    /** Each ledger's mempool endpoint ({@code POST /v1/chain/txs}); the ledgers gossip to each other. */
    public final int[] tx;
    private final Process[] engines;
    private final LedgerNode[] ledgers;
    /** abci-cli, when kvstore runs as a separate process behind the ABCI socket (null: built into CometBFT). */
    private final Path abciCli;
    private final Process[] apps;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * Each node's key (its peer ID signs its mempool gossip), and with bonds the operator of its
     * candidacy (validators and full nodes alike), funded with 100 passes each.
     */
    private final List<io.oecloud.dht.Identity> operators = new ArrayList<>();
    private static Path installed;

    /**
     * The CometBFT binary the tests use: {@code tools/cometbft.sh} (run from chain-bridge/)
     * installs the pinned version once, about 45 s, and prints its path.
     */
    public static synchronized Path cometbft() throws Exception {
        if (installed == null) {
            Path script = Path.of("tools/cometbft.sh").toAbsolutePath();
            Process p = new ProcessBuilder("bash", script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IOException("CometBFT install failed");
            }
            installed = Path.of(out);
        }
        return installed;
    }

    public LocalTestnet(Path cometbft, Path dir, int n, String chainId, ObjectNode appState, boolean kvstore) throws Exception {
        this(cometbft, dir, n, 0, chainId, appState, kvstore, null);
    }

    /**
     * {@code validators} validators and {@code fullNodes} more nodes that follow the chain. With
     * {@code bonds} (passes, one per validator), the ledger's genesis makes each validator a
     * candidate with that self-bond, run by {@link #operator(int)}; every node's operator is funded.
     */
    public LocalTestnet(Path cometbft, Path dir, int validators, int fullNodes, String chainId, ObjectNode appState, boolean kvstore,
                        long[] bonds) throws Exception {
        this(cometbft, dir, validators, fullNodes, chainId, appState, kvstore, bonds, null);
    }

    /**
     * CometBFT's kvstore as an external application: {@code abci-cli kvstore} processes (one per
     * node) that CometBFT reaches over the ABCI socket, as it reaches the ledger. The engine's
     * ceiling for any application outside its process.
     */
    public static LocalTestnet externalKvstore(Path cometbft, Path abciCli, Path dir, int validators, String chainId) throws Exception {
        return new LocalTestnet(cometbft, dir, validators, 0, chainId, JSON.createObjectNode(), true, null, abciCli);
    }

    private LocalTestnet(Path cometbft, Path dir, int validators, int fullNodes, String chainId, ObjectNode appState, boolean kvstore,
                         long[] bonds, Path abciCli) throws Exception {
        int n = validators + fullNodes;
        this.kvstore = kvstore;
        this.abciCli = abciCli;
        this.apps = new Process[n];
        this.cometbft = cometbft;
        this.dir = dir;
        this.n = n;
        this.rpc = new int[n];
        this.abci = new int[n];
        this.tx = new int[n];
        this.engines = new Process[n];
        this.ledgers = new LedgerNode[n];
        CometConfig.testnet(cometbft, dir, validators, fullNodes);
        int[] p2p = new int[n];
        String[] ids = new String[n];
        int[] ports = CometConfig.freePorts(4 * n);
        for (int i = 0; i < n; i++) {
            p2p[i] = ports[4 * i];
            rpc[i] = ports[4 * i + 1];
            abci[i] = ports[4 * i + 2];
            tx[i] = ports[4 * i + 3];
            ids[i] = CometConfig.nodeId(cometbft, home(i));
        }
        for (int i = 0; i < n; i++) {
            operators.add(io.oecloud.dht.Identity.generate());
        }
        if (!kvstore && !appState.has("feePerByte")) { // every genesis made here prices transactions by size
            appState = appState.deepCopy().put("feePerByte", Fees.DEFAULT_PER_BYTE.toString());
        }
        if (bonds != null) {
            appState = appState.deepCopy();
            com.fasterxml.jackson.databind.node.ArrayNode accounts = appState.withArray("accounts");
            com.fasterxml.jackson.databind.node.ArrayNode candidates = appState.withArray("candidates");
            for (int i = 0; i < n; i++) {
                io.oecloud.dht.Identity op = operators.get(i);
                accounts.addObject().put("address", Ledger.address(op.publicKey()))
                        .put("balance", Amounts.PASS.multiply(java.math.BigInteger.valueOf(100)).toString());
                if (i < validators) {
                    // each with its beacon key, from the identity that runs node i's ledger
                    io.oecloud.chain.ledger.Genesis.putBeaconKey(candidates.addObject().put("address", Ledger.address(op.publicKey()))
                            .put("moniker", "node" + i)
                            .put("selfBond", Amounts.PASS.multiply(java.math.BigInteger.valueOf(bonds[i])).toString())
                            .put("commissionPpm", 100_000).put("validatorKey", java.util.Base64.getEncoder().encodeToString(validatorKey(i))), op);
                }
            }
        }
        String g = JSON.writeValueAsString(CometConfig.genesis(home(0), chainId, appState));
        for (int i = 0; i < n; i++) {
            CometConfig.configureLoopback(home(i), kvstore && abciCli == null ? "kvstore" : "tcp://127.0.0.1:" + abci[i], rpc[i], i, ids, p2p, "300ms");
            if (i == 0 && System.getProperty("oe.chain.pprof") != null) { // for profiling: go tool pprof http://127.0.0.1:PORT/debug/pprof/profile
                CometConfig.toml(home(i).resolve("config/config.toml"), "rpc", "pprof_laddr", "\"127.0.0.1:" + Integer.getInteger("oe.chain.pprof") + "\"");
            }
            Files.writeString(home(i).resolve("config/genesis.json"), g);
            if (!kvstore) { // the ledger keeps the mempool and gossips it; kvstore has only CometBFT's
                CometConfig.toml(home(i).resolve("config/config.toml"), "mempool", "type", "\"nop\"");
                TxService.Config.loopbackMesh(tx, peerIds(), i).write(home(i));
            }
        }
    }

    public int size() {
        return n;
    }

    private String[] peerIds() {
        return operators.stream().map(k -> k.peerId().toString()).toArray(String[]::new);
    }

    /** What a transaction must pay on this network (its genesis' fees). */
    public Fees fees() throws IOException {
        return Fees.fromGenesis(JSON.readTree(home(0).resolve("config/genesis.json").toFile()).path("app_state"));
    }

    /** Node i's key (its peer ID); with bonds, the operator (account key) of node i's candidacy. */
    public io.oecloud.dht.Identity operator(int i) {
        return operators.get(i);
    }

    /** Node i's CometBFT validator public key (Ed25519, from its priv_validator_key.json). */
    public byte[] validatorKey(int i) throws IOException {
        JsonNode k = JSON.readTree(home(i).resolve("config/priv_validator_key.json").toFile());
        return java.util.Base64.getDecoder().decode(k.at("/pub_key/value").asText());
    }

    /** Node i's CometBFT validator address (upper-case hex). */
    public String validatorAddress(int i) throws IOException {
        return JSON.readTree(home(i).resolve("config/priv_validator_key.json").toFile()).path("address").asText();
    }

    public Path home(int i) {
        return dir.resolve("node" + i);
    }

    /** Starts node i's ledger (on its data) and its CometBFT. */
    public void start(int i) throws Exception {
        if (abciCli != null) {
            apps[i] = new ProcessBuilder(abciCli.toString(), "kvstore", "--address", "tcp://127.0.0.1:" + abci[i], "--log_level", "error")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("app" + i + ".log").toFile())).start();
            awaitListening(abci[i], apps[i]);
        }
        if (!kvstore) {
            ledgers[i] = LedgerNode.start(dir.resolve("ledger" + i), new InetSocketAddress("127.0.0.1", abci[i]),
                    TxService.Config.read(home(i)), operators.get(i));
        }
        engines[i] = new ProcessBuilder(cometbft.toString(), "start", "--home", home(i).toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node" + i + ".log").toFile()))
                .start();
    }

    /** Waits (at most 10 s) until {@code app} accepts connections on {@code port}. */
    private static void awaitListening(int port, Process app) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                if (!app.isAlive() || System.nanoTime() > end) {
                    throw new IOException("the ABCI app for port " + port + " did not start listening", e);
                }
                Thread.sleep(20);
            }
        }
    }

    public void startAll() throws Exception {
        for (int i = 0; i < n; i++) {
            start(i);
        }
    }

    /** The running CometBFT processes (for measuring their CPU). */
    public List<ProcessHandle> engineProcesses() {
        return java.util.Arrays.stream(engines).filter(p -> p != null && p.isAlive()).map(Process::toHandle).toList();
    }

    /** The running external applications (abci-cli kvstore; none for the ledger or the built-in kvstore). */
    public List<ProcessHandle> appProcesses() {
        return java.util.Arrays.stream(apps).filter(p -> p != null && p.isAlive()).map(Process::toHandle).toList();
    }

    /** SIGKILL to node i's CometBFT, and its ledger stops as if its process had died with it. */
    public void kill(int i) throws Exception {
        engines[i].destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        if (ledgers[i] != null) {
            ledgers[i].close();
        }
    }

    public JsonNode rpc(int i, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rpc[i] + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /**
     * POST /v1/chain/txs to node i's ledger: {hash, code, log}, and with {@code commit} (waiting
     * for the block) its height too. For the kvstore networks: CometBFT's broadcast_tx_sync or
     * _commit, answered in the same shape.
     */
    public JsonNode submit(int i, byte[] transaction, boolean commit) throws Exception {
        if (kvstore) {
            JsonNode r = rpc(i, "/broadcast_tx_" + (commit ? "commit" : "sync") + "?tx=0x" + HexFormat.of().formatHex(transaction));
            JsonNode res = commit ? r.at("/result/tx_result") : r.path("result");
            ObjectNode out = JSON.createObjectNode().put("hash", r.at("/result/hash").asText()).put("code", res.path("code").asInt())
                    .put("log", r.has("error") ? r.at("/error/data").asText() : res.path("log").asText());
            return commit ? out.put("height", r.at("/result/height").asLong()) : out;
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tx[i] + "/v1/chain/txs"
                        + (commit ? "?wait=commit" : ""))).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(transaction)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /** Node i's ledger (null for kvstore networks). */
    public LedgerApp ledger(int i) {
        return ledgers[i] == null ? null : ledgers[i].app();
    }

    /** Transactions waiting in node i's mempool (the ledger's, or CometBFT's for kvstore). */
    public int pending(int i) throws Exception {
        if (kvstore) {
            return rpc(i, "/num_unconfirmed_txs").at("/result/total").asInt();
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tx[i] + "/v1/chain/mempool"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body()).path("pending").asInt();
    }

    public long height(int i) {
        try {
            return rpc(i, "/status").at("/result/sync_info/latest_block_height").asLong();
        } catch (Exception e) {
            return -1;
        }
    }

    public void awaitHeight(int i, long h, long seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (height(i) < h) {
            if (System.nanoTime() > end || (engines[i] != null && !engines[i].isAlive())) {
                Path log = dir.resolve("node" + i + ".log");
                List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
                throw new java.util.concurrent.TimeoutException("node " + i + " did not reach height " + h + " (at " + height(i)
                        + (engines[i] != null && !engines[i].isAlive() ? ", CometBFT exited" : "") + "); its log ends:\n"
                        + String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
            }
            Thread.sleep(100); // polling another process's RPC
        }
    }

    /** The app hash node i's ledger reported for block h (in the header of block h + 1). */
    public String appHashAfter(int i, long h) throws Exception {
        return rpc(i, "/block?height=" + (h + 1)).at("/result/block/header/app_hash").asText();
    }

    public JsonNode account(int i, String address) throws Exception {
        String hex = HexFormat.of().formatHex(address.getBytes(StandardCharsets.UTF_8));
        JsonNode r = rpc(i, "/abci_query?path=%22/account%22&data=0x" + hex);
        return JSON.readTree(Base64.getDecoder().decode(r.at("/result/response/value").asText()));
    }

    /** What node i's own ledger says its last committed height and app hash are. */
    public JsonNode info(int i) throws Exception {
        return rpc(i, "/abci_info").at("/result/response");
    }

    @Override
    public void close() {
        for (int i = 0; i < n; i++) {
            if (apps[i] != null) {
                apps[i].destroyForcibly();
            }
            if (engines[i] != null) {
                engines[i].destroyForcibly();
                try {
                    engines[i].waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (ledgers[i] != null) {
                ledgers[i].close();
            }
        }
    }
}
