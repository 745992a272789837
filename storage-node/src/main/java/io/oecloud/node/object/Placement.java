package io.oecloud.node.object;

import io.oecloud.dht.PeerId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Orders the nodes that will hold a segment's shards. The nearest nodes to the segment key come
 * first, but no two of the first picks share a subnet (/24 for IPv4, /48 for IPv6) while nodes in
 * other subnets are left, so one rack, home router or hosting account losing power cannot take more
 * than its share of a segment; nodes that recently failed or said they are full go last. Before
 * that, {@link #byStanding} puts the nodes the chain trusts most first.
 */
final class Placement {
    private Placement() {}

    /**
     * @param nearestFirst candidates sorted by distance to the segment key
     * @param subnet the subnet a peer is reached at, or null when unknown (then it is its own subnet)
     * @param avoid peers that recently failed or were full: used only when nothing else is left
     * @param n how many nodes should be subnet-diverse
     * @return every candidate, the n diverse picks first, then the rest nearest first
     */
    static List<PeerId> order(List<PeerId> nearestFirst, Function<PeerId, String> subnet, Predicate<PeerId> avoid, int n) {
        List<PeerId> good = new ArrayList<>();
        List<PeerId> bad = new ArrayList<>();
        for (PeerId p : nearestFirst) {
            (avoid.test(p) ? bad : good).add(p);
        }
        LinkedHashSet<PeerId> picked = new LinkedHashSet<>();
        Set<String> subnets = new HashSet<>();
        for (PeerId p : good) {
            if (picked.size() == n) {
                break;
            }
            String s = subnet.apply(p);
            if (s == null || subnets.add(s)) {
                picked.add(p);
            }
        }
        for (PeerId p : good) { // not enough subnets: fill with the nearest of the rest
            if (picked.size() >= n) {
                break;
            }
            picked.add(p);
        }
        List<PeerId> out = new ArrayList<>(picked);
        for (PeerId p : good) {
            if (!picked.contains(p)) {
                out.add(p);
            }
        }
        out.addAll(bad);
        return out;
    }

    /**
     * {@code peers} by standing (registered with collateral and a clean record first, then
     * registered with a record, then unregistered or unknown), in their given order within one
     * standing: a stable sort, so a network where every node stands alike keeps its order.
     */
    static List<PeerId> byStanding(List<PeerId> peers, Function<PeerId, HolderRecords.Standing> standing) {
        List<PeerId> out = new ArrayList<>(peers);
        java.util.Map<PeerId, HolderRecords.Standing> of = new java.util.HashMap<>();
        for (PeerId p : peers) {
            of.put(p, standing.apply(p));
        }
        out.sort(java.util.Comparator.comparing(of::get));
        return out;
    }

    /** "v4:a.b.c" for an IPv4 address, "v6:" and the first 48 bits for IPv6, null for anything else. */
    static String subnetOf(java.net.InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 4) {
            return "v4:" + (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff);
        }
        if (b.length == 16) {
            return "v6:" + java.util.HexFormat.of().formatHex(b, 0, 6);
        }
        return null;
    }
}
