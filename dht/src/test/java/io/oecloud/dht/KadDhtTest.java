package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.dht.pb.Kad;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A small DHT of real hosts on loopback. */
@Timeout(120)
class KadDhtTest {
    private final TestHosts hosts = new TestHosts();
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
    private final List<Host> nodes = new ArrayList<>();
    private final List<KadDht> dhts = new ArrayList<>();
    /** Record expiry follows this clock; tests move it instead of waiting. */
    private final java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

    static byte[] sha256Multihash(String s) {
        byte[] d = Crypto.sha256(s.getBytes(StandardCharsets.UTF_8));
        byte[] mh = new byte[34];
        mh[0] = 0x12;
        mh[1] = 32;
        System.arraycopy(d, 0, mh, 2, 32);
        return mh;
    }

    KadDht add(DhtConfig config) throws Exception {
        Host h = hosts.start();
        KadDht d = HostKadNetwork.attach(h, config, KadDht.defaultValidators(), scheduler, now::get);
        if (!nodes.isEmpty()) {
            h.dial(TestHosts.addr(nodes.get(0))).get(10, TimeUnit.SECONDS);
            d.bootstrap(List.of(nodes.get(0).peerId())).get(30, TimeUnit.SECONDS);
        }
        nodes.add(h);
        dhts.add(d);
        d.onProviderAccepted((key, from) -> announcements.release());
        return d;
    }

    /** Provider records live 600 s on the fake clock; the real-time scheduler never gets to republish. */
    static final DhtConfig CONFIG = DhtConfig.defaults()
            .withIntervals(Duration.ofSeconds(600), Duration.ofSeconds(200), Duration.ofMinutes(10));

    @BeforeEach
    void network() throws Exception {
        for (int i = 0; i < 8; i++) {
            add(CONFIG);
        }
        // a second round lets early nodes learn the later ones
        for (KadDht d : dhts) {
            d.bootstrap(List.of()).get(30, TimeUnit.SECONDS);
        }
    }

    @AfterEach
    void close() {
        dhts.forEach(KadDht::close);
        hosts.close();
        scheduler.shutdownNow();
    }

    @Test
    void routingTables_fillAfterBootstrap() {
        for (KadDht d : dhts) {
            assertTrue(d.routingTableSize() >= 3, "routing table of " + d.routingTableSize());
        }
    }

    @Test
    void provide_onOneNode_isFoundFromAnother() throws Exception {
        byte[] key = sha256Multihash("provided content");
        assertTrue(dhts.get(3).provide(key).get(30, TimeUnit.SECONDS) >= 3);
        List<Provider> found = dhts.get(7).findProviders(key, 5).get(30, TimeUnit.SECONDS);
        assertEquals(nodes.get(3).peerId(), found.get(0).peer());
        assertTrue(found.get(0).addrs().contains(nodes.get(3).listenAddresses().get(0)), found.toString());
    }

    @Test
    void findPeer_throughTheDht_fromAClientThatKnowsOnlyOnePeer() throws Exception {
        KadDht client = add(CONFIG.withServer(false));
        Host target = nodes.get(5);
        List<Multiaddr> addrs = client.findPeer(target.peerId()).get(30, TimeUnit.SECONDS);
        assertTrue(addrs.contains(target.listenAddresses().get(0)), addrs.toString());
        // a client is not added to others' routing tables
        assertFalse(dhts.get(0).routingTablePeers().contains(nodes.get(nodes.size() - 1).peerId()));
    }

    @Test
    void signedRecord_putOnOneNode_isReadOnAnother_andTheNewestWins() throws Exception {
        Identity owner = nodes.get(2).identity();
        byte[][] v1 = Validators.SignedRecord.sign(owner, "site", "version 1".getBytes(StandardCharsets.UTF_8), 1);
        byte[][] v2 = Validators.SignedRecord.sign(owner, "site", "version 2".getBytes(StandardCharsets.UTF_8), 2);
        assertTrue(dhts.get(2).putValue(v2[0], v2[1]).get(30, TimeUnit.SECONDS) >= 3);
        // an older record put later does not replace the newer one
        dhts.get(4).putValue(v1[0], v1[1]).get(30, TimeUnit.SECONDS);
        byte[] got = dhts.get(6).getValue(v2[0]).get(30, TimeUnit.SECONDS);
        assertEquals("version 2", new String(Validators.SignedRecord.decode(got).value(), StandardCharsets.UTF_8));
    }

