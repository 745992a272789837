package io.oecloud.node.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.oecloud.chain.ledger.Audits.Outcome;
import io.oecloud.dht.Host;
import io.oecloud.dht.HostConfig;
import io.oecloud.dht.Identity;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.StreamHandler;
import io.oecloud.node.pb.AuditProto.AuditRequest;
import io.oecloud.node.pb.AuditProto.AuditResponse;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.storage.NodeRoot;
import io.oecloud.wire.LengthPrefix;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** /oe/proof/1.0.0 between two hosts on loopback, the server on a real store holding period 7. */
@Timeout(120)
class AuditProtocolTest {
    private static final long PERIOD = 7;

    @TempDir
    Path dir;

    private Host auditor;
    private Host node;
    private ShardStore store;
    private AuditServer server;
    private AuditClient client;
    private NodeRoot tree;
    /** The window the gate admits the auditor in (-1: it does not). */
    private final AtomicLong window = new AtomicLong(5);
    private final AtomicReference<AuditServer.SliceSource> source = new AtomicReference<>();

    @BeforeEach
    void start() throws Exception {
        store = ShardStore.open(dir.resolve("store"), 64 << 20);
        Random rnd = new Random(9);
        byte[] owner = Identity.generate().publicKey();
        for (int size : new int[] {0, 1, 1023, 1024, 1025, 40_000, 100_000}) {
            byte[] b = new byte[size];
            rnd.nextBytes(b);
            store.put(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b), b, owner);
        }
        tree = NodeRoot.build(store.hold(PERIOD).entries());
        assertEquals(7, tree.count());
        source.set(store::prove);
        auditor = new Host(Identity.generate(), HostConfig.defaults()).start();
        node = new Host(Identity.generate(), HostConfig.defaults());
        server = new AuditServer(store, asker -> asker.equals(auditor.peerId()) ? window.get() : -1,
                new AuditServer.Limits(Duration.ofSeconds(2), 40), (c, f, n) -> source.get().prove(c, f, n));
        node.setStreamHandler(AuditProtocol.PROTOCOL_ID, server::newHandler);
        node.start();
        auditor.dial(node.listenAddresses().get(0).withPeerId(node.peerId())).get(10, TimeUnit.SECONDS);
        client = new AuditClient(auditor);
    }

    @AfterEach
    void stop() {
        auditor.close();
        node.close();
        server.close();
        store.close();
    }

    private AuditClient.Result audit(AuditRequest r, byte[] root, long deadline) throws Exception {
        return client.audit(node.peerId(), r, root, tree.count(), deadline).get(60, TimeUnit.SECONDS);
    }

    @Test
    void aNodeHoldingItsEntriesPassesEveryRange() throws Exception {
        Random rnd = new Random(1);
        for (int i = 0; i < 40; i++) {
            AuditRequest r = AuditClient.request(rnd, PERIOD, tree.count(), 1 + rnd.nextInt(AuditProtocol.MAX_CHUNKS));
            AuditClient.Result res = audit(r, tree.root(), 2000);
            assertEquals(Outcome.PASS, res.outcome(), res.detail());
        }
        assertEquals(40, server.answered());
    }

    @Test
    void anAnswerAgainstAnotherRootIsBadAndALateOneTimesOut() throws Exception {
        AuditRequest r = AuditClient.request(new Random(2), PERIOD, tree.count(), 4);
        byte[] other = tree.root();
        other[0] ^= 1;
        assertEquals(Outcome.BAD, audit(r, other, 2000).outcome(), "not the root committed on the chain");
        assertEquals(Outcome.BAD, audit(r.toBuilder().setPeriod(PERIOD + 1).build(), tree.root(), 2000).outcome(),
                "a period it holds nothing for: it cannot prove a committed entry");
        source.set((c, f, n) -> { // a far origin: the bytes come, correct, after the deadline
            try {
                Thread.sleep(1200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return store.prove(c, f, n);
        });
        AuditClient.Result late = audit(r, tree.root(), 500);
        assertEquals(Outcome.TIMEOUT, late.outcome(), late.detail());
        source.set((c, f, n) -> {
            throw new StoreException(StoreException.Code.NOT_FOUND, "gone");
        });
        assertEquals(Outcome.BAD, audit(r, tree.root(), 2000).outcome());
    }

    @Test
    void onlyTheCommitteeMayAskAndOnlySoOftenAWindow() throws Exception {
        window.set(-1);
        AuditRequest r = AuditClient.request(new Random(3), PERIOD, tree.count(), 1);
        AuditClient.Result res = audit(r, tree.root(), 2000);
        assertEquals(Outcome.TIMEOUT, res.outcome());
        assertTrue(res.detail().contains("REFUSED"), res.detail());
        assertEquals(0, server.answered(), "no store work for a stranger");
        window.set(6);
        for (int i = 0; i < 40; i++) {
            assertEquals(Outcome.PASS, audit(r, tree.root(), 2000).outcome());
        }
        res = audit(r, tree.root(), 2000);
        assertTrue(res.detail().contains("REFUSED"), "the 41st in one window: " + res.detail());
        window.set(7);
        assertEquals(Outcome.PASS, audit(r, tree.root(), 2000).outcome(), "a new window, a new budget");
    }

    /** Raw bytes on a stream: whether the server answered (a frame came back) or reset it. */
    private String raw(byte[] bytes, boolean close) throws Exception {
        CompletableFuture<String> done = new CompletableFuture<>();
        auditor.newStream(node.peerId(), AuditProtocol.PROTOCOL_ID, new StreamHandler() {
            @Override
            public void onOpen(P2pStream s) {
                ByteBuf out = s.alloc().buffer(bytes.length);
                out.writeBytes(bytes);
                s.write(out);
                if (close) {
                    s.closeWrite();
                }
            }

            @Override
            public void onData(P2pStream s, ByteBuf data) {
                data.release();
                done.complete("answered");
            }

            @Override
            public void onClose(P2pStream s, Throwable error) {
                done.complete(error == null ? "closed" : "reset");
            }
        }).get(10, TimeUnit.SECONDS);
        return done.get(30, TimeUnit.SECONDS);
    }

    private static byte[] framed(byte[] m) {
        ByteBuf b = io.netty.buffer.Unpooled.buffer();
        LengthPrefix.writeUvarint(b, m.length);
        b.writeBytes(m);
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }

    /** Malformed requests reset their stream, never the node: fixed seed, 300 streams, then a good audit still passes. */
    @Test
    void malformedRequestsResetTheStreamNeverTheNode() throws Exception {
        Random rnd = new Random(24_14);
        AuditRequest good = AuditClient.request(rnd, PERIOD, tree.count(), 2);
        assertEquals("reset", raw(framed(good.toBuilder().setChunkCount(0).build().toByteArray()), true));
        assertEquals("reset", raw(framed(good.toBuilder().setChunkCount(AuditProtocol.MAX_CHUNKS + 1).build().toByteArray()), true));
        assertEquals("reset", raw(framed(new byte[AuditProtocol.MAX_REQUEST + 1]), true), "over the size limit");
        assertEquals("reset", raw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1}, true));
        assertEquals("reset", raw(framed(good.toByteArray()).length > 3 ? java.util.Arrays.copyOf(framed(good.toByteArray()), 3) : new byte[1],
                true), "closed inside the request");
        assertEquals("reset", raw(new byte[] {2}, false), "a request that never completes meets the 2 s deadline");
        int answered = 0;
        for (int i = 0; i < 300; i++) {
            byte[] b;
            switch (i % 3) {
                case 0 -> {
                    b = new byte[rnd.nextInt(80)];
                    rnd.nextBytes(b);
                }
                case 1 -> {
                    b = framed(good.toByteArray());
                    for (int n = 1 + rnd.nextInt(3); n > 0; n--) {
                        b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                    }
                }
                default -> b = framed(AuditRequest.newBuilder().setPeriod(rnd.nextLong()).setEntry(rnd.nextLong())
                        .setChunkPick(rnd.nextLong()).setChunkCount(rnd.nextInt()).build().toByteArray());
            }
            String what = raw(b, true);
            assertTrue(what.equals("reset") || what.equals("answered"), what);
            answered += what.equals("answered") ? 1 : 0;
        }
        assertTrue(server.malformed() > 0);
        assertNotEquals(0, answered + server.malformed());
        AuditClient.Result res = audit(good, tree.root(), 2000);
        assertEquals(Outcome.PASS, res.outcome(), res.detail());
    }

    /** The auditor's judgement of fuzzed answers: never throws; a changed proof never passes. */
    @Test
    void fuzzedAnswersAreJudgedNeverThrown() throws Exception {
        Random rnd = new Random(24_15);
        AuditRequest r = AuditClient.request(rnd, PERIOD, tree.count(), 3);
        AuditResponse a = server.answer(auditor.peerId(), r);
        assertEquals(Outcome.PASS, AuditProtocol.judge(r, tree.root(), tree.count(), a).outcome());
        byte[] inc = a.getInclusion().toByteArray();
        byte[] slice = a.getSlice().toByteArray();
        for (int i = 0; i < 20_000; i++) {
            boolean inInclusion = rnd.nextBoolean();
            byte[] t = (inInclusion ? inc : slice).clone();
            t[rnd.nextInt(t.length)] ^= (byte) (1 + rnd.nextInt(255));
            if (rnd.nextInt(10) == 0) {
                t = java.util.Arrays.copyOf(t, rnd.nextInt(t.length + 40));
            }
            AuditResponse m = inInclusion ? a.toBuilder().setInclusion(ByteString.copyFrom(t)).build()
                    : a.toBuilder().setSlice(ByteString.copyFrom(t)).build();
            AuditProtocol.Judged j = AuditProtocol.judge(r, tree.root(), tree.count(), m);
            if (j.outcome() == Outcome.PASS) {
                throw new AssertionError("a changed answer passed: " + j.detail());
            }
        }
    }
}
