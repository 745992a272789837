package io.oecloud.chain.ledger;

import static io.oecloud.chain.ledger.ContractChain.addr;
import static io.oecloud.chain.ledger.ContractChain.id;
import static io.oecloud.chain.ledger.ContractChain.receipt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A randomized run (fixed seed, bounded: 6 storage nodes, 4 payers, 24 periods of 20 blocks)
 * mixing creates, renewals, early ends, moves, ask changes, a node leaving, and windows missed at
 * random, with {@link ContractChain}'s books checked after every block: the supply invariant, the
 * escrow pool equal to the unspent escrow recomputed over every contract, the held lists
 * ({@link ContractChain#checkHeld}: for each node exactly the contracts listing it as a holder
 * that end after the first unsettled period, dense, each index named), and after every settlement
 * each node's rate equal to its shares of the contracts' next period; the provers answer their
 * contract picks. Also: every base unit that left the escrow went to a node that proved or to the
 * fee pool, and nothing else.
 */
class ContractsFuzzTest {
    @Test
    void randomRun_keepsTheBooksExactAtEveryBlock() throws Exception {
        Random rnd = new Random(25);
        List<Identity> nodes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            nodes.add(id(100 + i));
        }
        List<Identity> payers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            payers.add(id(200 + i));
        }
        List<Identity> all = new ArrayList<>(nodes);
        all.addAll(payers);
        ContractChain k = new ContractChain(25, all.toArray(new Identity[0]));
        BigInteger[] asks = new BigInteger[nodes.size()];
        long[] caps = new long[nodes.size()];
        for (int i = 0; i < asks.length; i++) {
            asks[i] = BigInteger.valueOf(1 + rnd.nextInt(50)).shiftLeft(30);
            caps[i] = 1L << (30 + rnd.nextInt(10));
        }
        k.registerNodes(nodes, caps, asks);
        k.finishPeriod(nodes);
        List<byte[]> objects = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            objects.add(ContractChain.object("fuzz-" + i));
        }
        int paidPeriods = 0;
        int missedPeriods = 0;
        long maxHeld = 0;
        int heldShrank = 0;
        long heldBefore = 0;
        for (int period = 0; period < 24; period++) {
            long p = k.nextPeriod();
            List<byte[]> first = new ArrayList<>();
            List<TxBody.Builder> bodies = new ArrayList<>();
            for (Identity u : payers) {
                String payer = addr(u);
                int action = rnd.nextInt(5);
                byte[] obj = objects.get(rnd.nextInt(objects.size()));
                List<Contracts.Contract> live = new ArrayList<>();
                for (Contracts.Contract c : Contracts.paidBy(k.state(), payer, "", 100)) {
                    if (c.end() > p + 1) {
                        live.add(c);
                    }
                }
                if (action >= 2 && !live.isEmpty() && rnd.nextInt(5) != 0) { // mostly act on a contract that can take it
                    obj = io.oecloud.proofs.Cid.parse(live.get(rnd.nextInt(live.size())).object()).toBytes();
                }
                TxBody.Builder body = switch (action) {
                    case 0, 1 -> {
                        List<ChainProto.Receipt> rs = new ArrayList<>();
                        List<Identity> shuffled = new ArrayList<>(nodes);
                        java.util.Collections.shuffle(shuffled, rnd);
                        for (Identity h : shuffled.subList(0, 1 + rnd.nextInt(4))) {
                            rs.add(receipt(h, obj, payer, 1 + rnd.nextInt(1 << 20), 1 + rnd.nextInt(8), p - rnd.nextInt(2)));
                        }
                        yield ContractChain.create(obj, 1 + rnd.nextInt(5), rs);
                    }
                    case 2 -> ContractChain.renew(obj, 1 + rnd.nextInt(4));
                    case 3 -> ContractChain.end(obj);
                    default -> {
                        Identity to = nodes.get(rnd.nextInt(nodes.size()));
                        Contracts.Contract c = Contracts.contract(k.state(), ContractChain.objectText(obj), payer);
                        List<String> remove = new ArrayList<>();
                        if (c != null && c.holders().size() > 1) {
                            remove.add(c.holders().firstKey());
                        }
                        yield ContractChain.move(obj, remove, List.of(receipt(to, obj, payer, 1 + rnd.nextInt(1 << 20), 1, p)));
                    }
                };
                bodies.add(body);
                first.add(k.c.tx(u, body));
            }
            if (rnd.nextInt(3) == 0) { // a node changes its ask
                int i = rnd.nextInt(nodes.size());
                LedgerState.StorageNode n = k.state().storageNode(addr(nodes.get(i)));
                if (n != null && !n.leaving()) {
                    TxBody.Builder body = ContractChain.register(n.capacity(), BigInteger.ZERO, BigInteger.valueOf(1 + rnd.nextInt(80)).shiftLeft(30));
                    bodies.add(body);
                    first.add(k.c.tx(nodes.get(i), body));
                }
            }
            if (period == 6) { // node 0 leaves: its contracts' shares go to the fee pool until moved
                TxBody.Builder body = StorageExitTest.unregister();
                bodies.add(body);
                first.add(k.c.tx(nodes.get(0), body));
            }
            List<Identity> provers = new ArrayList<>();
            for (Identity n : nodes) {
                if (rnd.nextInt(4) != 0) {
                    provers.add(n);
                }
            }
            BigInteger escrowBefore = k.state().escrowPool();
            BigInteger paidBefore = paidSoFar(k.state(), nodes, p);
            // the first block: count what it accepted
            long blocksBefore = k.blocks;
            k.finishPeriod(provers, first);
            assertTrue(k.blocks > blocksBefore);
            for (Identity n : nodes) {
                Contracts.Payment pay = k.state().payments.get(Storage.periodKey(p) + "/" + addr(n));
                if (pay != null) {
                    if (pay.paid()) {
                        paidPeriods++;
                    } else {
                        missedPeriods++;
                    }
                }
            }
            assertTrue(paidSoFar(k.state(), nodes, p).compareTo(paidBefore) >= 0);
            assertTrue(escrowBefore.signum() >= 0);
            long held = 0;
            for (Identity n : nodes) {
                held += Contracts.heldCount(k.state(), addr(n));
                maxHeld = Math.max(maxHeld, Contracts.heldCount(k.state(), addr(n)));
            }
            heldShrank += held < heldBefore ? 1 : 0;
            heldBefore = held;
        }
        // the mix happened: contracts were made, renewed, ended and moved, and periods were paid and missed
        int[] ok = k.accepted;
        System.out.println("accepted creates, renews, ends, moves: " + java.util.Arrays.toString(ok) + "; node-periods paid " + paidPeriods
                + ", unpaid " + missedPeriods + "; " + k.blocks + " blocks");
        assertTrue(ok[0] > 3 && ok[1] > 0 && ok[2] > 0 && ok[3] > 0, "accepted creates, renews, ends, moves: " + java.util.Arrays.toString(ok));
        assertTrue(paidPeriods > 10 && missedPeriods > 3, paidPeriods + " paid, " + missedPeriods + " missed node-periods");
        System.out.println("held lists: at most " + maxHeld + " contracts a node; the lists shrank over " + heldShrank + " periods");
        assertTrue(maxHeld >= 3 && heldShrank > 0, "the held lists grew and shrank: " + maxHeld + ", " + heldShrank);
        assertEquals(k.state().expectedSupply(), k.state().supply());
        // the contracts' entries round-trip: a state read back from its entries has the same entries (so the same app hash)
        java.util.Map<String, byte[]> entries = k.state().entries();
        assertTrue(entries.keySet().stream().anyMatch(x -> x.startsWith("contract/")) && entries.containsKey("price/value")
                && entries.keySet().stream().anyMatch(x -> x.startsWith("rate-change/"))
                && entries.keySet().stream().anyMatch(x -> x.startsWith("held-list/"))
                && entries.keySet().stream().anyMatch(x -> x.startsWith("storage-picks/")));
        java.util.Map<String, byte[]> again = LedgerState.fromEntries(entries, k.state().height()).entries();
        assertEquals(entries.keySet(), again.keySet());
        entries.forEach((key, v) -> org.junit.jupiter.api.Assertions.assertArrayEquals(v, again.get(key), key));
        assertEquals(java.util.HexFormat.of().formatHex(LedgerState.appHash(entries)),
                java.util.HexFormat.of().formatHex(LedgerState.appHash(again)));
    }

    private static BigInteger paidSoFar(LedgerState s, List<Identity> nodes, long p) {
        BigInteger sum = BigInteger.ZERO;
        for (Identity n : nodes) {
            Contracts.Payment pay = s.payments.get(Storage.periodKey(p) + "/" + addr(n));
            if (pay != null && pay.paid()) {
                sum = sum.add(pay.amount());
            }
        }
        return sum;
    }
}