    @Test
    void badlySignedOrUnsignedRecords_areRefused_locallyAndByPeers() throws Exception {
        Identity owner = nodes.get(2).identity();
        byte[][] rec = Validators.SignedRecord.sign(owner, "x", "value".getBytes(StandardCharsets.UTF_8), 1);
        byte[] tampered = rec[1].clone();
        tampered[3] ^= 1;
        ExecutionException local = assertThrows(ExecutionException.class, () -> dhts.get(1).putValue(rec[0], tampered).get());
        assertInstanceOf(IllegalArgumentException.class, local.getCause());
        ExecutionException unknownNs = assertThrows(ExecutionException.class,
                () -> dhts.get(1).putValue("/nope/x".getBytes(StandardCharsets.UTF_8), new byte[1]).get());
        assertTrue(unknownNs.getCause().getMessage().contains("no validator for namespace 'nope'"));
        // straight to a peer, around our own check: the peer resets the stream instead of storing
        Kad.Message put = Kad.Message.newBuilder().setType(Kad.Message.MessageType.PUT_VALUE)
                .setKey(ByteString.copyFrom(rec[0]))
                .setRecord(Kad.Record.newBuilder().setKey(ByteString.copyFrom(rec[0])).setValue(ByteString.copyFrom(tampered)))
                .build();
        HostKadNetwork net = new HostKadNetwork(nodes.get(1), 64);
        assertThrows(ExecutionException.class, () -> net.request(nodes.get(5).peerId(), put).get(10, TimeUnit.SECONDS));
        assertThrows(ExecutionException.class, () -> dhts.get(3).getValue(rec[0]).get(30, TimeUnit.SECONDS));
    }

    @Test
    void publicKeyRecords_mustMatchTheirPeerId() throws Exception {
        Identity id = nodes.get(3).identity();
        byte[] key = pkKey(id.peerId());
        assertTrue(dhts.get(3).putValue(key, id.publicKeyProto()).get(30, TimeUnit.SECONDS) >= 1);
        assertArrayEquals(id.publicKeyProto(), dhts.get(0).getValue(key).get(30, TimeUnit.SECONDS));
        byte[] otherKey = Identity.generate().publicKeyProto();
        assertThrows(ExecutionException.class, () -> dhts.get(3).putValue(key, otherKey).get());
    }

    static byte[] pkKey(PeerId p) {
        byte[] id = p.toBytes();
        byte[] key = new byte[4 + id.length];
        System.arraycopy("/pk/".getBytes(StandardCharsets.US_ASCII), 0, key, 0, 4);
        System.arraycopy(id, 0, key, 4, id.length);
        return key;
    }

    @Test
    void addProvider_forSomeoneElse_isIgnored() throws Exception {
        byte[] key = sha256Multihash("spoofed");
        Host liar = nodes.get(1);
        Host victim = nodes.get(2);
        Kad.Message.Peer spoof = Kad.Message.Peer.newBuilder()
                .setId(ByteString.copyFrom(victim.peerId().toBytes()))
                .addAddrs(ByteString.copyFrom(victim.listenAddresses().get(0).toBytes())).build();
        Kad.Message add = Kad.Message.newBuilder().setType(Kad.Message.MessageType.ADD_PROVIDER)
                .setKey(ByteString.copyFrom(key)).addProviderPeers(spoof).build();
        HostKadNetwork net = new HostKadNetwork(liar, 64);
        for (int i = 3; i < 8; i++) {
            net.send(nodes.get(i).peerId(), add).get(10, TimeUnit.SECONDS);
        }
        for (int i = 3; i < 8; i++) {
            assertEquals(0, dhts.get(i).providersHeldFor(victim.peerId()));
        }
        assertTrue(dhts.get(0).findProviders(key, 5).get(30, TimeUnit.SECONDS).isEmpty());
    }

    /** One permit per ADD_PROVIDER any node accepted: the message has no reply to wait on. */
    private final java.util.concurrent.Semaphore announcements = new java.util.concurrent.Semaphore(0);

    /** Waits (10 s at most) until the nodes have accepted {@code count} more announcements in all; fails otherwise. */
    private void awaitAccepted(int count) throws InterruptedException {
        assertTrue(announcements.tryAcquire(count, 10, TimeUnit.SECONDS), "fewer than " + count + " announcements accepted");
    }

    @Test
    void providerRecords_expire_unlessRepublished() throws Exception {
        KadDht publisher = add(CONFIG);
        PeerId me = nodes.get(nodes.size() - 1).peerId();
        byte[] key = sha256Multihash("republished");
        announcements.drainPermits();
        int told = publisher.provide(key).get(30, TimeUnit.SECONDS);
        awaitAccepted(told); // ADD_PROVIDER is fire-and-forget: let it land before the clock moves
        int holders = 0;
        for (KadDht d : dhts) {
            holders += d.providersHeldFor(me) > 0 ? 1 : 0;
        }
        assertTrue(holders >= 3, "records at " + holders + " peers");
        // 500 s later the publisher republishes; at 1000 s (past the first round's 600 s TTL) it is still there
        now.addAndGet(TimeUnit.SECONDS.toNanos(500));
        announcements.drainPermits();
        publisher.maintain().get(30, TimeUnit.SECONDS);
        awaitAccepted(told);
        now.addAndGet(TimeUnit.SECONDS.toNanos(500));
        assertFalse(dhts.get(0).findProviders(key, 1).get(30, TimeUnit.SECONDS).isEmpty());
        // after unprovide, no republish: a TTL later every record is gone
        publisher.unprovide(key);
        now.addAndGet(TimeUnit.SECONDS.toNanos(601));
        for (int i = 0; i < dhts.size() - 1; i++) {
            assertEquals(0, dhts.get(i).providersHeldFor(me), "node " + i);
        }
        assertTrue(dhts.get(0).findProviders(key, 1).get(30, TimeUnit.SECONDS).isEmpty());
    }

