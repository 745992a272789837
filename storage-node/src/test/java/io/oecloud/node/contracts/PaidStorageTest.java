package io.oecloud.node.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.dht.Host;
import io.oecloud.dht.HostConfig;
import io.oecloud.dht.Identity;
import io.oecloud.node.pb.ShardProto.ShardResponse.Status;
import io.oecloud.node.proving.Commitment;
import io.oecloud.node.proving.Prover;
import io.oecloud.node.shard.Receipts;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.shard.ShardException;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.node.shard.TestObjects;
import io.oecloud.node.store.Quotas;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.testkit.ManualClock;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The holder side of paid storage on a real store, PUTs over real sockets: admission by the
 * owner's balance and the caps, coverage from receipts and the chain's contracts, the drop of what
 * no contract covers after the grace (the clock moved, never waited for), nothing dropped on a
 * failed or malformed read, and a proving commitment of exactly the covered blocks.
 */
@Timeout(60)
class PaidStorageTest {
    private static final String CHAIN = "oe-paid-test";
    private static final Duration GRACE = Duration.ofMinutes(10);

    @TempDir
    Path dir;

    private final Random rnd = new Random(3125);
    private final Identity holderId = Identity.fromSeed(seed(11));
    private final Identity payer = Identity.fromSeed(seed(12));
    private final Identity other = Identity.fromSeed(seed(13));
    private final ManualClock clock = new ManualClock();
    private final FakeChain chain = new FakeChain();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private ExecutorService io;
    private ShardStore store;
    private Host holder;
    private Host client;
    private ShardServer server;
    private PaidAdmission admission;
    private Coverage coverage;
    private Receipts receipts;

    private static byte[] seed(int i) {
        byte[] b = new byte[32];
        new Random(i).nextBytes(b);
        return b;
    }

    @BeforeEach
    void start() throws Exception {
        io = Executors.newFixedThreadPool(2);
        store = ShardStore.open(dir.resolve("store"), 64 << 20, Quotas.unlimited(), clock);
        // caps: 3 shards of 2 KiB per owner, 5 in all
        PaidConfig config = new PaidConfig(true, GRACE, 3L * TestObjects.SHARD, 5L * TestObjects.SHARD, Duration.ofSeconds(30), 1, 1);
        admission = new PaidAdmission(store, chain, config, clock);
        coverage = new Coverage(store, chain, holderId.peerId(), config, admission, clock, metrics);
        receipts = new Receipts(store, holderId, CHAIN, new ManifestBlocks(store, null, 1_000));
        holder = new Host(holderId, HostConfig.defaults());
        server = new ShardServer(store, io, holderId.peerId());
        server.admitThrough(admission);
        server.signReceipts(receipts);
        holder.setStreamHandler(ShardServer.PROTOCOL_ID, server::newHandler);
        holder.start();
        client = new Host(Identity.generate(), HostConfig.defaults()).start();
        client.dial(holder.listenAddresses().get(0).withPeerId(holder.peerId())).get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        coverage.close();
        client.close();
        holder.close();
        io.shutdownNow();
        store.close();
    }

    private ShardClient as(Identity owner) {
        return new ShardClient(client, owner, 10_000, clock).useChain(CHAIN);
    }

    private static ShardException refusal(ExecutionException e) {
        assertInstanceOf(ShardException.class, e.getCause(), e.toString());
        return (ShardException) e.getCause();
    }

    private void fund(Identity who, long units) {
        synchronized (chain) {
            chain.balances.put(Ledger.address(who.publicKey()), BigInteger.valueOf(units));
        }
    }

    private byte[] shard() {
        byte[] b = new byte[TestObjects.SHARD];
        rnd.nextBytes(b);
        return b;
    }

    private boolean pinnedBy(Cid cid, Identity owner) throws Exception {
        StoredShard s = store.metadata(cid);
        return s != null && s.isPinnedBy(owner.publicKey());
    }

