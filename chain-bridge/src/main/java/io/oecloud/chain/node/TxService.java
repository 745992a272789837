package io.oecloud.chain.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.oecloud.dht.Identity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A super-node's mempool on the network: its {@link TxServer} and its {@link TxGossip} to the
 * other super-nodes, as {@code HOME/config/mempool.json} says:
 * <pre>
 * {"listen": "127.0.0.1:26800",
 *  "peers": [{"address": "127.0.0.1:26801", "peerId": "12D3KooW..."}, ...]}
 * </pre>
 * (the peers' listen addresses and node identities: batches are signed for their receiver, and a
 * receiver accepts batches from its configured peers and the current validators' operators only,
 * {@link GossipAuth}). Without the file it listens on a free loopback port and gossips to no one:
 * its clients' transactions then reach blocks when this node proposes.
 */
public final class TxService implements AutoCloseable {
    /** The file, relative to CometBFT's home. */
    public static final String CONFIG = "config/mempool.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TxServer server;
    private final TxGossip gossip;

    /** A super-node to gossip to: where its mempool listens, and its node identity (peer ID = operator account). */
    public record Peer(InetSocketAddress address, String peerId) {
        public Peer {
            if (address == null) {
                throw new IllegalArgumentException("a gossip peer needs an address");
            }
            if (peerId != null && !GossipAuth.isEd25519PeerId(peerId)) {
                throw new IllegalArgumentException("gossip peer " + address + ": '" + peerId + "' is not an Ed25519 peer ID");
            }
        }
    }

    /**
     * What the file says. A file written before peers had identities lists bare "HOST:PORT"
     * strings: such peers have a null {@code peerId}, and {@link #complete} is false (the node
     * refuses to start on it; {@code oe devnet} rewrites it).
     */
    public record Config(InetSocketAddress listen, List<Peer> peers) {
        public Config {
            peers = List.copyOf(peers);
        }

        public static Config read(Path home) throws IOException {
            Path f = home.resolve(CONFIG);
            if (!Files.exists(f)) {
                return new Config(new InetSocketAddress("127.0.0.1", 0), List.of());
            }
            JsonNode doc = JSON.readTree(f.toFile());
            List<Peer> peers = new ArrayList<>();
            for (JsonNode p : doc.path("peers")) {
                try {
                    peers.add(p.isTextual() ? new Peer(hostPort(p.asText(), f), null)
                            : new Peer(hostPort(p.path("address").asText(), f), p.hasNonNull("peerId") ? p.path("peerId").asText() : null));
                } catch (IllegalArgumentException e) {
                    throw new IOException(f + ": " + e.getMessage());
                }
            }
            return new Config(hostPort(doc.path("listen").asText("127.0.0.1:0"), f), peers);
        }

        /** Whether every peer has its peer ID (files from before gossip was signed do not). */
        public boolean complete() {
            return peers.stream().allMatch(p -> p.peerId() != null);
        }

        /**
         * Node {@code self} of a loopback mesh whose node i listens on {@code ports[i]} with the
         * identity whose peer ID is {@code peerIds[i]}: every other node is a peer.
         */
        public static Config loopbackMesh(int[] ports, String[] peerIds, int self) {
            List<Peer> peers = new ArrayList<>();
            for (int j = 0; j < ports.length; j++) {
                if (j != self) {
                    peers.add(new Peer(new InetSocketAddress("127.0.0.1", ports[j]), peerIds[j]));
                }
            }
            return new Config(new InetSocketAddress("127.0.0.1", ports[self]), peers);
        }

        public void write(Path home) throws IOException {
            ObjectNode doc = JSON.createObjectNode().put("listen", listen.getHostString() + ":" + listen.getPort());
            var arr = doc.putArray("peers");
            peers.forEach(p -> arr.addObject().put("address", p.address().getHostString() + ":" + p.address().getPort())
                    .put("peerId", p.peerId()));
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

    /** The mempool of {@code app} for the super-node whose node key is {@code self}. */
    public static TxService start(LedgerApp app, Config config, Identity self) throws IOException {
        return start(app, config, self, TxGossip.RETRY, System::currentTimeMillis);
    }

    /**
     * With the gossip's retry interval for unreachable peers (tests take 0: every offer tries
     * again) and the clock gossip times are signed and checked with (tests move it).
     */
    static TxService start(LedgerApp app, Config config, Identity self, java.time.Duration gossipRetry,
                           java.util.function.LongSupplier clock) throws IOException {
        if (!config.complete()) {
            throw new IOException("gossip peers without a peerId in " + CONFIG + ": "
                    + config.peers().stream().filter(p -> p.peerId() == null).map(p -> p.address().toString()).toList()
                    + " (batches are signed for their receiver: add each peer's peer ID; oe devnet rewrites its files itself)");
        }
        Set<String> known = config.peers().stream().map(Peer::peerId).collect(Collectors.toUnmodifiableSet());
        GossipAuth auth = new GossipAuth(self.peerId().toString(), known, app::validatorOperators, app::chainId, clock);
        TxGossip gossip = new TxGossip(config.peers(), self, app::chainId, gossipRetry, clock);
        TxServer server;
        try {
            server = new TxServer(app, auth).start(config.listen());
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

    TxGossip gossip() {
        return gossip;
    }

    TxServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
        gossip.close();
    }
}
