package io.oecloud.it.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.oecloud.dht.Connection;
import io.oecloud.dht.Host;
import io.oecloud.dht.HostConfig;
import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.PeerStore;
import io.oecloud.dht.StreamHandler;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Our host against a real js-libp2p node: Noise, Yamux, Identify and Ping, both directions. */
@Timeout(240)
class JsLibp2pHostInteropTest {
    private Host host;

    @BeforeEach
    void startHost() throws Exception {
        host = new Host(Identity.generate(), HostConfig.defaults()).start();
    }

    @AfterEach
    void stopHost() {
        host.close();
    }

    private String ourAddr() {
        return host.listenAddresses().get(0).withPeerId(host.peerId()).toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> awaitPeerInfo(JsPeer js, PeerId peer) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) { // js identifies us asynchronously after the connection opens
            Map<String, Object> info = js.tryCall("peerInfo", "peerId", peer.toString());
            if (Boolean.TRUE.equals(info.get("ok")) && !((List<String>) info.get("protocols")).isEmpty()) {
                return info;
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("js never identified us: " + info);
            }
            Thread.sleep(100);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void jsDialsUs_overNoiseAndYamux_andIdentifyWorksBothWays() throws Exception {
        CompletableFuture<Connection> inbound = new CompletableFuture<>();
        host.onConnection(inbound::complete);
        try (JsPeer js = JsPeer.start(ourAddr())) {
            Map<String, Object> boot = ((List<Map<String, Object>>) js.startup.get("bootstrap")).get(0);
            assertEquals(Boolean.TRUE, boot.get("ok"), boot.toString());
            assertEquals(host.peerId().toString(), boot.get("peerId"));

            Connection c = inbound.get(20, TimeUnit.SECONDS);
            assertEquals(js.peerId(), c.remotePeer().toString());
            PeerStore.Identified theirs = host.identified(c).get(20, TimeUnit.SECONDS);
            assertTrue(theirs.protocols().containsAll(List.of("/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/ipfs/kad/1.0.0")),
                    theirs.protocols().toString());

            Map<String, Object> ours = awaitPeerInfo(js, host.peerId());
            assertTrue(((List<String>) ours.get("protocols")).containsAll(List.of("/ipfs/id/1.0.0", "/ipfs/ping/1.0.0")),
                    ours.toString());
            assertEquals("oecloud/0.1.0", ours.get("agentVersion"));
            assertTrue(((List<String>) ours.get("addrs")).contains(host.listenAddresses().get(0).toString()), ours.toString());

            Map<String, Object> conn = ((List<Map<String, Object>>) js.call("connections").get("connections")).get(0);
            assertEquals("/noise", conn.get("encryption"));
            assertEquals("/yamux/1.0.0", conn.get("multiplexer"));
        }
    }

    @Test
    void weDialJs_andPingWorksBothWays() throws Exception {
        try (JsPeer js = JsPeer.start()) {
            Connection c = host.dial(Multiaddr.parse(js.addr())).get(20, TimeUnit.SECONDS);
            assertEquals(js.peerId(), c.remotePeer().toString());
            assertTrue(host.identified(c).get(20, TimeUnit.SECONDS).protocols().contains("/ipfs/kad/1.0.0"));
            Duration rtt = host.ping(c.remotePeer()).get(20, TimeUnit.SECONDS);
            assertTrue(rtt.toMillis() < 5000, rtt.toString());
            Map<String, Object> back = js.call("ping", "addr", ourAddr());
            assertTrue(((Number) back.get("rttMs")).doubleValue() < 5000, back.toString());
        }
    }

    @Test
    void sixtyFourMiB_throughOneStream_eachWay_arriveIntact() throws Exception {
        // js's ping handler echoes whatever comes, so one ping stream carries 64 MiB each way.
        try (JsPeer js = JsPeer.start()) {
            Connection c = host.dial(Multiaddr.parse(js.addr())).get(20, TimeUnit.SECONDS);
            int size = 64 << 20;
            byte[] chunk = new byte[1 << 20];
            new Random(7).nextBytes(chunk);
            MessageDigest expected = MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < size / chunk.length; i++) {
                expected.update(chunk);
            }
            MessageDigest got = MessageDigest.getInstance("SHA-256");
            CompletableFuture<Long> done = new CompletableFuture<>();
            long[] count = {0};
            P2pStream s = c.newStream("/ipfs/ping/1.0.0", new StreamHandler() {
                @Override
                public void onData(P2pStream st, ByteBuf data) {
                    count[0] += data.readableBytes();
                    got.update(data.nioBuffer());
                    data.release();
                    if (count[0] == size) {
                        done.complete(count[0]);
                    }
                }

                @Override
                public void onClose(P2pStream st, Throwable error) {
                    done.completeExceptionally(error != null ? error : new AssertionError("closed after " + count[0]));
                }
            }).get(20, TimeUnit.SECONDS);
            for (int i = 0; i < size / chunk.length; i++) {
                s.write(Unpooled.wrappedBuffer(chunk)).await(30, TimeUnit.SECONDS);
            }
            assertEquals(size, done.get(60, TimeUnit.SECONDS));
            assertArrayEquals(expected.digest(), got.digest());
            s.closeWrite();
        }
    }
}
