package io.oecloud.dht;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What we know of other peers, in two parts that are trusted differently. Thread-safe.
 *
 * <ul>
 *   <li><b>Heard</b>: addresses anyone told us, for any peer (DHT replies name third parties,
 *   provider records, identify). Used to dial during lookups and transfers, never saved. Bounded,
 *   least recently touched peers going first: {@link #MAX_PEERS} peers, {@link #MAX_ADDRS}
 *   addresses each, and {@link #MAX_HEARD_BYTES} (16 MiB) of estimated heap in all (an address
 *   may be 1 KiB, so the counts alone would allow 10,000 x 16 addresses, about 380 MB).
 *   <li><b>Identified</b>: peers that connected (Noise proved their ID) and answered identify,
 *   with the addresses shown to reach them: the one we dialed, or for a peer that dialed us, the
 *   listen addresses it reported on the IP it connected from (an unspecified listen IP becomes
 *   that IP). A peer can thus point us at its own host only, never at a third party. Bounded by
 *   {@link #MAX_IDENTIFIED} peers, {@link #MAX_REACHED} addresses each, and what identify said cut
 *   to {@link #KEPT_PROTOCOLS} protocols (1 KiB of names). Only these are saved to
 *   {@code peers.txt} and offered as {@link #bootstrapPeers bootstrap peers} after a restart.
 * </ul>
 *
 * <p>{@code peers.txt} is {@link #HEADER} and then one line per identified peer, oldest first:
 * {@code PEERID ADDR...}. A file without the header (written before addresses were told apart)
 * may hold addresses learned from strangers: its lines are loaded as heard, not as bootstrap peers.
 */
public final class PeerStore {
    static final String FILE = "peers.txt";
    static final String HEADER = "# oe peer store v2: peers that connected and identified, oldest first";
    static final int MAX_PEERS = 10_000;
    static final int MAX_ADDRS = 16;
    /**
     * Heap of a heard address beyond its encoded bytes, which are held twice (the binary form and
     * the components): the object, its component list and records, the set entry. With
     * {@link #PEER_OVERHEAD} (ID, map and set), measured within 10 %: 10,000 peers with 3 IPv4
     * addresses took 8.6 MB of heap, 260 peers with 16 addresses of 1 KiB took 8.4 MB.
     */
    static final int ADDR_OVERHEAD = 200;
    static final int PEER_OVERHEAD = 250;
    static final long MAX_HEARD_BYTES = 16L << 20;
    static final int MAX_IDENTIFIED = 10_000;
    static final int MAX_REACHED = 4;
    /**
     * What we keep of an identify answer (which may be 64 KiB: 10,000 peers would hold 640 MB):
     * the first 32 protocols that fit in 1 KiB of names, and 128 characters of each version. A
     * kubo node lists about 15 protocols in about 330 characters.
     */
    static final int KEPT_PROTOCOLS = 32;
    static final int KEPT_PROTOCOL_CHARS = 1024;
    static final int KEPT_VERSION_CHARS = 128;

    /** What identify reported; empty until it ran. */
    public record Identified(List<String> protocols, String agentVersion, String protocolVersion) {
        /** The part the store keeps (see {@link #KEPT_PROTOCOLS}). */
        Identified bounded() {
            List<String> kept = new ArrayList<>();
            int chars = 0;
            for (String p : protocols) {
                if (kept.size() == KEPT_PROTOCOLS) {
                    break;
                }
                if (chars + p.length() <= KEPT_PROTOCOL_CHARS) {
                    kept.add(p);
                    chars += p.length();
                }
            }
            return new Identified(List.copyOf(kept), cut(agentVersion), cut(protocolVersion));
        }

        private static String cut(String s) {
            return s == null || s.length() <= KEPT_VERSION_CHARS ? s : s.substring(0, KEPT_VERSION_CHARS);
        }
    }

    private static final class Heard {
        final LinkedHashSet<Multiaddr> addrs = new LinkedHashSet<>();
        long cost;
    }

    private static final class Known {
        /** Addresses shown to reach the peer, most recent first. */
        List<Multiaddr> reached = List.of();
        /** What identify said in this run; null for a peer loaded from the file. */
        Identified info;
    }

    /** Insertion order kept as recency: a touched entry is taken out and put back. */
    private final LinkedHashMap<PeerId, Heard> heard = new LinkedHashMap<>();
    private final LinkedHashMap<PeerId, Known> known = new LinkedHashMap<>();
    private long heardBytes;
    private final Path file;

    PeerStore(Path dataDir) {
        this.file = dataDir == null ? null : dataDir.resolve(FILE);
    }

    static long cost(Multiaddr a) {
        return 2L * a.length() + ADDR_OVERHEAD;
    }

    /** Records addresses someone told us for a peer (the /p2p suffix is dropped); used to dial, never saved. */
    public synchronized void addAddrs(PeerId peer, Iterable<Multiaddr> as) {
        Heard h = heard.remove(peer);
        if (h == null) {
            h = new Heard();
            h.cost = PEER_OVERHEAD;
            heardBytes += PEER_OVERHEAD;
        }
        heard.put(peer, h);
        for (Multiaddr a : as) {
            if (h.addrs.size() >= MAX_ADDRS) {
                break;
            }
            Multiaddr bare = a.withoutPeerId();
            if (h.addrs.add(bare)) {
                long c = cost(bare);
                h.cost += c;
                heardBytes += c;
            }
        }
        while (heard.size() > MAX_PEERS || (heardBytes > MAX_HEARD_BYTES && heard.size() > 1)) {
            Map.Entry<PeerId, Heard> eldest = heard.pollFirstEntry();
            heardBytes -= eldest.getValue().cost;
        }
    }

    /** Known addresses of a peer: those shown to reach it first, then those we heard. */
    public synchronized List<Multiaddr> addrs(PeerId peer) {
        Known k = known.get(peer);
        Heard h = heard.get(peer);
        if (h == null) {
            return k == null ? List.of() : k.reached;
        }
        if (k == null) {
            return List.copyOf(h.addrs);
        }
        LinkedHashSet<Multiaddr> all = new LinkedHashSet<>(k.reached);
        all.addAll(h.addrs);
        return List.copyOf(all);
    }

    /**
     * A peer connected and identified itself: remembered with what identify said and, as a
     * bootstrap peer, with the addresses its connection showed reach it ({@link #reached}).
     */
    synchronized void identified(PeerId peer, Identified info, List<Multiaddr> reached) {
        Known k = known.remove(peer);
        if (k == null) {
            k = new Known();
        }
        known.put(peer, k);
        k.info = info == null ? null : info.bounded();
        if (!reached.isEmpty()) {
            LinkedHashSet<Multiaddr> merged = new LinkedHashSet<>();
            for (Multiaddr a : reached) {
                merged.add(a.withoutPeerId());
            }
            merged.addAll(k.reached);
            k.reached = merged.stream().limit(MAX_REACHED).toList();
        }
        while (known.size() > MAX_IDENTIFIED) {
            known.pollFirstEntry();
        }
    }

    /**
     * The addresses a connection shows reach its peer: the one we dialed (the handshake proved
     * the peer there), or for an inbound connection the TCP listen addresses the peer reported
     * on the IP it came from, an unspecified IP (0.0.0.0, ::) read as that one.
     */
    static List<Multiaddr> reached(Connection c, List<Multiaddr> listen) {
        InetSocketAddress remote = c.remoteAddress();
        if (remote == null || remote.getAddress() == null) {
            return List.of();
        }
        if (c.isOutbound()) {
            return List.of(Multiaddr.tcp(remote));
        }
        List<Multiaddr> out = new ArrayList<>();
        for (Multiaddr a : listen) {
            InetSocketAddress sa = a.toTcpSocketAddress();
            if (sa == null || sa.getAddress() == null || sa.getPort() == 0) {
                continue;
            }
            if (sa.getAddress().equals(remote.getAddress()) || sa.getAddress().isAnyLocalAddress()) {
                out.add(Multiaddr.tcp(new InetSocketAddress(remote.getAddress(), sa.getPort())));
            }
        }
        return out;
    }

    public synchronized Identified identified(PeerId peer) {
        Known k = known.get(peer);
        return k == null ? null : k.info;
    }

    /** Every peer we hold addresses or identify results for. */
    public synchronized Set<PeerId> peers() {
        Set<PeerId> all = new HashSet<>(heard.keySet());
        all.addAll(known.keySet());
        return Set.copyOf(all);
    }

    /**
     * Where to rejoin the network without configured peers: identified peers, most recently
     * identified first, each at the address most recently shown to reach it (with /p2p); never an
     * address we only heard.
     *
     * @param max at most this many
     */
    public synchronized List<Multiaddr> bootstrapPeers(int max) {
        List<Multiaddr> out = new ArrayList<>();
        for (Map.Entry<PeerId, Known> e : known.reversed().entrySet()) {
            if (out.size() >= max) {
                break;
            }
            if (!e.getValue().reached.isEmpty()) {
                out.add(e.getValue().reached.get(0).withPeerId(e.getKey()));
            }
        }
        return out;
    }

    /** Estimated heap of heard addresses, peers heard of, peers identified (tests). */
    synchronized long[] sizes() {
        return new long[] {heardBytes, heard.size(), known.size()};
    }

    synchronized void load() throws IOException {
        if (file == null || !Files.exists(file)) {
            return;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        boolean trusted = !lines.isEmpty() && lines.get(0).equals(HEADER);
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 2 || f[0].startsWith("#")) {
                continue;
            }
            try {
                PeerId p = PeerId.parse(f[0]);
                List<Multiaddr> as = new ArrayList<>();
                for (int i = 1; i < f.length; i++) {
                    as.add(Multiaddr.parse(f[i]));
                }
                if (trusted) {
                    identified(p, null, as); // identify has not run in this process: no protocols yet
                } else {
                    addAddrs(p, as); // an old file: it may hold what strangers told us
                }
            } catch (IllegalArgumentException e) {
                // a damaged line loses one peer, not the store
            }
        }
    }

    synchronized void save() throws IOException {
        if (file == null) {
            return;
        }
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Map.Entry<PeerId, Known> e : known.entrySet()) {
            if (e.getValue().reached.isEmpty()) {
                continue;
            }
            sb.append(e.getKey());
            for (Multiaddr a : e.getValue().reached) {
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
