package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.node.paying.ContractBuyer;
import io.oecloud.node.paying.ContractKeeper;
import io.oecloud.node.paying.PayerChain;
import io.oecloud.node.paying.Renewal;
import io.oecloud.node.paying.Terms;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The keeper renews (paying.ContractKeeper with a {@link Renewal}) on OEChain's ledger in process,
 * a block a second, periods of 20 blocks: a contract whose object is wanted and whose paid periods
 * end within the margin is renewed by the terms; one not wanted, or far from its end, is left
 * alone; a renewal the account cannot pay is counted and done at the next run; no run throws.
 */
class ContractRenewalTest {
    /** Renew within 250 s (blocks) of the end: a 10-period contract bought in period 1 ends at block 240. */
    private static final Duration MARGIN = Duration.ofSeconds(250);
    private static final Terms TERMS = new Terms(5, 0);

    @TempDir
    Path dir;

    private PaidNetwork paid;
    private StorageNode payer;
    private ContractBuyer buyer;

    @BeforeEach
    void start() throws Exception {
        paid = new PaidNetwork(dir);
        payer = paid.net.get(0);
        buyer = paid.buyer(payer, r -> r);
        paid.chain.runTo(25); // period 1
    }

    @AfterEach
    void stop() throws Exception {
        if (paid != null) {
            paid.close();
        }
    }

    private ContractKeeper keeper(Predicate<Cid> wanted) {
        return new ContractKeeper(buyer, object -> { }, paid.metrics, new Renewal(wanted, MARGIN, TERMS));
    }

    private double count(String counter) {
        return paid.metrics.counter(counter).count();
    }

    private static Predicate<Cid> only(ContractBuyer.Bought b) {
        return c -> c.toString().equals(b.object());
    }

    @Test
    void aWantedContractNearItsEnd_isRenewedByTheTerms_andNotAgainOnceItsEndIsBeyondTheMargin() throws Exception {
        ContractBuyer.Bought b = paid.upload(payer, buyer, 300_000, 1, new Terms(10, 0));
        Cid cid = Cid.parse(b.object());
        long end = paid.end(cid, payer);
        assertEquals(12, end, "bought in period 1 for 10 periods: paid through period 11, up to block 240");
        BigInteger pool = paid.chain.escrowPool();
        ContractKeeper keeper = keeper(only(b));

        keeper.runOnce(); // about 213 blocks of 1 s left: within 250 s
        assertEquals(end + 5, paid.end(cid, payer), "paid-through moved by the terms' 5 periods");
        JsonNode c = paid.contract(b.object(), payer);
        assertEquals(pool.add(new BigInteger(c.path("costPerPeriod").asText()).multiply(BigInteger.valueOf(5))), paid.chain.escrowPool());
        assertEquals(1, count("oe_contract_keeper_renewals"));

        keeper.runOnce(); // now about 312 blocks left: beyond the margin
        assertEquals(end + 5, paid.end(cid, payer), "renewed once, not at every run");
        assertEquals(1, count("oe_contract_keeper_renewals"));
        assertEquals(0, count("oe_contract_keeper_renewal_failures"));
    }

    @Test
    void anUnwantedContract_orOneFarFromItsEnd_isLeftAlone() throws Exception {
        ContractBuyer.Bought near = paid.upload(payer, buyer, 300_000, 2, new Terms(10, 0));
        ContractBuyer.Bought far = paid.upload(payer, buyer, 300_000, 3, new Terms(100, 0));
        long nearEnd = paid.end(Cid.parse(near.object()), payer);
        long farEnd = paid.end(Cid.parse(far.object()), payer);
        ContractKeeper keeper = keeper(c -> !c.toString().equals(near.object())); // its owner let it go

        keeper.runOnce();
        assertEquals(nearEnd, paid.end(Cid.parse(near.object()), payer), "not wanted: left to run out");
        assertEquals(farEnd, paid.end(Cid.parse(far.object()), payer), "wanted, but its end is ~2,000 s away");
        assertEquals(0, count("oe_contract_keeper_renewals"));
        assertEquals(0, count("oe_contract_keeper_renewal_failures"));
    }

    @Test
    void aRenewalTheAccountCannotPay_isCountedAndDoneAtTheNextRun_andNoRunThrows() throws Exception {
        ContractBuyer.Bought b = paid.upload(payer, buyer, 300_000, 4, new Terms(10, 0));
        ContractBuyer.Bought broken = paid.upload(payer, buyer, 300_000, 5, new Terms(10, 0));
        Cid cid = Cid.parse(b.object());
        long end = paid.end(cid, payer);
        StorageNode other = paid.net.get(1);
        String payerAddr = payer.p2p.host.peerId().toString();
        paid.transfer(payer, other, paid.chain.balance(payerAddr).subtract(BigInteger.valueOf(100_000))); // left: less than 100,000
        ContractKeeper keeper = keeper(c -> {
            if (c.toString().equals(broken.object())) {
                throw new IllegalStateException("the owner's index is closed");
            }
            return true;
        });

        assertDoesNotThrow(keeper::runOnce);
        assertEquals(end, paid.end(cid, payer), "the account cannot pay: not renewed");
        assertEquals(0, count("oe_contract_keeper_renewals"));
        assertEquals(2, count("oe_contract_keeper_renewal_failures"), "the refusal and the broken predicate");

        paid.transfer(other, payer, Amounts.PASS);
        assertDoesNotThrow(keeper::runOnce);
        assertEquals(end + 5, paid.end(cid, payer), "paid at the next run");
        assertEquals(1, count("oe_contract_keeper_renewals"));
        assertEquals(3, count("oe_contract_keeper_renewal_failures"), "the broken predicate again");
    }

    @Test
    void aChainThatDoesNotAnswer_isCounted_andTheRunDoesNotThrow() {
        PayerChain.Source down = new PayerChain.Source() {
            @Override
            public JsonNode query(String path, String data) throws IOException {
                throw new IOException("connection refused");
            }

            @Override
            public JsonNode get(String path) throws IOException {
                throw new IOException("connection refused");
            }
        };
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        try (ContractBuyer lost = new ContractBuyer(new PayerChain(down), paid.chain.account(payer.p2p.host.identity()),
                (holder, object, period) -> CompletableFuture.failedFuture(new IOException("not asked")), payer.p2p.host.identity().publicKey(),
                Duration.ofSeconds(1), metrics);
             ContractKeeper keeper = new ContractKeeper(lost, object -> { }, metrics, new Renewal(c -> true, MARGIN, TERMS))) {
            assertDoesNotThrow(keeper::runOnce);
            assertDoesNotThrow(keeper::runOnce);
            assertEquals(2, metrics.counter("oe_contract_keeper_failures").count(), "each run's failed read, counted");
        }
    }
}
