package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.dht.pb.Kad;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a stranger can make one node hold through its kad handler: peer IDs and identities cost
 * nothing, so every store is bounded in all, not only per peer. One node, its network in memory.
 */
@Timeout(60)
class KadDhtLimitsTest {
    private final Random rnd = new Random(20261222);
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
    private final PeerId self = FakeKadNetwork.randomPeer(rnd);
    private final FakeKadNetwork net = new FakeKadNetwork(self);
    private static final Multiaddr ADDR = Multiaddr.parse("/ip4/10.1.2.3/tcp/4001");

    @AfterEach
    void close() {
        scheduler.shutdownNow();
    }

    private KadDht dht(DhtConfig config) {
        return new KadDht(net, config, KadDht.defaultValidators(), scheduler, now::get);
    }

    private byte[] key() {
        return KadDhtTest.sha256Multihash("key " + rnd.nextLong());
    }

    private static Kad.Message addProvider(PeerId from, byte[] key, List<Multiaddr> addrs) {
        Kad.Message.Peer.Builder p = Kad.Message.Peer.newBuilder().setId(ByteString.copyFrom(from.toBytes()));
        for (Multiaddr a : addrs) {
            p.addAddrs(ByteString.copyFrom(a.toBytes()));
        }
        return Kad.Message.newBuilder().setType(Kad.Message.MessageType.ADD_PROVIDER)
                .setKey(ByteString.copyFrom(key)).addProviderPeers(p).build();
    }

    /** Whether the node took the announcement: it answers none, and resets the stream of a refused one. */
    private static boolean announce(KadDht dht, PeerId from, byte[] key) {
        try {
            assertNull(dht.handle(from, addProvider(from, key, List.of(ADDR))));
            return true;
        } catch (ProtocolException e) {
            return false;
        }
    }

    private static List<Provider> providersOf(KadDht dht, byte[] key) {
        Kad.Message reply = dht.handle(FakeKadNetwork.randomPeer(new Random(1)), Kad.Message.newBuilder()
                .setType(Kad.Message.MessageType.GET_PROVIDERS).setKey(ByteString.copyFrom(key)).build());
        List<Provider> out = new ArrayList<>();
        for (Kad.Message.Peer p : reply.getProviderPeersList()) {
            List<Multiaddr> addrs = new ArrayList<>();
            for (ByteString a : p.getAddrsList()) {
                addrs.add(Multiaddr.fromBytes(a.toByteArray()));
            }
            out.add(new Provider(PeerId.fromBytes(p.getId().toByteArray()), addrs));
        }
        return out;
    }

    @Test
    void addProvider_floodFromFreshPeerIds_stopsAtMaxProviderRecords_andHeldRecordsStay() {
        KadDht dht = dht(DhtConfig.defaults().withProviderLimits(10_000, 1_000, 1_000_000, 1_000_000));
        byte[] first = key();
        PeerId firstProvider = FakeKadNetwork.randomPeer(rnd);
        assertTrue(announce(dht, firstProvider, first));
        int accepted = 1;
        for (int i = 0; i < 5_000; i++) {
            accepted += announce(dht, FakeKadNetwork.randomPeer(rnd), key()) ? 1 : 0;
        }
        assertEquals(1_000, accepted, "records held");
        ProtocolException refused = assertThrows(ProtocolException.class,
                () -> dht.handle(firstProvider, addProvider(firstProvider, key(), List.of(ADDR))));
        assertTrue(refused.getMessage().contains("holds 1000 records"), refused.getMessage());
        assertEquals(firstProvider, providersOf(dht, first).get(0).peer(), "what was held before the flood stays");
    }

    @Test
    void addProvider_floodOfFreshKeys_stopsAtMaxProviderKeys() {
        KadDht dht = dht(DhtConfig.defaults().withProviderLimits(1_000_000, 1_000_000, 500, 1_000_000));
        PeerId p = FakeKadNetwork.randomPeer(rnd);
        int accepted = 0;
        for (int i = 0; i < 2_000; i++) {
            accepted += announce(dht, p, key()) ? 1 : 0;
        }
        assertEquals(500, accepted);
        ProtocolException e = assertThrows(ProtocolException.class, () -> dht.handle(p, addProvider(p, key(), List.of(ADDR))));
        assertTrue(e.getMessage().contains("records for 500 keys"), e.getMessage());
    }

