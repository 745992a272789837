package io.oecloud.node.object;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlacementTest {
    private static List<PeerId> peers(int n) {
        List<PeerId> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(Identity.generate().peerId());
        }
        return l;
    }

    @Test
    void firstPicks_comeFromDistinctSubnets_whileOtherSubnetsRemain() {
        List<PeerId> p = peers(6);
        // nearest first: p0, p1 share a /24, as do p2, p3
        Map<PeerId, String> net = Map.of(p.get(0), "a", p.get(1), "a", p.get(2), "b", p.get(3), "b", p.get(4), "c", p.get(5), "d");
        List<PeerId> order = Placement.order(p, net::get, x -> false, 4);
        assertEquals(List.of(p.get(0), p.get(2), p.get(4), p.get(5), p.get(1), p.get(3)), order);
    }

    @Test
    void tooFewSubnets_fillWithTheNearestOfTheRest() {
        List<PeerId> p = peers(5);
        List<PeerId> order = Placement.order(p, x -> "same", x -> false, 3);
        assertEquals(p, order, "all in one subnet (a devnet on loopback): plain distance order");
    }

    @Test
    void troubledNodes_goLast() {
        List<PeerId> p = peers(4);
        Set<PeerId> bad = Set.of(p.get(0));
        List<PeerId> order = Placement.order(p, x -> null, bad::contains, 3);
        assertEquals(List.of(p.get(1), p.get(2), p.get(3), p.get(0)), order);
    }

    @Test
    void subnets_are24BitsForIpv4_and48ForIpv6() throws Exception {
        assertEquals(Placement.subnetOf(InetAddress.getByName("10.1.2.3")), Placement.subnetOf(InetAddress.getByName("10.1.2.200")));
        assertNotEquals(Placement.subnetOf(InetAddress.getByName("10.1.2.3")), Placement.subnetOf(InetAddress.getByName("10.1.3.3")));
        assertEquals(Placement.subnetOf(InetAddress.getByName("2001:db8:1::1")), Placement.subnetOf(InetAddress.getByName("2001:db8:1:ff::9")));
    }

    @Test
    void byStanding_putsCleanNodesFirst_thenRegisteredWithARecord_thenUnknown_keepingDistanceWithin() {
        List<PeerId> p = peers(6); // nearest first
        Map<PeerId, HolderRecords.Standing> st = Map.of(p.get(0), HolderRecords.Standing.UNKNOWN,
                p.get(1), HolderRecords.Standing.RECORD, p.get(2), HolderRecords.Standing.CLEAN,
                p.get(3), HolderRecords.Standing.UNKNOWN, p.get(4), HolderRecords.Standing.CLEAN,
                p.get(5), HolderRecords.Standing.RECORD);
        assertEquals(List.of(p.get(2), p.get(4), p.get(1), p.get(5), p.get(0), p.get(3)), Placement.byStanding(p, st::get));
    }

    @Test
    void byStanding_withoutAChain_keepsTheOrder() {
        List<PeerId> p = peers(7);
        assertEquals(p, Placement.byStanding(p, HolderRecords.NONE::standing), "a devnet without a chain, a network of new nodes");
    }
}
