package io.oecloud.node.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.pb.ChainProto.Receipt;
import io.oecloud.dht.Host;
import io.oecloud.dht.HostConfig;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.contracts.ManifestBlocks;
import io.oecloud.node.pb.ShardProto.ShardResponse.Status;
import io.oecloud.node.store.Quotas;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.testkit.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * RECEIPT on /oe/shard/1.0.0 between two hosts on loopback: the holder signs exactly the blocks of
 * the object it holds pinned by the payer, from its own manifest copy or the payer's; the payer's
 * client refuses any answer that is not that receipt; each peer is rate-limited by the holder's clock.
 */
@Timeout(60)
class ShardReceiptTest {
    private static final String CHAIN = "oe-test-chain";

    @TempDir
    Path dir;

    private final Random rnd = new Random(2512);
    private final Identity holderId = Identity.fromSeed(seed(1));
    private final Identity payer = Identity.fromSeed(seed(2));
    private final Identity stranger = Identity.fromSeed(seed(3));
    private final ManualClock clock = new ManualClock();
    private ExecutorService io;
    private ShardStore holderStore;
    private ShardStore payerStore;
    private Host holder;
    private Host payerHost;
    private ShardServer server;
    private Receipts receipts;
    private ShardClient client;

    private static byte[] seed(int i) {
        byte[] b = new byte[32];
        new Random(i).nextBytes(b);
        return b;
    }

    @BeforeEach
    void start() throws Exception {
        io = Executors.newFixedThreadPool(2);
        holderStore = ShardStore.open(dir.resolve("holder"), 64 << 20, Quotas.unlimited(), clock);
        payerStore = ShardStore.open(dir.resolve("payer"), 64 << 20, Quotas.unlimited(), clock);
        holder = new Host(holderId, HostConfig.defaults());
        server = new ShardServer(holderStore, io, holderId.peerId());
        ShardClient holderClient = new ShardClient(holder, holderId, 5_000);
        receipts = new Receipts(holderStore, holderId, CHAIN, new ManifestBlocks(holderStore, holderClient, 5_000));
        server.signReceipts(receipts);
        holder.setStreamHandler(ShardServer.PROTOCOL_ID, server::newHandler);
        holder.start();
        payerHost = new Host(payer, HostConfig.defaults());
        ShardServer payerServer = new ShardServer(payerStore, io, payer.peerId());
        payerHost.setStreamHandler(ShardServer.PROTOCOL_ID, payerServer::newHandler);
        payerHost.start();
        payerHost.dial(holder.listenAddresses().get(0).withPeerId(holder.peerId())).get(10, TimeUnit.SECONDS);
        client = new ShardClient(payerHost, payer, 10_000).useChain(CHAIN);
    }

    @AfterEach
    void stop() {
        payerHost.close();
        holder.close();
        io.shutdownNow();
        holderStore.close();
        payerStore.close();
    }

    private static Status status(ExecutionException e) {
        assertInstanceOf(ShardException.class, e.getCause(), e.toString());
        return ((ShardException) e.getCause()).status();
    }

    @Test
    void holder_signsExactlyTheBlocksItHoldsPinnedByThePayer_andRecordsThem() throws Exception {
        TestObjects.Made o = TestObjects.make(payer, 2, rnd);
        holderStore.put(o.cid(), o.manifest(), payer.publicKey());
        holderStore.put(o.shards().get(0), o.shardBytes().get(0), payer.publicKey());
        holderStore.put(o.shards().get(4), o.shardBytes().get(4), payer.publicKey());
        holderStore.put(o.shards().get(4), o.shardBytes().get(4), payer.publicKey()); // two pins: still one block
        holderStore.put(o.shards().get(2), o.shardBytes().get(2), stranger.publicKey()); // not the payer's pin
        holderStore.put(o.shards().get(3), o.shardBytes().get(3)); // pinned by no one

        Receipts.Signed signed = client.receiptBlocks(holder.peerId(), o.cid(), 7).get(10, TimeUnit.SECONDS);
        Receipt r = signed.receipt();

        assertArrayEquals(new byte[] {0b0010_0011}, signed.blocks(), "the map: the manifest (0), shards 0 (1) and 4 (5)");
        long bytes = o.manifest().length + 2L * TestObjects.SHARD;
        assertEquals(bytes, r.getBytes());
        assertEquals(3, r.getBlocks());
        assertEquals(7, r.getPeriod());
        assertEquals(holder.peerId().toString(), r.getHolder());
        ShardStore.SignedReceipt recorded = holderStore.receipt(o.cid(), payer.publicKey());
        assertEquals(7, recorded.period());
        assertEquals(List.of(new NodeEntry(o.cid(), o.manifest().length), new NodeEntry(o.shards().get(0), TestObjects.SHARD),
                new NodeEntry(o.shards().get(4), TestObjects.SHARD)), recorded.blocks());
        assertEquals(bytes, recorded.bytes());
        assertArrayEquals(recorded.tree().root(), r.getEntriesRoot().toByteArray(), "the root of the recorded blocks, in CID order");
        assertEquals(1, holderStore.receipts().size());
    }

