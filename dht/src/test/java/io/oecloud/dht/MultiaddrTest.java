package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class MultiaddrTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "/ip4/127.0.0.1/tcp/4001",
        "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5",
        "/ip6/::1/tcp/4001",
        "/ip6/2001:db8::8:800:200c:417a/tcp/443/wss",
        "/dns4/example.com/tcp/80",
        "/ip4/1.2.3.4/udp/4001/quic-v1",
        "/ip4/1.2.3.4/udp/4001/quic-v1/webtransport",
        "/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5/p2p-circuit",
    })
    void textAndBinaryForms_roundTrip(String s) {
        Multiaddr m = Multiaddr.parse(s);
        assertEquals(s, m.toString());
        assertEquals(m, Multiaddr.fromBytes(m.toBytes()));
    }

    @Test
    void binaryForm_matchesTheSpec() {
        assertEquals("047f000001060fa1", HexFormat.of().formatHex(Multiaddr.parse("/ip4/127.0.0.1/tcp/4001").toBytes()));
    }

    @Test
    void tcpSocketAddress_onlyForPlainTcp() {
        assertEquals(new InetSocketAddress("127.0.0.1", 4001),
                Multiaddr.parse("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5").toTcpSocketAddress());
        assertNull(Multiaddr.parse("/ip4/1.2.3.4/udp/4001/quic-v1").toTcpSocketAddress());
        assertNull(Multiaddr.parse("/ip6/::1/tcp/443/wss").toTcpSocketAddress());
        assertEquals("/ip6/::1/tcp/9", Multiaddr.tcp(new InetSocketAddress("::1", 9)).toString());
    }

    @Test
    void malformed_isRejectedWithThePart() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Multiaddr.parse("ip4/1.2.3.4")).getMessage().contains("start with '/'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Multiaddr.parse("/ip4/1.2.3")).getMessage().contains("IPv4"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Multiaddr.parse("/ip4/1.2.3.4/tcp/70000")).getMessage().contains("port"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Multiaddr.parse("/ip4/1.2.3.4/sctp/5")).getMessage().contains("sctp"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Multiaddr.parse("/ip4")).getMessage().contains("needs a value"));
        assertThrows(IllegalArgumentException.class, () -> Multiaddr.fromBytes(new byte[] {4, 127, 0}));
    }

    @Test
    void randomBytes_neverEscapeAsAnythingButIllegalArgument() {
        Random rnd = new Random(11);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[rnd.nextInt(40)];
            rnd.nextBytes(b);
            try {
                Multiaddr m = Multiaddr.fromBytes(b);
                assertEquals(m, Multiaddr.fromBytes(m.toBytes()));
            } catch (IllegalArgumentException expected) {
                // fine
            }
        }
    }
}