    @Test
    void addProvider_floodOfFreshPeersOnOneKey_stopsAtMaxProviderPeers() {
        KadDht dht = dht(DhtConfig.defaults().withProviderLimits(10_000, 1_000_000, 1_000_000, 300));
        byte[] key = key();
        int accepted = 0;
        for (int i = 0; i < 1_000; i++) {
            accepted += announce(dht, FakeKadNetwork.randomPeer(rnd), key) ? 1 : 0;
        }
        assertEquals(300, accepted);
    }

    @Test
    void addProvider_whenFull_takesARefreshOfAHeldRecord_andExpiredRecordsMakeRoom() {
        DhtConfig config = DhtConfig.defaults().withProviderLimits(10_000, 10, 1_000, 1_000)
                .withIntervals(Duration.ofSeconds(600), Duration.ofSeconds(200), Duration.ofMinutes(10));
        KadDht dht = dht(config);
        List<PeerId> held = new ArrayList<>();
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            held.add(FakeKadNetwork.randomPeer(rnd));
            keys.add(key());
            assertTrue(announce(dht, held.get(i), keys.get(i)));
        }
        assertTrue(!announce(dht, FakeKadNetwork.randomPeer(rnd), key()), "full");
        // half the records are republished 400 s later; the rest expire at 600 s
        now.addAndGet(TimeUnit.SECONDS.toNanos(400));
        for (int i = 0; i < 5; i++) {
            assertTrue(announce(dht, held.get(i), keys.get(i)), "a refresh is taken although the store is full");
        }
        assertTrue(!announce(dht, FakeKadNetwork.randomPeer(rnd), key()), "still full");
        now.addAndGet(TimeUnit.SECONDS.toNanos(201));
        int accepted = 0;
        for (int i = 0; i < 20; i++) {
            accepted += announce(dht, FakeKadNetwork.randomPeer(rnd), key()) ? 1 : 0;
        }
        assertEquals(5, accepted, "the five expired records made room for five new ones");
        assertEquals(held.get(0), providersOf(dht, keys.get(0)).get(0).peer());
    }

    @Test
    void addProvider_withThousandsOfAddresses_keepsEightWithinOneKiB() {
        KadDht dht = dht(DhtConfig.defaults());
        PeerId p = FakeKadNetwork.randomPeer(rnd);
        List<Multiaddr> many = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            many.add(Multiaddr.parse("/ip4/10.0." + (i / 250) + "." + (i % 250) + "/tcp/" + (1000 + i)));
        }
        byte[] key = key();
        assertNull(dht.handle(p, addProvider(p, key, many)));
        List<Multiaddr> kept = providersOf(dht, key).get(0).addrs();
        assertEquals(many.subList(0, ProviderStore.MAX_ADDRS), kept);
        List<Multiaddr> long8 = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            long8.add(Multiaddr.parse("/dns/" + "a".repeat(300) + i + ".example/tcp/4001"));
        }
        assertNull(dht.handle(p, addProvider(p, key, long8)));
        int bytes = providersOf(dht, key).get(0).addrs().stream().mapToInt(Multiaddr::length).sum();
        assertTrue(bytes <= ProviderStore.MAX_ADDR_BYTES && bytes > 0, bytes + " bytes of addresses kept");
    }

    @Test
    void getProviders_keyAnnouncedByThousandsOfPeers_answersTheOldestHundred() {
        KadDht dht = dht(DhtConfig.defaults());
        byte[] key = key();
        PeerId oldest = FakeKadNetwork.randomPeer(rnd);
        assertTrue(announce(dht, oldest, key));
        for (int i = 0; i < 2_000; i++) {
            assertTrue(announce(dht, FakeKadNetwork.randomPeer(rnd), key));
        }
        List<Provider> answered = providersOf(dht, key);
        assertEquals(KadDht.MAX_PROVIDERS_PER_REPLY, answered.size());
        assertEquals(oldest, answered.get(0).peer());
    }

    @Test
    void provide_ownRecord_isAnsweredWhenTheStoreIsFullOfStrangers() throws Exception {
        KadDht dht = dht(DhtConfig.defaults().withProviderLimits(10_000, 50, 1_000, 1_000));
        for (int i = 0; i < 100; i++) {
            announce(dht, FakeKadNetwork.randomPeer(rnd), key());
        }
        byte[] mine = key();
        dht.provide(mine).get(10, TimeUnit.SECONDS); // nobody to tell: the network reaches no peer
        assertEquals(self, providersOf(dht, mine).get(0).peer());
        assertEquals(self, dht.findProviders(mine, 1).get(10, TimeUnit.SECONDS).get(0).peer());
    }

    @Test
    void putValue_floodOf64KiBRecordsFromFreshIdentities_stopsAtMaxRecordBytes() {
        long budget = 1 << 20;
        KadDht dht = dht(DhtConfig.defaults().withRecordLimits(100_000, budget));
        byte[] big = new byte[KadDht.MAX_VALUE - 100];
        int accepted = 0;
        String refusal = null;
        for (int i = 0; i < 40; i++) {
            byte[][] rec = Validators.SignedRecord.sign(Identity.generate(), "site", big, 1);
            Kad.Message put = Kad.Message.newBuilder().setType(Kad.Message.MessageType.PUT_VALUE)
                    .setKey(ByteString.copyFrom(rec[0]))
                    .setRecord(Kad.Record.newBuilder().setKey(ByteString.copyFrom(rec[0])).setValue(ByteString.copyFrom(rec[1])))
                    .build();
            try {
                dht.handle(FakeKadNetwork.randomPeer(rnd), put);
                accepted++;
            } catch (ProtocolException e) {
                refusal = e.getMessage();
            }
        }
        long each = rec0Cost(big);
        assertEquals(budget / each, accepted, "values held");
        assertTrue(refusal != null && refusal.contains("record store is full"), refusal);
    }

    private static long rec0Cost(byte[] payload) {
        byte[][] rec = Validators.SignedRecord.sign(Identity.generate(), "site", payload, 1);
        return rec[0].length + rec[1].length + KadDht.RECORD_OVERHEAD;
    }

    @Test
    void putValue_whenFull_expiredValuesMakeRoom() {
        KadDht dht = dht(DhtConfig.defaults().withRecordLimits(3, 1 << 20));
        Identity owner = Identity.generate();
        for (int i = 0; i < 3; i++) {
            byte[][] rec = Validators.SignedRecord.sign(owner, "n" + i, "v".getBytes(StandardCharsets.UTF_8), 1);
            dht.handle(self, putValue(rec));
        }
        byte[][] late = Validators.SignedRecord.sign(owner, "late", "v".getBytes(StandardCharsets.UTF_8), 1);
        assertThrows(ProtocolException.class, () -> dht.handle(self, putValue(late)));
        now.addAndGet(DhtConfig.defaults().recordTtl().toNanos() + 1);
        dht.handle(self, putValue(late));
    }

    private static Kad.Message putValue(byte[][] rec) {
        return Kad.Message.newBuilder().setType(Kad.Message.MessageType.PUT_VALUE)
                .setKey(ByteString.copyFrom(rec[0]))
                .setRecord(Kad.Record.newBuilder().setKey(ByteString.copyFrom(rec[0])).setValue(ByteString.copyFrom(rec[1])))
                .build();
    }

    @Test
    void lookup_replyNamingThousandsOfPeers_learnsAtMostTwoK() throws Exception {
        KadDht dht = dht(DhtConfig.defaults());
        PeerId liar = FakeKadNetwork.randomPeer(rnd);
        Kad.Message.Builder flood = Kad.Message.newBuilder().setType(Kad.Message.MessageType.FIND_NODE);
        for (int i = 0; i < 5_000; i++) {
            flood.addCloserPeers(Kad.Message.Peer.newBuilder()
                    .setId(ByteString.copyFrom(FakeKadNetwork.randomPeer(rnd).toBytes()))
                    .addAddrs(ByteString.copyFrom(ADDR.toBytes())));
        }
        Kad.Message reply = flood.build();
        net.answers.put(liar, (from, m) -> reply);
        dht.bootstrap(List.of(liar)).get(30, TimeUnit.SECONDS);
        assertEquals(2 * DhtConfig.defaults().k(), net.book.size(), "peers learned from one reply");
    }
}