    @Test
    void holderWithoutTheManifest_fetchesThePayersCopy_checkedByCid() throws Exception {
        TestObjects.Made o = TestObjects.make(payer, 1, rnd);
        payerStore.put(o.cid(), o.manifest(), payer.publicKey());
        holderStore.put(o.shards().get(1), o.shardBytes().get(1), payer.publicKey());
        Receipt r = client.receipt(holder.peerId(), o.cid(), 3).get(10, TimeUnit.SECONDS);
        assertEquals(TestObjects.SHARD, r.getBytes());
        assertEquals(1, r.getBlocks());
        assertNull(holderStore.metadata(o.cid()), "the fetched manifest is read, not stored");
    }

    @Test
    void objectHeldNothingOf_isNotFound_andNothingIsRecorded() throws Exception {
        TestObjects.Made o = TestObjects.make(payer, 1, rnd);
        holderStore.put(o.cid(), o.manifest(), stranger.publicKey()); // the manifest is here, but not the payer's pin
        holderStore.put(o.shards().get(0), o.shardBytes().get(0), stranger.publicKey());
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> client.receipt(holder.peerId(), o.cid(), 1).get(10, TimeUnit.SECONDS));
        assertEquals(Status.NOT_FOUND, status(e));
        assertTrue(e.getCause().getMessage().contains("no block of"), e.getCause().getMessage());
        TestObjects.Made unknown = TestObjects.make(payer, 1, rnd); // no manifest anywhere
        assertEquals(Status.NOT_FOUND, status(assertThrows(ExecutionException.class,
                () -> client.receipt(holder.peerId(), unknown.cid(), 1).get(10, TimeUnit.SECONDS))));
        assertTrue(holderStore.receipts().isEmpty());
    }

    @Test
    void aShardCid_isNoObject() throws Exception {
        byte[] b = new byte[100];
        Cid shard = TestObjects.raw(b);
        holderStore.put(shard, b, payer.publicKey());
        assertEquals(Status.BAD_REQUEST, status(assertThrows(ExecutionException.class,
                () -> client.receipt(holder.peerId(), shard, 1).get(10, TimeUnit.SECONDS))));
    }

    @Test
    void forgedOrMismatchedReceipts_areRefusedByTheClient() throws Exception {
        TestObjects.Made o = TestObjects.make(payer, 1, rnd);
        holderStore.put(o.cid(), o.manifest(), payer.publicKey());
        holderStore.put(o.shards().get(0), o.shardBytes().get(0), payer.publicKey());
        assertEquals(2, client.receipt(holder.peerId(), o.cid(), 5).get(10, TimeUnit.SECONDS).getBlocks(),
                "the honest answer passes");
        List<UnaryOperator<Receipt>> forgeries = List.of(
                r -> r.toBuilder().setBytes(r.getBytes() + 1).build(),            // more bytes than signed
                r -> r.toBuilder().setBlocks(r.getBlocks() + 1).build(),
                r -> r.toBuilder().setEntriesRoot(com.google.protobuf.ByteString.copyFrom(new byte[32])).build(), // another root
                r -> r.toBuilder().clearEntriesRoot().build(),
                r -> r.toBuilder().setPeriod(r.getPeriod() + 1).build(),          // another period
                r -> r.toBuilder().setHolder(stranger.peerId().toString()).build(), // another holder
                r -> r.toBuilder().setSignature(com.google.protobuf.ByteString.copyFrom(new byte[64])).build(),
                r -> r.toBuilder().setBytes(0).build());
        for (UnaryOperator<Receipt> f : forgeries) {
            holder.setStreamHandler(ShardServer.PROTOCOL_ID, FaultyShardServers.receiptForger(server, receipts, f));
            assertEquals(Status.CORRUPT, status(assertThrows(ExecutionException.class,
                    () -> client.receipt(holder.peerId(), o.cid(), 5).get(10, TimeUnit.SECONDS))));
            clock.advance(Duration.ofSeconds(1)); // the forger signs through the real receipts; keep under the rate
        }
        // a holder that signs for another chain, or with a key not its peer ID's, is refused too
        for (Receipts wrong : List.of(
                new Receipts(holderStore, holderId, "another-chain", new ManifestBlocks(holderStore, null, 1_000)),
                new Receipts(holderStore, stranger, CHAIN, new ManifestBlocks(holderStore, null, 1_000)))) {
            ShardServer s = new ShardServer(holderStore, io, holderId.peerId());
            s.signReceipts(wrong);
            holder.setStreamHandler(ShardServer.PROTOCOL_ID, s::newHandler);
            assertEquals(Status.CORRUPT, status(assertThrows(ExecutionException.class,
                    () -> client.receipt(holder.peerId(), o.cid(), 5).get(10, TimeUnit.SECONDS))));
        }
    }

    @Test
    void receiptsFromOnePeer_areRateLimited_byTheHoldersClock() throws Exception {
        TestObjects.Made o = TestObjects.make(payer, 1, rnd);
        holderStore.put(o.cid(), o.manifest(), payer.publicKey());
        for (int i = 0; i < ShardServer.RECEIPT_BURST; i++) {
            client.receipt(holder.peerId(), o.cid(), 1).get(10, TimeUnit.SECONDS);
        }
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> client.receipt(holder.peerId(), o.cid(), 1).get(10, TimeUnit.SECONDS));
        assertEquals(Status.BUSY, status(e));
        assertTrue(e.getCause().getMessage().contains("receipt requests a second"), e.getCause().getMessage());
        clock.advance(Duration.ofMillis((long) (1000 / ShardServer.RECEIPTS_PER_SECOND))); // one token back
        client.receipt(holder.peerId(), o.cid(), 1).get(10, TimeUnit.SECONDS);
        assertEquals(Status.BUSY, status(assertThrows(ExecutionException.class,
                () -> client.receipt(holder.peerId(), o.cid(), 1).get(10, TimeUnit.SECONDS))));
    }

    @Test
    void periodsFarFromTheChainsAsTheHolderReadsIt_areRefused() throws Exception {
        TestObjects.Made o = TestObjects.make(payer, 1, rnd);
        holderStore.put(o.cid(), o.manifest(), payer.publicKey());
        long[] chainPeriod = {-1};
        receipts.periodsNear(() -> chainPeriod[0]);
        client.receipt(holder.peerId(), o.cid(), 1_000).get(10, TimeUnit.SECONDS); // unknown yet: any period
        chainPeriod[0] = 50;
        for (long ok : new long[] {49, 50, 51}) {
            assertEquals(ok, client.receipt(holder.peerId(), o.cid(), ok).get(10, TimeUnit.SECONDS).getPeriod());
        }
        clock.advance(Duration.ofSeconds(2)); // the rate's tokens back
        for (long far : new long[] {48, 52, 1_000}) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> client.receipt(holder.peerId(), o.cid(), far).get(10, TimeUnit.SECONDS));
            assertEquals(Status.BAD_REQUEST, status(e));
            assertTrue(e.getCause().getMessage().contains("not within one of the chain's period 50"), e.getCause().getMessage());
        }
        assertEquals(51, holderStore.receipt(o.cid(), payer.publicKey()).period(), "a refused period records nothing");
    }

    @Test
    void aNodeWithoutReceipts_refusesTheOp() throws Exception {
        ShardServer plain = new ShardServer(holderStore, io, holderId.peerId());
        holder.setStreamHandler(ShardServer.PROTOCOL_ID, plain::newHandler);
        TestObjects.Made o = TestObjects.make(payer, 1, rnd);
        holderStore.put(o.cid(), o.manifest(), payer.publicKey());
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> client.receipt(holder.peerId(), o.cid(), 1).get(10, TimeUnit.SECONDS));
        assertEquals(Status.BAD_REQUEST, status(e));
    }

    @Test
    void ownReceipt_signsTheSameWay_andPassesTheClientsCheck() throws Exception {
        TestObjects.Made o = TestObjects.make(holderId, 1, rnd);
        holderStore.put(o.cid(), o.manifest(), holderId.publicKey());
        holderStore.put(o.shards().get(2), o.shardBytes().get(2), holderId.publicKey());
        Receipt r = receipts.own(o.cid(), 9);
        assertEquals(o.manifest().length + (long) TestObjects.SHARD, r.getBytes());
        assertNull(Receipts.problem(r, CHAIN, o.cid(), holderId.peerId(), holderId.peerId(), 9));
        PeerId other = payer.peerId();
        assertTrue(Receipts.problem(r, CHAIN, o.cid(), other, holderId.peerId(), 9) != null, "bound to its payer");
        assertTrue(Receipts.problem(r, CHAIN, o.shards().get(0), holderId.peerId(), holderId.peerId(), 9) != null,
                "bound to its object");
    }
}
