package io.oecloud.chain.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * CometBFT's configuration as the chain writes and reads it: the homes {@code cometbft testnet}
 * lays out, one key of {@code config.toml} at a time, a loopback layout of N nodes (ports, each
 * other as persistent peers, the commit timeout), and the genesis carrying the ledger's
 * {@code app_state}. Used by {@code oe devnet}, by {@link ChainNode} (which turns CometBFT's own
 * mempool off) and by the test networks.
 */
public final class CometConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CometConfig() {}

    /**
     * Runs {@code cometbft testnet}: {@code validators} validators and {@code fullNodes} more
     * nodes under {@code dir} ({@code node0}, {@code node1}, ...), each with its keys, a
     * config.toml and a genesis.json.
     */
    public static void testnet(Path cometbft, Path dir, int validators, int fullNodes) throws IOException {
        run(cometbft.toString(), "testnet", "--v", String.valueOf(validators), "--n", String.valueOf(fullNodes), "--o", dir.toString(),
                "--starting-ip-address", "127.0.0.1");
    }

    /** The CometBFT node ID (of its p2p key) of the node at {@code home}. */
    public static String nodeId(Path cometbft, Path home) throws IOException {
        return run(cometbft.toString(), "show-node-id", "--home", home.toString()).strip();
    }

    /**
     * Points node {@code self} of a {@code cometbft testnet} layout at loopback: its app
     * ({@code proxy_app}), its RPC port, its p2p port ({@code p2p[self]}) and every other node as a
     * persistent peer, no pprof, and the commit timeout.
     */
    public static void configureLoopback(Path home, String proxyApp, int rpcPort, int self, String[] ids, int[] p2p, String timeoutCommit)
            throws IOException {
        List<String> peers = new ArrayList<>();
        for (int j = 0; j < ids.length; j++) {
            if (j != self) {
                peers.add(ids[j] + "@127.0.0.1:" + p2p[j]);
            }
        }
        Path c = home.resolve("config/config.toml");
        toml(c, "", "proxy_app", "\"" + proxyApp + "\"");
        toml(c, "rpc", "laddr", "\"tcp://127.0.0.1:" + rpcPort + "\"");
        toml(c, "rpc", "pprof_laddr", "\"\"");
        toml(c, "p2p", "laddr", "\"tcp://127.0.0.1:" + p2p[self] + "\"");
        toml(c, "p2p", "persistent_peers", "\"" + String.join(",", peers) + "\"");
        toml(c, "p2p", "allow_duplicate_ip", "true");
        toml(c, "p2p", "addr_book_strict", "false");
        toml(c, "consensus", "timeout_commit", "\"" + timeoutCommit + "\"");
    }

    /**
     * The genesis of {@code cometbft testnet}'s node 0 with the chain ID, the ledger's app state,
     * and vote extensions from height 1 (super-nodes contribute to the chain's randomness beacon,
     * ARCHITECTURE.md).
     */
    public static ObjectNode genesis(Path home0, String chainId, ObjectNode appState) throws IOException {
        ObjectNode genesis = (ObjectNode) JSON.readTree(home0.resolve("config/genesis.json").toFile());
        genesis.put("chain_id", chainId);
        genesis.withObject("/consensus_params/abci").put("vote_extensions_enable_height", "1");
        genesis.set("app_state", appState);
        return genesis;
    }

    /** Sets {@code key = value} in one [section] ("" for the top) of a TOML file. */
    public static void toml(Path file, String section, String key, String value) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        String current = "";
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.startsWith("[") && l.endsWith("]")) {
                current = l.substring(1, l.length() - 1);
            } else if (current.equals(section) && l.startsWith(key + " =")) {
                lines.set(i, key + " = " + value);
                Files.write(file, lines);
                return;
            }
        }
        throw new IOException("no " + key + " in [" + section + "] of " + file);
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

    /**
     * {@code count} distinct free ports for processes that bind them later. They are taken below
     * Linux's ephemeral range (32768 and up), where the outgoing connections of the nodes already
     * running cannot occupy them in the meantime, and held open together so none is given twice.
     */
    public static int[] freePorts(int count) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        java.util.Random rnd = new java.util.Random();
        try {
            int[] ports = new int[count];
            for (int i = 0, tries = 0; i < count; tries++) {
                if (tries > 10_000) {
                    throw new IOException("no free ports below 32768");
                }
                int port = 20_000 + rnd.nextInt(12_000);
                try {
                    ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress());
                    held.add(s);
                    ports[i++] = port;
                } catch (IOException inUse) {
                    // taken: another
                }
            }
            return ports;
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }

    /** Runs a CometBFT command (at most 60 s), its output. */
    private static String run(String... cmd) throws IOException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
