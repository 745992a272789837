package io.oecloud.node.shard;

import static io.oecloud.node.shard.Requests.cid;
import static io.oecloud.node.shard.Requests.framed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.DefaultEventLoop;
import io.netty.util.ResourceLeakDetector;
import io.oecloud.chain.pb.ChainProto.Receipt;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.contracts.ManifestBlocks;
import io.oecloud.node.pb.ShardProto.ShardRequest;
import io.oecloud.node.pb.ShardProto.ShardResponse.Status;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated and random requests (PROVE among them, with first chunks and counts at their edges) (headers and bodies, split at random points) into a real shard
 * server on a real store, driven in memory ({@link MemoryWire}). Each must be answered with a
 * status other than ERROR or dropped; no exception may escape, every buffer must be released (an
 * instrumented allocator counts them, Netty's leak detector runs paranoid), the memory budget must
 * return to zero, and the server must still store and serve a valid shard afterwards.
 */
@Timeout(180)
class ShardServerFuzzTest {
    /** Requests fed in; at least this many unless the time bound ends the loop first. */
    private static final int CASES = 100_000;
    private static final long TIME_BOUND_NANOS = TimeUnit.SECONDS.toNanos(60);

    @TempDir
    Path dir;

    private final Random rnd = new Random(20261207);
    private final Identity owner = Identity.fromSeed(rnd(1));
    private final Identity selfId = Identity.fromSeed(rnd(2));
    private final PeerId self = selfId.peerId();
    private final PeerId peer = Identity.fromSeed(rnd(3)).peerId();

    private static byte[] rnd(int seed) {
        byte[] b = new byte[32];
        new Random(seed).nextBytes(b);
        return b;
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    /** Signed requests to mutate: made once, since signing each case would cost more than the case. */
    private final List<byte[]> templates = new ArrayList<>();
    private final List<Cid> held = new ArrayList<>();
    private final List<Cid> objects = new ArrayList<>();

    private static final long[] EDGES = {0, 1, 0x7f, 0x80, 0xffff, ShardServer.MAX_SHARD, ShardServer.MAX_SHARD + 1L,
        Integer.MAX_VALUE, 1L << 32, Long.MAX_VALUE, 1L << 63, -1L, 1023, 1024, 1025, ShardServer.MAX_SHARD / 1024};

    private long edge() {
        return rnd.nextInt(4) == 0 ? rnd.nextLong() : EDGES[rnd.nextInt(EDGES.length)];
    }

    private void makeTemplates(ShardStore store) throws Exception {
        for (int i = 0; i < 8; i++) {
            byte[] d = bytes(rnd.nextInt(4096));
            store.put(cid(d), d, owner.publicKey());
            held.add(cid(d));
        }
        for (int i = 0; i < 4; i++) { // several 16 KiB groups: proofs with outboards
            byte[] d = bytes(16_385 + rnd.nextInt(48_000));
            store.put(cid(d), d, owner.publicKey());
            held.add(cid(d));
        }
        for (int i = 0; i < 3; i++) { // objects the payer pins some blocks of: RECEIPTs that sign
            TestObjects.Made o = TestObjects.make(owner, 1 + i, rnd);
            store.put(o.cid(), o.manifest(), owner.publicKey());
            store.put(o.shards().get(i), o.shardBytes().get(i), owner.publicKey());
            objects.add(o.cid());
        }
        for (int i = 0; i < 100; i++) {
            Cid object = rnd.nextInt(4) == 0 ? TestObjects.make(owner, 1, rnd).cid() : objects.get(rnd.nextInt(objects.size()));
            templates.add(framed(Requests.receipt(rnd.nextBoolean() ? owner : Identity.fromSeed(rnd(100 + i)), object,
                    rnd.nextInt(1000)), null));
            byte[] d = bytes(rnd.nextInt(3000));
            templates.add(framed(Requests.put(owner, self, cid(d), d.length), d));
            Cid c = held.get(rnd.nextInt(held.size()));
            templates.add(framed(Requests.delete(owner, self, c, rnd), null));
            templates.add(framed(Requests.get(c, rnd.nextInt(100), rnd.nextInt(100)), null));
            templates.add(framed(Requests.has(rnd.nextBoolean() ? c : cid(bytes(8))), null));
            templates.add(framed(Requests.prove(c, rnd.nextInt(70), 1 + rnd.nextInt(rnd.nextBoolean() ? 4 : 70)), null));
        }
    }

    /** A request with one field set to an edge value, re-encoded (so it still parses). */
    private byte[] structured(byte[] template) throws Exception {
        int at = 0;
        int len = 0;
        for (int shift = 0; ; shift += 7) {
            int b = template[at++] & 0xff;
            len |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        ShardRequest.Builder r = ShardRequest.parseFrom(Arrays.copyOfRange(template, at, at + len)).toBuilder();
        byte[] body = Arrays.copyOfRange(template, at + len, template.length);
        switch (rnd.nextInt(12)) {
            case 0 -> r.setSize(edge());
            case 1 -> r.setOffset(edge());
            case 2 -> r.setLength(edge());
            case 3 -> r.setNotAfter(edge());
            case 4 -> r.setOpValue(rnd.nextInt(8));
            case 5 -> r.setOwner(ByteString.copyFrom(bytes(rnd.nextInt(40))));
            case 6 -> r.setSignature(ByteString.copyFrom(bytes(rnd.nextInt(70))));
            case 7 -> r.setNonce(ByteString.copyFrom(bytes(rnd.nextInt(20))));
            case 8 -> r.setFirstChunk(edge());
            case 9 -> r.setChunkCount(edge());
            case 10 -> r.setPeriod(edge());
            default -> r.setCid(ByteString.copyFrom(bytes(rnd.nextInt(40))));
        }
        return framed(r.build(), rnd.nextInt(4) == 0 ? bytes(rnd.nextInt(200)) : body);
    }

    private byte[] mutated(byte[] valid) {
        byte[] b = valid.clone();
        switch (rnd.nextInt(4)) {
            case 0 -> { // bit flips
                for (int i = 1 + rnd.nextInt(4); i > 0 && b.length > 0; i--) {
                    b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> { // bytes set to edge values
                byte[] edges = {0, (byte) 0x7f, (byte) 0x80, (byte) 0xff};
                for (int i = 1 + rnd.nextInt(3); i > 0 && b.length > 0; i--) {
                    b[rnd.nextInt(b.length)] = edges[rnd.nextInt(edges.length)];
                }
            }
            case 2 -> b = Arrays.copyOf(b, b.length == 0 ? 0 : rnd.nextInt(b.length)); // truncated
            default -> { // bytes inserted
                int at = b.length == 0 ? 0 : rnd.nextInt(b.length);
                byte[] extra = bytes(1 + rnd.nextInt(16));
                byte[] out = new byte[b.length + extra.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(extra, 0, out, at, extra.length);
                System.arraycopy(b, at, out, at + extra.length, b.length - at);
                b = out;
            }
        }
        return b;
    }

    private byte[] nextCase() throws Exception {
        byte[] t = templates.get(rnd.nextInt(templates.size()));
        return switch (rnd.nextInt(10)) {
            case 0 -> bytes(rnd.nextInt(64)); // junk
            case 1, 2, 3 -> structured(t);
            default -> mutated(t);
        };
    }

    @Test
    void mutatedRequests_areAnsweredOrDropped_withoutErrorsLeaksOrHeldMemory() throws Exception {
        ResourceLeakDetector.Level was = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true, false);
        ExecutorService io = Executors.newFixedThreadPool(2);
        DefaultEventLoop loop = new DefaultEventLoop();
        Map<Status, Integer> seen = new EnumMap<>(Status.class);
        int dropped = 0;
        int cases = 0;
        try (ShardStore store = ShardStore.open(dir.resolve("store"), 256 << 20)) {
            makeTemplates(store);
            ShardServer server = new ShardServer(store, io, self);
            Receipts receipts = new Receipts(store, selfId, "fuzz-chain", new ManifestBlocks(store, null, 1_000));
            server.signReceipts(receipts);
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            for (; cases < CASES && System.nanoTime() - t0 < TIME_BOUND_NANOS; cases++) {
                byte[] frame = nextCase();
                MemoryWire w = new MemoryWire(server, peer, loop, alloc);
                List<ByteBuf> sent = new ArrayList<>();
                int at = 0;
                for (int pieces = 1 + rnd.nextInt(3); at < frame.length && pieces > 0; pieces--) {
                    int n = pieces == 1 ? frame.length - at : rnd.nextInt(frame.length - at + 1);
                    sent.add(alloc.buffer(Math.max(n, 1)).writeBytes(frame, at, n));
                    at += n;
                }
                boolean abrupt = rnd.nextInt(20) == 0;
                w.openAndSend(sent, !abrupt);
                MemoryWire.Answer a = abrupt ? null : w.outcome.get(10, TimeUnit.SECONDS);
                w.close();
                for (ByteBuf b : sent) {
                    assertEquals(0, b.refCnt(), "the server released what it was given");
                }
                if (a == null) {
                    dropped++;
                    continue;
                }
                Status s = a.response().getStatus();
                seen.merge(s, 1, Integer::sum);
                assertNotEquals(Status.ERROR, s, () -> "case " + frame.length + " bytes: " + a.response().getMessage());
                assertTrue(!a.response().getMessage().contains("Exception"), a.response().getMessage());
            }
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
            System.out.printf("shard server fuzz: %d requests in %d s (%d CPU-s), answers %s, %d dropped%n", cases, seconds,
                    TimeUnit.NANOSECONDS.toSeconds(os.getProcessCpuTime() - cpu0), seen, dropped);
            assertTrue(cases >= 10_000, "the time bound left only " + cases + " cases");
            // Let the store work of dropped requests finish (both I/O threads past a barrier, the queue
            // being FIFO), then the answers it posted to the loop.
            java.util.concurrent.CyclicBarrier bothIdle = new java.util.concurrent.CyclicBarrier(2);
            var drained = List.of(io.submit(() -> bothIdle.await(10, TimeUnit.SECONDS)), io.submit(() -> bothIdle.await(10, TimeUnit.SECONDS)));
            for (var f : drained) {
                f.get(20, TimeUnit.SECONDS);
            }
            loop.submit(() -> { }).get(10, TimeUnit.SECONDS);
            assertEquals(0, server.inflightBytes(), "the memory budget is back to zero");

            // still healthy: a valid PUT lands, and a GET serves it
            byte[] good = bytes(50_000);
            MemoryWire put = new MemoryWire(server, peer, loop, alloc).open();
            put.send(alloc.buffer().writeBytes(framed(Requests.put(owner, self, cid(good), good.length), good))).finish();
            assertEquals(Status.OK, put.outcome.get(10, TimeUnit.SECONDS).response().getStatus());
            put.close();
            MemoryWire get = new MemoryWire(server, peer, loop, alloc).open();
            get.send(alloc.buffer().writeBytes(framed(Requests.get(cid(good), 0, 0), null))).finish();
            assertArrayEquals(good, get.outcome.get(10, TimeUnit.SECONDS).body());
            get.close();
            MemoryWire prove = new MemoryWire(server, peer, loop, alloc).open();
            prove.send(alloc.buffer().writeBytes(framed(Requests.prove(cid(good), 40, 8), null))).finish();
            SliceProof p = SliceProof.decode(
                    prove.outcome.get(10, TimeUnit.SECONDS).body(), ShardServer.maxProofBytes(8));
            p.verify(cid(good), good.length);
            assertArrayEquals(Arrays.copyOfRange(good, 40 * 1024, 48 * 1024), p.chunks());
            prove.close();
            assertEquals(0, server.inflightBytes());
            // and a RECEIPT still signs (asked by a peer the fuzzing did not rate-limit)
            MemoryWire rc = new MemoryWire(server, Identity.fromSeed(rnd(4)).peerId(), loop, alloc).open();
            rc.send(alloc.buffer().writeBytes(framed(Requests.receipt(owner, objects.get(0), 4), null))).finish();
            MemoryWire.Answer signed = rc.outcome.get(10, TimeUnit.SECONDS);
            rc.close();
            assertEquals(Status.OK, signed.response().getStatus(), signed.response().getMessage());
            var receipt = Receipt.parseFrom(signed.response().getReceipt());
            assertEquals(null, Receipts.problem(receipt, "fuzz-chain", objects.get(0), owner.peerId(), self, 4));
            assertEquals(0, alloc.metric().usedDirectMemory(), "every direct buffer was released");
            assertEquals(0, alloc.metric().usedHeapMemory(), "every heap buffer was released");
        } finally {
            ResourceLeakDetector.setLevel(was);
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            io.shutdownNow();
        }
    }
}
