package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.paying.ContractBuyer;
import io.oecloud.node.paying.Terms;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A holder turns inactive on the chain (a missed proof cut its collateral below the minimum)
 * after the buyer read the active storage nodes and before its CreateContract: the ledger refuses
 * the whole contract (NOT_STORAGE_NODE), and the buyer reads the active nodes again, leaves that
 * holder's receipt out and sends the contract again; with no receipt left, the upload fails
 * saying why. OEChain's ledger in process, periods of 20 blocks.
 */
class HolderTurnedInactiveTest {
    @TempDir
    Path dir;

    private PaidNetwork paid;
    private StorageNode payer;

    @BeforeEach
    void start() throws Exception {
        paid = new PaidNetwork(dir);
        payer = paid.net.get(0);
        paid.chain.runTo(25); // period 1: roots of period 2 are taken now
    }

    @AfterEach
    void stop() throws Exception {
        if (paid != null) {
            paid.close();
        }
    }

    /**
     * A buyer whose first receipt request (after it read the active nodes, before it sends) lets
     * the rest of period 2 pass: every window of it closes, and a node that committed a root
     * for it and proved nothing is inactive by then.
     */
    private ContractBuyer buyerWhilePeriodTwoPasses() {
        AtomicBoolean once = new AtomicBoolean();
        return paid.buyer(payer, receipts -> (holder, object, period) -> {
            if (once.compareAndSet(false, true)) {
                try {
                    paid.chain.runTo(3 * PaidNetwork.PERIOD_BLOCKS - 1); // its last block; receipts of period 2 still count in 3
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return receipts.receipt(holder, object, period);
        });
    }

    @Test
    void aHolderTurnedInactiveAfterTheBuyersRead_isLeftOut_andTheContractIsSentAgainWithTheOthers() throws Exception {
        StorageNode victim = paid.net.get(5);
        String victimAddr = victim.p2p.host.peerId().toString();
        paid.commitRootItWillMiss(victim, 2);
        paid.chain.runTo(2 * PaidNetwork.PERIOD_BLOCKS); // period 2, the victim's window still ahead
        assertTrue(paid.active(victim));

        ContractBuyer.Bought b = paid.upload(payer, buyerWhilePeriodTwoPasses(), 300_000, 1, new Terms(10, 0));
        assertFalse(paid.active(victim), "it missed its window");
        JsonNode c = paid.contract(b.object(), payer);
        Set<String> holders = new HashSet<>();
        c.path("holders").forEach(h -> holders.add(h.path("holder").asText()));
        assertEquals(5, holders.size(), "RS(4,2) over six nodes: the five still active are paid: " + c);
        assertFalse(holders.contains(victimAddr));
        assertTrue(b.unanswered().contains(victimAddr), "counted as a holder without a receipt: " + b.unanswered());
        assertEquals(1, paid.metrics.counter("oe_contract_refusals").count(), "the one refusal");
        assertEquals(1, paid.metrics.counter("oe_contract_holders_dropped").count());
    }

    @Test
    void whenEveryHolderTurnedInactive_theUploadFails_namingTheCause() throws Exception {
        for (StorageNode n : paid.net.nodes()) {
            paid.commitRootItWillMiss(n, 2);
        }
        paid.chain.runTo(2 * PaidNetwork.PERIOD_BLOCKS);
        ContractBuyer buyer = buyerWhilePeriodTwoPasses();

        ObjectException e = assertThrows(ObjectException.class, () -> paid.upload(payer, buyer, 300_000, 2, new Terms(10, 0)));
        assertEquals(ObjectException.Code.PLACEMENT_FAILED, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("stopped being an active storage node"), e.getMessage());
        assertTrue(e.getMessage().contains("collateral below the minimum"), "the chain's words: " + e.getMessage());
        assertEquals(1, paid.metrics.counter("oe_contract_refusals").count(), "refused once, then nobody left to send it for");
        assertEquals(6, paid.metrics.counter("oe_contract_holders_dropped").count());
        for (StorageNode n : paid.net.nodes()) {
            assertFalse(paid.active(n));
        }
        assertEquals(java.util.List.of(), new io.oecloud.node.paying.PayerChain(paid.chain.source()).contractsPaid(
                payer.p2p.host.peerId().toString()), "no contract bought");
    }
}
