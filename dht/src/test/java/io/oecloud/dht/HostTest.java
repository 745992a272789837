package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Two hosts on loopback: real sockets, Noise, Yamux. */
@Timeout(60)
class HostTest {
    private final TestHosts hosts = new TestHosts();

    @AfterEach
    void close() {
        hosts.close();
    }

    /** Collects what a stream receives until the remote side closes. */
    static final class Collector implements StreamHandler {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<byte[]> done = new CompletableFuture<>();
        final MessageDigest digest;
        long count;

        Collector(boolean keep) {
            try {
                digest = keep ? null : MessageDigest.getInstance("SHA-256");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void onData(P2pStream s, ByteBuf data) {
            count += data.readableBytes();
            if (digest != null) {
                digest.update(data.nioBuffer());
            } else {
                byte[] b = new byte[data.readableBytes()];
                data.readBytes(b);
                bytes.writeBytes(b);
            }
            data.release();
        }

        @Override
        public void onRemoteClose(P2pStream s) {
            done.complete(digest != null ? digest.digest() : bytes.toByteArray());
        }

        @Override
        public void onClose(P2pStream s, Throwable error) {
            if (error != null) {
                done.completeExceptionally(error);
            }
        }
    }

    @Test
    void dial_securesConnection_andIdentifyReportsPeersAndProtocols() throws Exception {
        Host a = hosts.start();
        Host b = hosts.start();
        CompletableFuture<Connection> inbound = new CompletableFuture<>();
        b.onConnection(inbound::complete);
        Connection c = a.dial(TestHosts.addr(b)).get(10, TimeUnit.SECONDS);
        assertEquals(b.peerId(), c.remotePeer());
        PeerStore.Identified info = a.identified(c).get(10, TimeUnit.SECONDS);
        assertTrue(info.protocols().containsAll(List.of(Identify.PROTOCOL_ID, Ping.PROTOCOL_ID, TestHosts.ECHO)), info.protocols().toString());
        assertEquals("oecloud/0.1.0", info.agentVersion());
        assertTrue(a.peerStore().addrs(b.peerId()).contains(b.listenAddresses().get(0)));
        // the other side identified us too
        Connection back = inbound.get(10, TimeUnit.SECONDS);
        assertEquals(a.peerId(), back.remotePeer());
        assertTrue(b.identified(back).get(10, TimeUnit.SECONDS).protocols().contains(Ping.PROTOCOL_ID));
        // the connection is reused
        assertSame(c, a.dial(TestHosts.addr(b)).get(5, TimeUnit.SECONDS));
        assertSame(c, a.connect(b.peerId()).get(5, TimeUnit.SECONDS));
    }

    @Test
    void ipv6Loopback_listenAndDial() throws Exception {
        Host a = hosts.start();
        Host b;
        try {
            b = hosts.start(HostConfig.defaults().withListen(List.of(Multiaddr.parse("/ip6/::1/tcp/0"))));
        } catch (java.io.IOException e) {
            org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback on this machine: " + e.getMessage());
            return;
        }
        Multiaddr addr = TestHosts.addr(b);
        assertTrue(addr.toString().startsWith("/ip6/::1/tcp/"), addr.toString());
        assertEquals(b.peerId(), a.dial(addr).get(10, TimeUnit.SECONDS).remotePeer());
        assertTrue(a.ping(b.peerId()).get(10, TimeUnit.SECONDS).toMillis() < 5000);
    }

    @Test
    void ping_roundTripsInBothDirections() throws Exception {
        Host a = hosts.start();
        Host b = hosts.start();
        a.dial(TestHosts.addr(b)).get(10, TimeUnit.SECONDS);
        Duration rtt = a.ping(b.peerId()).get(10, TimeUnit.SECONDS);
        assertTrue(rtt.toMillis() < 5000, rtt.toString());
        assertTrue(b.ping(a.peerId()).get(10, TimeUnit.SECONDS).toMillis() < 5000);
    }

    @Test
    void dialingTheWrongPeerId_isRejected() throws Exception {
        Host a = hosts.start();
        Host b = hosts.start();
        Multiaddr lie = b.listenAddresses().get(0).withPeerId(Identity.generate().peerId());
        ExecutionException e = assertThrows(ExecutionException.class, () -> a.dial(lie).get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("proved it is " + b.peerId()), e.getCause().getMessage());
    }

    @Test
    void unknownProtocol_failsTheStreamNotTheConnection() throws Exception {
        Host a = hosts.start();
        Host b = hosts.start();
        Connection c = a.dial(TestHosts.addr(b)).get(10, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> c.newStream("/no/such/1.0.0", new Collector(true)).get(10, TimeUnit.SECONDS));
        assertInstanceOf(UnsupportedProtocolException.class, e.getCause());
        assertTrue(a.ping(b.peerId()).get(10, TimeUnit.SECONDS).toMillis() < 5000);
    }

    @Test
    void hundredConcurrentStreams_onOneConnection_eachEchoesItsOwnBytes() throws Exception {
        Host a = hosts.start();
        Host b = hosts.start();
        Connection c = a.dial(TestHosts.addr(b)).get(10, TimeUnit.SECONDS);
        List<CompletableFuture<byte[]>> results = new ArrayList<>();
        List<byte[]> sent = new ArrayList<>();
        Random rnd = new Random(1);
        for (int i = 0; i < 100; i++) {
            byte[] payload = new byte[1000 + rnd.nextInt(100_000)];
            rnd.nextBytes(payload);
            sent.add(payload);
            Collector col = new Collector(true);
            results.add(col.done);
            c.newStream(TestHosts.ECHO, col).thenAccept(s -> {
                s.write(Unpooled.wrappedBuffer(payload));
                s.closeWrite();
            });
        }
        for (int i = 0; i < 100; i++) {
            assertArrayEquals(sent.get(i), results.get(i).get(30, TimeUnit.SECONDS), "stream " + i);
        }
        assertSame(c, a.connection(b.peerId()));
    }

    @Test
    void sixtyFourMiB_throughOneStream_eachWay_arriveIntact() throws Exception {
        Host a = hosts.start();
        Host b = hosts.start();
        Connection c = a.dial(TestHosts.addr(b)).get(10, TimeUnit.SECONDS);
        int size = 64 << 20;
        byte[] chunk = new byte[1 << 20];
        new Random(2).nextBytes(chunk);
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        for (int i = 0; i < size / chunk.length; i++) {
            expected.update(chunk);
        }
        Collector col = new Collector(false);
        P2pStream s = c.newStream(TestHosts.ECHO, col).get(10, TimeUnit.SECONDS);
        // write with back-pressure: wait for each chunk's write before queuing far ahead
        for (int i = 0; i < size / chunk.length; i++) {
            s.write(Unpooled.wrappedBuffer(chunk)).await(30, TimeUnit.SECONDS);
        }
        s.closeWrite();
        assertArrayEquals(expected.digest(), col.done.get(60, TimeUnit.SECONDS));
        assertEquals(size, col.count);
    }

    @Test
    void garbageAndHalfHandshakes_closeThatSocket_andTheHostServesOthers() throws Exception {
        Host b = hosts.start();
        Random rnd = new Random(3);
        var sa = b.listenAddresses().get(0).toTcpSocketAddress();
        for (int i = 0; i < 30; i++) {
            try (Socket sock = new Socket(sa.getAddress(), sa.getPort())) {
                sock.setSoTimeout(5000);
                OutputStream out = sock.getOutputStream();
                byte[] junk = new byte[rnd.nextInt(3000)];
                rnd.nextBytes(junk);
                if (i % 3 == 0) { // a valid multistream start, then garbage as Noise
                    out.write(new byte[] {0x13});
                    out.write("/multistream/1.0.0\n".getBytes());
                    out.write(new byte[] {0x07});
                    out.write("/noise\n".getBytes());
                }
                out.write(junk);
                out.flush();
                sock.shutdownOutput(); // EOF: the host must close instead of waiting for more
                // the host answers at most its header and closes; reading ends with EOF or reset
                try {
                    while (sock.getInputStream().read() >= 0) {
                        // drain
                    }
                } catch (java.io.IOException expected) {
                    // reset is fine
                }
            }
        }
        Host a = hosts.start();
        a.dial(TestHosts.addr(b)).get(10, TimeUnit.SECONDS);
        assertTrue(a.ping(b.peerId()).get(10, TimeUnit.SECONDS).toMillis() < 5000);
    }

    @Test
    void stalledHandshake_isDroppedAtTheUpgradeDeadline() throws Exception {
        Host b = hosts.start(HostConfig.defaults().withTimeouts(Duration.ofMillis(300), Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(30)));
        var sa = b.listenAddresses().get(0).toTcpSocketAddress();
        try (Socket sock = new Socket(sa.getAddress(), sa.getPort())) {
            sock.setSoTimeout(10_000);
            long start = System.nanoTime();
            // the host's multistream header arrives, then nothing: we never answer
            while (sock.getInputStream().read() >= 0) {
                // drain until the host closes
            }
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(9), "closed by the deadline, not the read timeout");
        }
    }

