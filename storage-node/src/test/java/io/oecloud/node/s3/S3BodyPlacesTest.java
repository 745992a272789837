package io.oecloud.node.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gateway's body places: a node-wide count with a share per client address (an IPv6 /64). */
class S3BodyPlacesTest {
    private static InetAddress ip(String a) throws Exception {
        return InetAddress.getByName(a);
    }

    private static String refusal(BodyPlaces p, InetAddress a) {
        S3Exception e = assertThrows(S3Exception.class, () -> p.take(a));
        assertEquals(S3Error.SlowDown, e.error());
        return e.getMessage();
    }

    @Test
    void take_pastAClientsShare_onlyWhileAShareStaysFree_thenSlowDownForThatClientOnly() throws Exception {
        BodyPlaces p = new BodyPlaces(8, 2);
        for (int i = 0; i < 6; i++) {
            p.take(ip("10.0.0.1")); // alone on the node, a client uses what nobody else wants
        }
        assertTrue(refusal(p, ip("10.0.0.1")).contains("from your address"));
        p.take(ip("10.0.0.2"));
        p.take(ip("10.0.0.2"));
        assertEquals(8, p.inFlight());
        assertEquals(6, p.inFlight(ip("10.0.0.1")));
    }

    @Test
    void take_withinItsShare_isGrantedWhileTheNodeHasPlaces_howeverBusyOthersAre() throws Exception {
        BodyPlaces p = new BodyPlaces(8, 2);
        for (int i = 0; i < 4; i++) {
            p.take(ip("10.0.0.1"));
        }
        p.take(ip("10.0.0.2"));
        p.take(ip("10.0.0.3"));
        assertTrue(refusal(p, ip("10.0.0.1")).contains("from your address"), "4 past its share with 2 free: no more");
        p.take(ip("10.0.0.2"));
        p.take(ip("10.0.0.3"));
        assertTrue(refusal(p, ip("10.0.0.4")).contains("8 uploads are streaming in"));
    }

    @Test
    void take_overTheNodesPlaces_isSlowDownForEveryone() throws Exception {
        BodyPlaces p = new BodyPlaces(4, 2);
        for (int i = 1; i <= 4; i++) {
            p.take(ip("10.0.0." + ((i + 1) / 2)));
        }
        assertTrue(refusal(p, ip("10.0.0.9")).contains("4 uploads are streaming in"));
    }

    @Test
    void take_fromOneIpv6Slash64_countsAsOneClient() throws Exception {
        BodyPlaces p = new BodyPlaces(4, 2);
        p.take(ip("2001:db8:1:2::1"));
        p.take(ip("2001:db8:1:2:ffff::7"));
        refusal(p, ip("2001:db8:1:2::abcd"));
        p.take(ip("2001:db8:1:3::1"));
        assertEquals(2, p.inFlight(ip("2001:db8:1:2::99")));
    }

    @Test
    void close_givesThePlaceBackOnce_howeverOftenItIsCalled() throws Exception {
        BodyPlaces p = new BodyPlaces(4, 4);
        List<BodyPlaces.Place> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(p.take(ip("10.0.0.1")));
        }
        held.getFirst().close();
        held.getFirst().close();
        assertEquals(2, p.inFlight());
        held.forEach(BodyPlaces.Place::close);
        assertEquals(0, p.inFlight());
        assertEquals(0, p.inFlight(ip("10.0.0.1")));
    }

    @Test
    void newPlaces_withAShareOutsideOneToTheTotal_areRefused() {
        assertThrows(IllegalArgumentException.class, () -> new BodyPlaces(4, 0));
        assertThrows(IllegalArgumentException.class, () -> new BodyPlaces(4, 5));
    }
}
