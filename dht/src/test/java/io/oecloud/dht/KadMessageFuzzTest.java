package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.oecloud.dht.pb.Kad;
import io.oecloud.wire.LengthPrefix;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mutated Kademlia messages against a node's handlers, with a fixed seed: 10^5 straight into the
 * handler (every message type, valid seeds mutated byte-wise and messages built from random
 * fields), then a few thousand as frames on real {@code /ipfs/kad/1.0.0} streams. Each must be
 * answered within the message limit, refused with a {@link ProtocolException} (the stream is
 * reset) or fail to parse; nothing else may escape, no store may pass its limit, and the node
 * must answer a valid request afterwards.
 */
@Timeout(180)
class KadMessageFuzzTest {
    private static final long SEED = 20261224L;
    private static final int MESSAGES = 100_000;
    private static final int STREAM_FRAMES = 2_000;
    /** Far above the 5-8 s the loop took here on 2 busy cores: reaching it means something got slow. */
    private static final Duration BUDGET = Duration.ofSeconds(90);
    private static final DhtConfig CONFIG = DhtConfig.defaults()
            .withProviderLimits(50, 2_000, 1_000, 500)
            .withRecordLimits(500, 1 << 20)
            .withRequestTimeout(Duration.ofSeconds(2));

    private static final byte[] HELD = KadDhtTest.sha256Multihash("provided before the fuzz");
    private final Random rnd = new Random(SEED);
    private final TestHosts hosts = new TestHosts();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private Host target;
    private KadDht dht;
    private Host friend;
    private KadDht friendDht;
    private final Identity fuzzer = Identity.generate();
    private final List<PeerId> strangers = new ArrayList<>();
    /** Made once: parsing multiaddrs and printing peer IDs (base58) would take most of the loop's time. */
    private final List<ByteString> addrPool = new ArrayList<>();
    private final List<String> strangerNames = new ArrayList<>();
    private final List<byte[]> seeds = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        target = hosts.start();
        dht = HostKadNetwork.attach(target, CONFIG, KadDht.defaultValidators(), scheduler);
        friend = hosts.start();
        friendDht = HostKadNetwork.attach(friend, CONFIG, KadDht.defaultValidators(), scheduler);
        friend.identified(friend.dial(TestHosts.addr(target)).get(10, TimeUnit.SECONDS)).get(10, TimeUnit.SECONDS);
        friendDht.bootstrap(List.of(target.peerId())).get(30, TimeUnit.SECONDS);
        CompletableFuture<PeerId> accepted = new CompletableFuture<>();
        dht.onProviderAccepted((k, from) -> {
            if (Arrays.equals(k, HELD)) {
                accepted.complete(from);
            }
        });
        friendDht.provide(HELD).get(30, TimeUnit.SECONDS);
        assertEquals(friend.peerId(), accepted.get(10, TimeUnit.SECONDS)); // held before the fuzz starts
        for (int i = 0; i < 200; i++) {
            strangers.add(FakeKadNetwork.randomPeer(rnd));
        }
        strangers.add(fuzzer.peerId());
        for (PeerId p : strangers) {
            strangerNames.add(p.toString());
        }
        for (int i = 0; i < 256; i++) {
            addrPool.add(ByteString.copyFrom(switch (i % 4) {
                case 0 -> randomBytes(40);
                case 1 -> Multiaddr.parse("/ip4/10.0.0." + i + "/tcp/" + rnd.nextInt(65536)).toBytes();
                case 2 -> Multiaddr.parse("/dns/" + "d".repeat(1 + rnd.nextInt(1000)) + "/tcp/1").toBytes();
                default -> Multiaddr.parse("/ip6/::1/tcp/" + rnd.nextInt(65536)).toBytes();
            }));
        }
        buildSeeds();
    }

    @AfterEach
    void close() {
        hosts.close();
        scheduler.shutdownNow();
    }

    private Kad.Message.Builder msg(Kad.Message.MessageType t, byte[] key) {
        return Kad.Message.newBuilder().setType(t).setKey(ByteString.copyFrom(key));
    }

    private static Kad.Message.Peer peer(PeerId id, Multiaddr... addrs) {
        Kad.Message.Peer.Builder b = Kad.Message.Peer.newBuilder().setId(ByteString.copyFrom(id.toBytes()));
        for (Multiaddr a : addrs) {
            b.addAddrs(ByteString.copyFrom(a.toBytes()));
        }
        return b.build();
    }

    private void buildSeeds() {
        Multiaddr addr = Multiaddr.parse("/ip4/127.0.0.1/tcp/4001");
        byte[] mh = KadDhtTest.sha256Multihash("seed");
        byte[][] rec = Validators.SignedRecord.sign(fuzzer, "name", "value".getBytes(StandardCharsets.UTF_8), 7);
        byte[] pk = KadDhtTest.pkKey(fuzzer.peerId());
        seeds.add(msg(Kad.Message.MessageType.FIND_NODE, target.peerId().toBytes()).build().toByteArray());
        seeds.add(msg(Kad.Message.MessageType.FIND_NODE, mh).build().toByteArray());
        seeds.add(msg(Kad.Message.MessageType.GET_PROVIDERS, mh).build().toByteArray());
        seeds.add(msg(Kad.Message.MessageType.ADD_PROVIDER, mh).addProviderPeers(peer(fuzzer.peerId(), addr)).build().toByteArray());
        seeds.add(msg(Kad.Message.MessageType.PUT_VALUE, rec[0]).setRecord(Kad.Record.newBuilder()
                .setKey(ByteString.copyFrom(rec[0])).setValue(ByteString.copyFrom(rec[1]))).build().toByteArray());
        seeds.add(msg(Kad.Message.MessageType.PUT_VALUE, pk).setRecord(Kad.Record.newBuilder()
                .setKey(ByteString.copyFrom(pk)).setValue(ByteString.copyFrom(fuzzer.publicKeyProto()))).build().toByteArray());
        seeds.add(msg(Kad.Message.MessageType.GET_VALUE, rec[0]).build().toByteArray());
        seeds.add(msg(Kad.Message.MessageType.PING, new byte[0]).build().toByteArray());
        seeds.add(msg(Kad.Message.MessageType.FIND_NODE, mh).addCloserPeers(peer(friend.peerId(), addr)).build().toByteArray());
    }

    private byte[] randomBytes(int max) {
        byte[] b = new byte[rnd.nextInt(max + 1)];
        rnd.nextBytes(b);
        return b;
    }

    private byte[] randomKey() {
        return switch (rnd.nextInt(7)) {
            case 0 -> randomBytes(120);
            case 1 -> KadDhtTest.sha256Multihash("k" + rnd.nextInt(3000));
            case 2 -> strangers.get(rnd.nextInt(strangers.size())).toBytes();
            case 3 -> ("/oe/" + strangerNames.get(rnd.nextInt(strangerNames.size())) + "/" + rnd.nextInt(100)).getBytes(StandardCharsets.UTF_8);
            case 4 -> ("/pk/" + new String(randomBytes(40), StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
            case 5 -> ("/" + new String(randomBytes(10), StandardCharsets.ISO_8859_1) + "/x").getBytes(StandardCharsets.ISO_8859_1);
            default -> new byte[KadDht.MAX_KEY + rnd.nextInt(3) - 1];
        };
    }

    private ByteString randomAddr() {
        return addrPool.get(rnd.nextInt(addrPool.size()));
    }

    private Kad.Message.Peer randomPeerEntry(PeerId from) {
        ByteString id = switch (rnd.nextInt(4)) {
            case 0 -> ByteString.copyFrom(randomBytes(40));
            case 1 -> ByteString.copyFrom(from.toBytes());
            default -> ByteString.copyFrom(strangers.get(rnd.nextInt(strangers.size())).toBytes());
        };
        Kad.Message.Peer.Builder b = Kad.Message.Peer.newBuilder().setId(id).setConnectionValue(rnd.nextInt(6) - 1);
        int n = rnd.nextInt(20) == 0 ? rnd.nextInt(40) : rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            b.addAddrs(randomAddr());
        }
        return b.build();
    }

    /** A message from random fields: any type (unknown ones too), any key, random peers and records. */
    private byte[] structured(PeerId from) {
        Kad.Message.Builder b = Kad.Message.newBuilder().setTypeValue(rnd.nextInt(9) - 1)
                .setKey(ByteString.copyFrom(randomKey())).setClusterLevelRaw(rnd.nextInt());
        if (rnd.nextBoolean()) {
            ByteString key = rnd.nextInt(4) == 0 ? ByteString.copyFrom(randomKey()) : b.getKey();
            b.setRecord(Kad.Record.newBuilder().setKey(key)
                    .setValue(ByteString.copyFrom(rnd.nextInt(20) == 0 ? new byte[KadDht.MAX_VALUE + rnd.nextInt(3) - 1] : randomBytes(200)))
                    .setTimeReceived(new String(randomBytes(20), StandardCharsets.ISO_8859_1)));
        }
        int peers = rnd.nextInt(10) == 0 ? rnd.nextInt(300) : rnd.nextInt(3);
        for (int i = 0; i < peers; i++) {
            if (rnd.nextBoolean()) {
                b.addProviderPeers(randomPeerEntry(from));
            } else {
                b.addCloserPeers(randomPeerEntry(from));
            }
        }
        return b.build().toByteArray();
    }

    private byte[] mutate(byte[] valid) {
        byte[] b = valid.clone();
        switch (rnd.nextInt(5)) {
            case 0 -> { // flip bits
                for (int i = 1 + rnd.nextInt(4); i > 0 && b.length > 0; i--) {
                    b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> b = Arrays.copyOf(b, b.length == 0 ? 0 : rnd.nextInt(b.length)); // truncate
            case 2 -> { // insert random bytes
                int at = rnd.nextInt(b.length + 1);
                byte[] ins = randomBytes(16);
                byte[] out = new byte[b.length + ins.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(ins, 0, out, at, ins.length);
                System.arraycopy(b, at, out, at + ins.length, b.length - at);
                b = out;
            }
            case 3 -> { // splice with another seed (protobuf merges repeated and last-wins fields)
                byte[] other = seeds.get(rnd.nextInt(seeds.size()));
                byte[] out = Arrays.copyOf(b, b.length + other.length);
                System.arraycopy(other, 0, out, b.length, other.length);
                b = out;
            }
            default -> { // overwrite a byte with a boundary value (lengths, varints)
                if (b.length > 0) {
                    byte[] edge = {0, 1, 0x7f, (byte) 0x80, (byte) 0xff, 80, 81};
                    b[rnd.nextInt(b.length)] = edge[rnd.nextInt(edge.length)];
                }
            }
        }
        return b;
    }

    private byte[] next(PeerId from) {
        int r = rnd.nextInt(10);
        if (r < 5) {
            return mutate(seeds.get(rnd.nextInt(seeds.size())));
        }
        if (r < 9) {
            return structured(from);
        }
        return mutate(structured(from));
    }

    @Test
    void handler_100kMutatedMessages_answerOrRefuse_withinTheLimits_andTheNodeStillAnswers() throws Exception {
        long deadline = System.nanoTime() + BUDGET.toNanos();
        int parsed = 0;
        int answered = 0;
        int refused = 0;
        int i = 0;
        for (; i < MESSAGES && System.nanoTime() < deadline; i++) {
            PeerId from = rnd.nextInt(3) == 0 ? fuzzer.peerId() : strangers.get(rnd.nextInt(strangers.size()));
            byte[] bytes = next(from);
            if (bytes.length > HostKadNetwork.MAX_MESSAGE) {
                continue; // the stream's framer refuses it from its length prefix
            }
            Kad.Message m;
            try {
                m = Kad.Message.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                continue; // the stream handler resets the stream
            }
            parsed++;
            try {
                Kad.Message reply = dht.handle(from, m);
                if (reply != null) {
                    answered++;
                    assertTrue(reply.getSerializedSize() <= HostKadNetwork.MAX_MESSAGE,
                            "reply of " + reply.getSerializedSize() + " bytes to message " + i);
                }
            } catch (ProtocolException e) {
                refused++;
            } catch (RuntimeException e) {
                fail("message " + i + " (seed " + SEED + ", " + HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 200))
                        + ") escaped the handler: " + e, e);
            }
        }
        assertEquals(MESSAGES, i, "fuzzed only " + i + " messages within " + BUDGET);
        assertTrue(parsed > MESSAGES / 2 && answered > MESSAGES / 10 && refused > MESSAGES / 20,
                "a fuzz that reaches the handlers: " + parsed + " parsed, " + answered + " answered, " + refused + " refused");
        assertWithinLimits();
        assertHealthy();
    }

    @Test
    void kadStreams_mutatedFramesOverRealStreams_resetOnlyTheirStream_andTheNodeStillAnswers() throws Exception {
        Host attacker = hosts.start();
        Connection c = attacker.dial(TestHosts.addr(target)).get(10, TimeUnit.SECONDS);
        int frames = 0;
        int resets = 0;
        while (frames < STREAM_FRAMES) {
            List<CompletableFuture<Throwable>> closed = new ArrayList<>();
            for (int s = 0; s < 20 && frames < STREAM_FRAMES; s++) {
                CompletableFuture<Throwable> done = new CompletableFuture<>();
                P2pStream st = c.newStream(HostKadNetwork.PROTOCOL_ID, new StreamHandler() {
                    @Override
                    public void onData(P2pStream stream, ByteBuf data) {
                        data.release();
                    }

                    @Override
                    public void onClose(P2pStream stream, Throwable error) {
                        done.complete(error);
                    }
                }).get(10, TimeUnit.SECONDS);
                for (int f = 0; f < 5; f++, frames++) {
                    byte[] bytes = next(attacker.peerId());
                    st.write(rnd.nextInt(10) == 0
                            ? st.alloc().buffer().writeBytes(bytes) // unframed: a length prefix from the message's bytes
                            : LengthPrefix.encode(st.alloc(), bytes));
                }
                st.closeWrite();
                closed.add(done);
            }
            for (CompletableFuture<Throwable> d : closed) {
                resets += d.get(20, TimeUnit.SECONDS) != null ? 1 : 0;
            }
        }
        assertTrue(resets > 0, "some streams were reset");
        assertTrue(c.isOpen(), "resets closed streams, not the connection");
        assertWithinLimits();
        assertHealthy();
    }

    private void assertWithinLimits() {
        int[] p = dht.providerStoreSizes();
        assertTrue(p[0] <= CONFIG.maxProviderRecords() && p[1] <= CONFIG.maxProviderKeys() && p[2] <= CONFIG.maxProviderPeers(),
                "provider store " + Arrays.toString(p));
        long[] r = dht.recordStoreSizes();
        assertTrue(r[0] <= CONFIG.maxRecords() && r[1] <= CONFIG.maxRecordBytes(), "record store " + Arrays.toString(r));
        long[] ps = target.peerStore().sizes();
        assertTrue(ps[0] <= PeerStore.MAX_HEARD_BYTES && ps[1] <= PeerStore.MAX_PEERS, "peer store " + Arrays.toString(ps));
    }

    /**
     * A peer's valid requests over the network are still answered, and the record it gave before
     * the fuzz is still there (new announcements may be refused: the fuzz fills the store on purpose).
     */
    private void assertHealthy() throws Exception {
        HostKadNetwork net = new HostKadNetwork(friend, 64);
        Kad.Message reply = net.request(target.peerId(), msg(Kad.Message.MessageType.FIND_NODE,
                KadDhtTest.sha256Multihash("after the fuzz")).build()).get(10, TimeUnit.SECONDS);
        assertEquals(Kad.Message.MessageType.FIND_NODE, reply.getType());
        Kad.Message providers = net.request(target.peerId(), msg(Kad.Message.MessageType.GET_PROVIDERS, HELD).build())
                .get(10, TimeUnit.SECONDS);
        assertEquals(ByteString.copyFrom(friend.peerId().toBytes()), providers.getProviderPeers(0).getId());
        assertEquals(Kad.Message.MessageType.PING,
                net.request(target.peerId(), msg(Kad.Message.MessageType.PING, new byte[0]).build()).get(10, TimeUnit.SECONDS).getType());
    }
}
