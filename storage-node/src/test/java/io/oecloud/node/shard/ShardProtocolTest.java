package io.oecloud.node.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.oecloud.dht.Host;
import io.oecloud.dht.HostConfig;
import io.oecloud.dht.Identity;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.StreamHandler;
import io.oecloud.node.pb.ShardProto.ShardRequest;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import io.oecloud.node.pb.ShardProto.ShardResponse.Status;
import io.oecloud.node.store.Quotas;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProver;
import java.util.List;
import io.oecloud.testkit.ManualClock;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** /oe/shard/1.0.0 between two hosts on loopback, the server on a real store. */
@Timeout(60)
class ShardProtocolTest {
    @TempDir
    Path dir;

    private Host client;
    private Host server;
    private ShardStore store;
    private ExecutorService io;
    private ShardClient shards;
    private ShardServer ss;
    private PeerId serverId;
    private final Random rnd = new Random(3);
    private final Identity owner = Identity.generate();
    /** The server's clock (its store's): signature windows are judged by it. */
    private final ManualClock clock = new ManualClock();

    @BeforeEach
    void start() throws Exception {
        store = ShardStore.open(dir.resolve("store"), 8 << 20, Quotas.unlimited(), clock);
        io = Executors.newFixedThreadPool(2);
        server = new Host(Identity.generate(), HostConfig.defaults());
        ss = new ShardServer(store, io, server.peerId());
        server.setStreamHandler(ShardServer.PROTOCOL_ID, ss::newHandler);
        server.start();
        client = new Host(Identity.generate(), HostConfig.defaults()).start();
        client.dial(server.listenAddresses().get(0).withPeerId(server.peerId())).get(10, TimeUnit.SECONDS);
        serverId = server.peerId();
        shards = new ShardClient(client, owner, 10_000);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
        io.shutdownNow();
        store.close();
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static Cid cid(byte[] b) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
    }

    private static Status status(ExecutionException e) {
        assertInstanceOf(ShardException.class, e.getCause(), e.toString());
        return ((ShardException) e.getCause()).status();
    }

    @Test
    void put_thenHasGetAndRange() throws Exception {
        byte[] a = bytes(2_000_000);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        assertTrue(store.has(cid(a)), "durable on the server once acknowledged");
        assertEquals(2_000_000L, shards.has(serverId, cid(a)).get(10, TimeUnit.SECONDS));
        assertArrayEquals(a, shards.get(serverId, cid(a)).get(10, TimeUnit.SECONDS));
        assertArrayEquals(java.util.Arrays.copyOfRange(a, 1_500_000, 1_500_100),
                shards.getRange(serverId, cid(a), 1_500_000, 100).get(10, TimeUnit.SECONDS));
        assertArrayEquals(java.util.Arrays.copyOfRange(a, 1_999_000, 2_000_000),
                shards.getRange(serverId, cid(a), 1_999_000, 0).get(10, TimeUnit.SECONDS));
    }

    @Test
    void put_withBytesNotMatchingTheCid_isRefused_andNothingIsStored() throws Exception {
        byte[] a = bytes(1000);
        byte[] lie = bytes(1000);
        assertEquals(Status.CID_MISMATCH, status(assertThrows(ExecutionException.class,
                () -> shards.put(serverId, cid(a), lie).get(10, TimeUnit.SECONDS))));
        assertEquals(0, store.list().size());
    }

    @Test
    void oversizedAndOverCapacityPuts_areRefused() throws Exception {
        byte[] big = new byte[ShardServer.MAX_SHARD + 1];
        assertEquals(Status.TOO_LARGE, status(assertThrows(ExecutionException.class,
                () -> shards.put(serverId, cid(big), big).get(20, TimeUnit.SECONDS))));
        byte[] a = bytes(5 << 20);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        byte[] b = bytes(5 << 20);
        assertEquals(Status.FULL, status(assertThrows(ExecutionException.class,
                () -> shards.put(serverId, cid(b), b).get(10, TimeUnit.SECONDS))));
    }

    @Test
    void unknownShards_areNotFound() throws Exception {
        Cid absent = cid(bytes(10));
        assertEquals(-1L, shards.has(serverId, absent).get(10, TimeUnit.SECONDS));
        assertEquals(Status.NOT_FOUND, status(assertThrows(ExecutionException.class,
                () -> shards.get(serverId, absent).get(10, TimeUnit.SECONDS))));
    }