    @Test
    void peerStore_survivesRestart(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Host b = hosts.start();
        Identity ida = Identity.loadOrCreate(dir);
        Host a = new Host(ida, HostConfig.defaults().withDataDir(dir)).start();
        Connection c = a.dial(TestHosts.addr(b)).get(10, TimeUnit.SECONDS);
        a.identified(c).get(10, TimeUnit.SECONDS); // only identified peers are saved
        a.close();
        Host again = new Host(Identity.loadOrCreate(dir), HostConfig.defaults().withDataDir(dir)).start();
        try {
            assertEquals(ida.peerId(), again.peerId());
            assertTrue(again.peerStore().addrs(b.peerId()).contains(b.listenAddresses().get(0)));
            assertEquals(b.peerId(), again.connect(b.peerId()).get(10, TimeUnit.SECONDS).remotePeer());
        } finally {
            again.close();
        }
    }

    @Test
    void failedDials_toManyFreshPeerIds_keepTheBackoffTableBounded() throws Exception {
        Host h = hosts.start();
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort(); // closed again: every dial is refused at once
        }
        Random rnd = new Random(11);
        int dials = Host.MAX_BACKOFF + 2_000;
        for (int done = 0; done < dials; ) {
            List<CompletableFuture<Connection>> batch = new ArrayList<>();
            for (int i = 0; i < 500 && done < dials; i++, done++) {
                PeerId named = FakeKadNetwork.randomPeer(rnd); // as a stranger's DHT reply names them
                batch.add(h.dial(Multiaddr.parse("/ip4/127.0.0.1/tcp/" + port).withPeerId(named)));
            }
            for (CompletableFuture<Connection> f : batch) {
                assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            }
        }
        assertTrue(h.backoffSize() <= Host.MAX_BACKOFF, h.backoffSize() + " peers remembered");
    }
}