    @Test
    void unfundedOwnersPut_isRefusedWithTheReason_andNothingIsStored() throws Exception {
        byte[] b = shard();
        ShardException e = refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(b), b).get(10, TimeUnit.SECONDS)));
        assertEquals(Status.PAYMENT_REQUIRED, e.status());
        assertTrue(e.getMessage().contains("does not exist on the chain"), e.getMessage());
        fund(payer, TestObjects.SHARD - 1); // one base unit short of a period of this block
        clock.advance(PaidAdmission.BALANCE_FRESH); // the absent account was read a moment ago
        e = refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(b), b).get(10, TimeUnit.SECONDS)));
        assertEquals(Status.PAYMENT_REQUIRED, e.status());
        assertTrue(e.getMessage().contains("has " + (TestObjects.SHARD - 1) + " base units"), e.getMessage());
        assertEquals(0, store.count());
        assertEquals(0, admission.provisionalBytes());
    }

    @Test
    void anOwnerKnownUnableToPay_isRefusedFromTheHeader_withoutAChainRead() throws Exception {
        byte[] b = shard();
        ShardException first = refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(b), b).get(10, TimeUnit.SECONDS)));
        assertTrue(first.getMessage().contains(": refused "), "decided with the body, after a chain read: " + first.getMessage());
        int reads = chain.queries.get();
        byte[] big = new byte[4 << 20];
        rnd.nextBytes(big);
        ShardException early = refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(big), big).get(10, TimeUnit.SECONDS)));
        assertEquals(Status.PAYMENT_REQUIRED, early.status());
        assertTrue(early.getMessage().contains(": pin of ") && early.getMessage().contains("does not exist on the chain"),
                "refused from the header, before its 4 MiB: " + early.getMessage());
        assertEquals(reads, chain.queries.get(), "from memory, not a read on the event loop");
        fund(payer, 100); // less than one period of a 2 KiB block
        clock.advance(PaidAdmission.BALANCE_FRESH);
        refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(b), b).get(10, TimeUnit.SECONDS))); // read again
        early = refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(big), big).get(10, TimeUnit.SECONDS)));
        assertTrue(early.getMessage().contains(": pin of ") && early.getMessage().contains("has 100 base units"), early.getMessage());
        assertEquals(0, store.count());
    }

    @Test
    void fundedOwner_isAdmittedUntilItsCap_andAllOwnersUntilTheTotal() throws Exception {
        fund(payer, 1_000_000);
        fund(other, 1_000_000);
        for (int i = 0; i < 3; i++) {
            byte[] b = shard();
            as(payer).put(holder.peerId(), TestObjects.raw(b), b).get(10, TimeUnit.SECONDS);
        }
        assertEquals(3L * TestObjects.SHARD, admission.provisionalBytes(payer.publicKey()));
        assertEquals(3, store.provisionals().size(), "each recorded with its admission time");
        assertEquals(clock.millis(), store.provisionals().get(0).admittedAtMillis());
        byte[] fourth = shard();
        ShardException e = refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(fourth), fourth).get(10, TimeUnit.SECONDS)));
        assertEquals(Status.PAYMENT_REQUIRED, e.status());
        assertTrue(e.getMessage().contains("awaiting a contract"), e.getMessage());
        for (int i = 0; i < 2; i++) {
            byte[] b = shard();
            as(other).put(holder.peerId(), TestObjects.raw(b), b).get(10, TimeUnit.SECONDS);
        }
        byte[] over = shard();
        e = refusal(assertThrows(ExecutionException.class,
                () -> as(other).put(holder.peerId(), TestObjects.raw(over), over).get(10, TimeUnit.SECONDS)));
        assertTrue(e.getMessage().contains("bytes awaiting contracts"), e.getMessage());
        assertEquals(5L * TestObjects.SHARD, admission.provisionalBytes());
    }

    @Test
    void balanceMustCoverEverythingPendingFromTheOwner() throws Exception {
        fund(payer, 2L * TestObjects.SHARD); // two blocks' worth for one period
        byte[] a = shard();
        byte[] b = shard();
        byte[] c = shard();
        as(payer).put(holder.peerId(), TestObjects.raw(a), a).get(10, TimeUnit.SECONDS);
        as(payer).put(holder.peerId(), TestObjects.raw(b), b).get(10, TimeUnit.SECONDS);
        ShardException e = refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(c), c).get(10, TimeUnit.SECONDS)));
        assertTrue(e.getMessage().contains((3L * TestObjects.SHARD) + " bytes here for 1 period(s)"), e.getMessage());
        as(payer).put(holder.peerId(), TestObjects.raw(a), a).get(10, TimeUnit.SECONDS); // pinned again: nothing new to pay
    }

    @Test
    void provisionalBlockWithoutContract_isDroppedAfterTheGrace_thenCollected() throws Exception {
        fund(payer, 1_000_000);
        byte[] b = shard();
        Cid c = TestObjects.raw(b);
        as(payer).put(holder.peerId(), c, b).get(10, TimeUnit.SECONDS);
        coverage.refresh();
        assertTrue(pinnedBy(c, payer));
        assertEquals(1, coverage.view().provisionalBlocks());
        clock.advance(GRACE.minusMillis(1));
        coverage.refresh();
        assertTrue(pinnedBy(c, payer), "kept within the grace");
        clock.advance(Duration.ofMillis(1));
        coverage.refresh();
        assertFalse(pinnedBy(c, payer), "no contract came: the pin goes");
        assertEquals(1, coverage.view().dropped());
        assertEquals(1.0, metrics.get("oe_paid_pins_dropped").tag("reason", "no-contract").counter().count());
        assertTrue(store.provisionals().isEmpty());
        assertEquals(0, admission.provisionalBytes());
        clock.advance(Duration.ofHours(1));
        assertEquals(1, store.collectGarbage(Duration.ofMinutes(30).toMillis()), "the garbage collector reclaims it");
        assertNull(store.metadata(c));
    }

    private double passes(String result) {
        return metrics.get("oe_coverage_passes").tag("result", result).counter().count();
    }

    @Test
    void aPassWithNothingChanged_isSkipped_whileAStoreWriteAContractAGraceEndingOrTheFullPassRunsIt() throws Exception {
        fund(payer, 1_000_000);
        byte[] b = shard();
        Cid c = TestObjects.raw(b);
        as(payer).put(holder.peerId(), c, b).get(10, TimeUnit.SECONDS);
        coverage.refresh();
        assertEquals(1, passes("applied"));
        coverage.refresh();
        assertEquals(1, passes("skipped"), "nothing changed");
        assertEquals(1, passes("applied"));
        assertEquals(clock.instant(), coverage.view().readAt(), "a skipped pass still says when it read the chain");

        byte[] b2 = shard();
        as(payer).put(holder.peerId(), TestObjects.raw(b2), b2).get(10, TimeUnit.SECONDS);
        coverage.refresh();
        assertEquals(2, passes("applied"), "a store write runs it");
        coverage.refresh();
        coverage.refresh();
        assertEquals(3, passes("skipped"));

        synchronized (chain) {
            chain.contracts.add(new FakeChain.Contract(TestObjects.make(other, 1, rnd).cid(), other.peerId(), 11, 20,
                    List.of(holderId.peerId())));
        }
        coverage.refresh();
        assertEquals(3, passes("applied"), "another chain answer runs it");

        clock.advance(GRACE.minusMillis(1));
        coverage.refresh();
        assertEquals(4, passes("skipped"), "the grace has not ended");
        clock.advance(Duration.ofMillis(1));
        coverage.refresh();
        assertEquals(4, passes("applied"), "a grace ending runs it");
        assertFalse(pinnedBy(c, payer), "and the pin goes as it would have");

        double applied = passes("applied");
        for (int i = 0; i < Coverage.FULL_EVERY + 2; i++) {
            coverage.refresh();
        }
        assertTrue(passes("applied") >= applied + 1, "a full pass at least every " + Coverage.FULL_EVERY + " whatever the inputs say");
    }

    /** Stores an object of the payer's on the holder (manifest and all shards) and has the holder sign a receipt. */
    private TestObjects.Made heldAndSigned(long period) throws Exception {
        fund(payer, 1_000_000);
        TestObjects.Made o = TestObjects.make(payer, 1, rnd);
        store.put(o.cid(), o.manifest(), payer.publicKey()); // the manifest copy as repair or upload places it
        for (int i = 0; i < 2; i++) {
            as(payer).put(holder.peerId(), o.shards().get(i), o.shardBytes().get(i)).get(10, TimeUnit.SECONDS);
        }
        assertNotNull(as(payer).receipt(holder.peerId(), o.cid(), period).get(10, TimeUnit.SECONDS));
        return o;
    }

    @Test
    void coveredBlocks_areKeptPastTheGrace_andProvenAlone_untilTheContractEnds() throws Exception {
        TestObjects.Made o = heldAndSigned(chain.period);
        byte[] loose = shard(); // another block of the payer's, in no receipt
        Cid looseCid = TestObjects.raw(loose);
        as(payer).put(holder.peerId(), looseCid, loose).get(10, TimeUnit.SECONDS);
        synchronized (chain) {
            chain.contracts.add(new FakeChain.Contract(o.cid(), payer.peerId(), 11, 20, List.of(other.peerId(), holderId.peerId())));
            chain.contracts.add(new FakeChain.Contract(TestObjects.make(other, 1, rnd).cid(), other.peerId(), 11, 20,
                    List.of(holderId.peerId()))); // a second page: and a contract this node signed nothing for
        }
        coverage.refresh();
        assertTrue(coverage.covers(o.cid()) && coverage.covers(o.shards().get(0)) && coverage.covers(o.shards().get(1)));
        assertFalse(coverage.covers(looseCid));
        assertEquals(3, coverage.view().coveredBlocks());
        assertEquals(o.manifest().length + 2L * TestObjects.SHARD, coverage.view().coveredBytes());
        assertEquals(2, coverage.view().contracts());
        assertEquals(1, store.provisionals().size(), "covered blocks are no longer provisional");

        // what the node proves: exactly the covered blocks, its manifest copy included (a BLAKE3
        // CID: proven as the shards are, and paid as they are); the loose, provisional block is not
        Prover prover = new Prover(store, coverage::covers);
        Commitment commit = prover.commit(11);
        assertEquals(3, commit.count());
        assertEquals(List.of(o.cid(), o.shards().get(0), o.shards().get(1)).stream().sorted().toList(),
                store.held(11).entries().stream().map(NodeEntry::cid).toList());

        clock.advance(GRACE.plusMinutes(1));
        coverage.refresh();
        assertTrue(pinnedBy(o.shards().get(0), payer) && pinnedBy(o.cid(), payer), "covered: kept past the grace");
        assertFalse(pinnedBy(looseCid, payer), "the loose block went");

        // the contract ends (period 20, one grace period): the grace starts, then the pins go
        chain.period = 21;
        coverage.refresh();
        assertFalse(coverage.covers(o.shards().get(0)));
        assertTrue(pinnedBy(o.shards().get(0), payer), "the grace starts when coverage ends");
        clock.advance(GRACE);
        coverage.refresh();
        assertFalse(pinnedBy(o.shards().get(0), payer) || pinnedBy(o.shards().get(1), payer) || pinnedBy(o.cid(), payer));
        assertEquals(3.0, metrics.get("oe_paid_pins_dropped").tag("reason", "contract-ended").counter().count());
    }

    @Test
    void aContractThatDoesNotListThisNode_coversNothingHere() throws Exception {
        TestObjects.Made o = heldAndSigned(chain.period);
        synchronized (chain) {
            chain.contracts.add(new FakeChain.Contract(o.cid(), payer.peerId(), 11, 20, List.of(other.peerId())));
        }
        coverage.refresh();
        assertFalse(coverage.covers(o.shards().get(0)));
        assertEquals(0, coverage.view().contracts());
    }

    @Test
    void failedOrMalformedReads_dropNothing_andKeepTheLastView() throws Exception {
        TestObjects.Made o = heldAndSigned(chain.period);
        synchronized (chain) {
            chain.contracts.add(new FakeChain.Contract(o.cid(), payer.peerId(), 11, 20, List.of(holderId.peerId())));
        }
        byte[] loose = shard();
        Cid looseCid = TestObjects.raw(loose);
        as(payer).put(holder.peerId(), looseCid, loose).get(10, TimeUnit.SECONDS);
        coverage.refresh();
        assertTrue(coverage.covers(o.shards().get(0)));
        chain.failing = true;
        clock.advance(GRACE.multipliedBy(3));
        coverage.refresh();
        assertTrue(pinnedBy(looseCid, payer), "a failed read drops nothing");
        assertTrue(coverage.covers(o.shards().get(0)), "the last view stays");
        assertTrue(coverage.view().error().contains("chain is down"), coverage.view().error());
        chain.failing = false;
        chain.malformed = true;
        coverage.refresh();
        assertTrue(pinnedBy(looseCid, payer), "a malformed answer drops nothing");
        assertTrue(coverage.view().error().contains("no list of contracts"), coverage.view().error());
        assertEquals(2.0, metrics.get("oe_coverage_failures").counter().count());
        chain.malformed = false;
        coverage.refresh();
        assertFalse(pinnedBy(looseCid, payer), "once the chain answers, what it does not cover goes");
        assertTrue(pinnedBy(o.shards().get(0), payer));
        assertNull(coverage.view().error());
    }

    @Test
    void theOperatorsTrustedKeys_areNeitherChargedNorDropped_butWhatAnEndedContractPaidForGoes() throws Exception {
        try (ShardStore trusting = ShardStore.open(dir.resolve("trusting"), 64 << 20, Quotas.unlimited().trusting(payer.publicKey()),
                clock)) {
            PaidConfig config = PaidConfig.defaults(64 << 20);
            PaidAdmission a = new PaidAdmission(trusting, chain, config, clock);
            byte[] b = shard();
            assertNull(a.admit(TestObjects.raw(b), payer.publicKey(), b.length), "no account needed");
            trusting.put(TestObjects.raw(b), b, payer.publicKey());
            // and a paid object of the same trusted payer, whose contract this node holds
            TestObjects.Made o = TestObjects.make(payer, 1, rnd);
            trusting.put(o.shards().get(0), o.shardBytes().get(0), payer.publicKey());
            trusting.recordReceipt(new ShardStore.SignedReceipt(o.cid(), payer.publicKey(), chain.period,
                    List.of(new NodeEntry(o.shards().get(0), o.shardBytes().get(0).length))));
            synchronized (chain) {
                chain.contracts.add(new FakeChain.Contract(o.cid(), payer.peerId(), chain.period + 1, chain.period + 3,
                        List.of(holderId.peerId())));
            }
            try (Coverage c = new Coverage(trusting, chain, holderId.peerId(), config, a, clock, new SimpleMeterRegistry())) {
                c.refresh();
                assertTrue(c.covers(o.shards().get(0)));
                clock.advance(Duration.ofDays(1));
                c.refresh();
                assertTrue(trusting.metadata(TestObjects.raw(b)).isPinnedBy(payer.publicKey()));
                assertTrue(trusting.metadata(o.shards().get(0)).isPinnedBy(payer.publicKey()), "covered");
                // its contract ends: a block a contract paid for goes after the grace, trusted payer or not
                chain.period += 3 + config.gracePeriods();
                c.refresh();
                assertTrue(trusting.metadata(o.shards().get(0)).isPinnedBy(payer.publicKey()), "the grace starts");
                clock.advance(config.grace());
                c.refresh();
                assertFalse(trusting.metadata(o.shards().get(0)) != null && trusting.metadata(o.shards().get(0)).isPinnedBy(payer.publicKey()),
                        "the ended contract's block went");
                assertTrue(trusting.metadata(TestObjects.raw(b)).isPinnedBy(payer.publicKey()), "the never-paid trusted block stays");
            }
        }
    }

    @Test
    void chainUnreadableAtAdmission_refusesStrangers_butUsesARecentAnswer() throws Exception {
        chain.failing = true;
        byte[] b = shard();
        ShardException e = refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(b), b).get(10, TimeUnit.SECONDS)));
        assertTrue(e.getMessage().contains("cannot read"), e.getMessage());
        chain.failing = false;
        fund(payer, 1_000_000);
        as(payer).put(holder.peerId(), TestObjects.raw(b), b).get(10, TimeUnit.SECONDS);
        chain.failing = true;
        clock.advance(Duration.ofMinutes(1)); // past freshness, within the stale limit
        byte[] c = shard();
        as(payer).put(holder.peerId(), TestObjects.raw(c), c).get(10, TimeUnit.SECONDS);
        clock.advance(PaidAdmission.STALE_LIMIT);
        byte[] d = shard();
        assertEquals(Status.PAYMENT_REQUIRED, refusal(assertThrows(ExecutionException.class,
                () -> as(payer).put(holder.peerId(), TestObjects.raw(d), d).get(10, TimeUnit.SECONDS))).status());
    }
}