    @Test
    void deadPeers_leaveRoutingTables_whenLookupsFailToReachThem() throws Exception {
        Host dead = nodes.get(6);
        PeerId deadId = dead.peerId();
        dead.close();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 8; i++) {
                if (i != 6) {
                    dhts.get(i).findClosestPeers(deadId.toBytes()).get(30, TimeUnit.SECONDS);
                }
            }
        }
        for (int i = 0; i < 8; i++) {
            if (i != 6) {
                assertFalse(dhts.get(i).routingTablePeers().contains(deadId), "node " + i + " still lists the dead peer");
            }
        }
    }

    @Test
    void floodOfStreamsFromOnePeer_isCappedPerPeer_andOthersAreStillServed() throws Exception {
        Host target = nodes.get(4);
        Host flooder = hosts.start(); // not a DHT node: it keeps no kad streams of its own to the target
        Connection c = flooder.dial(TestHosts.addr(target)).get(10, TimeUnit.SECONDS);
        List<java.util.concurrent.CompletableFuture<P2pStream>> opened = new ArrayList<>();
        java.util.concurrent.CountDownLatch resets = new java.util.concurrent.CountDownLatch(200 - 64);
        java.util.concurrent.atomic.AtomicInteger resetCount = new java.util.concurrent.atomic.AtomicInteger();
        for (int i = 0; i < 200; i++) { // streams that never send a request: they only hold a slot
            opened.add(c.newStream(HostKadNetwork.PROTOCOL_ID, new StreamHandler() {
                @Override
                public void onData(P2pStream s, io.netty.buffer.ByteBuf data) {
                    data.release();
                }

                @Override
                public void onClose(P2pStream s, Throwable error) {
                    if (error != null) {
                        resetCount.incrementAndGet();
                        resets.countDown();
                    }
                }
            }));
        }
        for (var f : opened) {
            f.get(10, TimeUnit.SECONDS);
        }
        // another peer's request is answered at once
        Kad.Message ping = Kad.Message.newBuilder().setType(Kad.Message.MessageType.FIND_NODE)
                .setKey(ByteString.copyFrom(target.peerId().toBytes())).build();
        assertEquals(Kad.Message.MessageType.FIND_NODE,
                new HostKadNetwork(nodes.get(2), 64).request(target.peerId(), ping).get(5, TimeUnit.SECONDS).getType());
        assertTrue(resets.await(10, TimeUnit.SECONDS), "streams beyond the per-peer limit are reset");
        assertEquals(200 - 64, resetCount.get(), "and only those");
    }

    @Test
    void providerRecords_areCappedPerProviderPeer() throws Exception {
        KadDht strict = add(CONFIG.withLimits(5, 1000, 64));
        Host announcer = nodes.get(3);
        HostKadNetwork net = new HostKadNetwork(announcer, 64);
        for (int i = 0; i < 12; i++) {
            Kad.Message.Peer me = Kad.Message.Peer.newBuilder().setId(ByteString.copyFrom(announcer.peerId().toBytes()))
                    .addAddrs(ByteString.copyFrom(announcer.listenAddresses().get(0).toBytes())).build();
            Kad.Message add = Kad.Message.newBuilder().setType(Kad.Message.MessageType.ADD_PROVIDER)
                    .setKey(ByteString.copyFrom(sha256Multihash("k" + i))).addProviderPeers(me).build();
            net.send(nodes.get(nodes.size() - 1).peerId(), add).get(10, TimeUnit.SECONDS);
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (strict.providersHeldFor(announcer.peerId()) < 5 && System.nanoTime() < end) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // ADD_PROVIDER has no reply to wait on
        }
        assertEquals(5, strict.providersHeldFor(announcer.peerId()));
    }

    @Test
    void keysLongerThanTheLimit_areRefused() {
        byte[] key = new byte[KadDht.MAX_KEY + 1];
        ExecutionException e = assertThrows(ExecutionException.class, () -> dhts.get(0).findProviders(key, 1).get());
        assertTrue(e.getCause().getMessage().contains("longer than " + KadDht.MAX_KEY), e.getCause().getMessage());
    }
}
