package io.oecloud.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A super-node's mempool on the network: its {@link TxServer} and its {@link TxGossip} to the
 * other super-nodes, as {@code HOME/config/mempool.json} says:
 * {@code {"listen": "127.0.0.1:26800", "peers": ["127.0.0.1:26801", ...]}} (the peers' listen
 * addresses). Without the file it listens on a free loopback port and gossips to no one: its
 * clients' transactions then reach blocks when this node proposes.
 */
public final class TxService implements AutoCloseable {
    /** The file, relative to CometBFT's home. */
    public static final String CONFIG = "config/mempool.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TxServer server;
    private final TxGossip gossip;

    /** What the file says. */
    public record Config(InetSocketAddress listen, List<InetSocketAddress> peers) {
        public static Config read(Path home) throws IOException {
            Path f = home.resolve(CONFIG);
            if (!Files.exists(f)) {
                return new Config(new InetSocketAddress("127.0.0.1", 0), List.of());
            }
            JsonNode doc = JSON.readTree(f.toFile());
            List<InetSocketAddress> peers = new ArrayList<>();
            for (JsonNode p : doc.path("peers")) {
                peers.add(hostPort(p.asText(), f));
            }
            return new Config(hostPort(doc.path("listen").asText("127.0.0.1:0"), f), List.copyOf(peers));
        }

        /** Node {@code self} of a loopback mesh whose node i listens on {@code ports[i]}: every other node is a peer. */
        public static Config loopbackMesh(int[] ports, int self) {
            List<InetSocketAddress> peers = new ArrayList<>();
            for (int j = 0; j < ports.length; j++) {
                if (j != self) {
                    peers.add(new InetSocketAddress("127.0.0.1", ports[j]));
                }
            }
            return new Config(new InetSocketAddress("127.0.0.1", ports[self]), List.copyOf(peers));
        }

        public void write(Path home) throws IOException {
            ObjectNode doc = JSON.createObjectNode().put("listen", listen.getHostString() + ":" + listen.getPort());
            peers.forEach(p -> doc.withArray("peers").add(p.getHostString() + ":" + p.getPort()));
            Files.writeString(home.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
        }

        private static InetSocketAddress hostPort(String s, Path file) throws IOException {
            int colon = s.lastIndexOf(':');
            try {
                return new InetSocketAddress(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
            } catch (RuntimeException e) {
                throw new IOException(file + ": '" + s + "' is not HOST:PORT");
            }
        }
    }

    private TxService(TxServer server, TxGossip gossip) {
        this.server = server;
        this.gossip = gossip;
    }

    public static TxService start(LedgerApp app, Config config) throws IOException {
        return start(app, config, TxGossip.RETRY);
    }

    /** With the gossip's retry interval for unreachable peers (tests take 0: every offer tries again). */
    static TxService start(LedgerApp app, Config config, java.time.Duration gossipRetry) throws IOException {
        TxGossip gossip = new TxGossip(config.peers(), gossipRetry);
        TxServer server;
        try {
            server = new TxServer(app).start(config.listen());
        } catch (IOException e) {
            gossip.close();
            throw e;
        }
        app.onAdmitted(gossip::offer);
        return new TxService(server, gossip);
    }

    public InetSocketAddress address() {
        return server.address();
    }

    public TxGossip gossip() {
        return gossip;
    }

    @Override
    public void close() {
        server.close();
        gossip.close();
    }
}
