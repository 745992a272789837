package io.oecloud.dht;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What we know of other peers: their addresses, and what identify told us. Bounded (peers and
 * addresses per peer); saved to {@code peers.txt} in the data directory as one line per peer
 * ({@code PEERID ADDR...}) so that a restarted node can reach its old neighbours. Thread-safe.
 */
public final class PeerStore {
    static final String FILE = "peers.txt";
    static final int MAX_PEERS = 10_000;
    static final int MAX_ADDRS = 16;

    /** What identify reported; empty until it ran. */
    public record Identified(List<String> protocols, String agentVersion, String protocolVersion) {}

    private final Map<PeerId, LinkedHashSet<Multiaddr>> addrs = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<PeerId, Identified> identified = new LinkedHashMap<>();
    private final Path file;

    PeerStore(Path dataDir) {
        this.file = dataDir == null ? null : dataDir.resolve(FILE);
    }

    /** Records addresses for a peer (the /p2p suffix is dropped); least recently touched peers go first. */
    public synchronized void addAddrs(PeerId peer, Iterable<Multiaddr> as) {
        LinkedHashSet<Multiaddr> set = addrs.computeIfAbsent(peer, p -> new LinkedHashSet<>());
        for (Multiaddr a : as) {
            if (set.size() >= MAX_ADDRS) {
                break;
            }
            set.add(a.withoutPeerId());
        }
        while (addrs.size() > MAX_PEERS) {
            PeerId eldest = addrs.keySet().iterator().next();
            addrs.remove(eldest);
            identified.remove(eldest);
        }
    }

    public synchronized List<Multiaddr> addrs(PeerId peer) {
        Set<Multiaddr> s = addrs.get(peer);
        return s == null ? List.of() : List.copyOf(s);
    }

    synchronized void setIdentified(PeerId peer, Identified info) {
        identified.put(peer, info);
    }

    public synchronized Identified identified(PeerId peer) {
        return identified.get(peer);
    }

    public synchronized Set<PeerId> peers() {
        return Set.copyOf(addrs.keySet());
    }

    synchronized void load() throws IOException {
        if (file == null || !Files.exists(file)) {
            return;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 2) {
                continue;
            }
            try {
                PeerId p = PeerId.parse(f[0]);
                List<Multiaddr> as = new ArrayList<>();
                for (int i = 1; i < f.length; i++) {
                    as.add(Multiaddr.parse(f[i]));
                }
                addAddrs(p, as);
            } catch (IllegalArgumentException e) {
                // a damaged line loses one peer, not the store
            }
        }
    }

    synchronized void save() throws IOException {
        if (file == null) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<PeerId, LinkedHashSet<Multiaddr>> e : addrs.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            sb.append(e.getKey());
            for (Multiaddr a : e.getValue()) {
                sb.append(' ').append(a);
            }
            sb.append('\n');
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(FILE + ".tmp");
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