    @Test
    void unpin_needsTheOwnersSignature_thenGarbageIsCollected() throws Exception {
        byte[] a = bytes(10_000);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        assertEquals(Status.FORBIDDEN, status(assertThrows(ExecutionException.class,
                () -> new ShardClient(client, Identity.generate(), 10_000).unpin(serverId, cid(a)).get(10, TimeUnit.SECONDS))));
        assertEquals(0, store.collectGarbage(0));
        shards.unpin(serverId, cid(a)).get(10, TimeUnit.SECONDS);
        assertEquals(0, store.collectGarbage(TimeUnit.HOURS.toMillis(1)), "kept during the grace period");
        assertEquals(1, store.collectGarbage(0));
        assertEquals(-1L, shards.has(serverId, cid(a)).get(10, TimeUnit.SECONDS));
    }

    @Test
    void shardCorruptedOnTheServersDisk_isNeverServed() throws Exception {
        byte[] a = bytes(100_000);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        Path f;
        try (Stream<Path> files = Files.walk(dir.resolve("store/shards"))) {
            f = files.filter(Files::isRegularFile).findFirst().orElseThrow();
        }
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.seek(5000);
            r.write(r.read() ^ 1);
        }
        assertEquals(Status.CORRUPT, status(assertThrows(ExecutionException.class,
                () -> shards.get(serverId, cid(a)).get(10, TimeUnit.SECONDS))));
        assertEquals(-1L, shards.has(serverId, cid(a)).get(10, TimeUnit.SECONDS));
    }

    @Test
    void aPeerAnsweringWrongBytes_isCaughtByTheCidCheck() throws Exception {
        Host liar = new Host(Identity.generate(), HostConfig.defaults());
        liar.setStreamHandler(ShardServer.PROTOCOL_ID, () -> new StreamHandler() {
            @Override
            public void onData(P2pStream s, ByteBuf data) {
                data.release();
                byte[] junk = new byte[64];
                ShardResponse r = ShardResponse.newBuilder().setStatus(Status.OK).setSize(junk.length).build();
                s.write(Frames.encode(s.alloc(), r.toByteArray(), junk));
                s.closeWrite();
            }
        });
        liar.start();
        try {
            client.dial(liar.listenAddresses().get(0).withPeerId(liar.peerId())).get(10, TimeUnit.SECONDS);
            Cid wanted = cid(bytes(64));
            assertEquals(Status.CORRUPT, status(assertThrows(ExecutionException.class,
                    () -> shards.get(liar.peerId(), wanted).get(10, TimeUnit.SECONDS))));
        } finally {
            liar.close();
        }
    }

    @Test
    void prove_afterPut_answersVerifiedSlices_ofEveryShape() throws Exception {
        byte[] a = bytes(2 << 20);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        long[][] ranges = {{0, 1}, {0, 16}, {15, 2}, {1023, 2}, {2047, 1}, {100, 1024}, {1024, 1024}, {2040, 8}};
        for (long[] r : ranges) {
            for (long size : new long[] {a.length, -1}) {
                SliceProof p = shards.prove(serverId, cid(a), r[0], (int) r[1], size).get(10, TimeUnit.SECONDS);
                assertEquals(r[0], p.firstChunk());
                assertArrayEquals(java.util.Arrays.copyOfRange(a, (int) r[0] * 1024, (int) (r[0] + r[1]) * 1024), p.chunks());
                assertEquals(SliceProver.prove(a, r[0], (int) r[1]), p);
            }
        }
        byte[] tiny = bytes(1);
        shards.put(serverId, cid(tiny), tiny).get(10, TimeUnit.SECONDS);
        assertArrayEquals(tiny, shards.prove(serverId, cid(tiny), 0, 1, 1).get(10, TimeUnit.SECONDS).chunks());
    }

    @Test
    void prove_badRangesAndUnknownShards_areRefused_namingTheValues() throws Exception {
        byte[] a = bytes(5000);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class, () -> shards.prove(serverId, cid(a), 4, 2, 5000).get(10, TimeUnit.SECONDS));
        assertEquals(Status.BAD_REQUEST, status(e));
        assertTrue(e.getCause().getMessage().contains("[4, 6)") && e.getCause().getMessage().contains("5000 bytes"), e.getMessage());
        assertEquals(Status.NOT_FOUND, status(assertThrows(ExecutionException.class,
                () -> shards.prove(serverId, cid(bytes(10)), 0, 1, 10).get(10, TimeUnit.SECONDS))));
        assertThrows(IllegalArgumentException.class, () -> shards.prove(serverId, cid(a), 0, 1025, 5000));
        ShardResponse r = raw(s -> {
            s.write(Frames.encode(s.alloc(), Requests.prove(cid(a), 0, 1025).toByteArray(), null));
            s.closeWrite();
        }).get(10, TimeUnit.SECONDS);
        assertEquals(Status.BAD_REQUEST, r.getStatus());
        assertTrue(r.getMessage().contains("1 to 1024 chunks, not 1025"), r.getMessage());
        r = raw(s -> {
            s.write(Frames.encode(s.alloc(), Requests.prove(cid(a), -1L, 1).toByteArray(), null));
            s.closeWrite();
        }).get(10, TimeUnit.SECONDS);
        assertEquals(Status.BAD_REQUEST, r.getStatus());
        assertTrue(r.getMessage().contains(Long.toUnsignedString(-1L)), r.getMessage());
        assertEquals(0, ss.inflightBytes());
    }

    @Test
    void prove_ofAShardCorruptedOnTheServersDisk_isCorrupt_andTheServerDropsIt() throws Exception {
        byte[] a = bytes(100_000);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        Path f;
        try (Stream<Path> files = Files.walk(dir.resolve("store/shards"))) {
            f = files.filter(Files::isRegularFile).findFirst().orElseThrow();
        }
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.seek(5000);
            r.write(r.read() ^ 1);
        }
        assertEquals(Status.CORRUPT, status(assertThrows(ExecutionException.class,
                () -> shards.prove(serverId, cid(a), 4, 1, a.length).get(10, TimeUnit.SECONDS))));
        assertEquals(null, store.metadata(cid(a)), "dropped, as the scrub would");
    }

    @Test
    void aPeerAnsweringABadProof_isRefusedAsCorrupt() throws Exception {
        byte[] a = bytes(300_000);
        Cid c = cid(a);
        SliceProof good = SliceProver.prove(a, 100, 4);
        byte[] flipped = good.chunks();
        flipped[10] ^= 1;
        List<byte[]> lies = List.of(
                new SliceProof(good.contentLength(), 100, 4, flipped, good.siblings()).encode(), // wrong bytes
                SliceProver.prove(a, 101, 4).encode(), // another range
                SliceProver.prove(bytes(300_000), 100, 4).encode(), // another shard
                SliceProver.prove(java.util.Arrays.copyOf(a, 299_000), 100, 4).encode(), // another length (same path shape or not)
                java.util.Arrays.copyOf(good.encode(), good.encodedSize() - 1), // truncated
                new byte[ShardServer.maxProofBytes(4) + 1]); // more than a proof of 4 chunks can be
        java.util.concurrent.atomic.AtomicReference<byte[]> answer = new java.util.concurrent.atomic.AtomicReference<>();
        Host liar = new Host(Identity.generate(), HostConfig.defaults());
        liar.setStreamHandler(ShardServer.PROTOCOL_ID, () -> new StreamHandler() {
            @Override
            public void onData(P2pStream s, ByteBuf data) {
                data.release();
                byte[] body = answer.get();
                ShardResponse r = ShardResponse.newBuilder().setStatus(Status.OK).setSize(body.length).build();
                s.write(Frames.encode(s.alloc(), r.toByteArray(), body));
                s.closeWrite();
            }
        });
        liar.start();
        try {
            client.dial(liar.listenAddresses().get(0).withPeerId(liar.peerId())).get(10, TimeUnit.SECONDS);
            answer.set(good.encode());
            assertEquals(good, shards.prove(liar.peerId(), c, 100, 4, a.length).get(10, TimeUnit.SECONDS), "the honest answer passes");
            for (byte[] lie : lies) {
                answer.set(lie);
                assertEquals(Status.CORRUPT, status(assertThrows(ExecutionException.class,
                        () -> shards.prove(liar.peerId(), c, 100, 4, a.length).get(10, TimeUnit.SECONDS))), lie.length + " bytes");
            }
        } finally {
            liar.close();
        }
    }

    /**
     * Mutated encodings of a good proof (bit flips, edge bytes, truncations, insertions; fixed seed,
     * at most 1,000 cases or 15 s) answered by a peer: the client refuses every one as CORRUPT, and
     * only the untouched proof is accepted.
     */
    @Test
    void aPeerAnsweringMutatedProofs_neverHasOneAccepted() throws Exception {
        byte[] a = bytes(200_000);
        Cid c = cid(a);
        byte[] good = SliceProver.prove(a, 60, 3).encode();
        java.util.concurrent.atomic.AtomicReference<byte[]> answer = new java.util.concurrent.atomic.AtomicReference<>();
        Host liar = new Host(Identity.generate(), HostConfig.defaults());
        liar.setStreamHandler(ShardServer.PROTOCOL_ID, () -> new StreamHandler() {
            @Override
            public void onData(P2pStream s, ByteBuf data) {
                data.release();
                byte[] body = answer.get();
                ShardResponse r = ShardResponse.newBuilder().setStatus(Status.OK).setSize(body.length).build();
                s.write(Frames.encode(s.alloc(), r.toByteArray(), body));
                s.closeWrite();
            }
        });
        liar.start();
        Random fuzz = new Random(2424);
        int cases = 0;
        try {
            client.dial(liar.listenAddresses().get(0).withPeerId(liar.peerId())).get(10, TimeUnit.SECONDS);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            for (; cases < 1000 && System.nanoTime() < end; cases++) {
                byte[] b = good.clone();
                switch (fuzz.nextInt(4)) {
                    case 0 -> b[fuzz.nextInt(b.length)] ^= (byte) (1 << fuzz.nextInt(8));
                    case 1 -> b[fuzz.nextInt(Math.min(b.length, 12))] = (byte) new int[] {0, 0x7f, 0x80, 0xff}[fuzz.nextInt(4)];
                    case 2 -> b = java.util.Arrays.copyOf(b, fuzz.nextInt(b.length));
                    default -> {
                        int at = fuzz.nextInt(b.length + 1);
                        byte[] extra = new byte[1 + fuzz.nextInt(8)];
                        fuzz.nextBytes(extra);
                        byte[] out = new byte[b.length + extra.length];
                        System.arraycopy(b, 0, out, 0, at);
                        System.arraycopy(extra, 0, out, at, extra.length);
                        System.arraycopy(b, at, out, at + extra.length, b.length - at);
                        b = out;
                    }
                }
                if (java.util.Arrays.equals(b, good)) {
                    continue; // an edge byte written over the same value
                }
                answer.set(b);
                int n = cases;
                byte[] sent = b;
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> shards.prove(liar.peerId(), c, 60, 3, a.length).get(10, TimeUnit.SECONDS), () -> "case " + n
                                + ": " + sent.length + " bytes were accepted");
                assertEquals(Status.CORRUPT, status(e), e.toString());
            }
            answer.set(good);
            assertEquals(SliceProof.decode(good, good.length), shards.prove(liar.peerId(), c, 60, 3, a.length).get(10, TimeUnit.SECONDS));
        } finally {
            liar.close();
        }
        assertTrue(cases >= 200, "the time bound left only " + cases + " cases");
    }

    /** Opens a raw /oe/shard/1.0.0 stream to the server; the answer (if any) completes the future. */
    private java.util.concurrent.CompletableFuture<ShardResponse> raw(java.util.function.Consumer<P2pStream> send) throws Exception {
        var answer = new java.util.concurrent.CompletableFuture<ShardResponse>();
        client.newStream(serverId, ShardServer.PROTOCOL_ID, new StreamHandler() {
            private ByteBuf buf;

            @Override
            public void onOpen(P2pStream s) {
                send.accept(s);
            }

            @Override
            public void onData(P2pStream s, ByteBuf data) {
                if (buf == null) {
                    buf = s.alloc().buffer();
                }
                buf.writeBytes(data);
                data.release();
                byte[] m = Frames.read(buf, 4096);
                if (m != null) {
                    try {
                        answer.complete(ShardResponse.parseFrom(m));
                    } catch (Exception e) {
                        answer.completeExceptionally(e);
                    }
                }
            }

            @Override
            public void onClose(P2pStream s, Throwable error) {
                if (buf != null) {
                    buf.release();
                }
                answer.completeExceptionally(new IllegalStateException("closed without an answer", error));
            }
        }).get(10, TimeUnit.SECONDS);
        return answer;
    }

    /** A PUT header pinned (signed) by {@code owner} for the server. */
    private byte[] putHeader(Cid cid, long size) {
        return Requests.put(owner, serverId, cid, size).toByteArray();
    }

    @Test
    void putBodyLongerThanAnnounced_isRefused_andNothingIsStored() throws Exception {
        byte[] a = bytes(300_000);
        byte[] more = java.util.Arrays.copyOf(a, a.length + 10);
        ShardResponse r = raw(s -> {
            s.write(Frames.encode(s.alloc(), putHeader(cid(a), a.length), more));
            s.closeWrite();
        }).get(10, TimeUnit.SECONDS);
        assertEquals(Status.BAD_REQUEST, r.getStatus());
        assertTrue(r.getMessage().contains("announced size"), r.getMessage());
        assertEquals(0, store.list().size());
    }

    @Test
    void putAbandonedMidBody_storesNothing_andTheShardCanStillBePut() throws Exception {
        byte[] a = bytes(4 << 20);
        var stream = new java.util.concurrent.CompletableFuture<P2pStream>();
        var answer = raw(s -> {
            s.write(Frames.encode(s.alloc(), putHeader(cid(a), a.length), java.util.Arrays.copyOf(a, 1 << 20)));
            stream.complete(s);
        });
        stream.get(10, TimeUnit.SECONDS).reset();
        assertThrows(ExecutionException.class, () -> answer.get(10, TimeUnit.SECONDS), "a reset PUT gets no answer");
        // Yamux delivers in order: the server has seen the reset before it acknowledges this put
        byte[] other = bytes(1000);
        shards.put(serverId, cid(other), other).get(10, TimeUnit.SECONDS);
        assertEquals(java.util.List.of(cid(other)), store.list().stream().map(x -> x.cid()).toList(),
                "a partial body is never stored");
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        assertArrayEquals(a, store.get(cid(a)));
    }

    private ShardResponse rawRequest(byte[] frame) throws Exception {
        return raw(s -> {
            s.write(Unpooled.wrappedBuffer(frame));
            s.closeWrite();
        }).get(10, TimeUnit.SECONDS);
    }

    @Test
    void put_withoutAPinSignature_isForbidden_andNothingIsStored() throws Exception {
        byte[] a = bytes(1000);
        byte[] unsigned = ShardRequest.newBuilder().setOp(ShardRequest.Op.PUT).setCid(ByteString.copyFrom(cid(a).toBytes()))
                .setSize(a.length).setOwner(ByteString.copyFrom(owner.publicKey())).build().toByteArray();
        ShardResponse r = raw(s -> {
            s.write(Frames.encode(s.alloc(), unsigned, a));
            s.closeWrite();
        }).get(10, TimeUnit.SECONDS);
        assertEquals(Status.FORBIDDEN, r.getStatus());
        assertTrue(r.getMessage().contains("signature"), r.getMessage());
        assertEquals(0, store.count(), "no shard is stored unpinned either");
    }

    @Test
    void put_pinnedUnderTheServersOwnKey_signedBySomeoneElse_isForbidden_soNoOneCanAddToItsObjectList() throws Exception {
        // `oe ls` lists the manifests pinned by the node's own key: a stranger used to put one there.
        byte[] manifest = bytes(300);
        Cid c = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, manifest);
        Identity stranger = Identity.generate();
        long notAfter = Requests.soon();
        ShardRequest forged = ShardRequest.newBuilder().setOp(ShardRequest.Op.PUT).setCid(ByteString.copyFrom(c.toBytes()))
                .setSize(manifest.length).setOwner(ByteString.copyFrom(server.identity().publicKey())).setNotAfter(notAfter)
                .setSignature(ByteString.copyFrom(stranger.sign(ShardServer.pinMessage(serverId, c, notAfter)))).build();
        ShardResponse r = rawRequest(Requests.framed(forged, manifest));
        assertEquals(Status.FORBIDDEN, r.getStatus());
        assertTrue(r.getMessage().contains(server.peerId().toString()), r.getMessage());
        assertEquals(0, store.count());
    }

    @Test
    void put_signedForAnotherHolder_isForbidden() throws Exception {
        byte[] a = bytes(1000);
        PeerId elsewhere = Identity.generate().peerId();
        ShardResponse r = rawRequest(Requests.framed(Requests.put(owner, elsewhere, cid(a), a.length), a));
        assertEquals(Status.FORBIDDEN, r.getStatus());
        assertEquals(0, store.count());
    }

    @Test
    void put_withAnExpiredOrFarFutureSignature_isForbidden() throws Exception {
        byte[] a = bytes(1000);
        long now = clock.millis();
        for (long notAfter : new long[] {now - 1000, now + TimeUnit.HOURS.toMillis(2), -1L}) {
            ShardResponse r = rawRequest(Requests.framed(Requests.put(owner, serverId, cid(a), a.length, notAfter), a));
            assertEquals(Status.FORBIDDEN, r.getStatus(), r.getMessage());
            assertTrue(r.getMessage().contains(Long.toUnsignedString(notAfter)), r.getMessage());
        }
        assertEquals(0, store.count());
    }

    @Test
    void signaturesValidForAMinute_areAdmitted_untilTheServersClockPassesThem() throws Exception {
        byte[] a = bytes(1000);
        byte[] b = bytes(1000);
        long notAfter = clock.millis() + 60_000;
        assertEquals(Status.OK, rawRequest(Requests.framed(Requests.put(owner, serverId, cid(a), a.length, notAfter), a)).getStatus());
        byte[] nonce = new byte[ShardServer.NONCE];
        byte[] delete = Requests.framed(Requests.delete(owner, serverId, cid(a), notAfter, nonce), null);
        clock.advance(Duration.ofSeconds(60));
        assertEquals(Status.OK, rawRequest(Requests.framed(Requests.put(owner, serverId, cid(b), b.length, notAfter), b)).getStatus(),
                "valid up to its last millisecond");
        clock.advance(Duration.ofMillis(1));
        byte[] c = bytes(1000);
        ShardResponse late = rawRequest(Requests.framed(Requests.put(owner, serverId, cid(c), c.length, notAfter), c));
        assertEquals(Status.FORBIDDEN, late.getStatus(), late.getMessage());
        assertTrue(late.getMessage().contains("expired at " + notAfter), late.getMessage());
        ShardResponse lateDelete = rawRequest(delete);
        assertEquals(Status.FORBIDDEN, lateDelete.getStatus(), lateDelete.getMessage());
        assertTrue(lateDelete.getMessage().contains("expired at " + notAfter), lateDelete.getMessage());
        assertEquals(1, store.metadata(cid(a)).pins().size(), "the late delete changed nothing");
        assertEquals(2, store.count());
    }

    @Test
    void delete_replayed_removesOnlyOnePin() throws Exception {
        // Two objects share the shard (two pins); one signed delete used to remove both when sent twice.
        byte[] a = bytes(5000);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        assertEquals(2, store.metadata(cid(a)).pins().get(0).count());
        byte[] once = Requests.framed(Requests.delete(owner, serverId, cid(a), rnd), null);
        assertEquals(Status.OK, rawRequest(once).getStatus());
        ShardResponse again = rawRequest(once);
        assertEquals(Status.FORBIDDEN, again.getStatus());
        assertTrue(again.getMessage().contains("used before"), again.getMessage());
        assertEquals(1, store.metadata(cid(a)).pins().get(0).count(), "the other object's pin stays");
    }

    @Test
    void delete_signedForAnotherHolder_isForbidden_andRemovesNothing() throws Exception {
        byte[] a = bytes(5000);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        ShardResponse r = rawRequest(Requests.framed(Requests.delete(owner, Identity.generate().peerId(), cid(a), rnd), null));
        assertEquals(Status.FORBIDDEN, r.getStatus());
        assertEquals(1, store.metadata(cid(a)).pins().size());
    }

    @Test
    void twentyHeaderOnlyPuts_overRealStreams_holdNothing_areReset_andUploadsStillLand() throws Exception {
        // The devnet finding: 20 header-only PUTs declaring 32 MiB made every upload fail with 503.
        ShardServer limited = new ShardServer(store, io, serverId,
                ShardServer.Limits.defaults().withStall(java.time.Duration.ofMillis(500)).withInflight(64L << 20, 64L << 20));
        server.setStreamHandler(ShardServer.PROTOCOL_ID, limited::newHandler);
        java.util.List<java.util.concurrent.CompletableFuture<ShardResponse>> empty = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            byte[] never = bytes(8);
            byte[] head = putHeader(cid(never), ShardServer.MAX_SHARD);
            empty.add(raw(s -> s.write(Frames.encode(s.alloc(), head, null))));
        }
        byte[] a = bytes(1 << 20);
        shards.put(serverId, cid(a), a).get(10, TimeUnit.SECONDS);
        assertArrayEquals(a, store.get(cid(a)));
        for (var f : empty) {
            assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS), "reset once silent for 0.5 s");
        }
        assertEquals(0, limited.inflightBytes());
    }
}
