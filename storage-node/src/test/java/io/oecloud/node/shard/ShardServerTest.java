package io.oecloud.node.shard;

import static io.oecloud.node.shard.Requests.cid;
import static io.oecloud.node.shard.Requests.framed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.pb.ShardProto.ShardRequest;
import io.oecloud.node.pb.ShardProto.ShardResponse.Status;
import io.oecloud.node.store.ShardStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard server's limits, driven in memory ({@link MemoryWire}): what a header merely declares
 * takes no memory, bodies that stop are dropped, one peer cannot take the whole budget, and every
 * wire integer is read unsigned.
 */
@Timeout(60)
class ShardServerTest {
    @TempDir
    Path dir;

    private final Random rnd = new Random(22);
    private final Identity owner = Identity.generate();
    private final PeerId self = Identity.generate().peerId();
    private final PeerId peer = Identity.generate().peerId();
    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    private ShardStore store;
    private ExecutorService io;
    private DefaultEventLoop loop;
    private final List<MemoryWire> wires = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        store = ShardStore.open(dir.resolve("store"), 256 << 20);
        io = Executors.newFixedThreadPool(2);
        loop = new DefaultEventLoop();
    }

    @AfterEach
    void stop() throws Exception {
        for (MemoryWire w : wires) {
            w.close();
        }
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        io.shutdownNow();
        store.close();
    }

    private ShardServer server(ShardServer.Limits limits) {
        return new ShardServer(store, io, self, limits);
    }

    private MemoryWire wire(ShardServer server, PeerId from) throws Exception {
        MemoryWire w = new MemoryWire(server, from, loop, alloc).open();
        wires.add(w);
        return w;
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static ByteBuf buf(byte[] b) {
        return Unpooled.wrappedBuffer(b);
    }

    private static ShardServer.Limits limits() {
        return new ShardServer.Limits(Duration.ofSeconds(10), Duration.ofSeconds(60), 64L << 20, 64L << 20);
    }

    private MemoryWire.Answer put(ShardServer server, PeerId from, byte[] data) throws Exception {
        MemoryWire w = wire(server, from);
        w.send(buf(framed(Requests.put(owner, self, cid(data), data.length), data))).finish();
        return w.outcome.get(20, TimeUnit.SECONDS);
    }

    @Test
    void headerOnlyPuts_declaring32MiBEach_holdNoMemory_andOtherPutsStillLand() throws Exception {
        // Today's attack: four such headers took a node's whole incoming budget for 60 s.
        ShardServer server = server(limits());
        for (int i = 0; i < 4; i++) {
            byte[] never = bytes(16);
            wire(server, peer).send(buf(framed(Requests.put(owner, self, cid(never), ShardServer.MAX_SHARD), null)));
        }
        assertEquals(0, server.inflightBytes(), "a header alone takes nothing");
        byte[] a = bytes(100_000);
        assertEquals(Status.OK, put(server, peer, a).response().getStatus());
        assertArrayEquals(a, store.get(cid(a)));
        for (int i = 0; i < 4; i++) {
            assertFalse(wires.get(i).outcome.isDone(), "the empty PUTs are still waiting for bytes");
        }
    }

    @Test
    void aPutWhoseBodyStalls_isResetWithinTheStallLimit_andGivesItsMemoryBack() throws Exception {
        ShardServer server = server(limits().withStall(Duration.ofMillis(300)));
        byte[] a = bytes(200_000);
        byte[] frame = framed(Requests.put(owner, self, cid(a), a.length), a);
        MemoryWire w = wire(server, peer).send(buf(Arrays.copyOf(frame, frame.length - 100_000)));
        assertTrue(server.inflightBytes() > 90_000, "what arrived is held: " + server.inflightBytes());
        assertNull(w.outcome.get(10, TimeUnit.SECONDS), "reset, not answered: the asker went silent");
        assertEquals(0, server.inflightBytes());
        assertNull(store.metadata(cid(a)), "nothing of it is stored");
    }

    @Test
    void aRequestWhoseHeaderStalls_isReset() throws Exception {
        ShardServer server = server(limits().withStall(Duration.ofMillis(300)));
        byte[] frame = framed(Requests.has(cid(bytes(10))), null);
        MemoryWire w = wire(server, peer).send(buf(Arrays.copyOf(frame, 3)));
        assertNull(w.outcome.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aPutEndedEarly_isAnsweredAtOnce_andGivesItsMemoryBack() throws Exception {
        ShardServer server = server(limits());
        byte[] a = bytes(200_000);
        byte[] frame = framed(Requests.put(owner, self, cid(a), a.length), a);
        MemoryWire w = wire(server, peer).send(buf(Arrays.copyOf(frame, frame.length - 1))).finish();
        MemoryWire.Answer r = w.outcome.get(10, TimeUnit.SECONDS);
        assertEquals(Status.BAD_REQUEST, r.response().getStatus());
        assertTrue(r.response().getMessage().contains("199999 of 200000"), r.response().getMessage());
        assertEquals(0, server.inflightBytes());
    }

    @Test
    void onePeer_cannotHoldMoreThanItsShare_whileOthersStillCan() throws Exception {
        ShardServer server = server(new ShardServer.Limits(Duration.ofSeconds(10), Duration.ofSeconds(60), 64L << 20, 32L << 20));
        byte[] big = bytes(20 << 20);
        byte[] frame = framed(Requests.put(owner, self, cid(big), big.length), big);
        byte[] most = Arrays.copyOf(frame, frame.length - 1_000_000); // 19 MiB of the body, then nothing yet
        wire(server, peer).send(buf(most));
        MemoryWire second = wire(server, peer).send(buf(most));
        MemoryWire.Answer busy = second.outcome.get(10, TimeUnit.SECONDS);
        assertEquals(Status.BUSY, busy.response().getStatus(), "the same peer's second 19 MiB passes its 32 MiB");
        assertTrue(busy.response().getMessage().contains("from you"), busy.response().getMessage());
        PeerId other = Identity.generate().peerId();
        MemoryWire third = wire(server, other).send(buf(most));
        assertFalse(third.outcome.isDone(), "another peer is still taken in");
        third.send(buf(Arrays.copyOfRange(frame, most.length, frame.length))).finish();
        assertEquals(Status.OK, third.outcome.get(20, TimeUnit.SECONDS).response().getStatus());
    }

    @Test
    void putSizeOf2To63OrMore_isTooLarge_andTheMemoryCapStaysIntact() throws Exception {
        // Read as signed, 2^63 was negative: it passed the size check and took a negative reservation,
        // which lifted the node-wide cap for good.
        ShardServer server = server(limits());
        for (long size : new long[] {1L << 63, -1L, (1L << 63) + 100, ShardServer.MAX_SHARD + 1L}) {
            byte[] some = bytes(10);
            MemoryWire w = wire(server, peer).send(buf(framed(Requests.put(owner, self, cid(some), size), null)));
            MemoryWire.Answer r = w.outcome.get(10, TimeUnit.SECONDS);
            assertEquals(Status.TOO_LARGE, r.response().getStatus(), Long.toUnsignedString(size));
            assertTrue(r.response().getMessage().contains(Long.toUnsignedString(size)), r.response().getMessage());
            assertEquals(0, server.inflightBytes());
        }
    }

    @Test
    void getRange_offsetOrLengthPastTheShardAsUnsigned_isBadRequest() throws Exception {
        ShardServer server = server(limits());
        byte[] a = bytes(1000);
        store.put(cid(a), a);
        long[][] ranges = {{1L << 63, 1}, {0, -1L}, {1001, 0}, {999, 2}, {1, 1L << 63}, {-1L, 1}};
        for (long[] r : ranges) {
            MemoryWire w = wire(server, peer).send(buf(framed(Requests.get(cid(a), r[0], r[1]), null))).finish();
            MemoryWire.Answer got = w.outcome.get(10, TimeUnit.SECONDS);
            assertEquals(Status.BAD_REQUEST, got.response().getStatus(), Arrays.toString(r));
            assertTrue(got.response().getMessage().contains("outside") || got.response().getMessage().contains("past the end"),
                    got.response().getMessage());
        }
        MemoryWire w = wire(server, peer).send(buf(framed(Requests.get(cid(a), 990, 0), null))).finish();
        assertArrayEquals(Arrays.copyOfRange(a, 990, 1000), w.outcome.get(10, TimeUnit.SECONDS).body());
        assertEquals(0, server.inflightBytes(), "a GET's answer gives its memory back once written");
    }

    @Test
    void malformedRequests_areAnsweredInWords_neverWithJavaExceptionText() throws Exception {
        ShardServer server = server(limits());
        byte[][] frames = {
            {5, 1, 2, 3, 4, 5}, // not a protobuf message
            {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1}, // a varint too long
            {(byte) 0x80, (byte) 0x80, 1}, // a header of 16 KiB
            framed(ShardRequest.newBuilder().setOpValue(1).setCid(ByteString.copyFrom(new byte[] {1, 2, 3})).build(), null),
        };
        for (byte[] f : frames) {
            MemoryWire w = wire(server, peer).send(buf(f)).finish();
            MemoryWire.Answer r = w.outcome.get(10, TimeUnit.SECONDS);
            assertEquals(Status.BAD_REQUEST, r.response().getStatus(), r.response().getMessage());
            String m = r.response().getMessage();
            assertFalse(m.contains("Exception") || m.contains("protocol message") || m.contains("java."), m);
        }
    }
}
