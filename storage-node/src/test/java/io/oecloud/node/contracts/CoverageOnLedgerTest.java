package io.oecloud.node.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.node.LedgerChain;
import io.oecloud.chain.pb.ChainProto.Receipt;
import io.oecloud.dht.Identity;
import io.oecloud.node.proving.Prover;
import io.oecloud.node.shard.Receipts;
import io.oecloud.node.shard.TestObjects;
import io.oecloud.node.store.Quotas;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.testkit.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The holder side against the real ledger and its own query code (no CometBFT): a receipt the
 * holder signs is accepted in a CreateContract, the contract the chain then lists makes the
 * blocks covered (and proven), admission reads the real price and balances, and the contract's
 * early end stops the coverage, so the blocks' pins go after the grace.
 */
@Timeout(60)
class CoverageOnLedgerTest {
    @TempDir
    Path dir;

    private final Identity holderId = Identity.fromSeed(seed(21));
    private final Identity payer = Identity.fromSeed(seed(22));
    private final Identity stranger = Identity.fromSeed(seed(23));
    private final ManualClock clock = new ManualClock();
    private final Random rnd = new Random(2577);

    private static byte[] seed(int i) {
        byte[] b = new byte[32];
        new Random(i).nextBytes(b);
        return b;
    }

    private static boolean pinned(ShardStore store, Cid cid, Identity owner) throws Exception {
        StoredShard s = store.metadata(cid);
        return s != null && s.isPinnedBy(owner.publicKey());
    }

    @Test
    void receiptOnTheLedger_coversTheBlocks_untilTheContractEnds() throws Exception {
        LedgerChain chain = new LedgerChain(holderId, payer);
        assertEquals(Ledger.Code.OK, chain.submit(holderId, LedgerChain.register(1L << 30)).code());
        PaidConfig config = new PaidConfig(true, Duration.ofMinutes(10), 1L << 20, 1L << 24, Duration.ofSeconds(30), 1, 1);
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        try (ShardStore store = ShardStore.open(dir, 64 << 20, Quotas.unlimited(), clock)) {
            PaidAdmission admission = new PaidAdmission(store, chain.source(), config, clock);
            TestObjects.Made o = TestObjects.make(payer, 1, rnd);
            // admission by the ledger's price (1 base unit a byte-period here) and balances
            assertNull(admission.admit(o.cid(), payer.publicKey(), o.manifest().length));
            store.put(o.cid(), o.manifest(), payer.publicKey());
            admission.settled(o.cid(), payer.publicKey(), o.manifest().length, true);
            for (int i = 0; i < 2; i++) {
                assertNull(admission.admit(o.shards().get(i), payer.publicKey(), TestObjects.SHARD));
                store.put(o.shards().get(i), o.shardBytes().get(i), payer.publicKey());
                admission.settled(o.shards().get(i), payer.publicKey(), TestObjects.SHARD, true);
            }
            String refused = admission.admit(o.shards().get(2), stranger.publicKey(), TestObjects.SHARD);
            assertTrue(refused != null && refused.contains(Ledger.address(stranger.publicKey())), refused);

            Receipts receipts = new Receipts(store, holderId, LedgerChain.CHAIN, new ManifestBlocks(store, null, 1_000));
            Receipt r = receipts.sign(o.cid(), payer.publicKey(), chain.period(), payer.peerId());
            Ledger.Result created = chain.submit(payer, LedgerChain.create(o.cid().toBytes(), 3, List.of(r)));
            assertEquals(Ledger.Code.OK, created.code(), created.log());

            try (Coverage coverage = new Coverage(store, chain.source(), holderId.peerId(), config, admission, clock, metrics)) {
                coverage.refresh();
                assertNull(coverage.view().error());
                assertEquals(1, coverage.view().contracts());
                assertTrue(coverage.covers(o.cid()) && coverage.covers(o.shards().get(0)) && coverage.covers(o.shards().get(1)));
                assertEquals(0, admission.provisionalBytes(), "covered blocks are paid for, no longer pending");
                assertEquals(3, new Prover(store, coverage::covers).commit(chain.period() + 1).count(), "the two shards and the manifest copy");
                long start = chain.period() + 1; // the contract pays periods [start, start + 3)
                List<Cid> blocks = new java.util.ArrayList<>(List.of(o.cid(), o.shards().get(0), o.shards().get(1)));
                blocks.sort(null);
                assertEquals(blocks, coverage.owed(start + 2).stream().map(NodeEntry::cid).toList(),
                        "owed in each paid period, in CID order: what the root must name, held or not");
                assertEquals(List.of((long) TestObjects.SHARD), coverage.owed(start).stream().filter(e -> e.cid().equals(o.shards().get(0)))
                        .map(NodeEntry::size).toList(), "with the size the receipt names");
                assertTrue(coverage.owed(start + 3).isEmpty(), "nothing after its last paid period");
                clock.advance(Duration.ofHours(1));
                coverage.refresh();
                assertTrue(pinned(store, o.shards().get(0), payer), "covered: kept past the grace");

                // the payer ends the contract early: from one period after its end nothing covers the blocks
                Ledger.Result ended = chain.submit(payer, LedgerChain.end(o.cid().toBytes()));
                assertEquals(Ledger.Code.OK, ended.code(), ended.log());
                assertEquals(3, coverage.owed(chain.period()).size(), "the period the end was sent in is still paid");
                coverage.refresh();
                assertTrue(coverage.owed(chain.period() + 1).isEmpty(), "ended early: nothing owed after the current period");
                chain.runToPeriod(chain.period() + 3);
                coverage.refresh();
                assertFalse(coverage.covers(o.shards().get(0)));
                assertTrue(pinned(store, o.shards().get(0), payer), "the grace starts");
                clock.advance(config.grace());
                coverage.refresh();
                assertFalse(pinned(store, o.shards().get(0), payer) || pinned(store, o.shards().get(1), payer)
                        || pinned(store, o.cid(), payer));
                assertEquals(3, coverage.view().dropped());
            }
        }
    }
}
