package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.contracts.ManifestBlocks;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.paying.ContractBuyer;
import io.oecloud.node.paying.NodeReceipts;
import io.oecloud.node.paying.PayerChain;
import io.oecloud.node.paying.Terms;
import io.oecloud.node.shard.Receipts;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upload buys its storage contract (paying.ContractBuyer): six storage nodes on loopback with
 * their shard servers signing receipts, and OEChain's ledger application in process as the chain.
 * Exactly the escrow moves from the payer's account to the escrow pool; the holders named are the
 * nodes that hold the object's blocks, each for the bytes it holds; an account that cannot pay
 * gets a 402-kind refusal and the upload's blocks are taken back; ending refunds exactly the paid
 * periods after the current one; renewing charges the current price for the added periods.
 */
class PaidUploadTest {
    private static final String CHAIN = "oe-paid-upload";
    /** The default price: 1/1000 pass per GiB per period. */
    private static final BigInteger PRICE = Amounts.PASS.divide(BigInteger.valueOf(1000));

    @TempDir
    Path dir;

    private TestNetwork net;
    private InProcessChain chain;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

    @BeforeEach
    void start() throws Exception {
        net = TestNetwork.start(dir.resolve("net"), 6);
        ObjectNode app = InProcessChain.JSON.createObjectNode().put("minFee", "1000").put("feePerByte", "10");
        app.putObject("storage").put("periodBlocks", 20).put("windows", 4).put("challenges", 4).put("minCollateral", "1000000")
                .put("penaltyPpm", 100_000).put("faultFee", "10").put("commitDeadline", 1);
        ArrayNode accounts = app.putArray("accounts");
        for (StorageNode n : net.nodes()) {
            accounts.addObject().put("address", n.p2p.host.peerId().toString()).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        }
        Identity poor = poor();
        accounts.addObject().put("address", Ledger.address(poor.publicKey())).put("balance", "100000000"); // fees, not storage
        chain = new InProcessChain(dir.resolve("chain"), CHAIN, app);
        PaidNetwork.registerHolders(chain, net.nodes(), CHAIN);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
        if (net != null) {
            net.close();
        }
        if (chain != null) {
            chain.close();
        }
    }

    private static Identity poor() {
        byte[] seed = new byte[32];
        seed[0] = 'p';
        return Identity.fromSeed(seed);
    }

    /** Node 0's buyer, paying from {@code account}'s key (node 0's own by default). */
    private ContractBuyer buyer(StorageNode n, Identity account, Duration deadline) {
        var exec = Executors.newVirtualThreadPerTaskExecutor();
        closing.add(exec::shutdownNow);
        NodeReceipts receipts = new NodeReceipts(n.p2p.host.peerId(), n.shards, () -> CHAIN,
                id -> new Receipts(n.store, n.p2p.host.identity(), id, new ManifestBlocks(n.store, n.shards, 5_000)), exec);
        ContractBuyer b = new ContractBuyer(new PayerChain(chain.source()), chain.account(account), receipts,
                n.p2p.host.identity().publicKey(), deadline, metrics);
        closing.add(b);
        return b;
    }

    private static byte[] data(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void upload_buysItsContract_escrowMovesExactly_endRefunds_renewCharges() throws Exception {
        StorageNode payer = net.get(0);
        String payerAddr = payer.p2p.host.peerId().toString();
        ContractBuyer buyer = buyer(payer, payer.p2p.host.identity(), Duration.ofSeconds(20));
        chain.runTo(25); // period 1
        BigInteger balance0 = chain.balance(payerAddr);
        BigInteger pool0 = chain.escrowPool();
        BigInteger fees0 = chain.feePool();

        AtomicReference<ContractBuyer.Bought> bought = new AtomicReference<>();
        Cid cid = payer.objects.upload(new ByteArrayInputStream(data(3 << 20, 1)), "application/octet-stream", false,
                buyer.hook(new Terms(10, 0), bought));
        ContractBuyer.Bought b = bought.get();
        assertNotNull(b, "the upload bought a contract");
        assertEquals(cid.toString(), b.object());
        assertEquals(10, b.periods());
        assertTrue(b.unanswered().isEmpty(), "every holder answered: " + b.unanswered());

        // the holders are exactly the nodes holding its blocks pinned by the payer, each for those blocks' bytes
        Set<String> expected = new HashSet<>();
        long expectedBytes = 0;
        for (StorageNode n : net.nodes()) {
            long held = 0;
            for (StoredShard s : n.store.list()) {
                if (s.isPinnedBy(payer.p2p.host.identity().publicKey())) {
                    held += s.size();
                }
            }
            if (held > 0) {
                expected.add(n.p2p.host.peerId().toString());
                expectedBytes += held;
                long h = held;
                assertEquals(h, b.holders().stream().filter(x -> x.holder().equals(n.p2p.host.peerId().toString()))
                        .findFirst().orElseThrow().bytes(), "bytes of " + n.p2p.host.peerId());
            }
        }
        assertEquals(expected, new HashSet<>(b.holders().stream().map(ContractBuyer.Held::holder).toList()));
        assertEquals(expectedBytes, b.bytes());
        BigInteger cost = BigInteger.valueOf(expectedBytes).multiply(PRICE).add(BigInteger.ONE.shiftLeft(30).subtract(BigInteger.ONE))
                .shiftRight(30);
        assertEquals(cost, b.costPerPeriod());
        BigInteger escrow = cost.multiply(BigInteger.TEN);
        assertEquals(escrow, b.escrow());
        // exactly the escrow left the account for the pool; the rest of its drop is the fee, which went to the fee pool
        assertEquals(pool0.add(escrow), chain.escrowPool());
        BigInteger fee = chain.feePool().subtract(fees0);
        assertTrue(fee.signum() > 0);
        assertEquals(balance0.subtract(escrow).subtract(fee), chain.balance(payerAddr));
        long p = chain.height() / 20;
        assertEquals(p + 1, b.start());
        assertEquals(p + 10, b.paidThrough());
        assertEquals(java.time.Instant.ofEpochSecond(InProcessChain.GENESIS_SECONDS + (p + 11) * 20), b.paidUntil(),
                "paid until the end of the last paid period, at the chain's pace of a block a second");

        // the same object again: the contract it has, nothing charged
        BigInteger before = chain.balance(payerAddr);
        ContractBuyer.Bought again = buyer.buy(cid,
                io.oecloud.proofs.pb.ManifestProto.Manifest.parseFrom(payer.store.get(cid)), List.of(payer.p2p.host.peerId()), Terms.DEFAULT);
        assertTrue(again.existing());
        assertEquals(before, chain.balance(payerAddr));

        // renewing for 5 periods at the same price: 5 more periods, 5 costs more in escrow
        BigInteger pool1 = chain.escrowPool();
        ContractBuyer.Bought renewed = buyer.renew(cid, new Terms(5, 0));
        assertEquals(p + 15, renewed.paidThrough());
        assertEquals(pool1.add(cost.multiply(BigInteger.valueOf(5))), chain.escrowPool());

        // ending it early: every paid period after the current one comes back, exactly
        BigInteger beforeEnd = chain.balance(payerAddr);
        BigInteger feesBeforeEnd = chain.feePool();
        BigInteger poolBeforeEnd = chain.escrowPool();
        ContractBuyer.Ended ended = buyer.end(cid);
        long q = chain.height() / 20;
        BigInteger refund = cost.multiply(BigInteger.valueOf(p + 16 - (q + 1)));
        assertEquals(refund, ended.refund());
        BigInteger endFee = chain.feePool().subtract(feesBeforeEnd);
        assertEquals(beforeEnd.add(refund).subtract(endFee), chain.balance(payerAddr));
        assertEquals(poolBeforeEnd.subtract(refund), chain.escrowPool());
        assertEquals(q, ended.paidThrough());
        assertEquals(1, metrics.counter("oe_contracts_bought").count());
        assertEquals(1, metrics.counter("oe_contracts_renewed").count());
        assertEquals(1, metrics.counter("oe_contracts_ended").count());
    }

    @Test
    void anAccountThatCannotPay_isRefused_andTheUploadsBlocksAreTakenBack() throws Exception {
        StorageNode payer = net.get(0);
        Identity poor = poor();
        ContractBuyer buyer = buyer(payer, poor, Duration.ofSeconds(20));
        chain.runTo(25);
        BigInteger pool0 = chain.escrowPool();
        ObjectException e = assertThrows(ObjectException.class, () -> payer.objects.upload(
                new ByteArrayInputStream(data(2 << 20, 2)), null, false, buyer.hook(new Terms(1_000_000, 0), new AtomicReference<>())));
        assertEquals(ObjectException.Code.PAYMENT_REQUIRED, e.code());
        assertTrue(e.getMessage().contains("not enough"), e.getMessage());
        assertEquals(pool0, chain.escrowPool());
        assertTrue(payer.objects.awaitReleases(Duration.ofSeconds(60)));
        for (StorageNode n : net.nodes()) {
            for (StoredShard s : n.store.list()) {
                assertFalse(s.isPinnedBy(payer.p2p.host.identity().publicKey()), "a block of the refused upload is still pinned on "
                        + n.p2p.host.peerId());
            }
        }
    }

    @Test
    void aHolderThatDoesNotAnswer_isLeftOut_theContractCoversTheOthers() throws Exception {
        StorageNode payer = net.get(0);
        ContractBuyer buyer = buyer(payer, payer.p2p.host.identity(), Duration.ofSeconds(5));
        chain.runTo(25);
        // node 5 holds blocks but signs no receipts
        StorageNode silent = net.get(5);
        silent.server.signReceipts(null);
        AtomicReference<ContractBuyer.Bought> bought = new AtomicReference<>();
        payer.objects.upload(new ByteArrayInputStream(data(3 << 20, 3)), null, false, buyer.hook(new Terms(100, 0), bought));
        ContractBuyer.Bought b = bought.get();
        String silentAddr = silent.p2p.host.peerId().toString();
        boolean silentHolds = silent.store.list().stream().anyMatch(s -> s.isPinnedBy(payer.p2p.host.identity().publicKey()));
        assertTrue(silentHolds, "RS(4,2) on six nodes puts a shard on each");
        assertEquals(List.of(silentAddr), b.unanswered());
        assertTrue(b.holders().stream().noneMatch(h -> h.holder().equals(silentAddr)));
        JsonNode onChain = chain.query("/contract", b.object() + "/" + payer.p2p.host.peerId());
        assertEquals(b.holders().size(), onChain.path("holders").size());
        assertTrue(metrics.counter("oe_contract_receipts_failed").count() >= 1);
        assertNull(chain.query("/contract", b.object() + "/" + silentAddr));

        // it comes back within the minute the buyer keeps asking: it signs, and MoveShares adds it
        silent.server.signReceipts(new Receipts(silent.store, silent.p2p.host.identity(), CHAIN,
                new ManifestBlocks(silent.store, silent.shards, 5_000)));
        boolean added = false;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!added && System.nanoTime() < deadline) { // the buyer asks every 5 s on its own thread: poll the chain
            JsonNode now = chain.query("/contract", b.object() + "/" + payer.p2p.host.peerId());
            for (JsonNode h : now.path("holders")) {
                added |= h.path("holder").asText().equals(silentAddr);
            }
            if (!added) {
                Thread.sleep(100); // the poll's pace; the deadline bounds it
            }
        }
        assertTrue(added, "the late holder is in the contract");
    }

    @Test
    void theCommands_putSaysWhatItCostsAndUntilWhen_contractsListsIt_renewExtends_rmRefunds() throws Exception {
        StorageNode node = net.get(0);
        ContractBuyer buyer = buyer(node, node.p2p.host.identity(), Duration.ofSeconds(20));
        chain.runTo(25);
        io.oecloud.node.api.NodeApiServer api = new io.oecloud.node.api.NodeApiServer(node.p2p.service(() -> { }), node.objects,
                ApiAccessTest.access(), io.oecloud.node.api.NodeApiServer.Limits.defaults()).withStatus(node)
                .withPayer(buyer, () -> java.util.Map.of("paying", "shown")).start(new java.net.InetSocketAddress("127.0.0.1", 0));
        closing.add(api);
        String apiAddr = "127.0.0.1:" + api.address().getPort();
        String token = ApiAccessTest.tokenFile(dir).toString();
        Path file = java.nio.file.Files.write(dir.resolve("photo.bin"), data(300_000, 4));

        DhtCommandsTest.Result put = DhtCommandsTest.oe("put", file.toString(), "--periods", "3", "--api", apiAddr, "--token-file", token);
        assertEquals(0, put.code(), put.err());
        String cid = put.out();
        assertEquals(1, cid.lines().count(), "stdout is the CID alone: " + cid);
        JsonNode c = chain.query("/contract", cid + "/" + node.p2p.host.peerId());
        assertNotNull(c, "the upload bought a contract");
        long paidThrough = c.path("end").asLong() - 1;
        String cost = c.path("costPerPeriod").asText();
        assertTrue(put.err().contains("cost " + passes(cost) + " passes (" + cost + " base units) a period; paid for 3 periods, through period "
                + paidThrough + " (about "), put.err());

        DhtCommandsTest.Result list = DhtCommandsTest.oe("contracts", "--api", apiAddr, "--token-file", token);
        assertEquals(0, list.code(), list.err());
        assertTrue(list.out().contains(cid), list.out());
        assertTrue(list.out().contains("1 contracts paid by " + node.p2p.host.peerId()), list.out());

        DhtCommandsTest.Result renew = DhtCommandsTest.oe("renew", cid, "--periods", "2", "--api", apiAddr, "--token-file", token);
        assertEquals(0, renew.code(), renew.err());
        assertTrue(renew.out().contains("paid through period " + (paidThrough + 2)), renew.out());
        assertEquals(paidThrough + 3, chain.query("/contract", cid + "/" + node.p2p.host.peerId()).path("end").asLong());

        DhtCommandsTest.Result noTerms = DhtCommandsTest.oe("renew", cid, "--api", apiAddr, "--token-file", token);
        assertEquals(2, noTerms.code(), "picocli: --periods or --days is required");

        BigInteger before = chain.balance(node.p2p.host.peerId().toString());
        DhtCommandsTest.Result rm = DhtCommandsTest.oe("rm", cid, "--api", apiAddr, "--token-file", token);
        assertEquals(0, rm.code(), rm.err());
        long q = chain.height() / 20;
        BigInteger refund = new BigInteger(cost).multiply(BigInteger.valueOf(paidThrough + 3 - (q + 1)));
        assertTrue(rm.out().contains("contract ended: " + passes(refund.toString()) + " passes (" + refund + " base units) refunded"), rm.out());
        assertTrue(chain.balance(node.p2p.host.peerId().toString()).compareTo(before) > 0, "the refund is more than the fee");

        // an account that cannot pay: the upload is refused with the reason, 402
        io.oecloud.node.api.NodeApiServer poorApi = new io.oecloud.node.api.NodeApiServer(node.p2p.service(() -> { }), node.objects,
                ApiAccessTest.access(), io.oecloud.node.api.NodeApiServer.Limits.defaults()).withStatus(node)
                .withPayer(buyer(node, poor(), Duration.ofSeconds(20)), java.util.Map::of).start(new java.net.InetSocketAddress("127.0.0.1", 0));
        closing.add(poorApi);
        DhtCommandsTest.Result refused = DhtCommandsTest.oe("put", file.toString(), "--days", "3650", "--api",
                "127.0.0.1:" + poorApi.address().getPort(), "--token-file", token);
        assertEquals(1, refused.code(), refused.out());
        assertTrue(refused.err().contains("not enough"), refused.err());
        assertEquals("", refused.out(), "no CID for an upload that was not paid for");

        DhtCommandsTest.Result status = DhtCommandsTest.oe("status", "--api", apiAddr, "--token-file", token);
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("paidStorage.paying"), status.out());
    }

    @Test
    void theKeeperRepairsAPaidObject_fromThePayersNode_andTheShareMoves_fromTheLostHolderToTheNewOne() throws Exception {
        StorageNode payer = net.get(0);
        ContractBuyer buyer = buyer(payer, payer.p2p.host.identity(), Duration.ofSeconds(5));
        chain.runTo(25);
        AtomicReference<ContractBuyer.Bought> bought = new AtomicReference<>();
        Cid cid = payer.objects.upload(new ByteArrayInputStream(data((1 << 20) - 1000, 5)), null, false,
                buyer.hook(new Terms(10, 0), bought)); // one segment: a shard on each of the six nodes
        ContractBuyer.Bought b = bought.get();
        assertEquals(6, b.holders().size(), "every node holds a block of it: " + b.holders());

        // a seventh node joins (registered, signing receipts): the only place left for a rebuilt shard
        StorageNode fresh = net.add(TestNetwork.CONFIG);
        // ... funded by node 1 (genesis funded the first six)
        assertEquals(0, chain.submit(net.get(1).p2p.host.identity(), TxBody.newBuilder().setTransfer(ChainProto.Transfer.newBuilder()
                .setTo(fresh.p2p.host.peerId().toString()).setAmount(ByteString.copyFrom(Amounts.encode(Amounts.PASS))))).code());
        assertEquals(0, chain.submit(fresh.p2p.host.identity(), TxBody.newBuilder().setRegisterStorageNode(
                ChainProto.RegisterStorageNode.newBuilder().setCapacity(1L << 30)
                        .setCollateral(ByteString.copyFrom(Amounts.encode(BigInteger.valueOf(1_000_000)))))).code(), "fresh registers");
        fresh.server.signReceipts(new Receipts(fresh.store, fresh.p2p.host.identity(), CHAIN,
                new ManifestBlocks(fresh.store, fresh.shards, 5_000)));

        // a holder of a shard (not the payer) is lost
        io.oecloud.proofs.pb.ManifestProto.Manifest m = io.oecloud.proofs.pb.ManifestProto.Manifest.parseFrom(payer.store.get(cid));
        StorageNode victim = null;
        for (var sh : m.getSegments(0).getShardsList()) {
            StorageNode h = net.holderOf(sh.getHolders(0));
            if (h != payer && !h.store.has(cid)) { // one without a manifest copy, so only its shard moves
                victim = h;
                break;
            }
        }
        assertNotNull(victim);
        String lost = victim.p2p.host.peerId().toString();
        net.kill(net.indexOf(victim));

        // the payer's node looks after what it pays for (ContractKeeper): it repairs the object itself, so the
        // rebuilt shard is pinned by its key; repair tells the buyer, which moves the share on chain
        payer.onRepairPlaced(buyer);
        io.oecloud.node.paying.ContractKeeper keeper = new io.oecloud.node.paying.ContractKeeper(buyer, payer::repairPaid, metrics);
        closing.add(keeper);
        keeper.runOnce();
        assertEquals(1, metrics.counter("oe_contract_keeper_objects").count(), "one paid object looked after");
        String added = fresh.p2p.host.peerId().toString();
        JsonNode c = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) { // the move runs on the buyer's own thread: poll the chain
            c = chain.query("/contract", cid + "/" + payer.p2p.host.peerId());
            Set<String> now = new HashSet<>();
            c.path("holders").forEach(h -> now.add(h.path("holder").asText()));
            if (now.contains(added) && !now.contains(lost) && metrics.counter("oe_contract_moves").count() == 1) {
                break; // (the counter follows the transaction on the buyer's thread)
            }
            chain.block(List.of()); // a block, as the chain would make anyway
        }
        Set<String> holders = new HashSet<>();
        c.path("holders").forEach(h -> holders.add(h.path("holder").asText()));
        assertTrue(holders.contains(added), "the new holder is in the contract: " + c);
        assertFalse(holders.contains(lost), "the lost holder is out: " + c);
        assertEquals(6, holders.size());
        assertEquals(b.costPerPeriod().toString(), c.path("costPerPeriod").asText(), "the cost is unchanged: it was paid for");
        assertEquals(1, metrics.counter("oe_contract_moves").count());
    }

    /** A buyer for the key {@code owned} stores as, on node {@code n}: receipts asked for that key's pins, paid by {@code account}. */
    private ContractBuyer ownedBuyer(StorageNode n, StorageNode.Owned owned, io.oecloud.node.paying.PayerAccount account) {
        var exec = Executors.newVirtualThreadPerTaskExecutor();
        closing.add(exec::shutdownNow);
        NodeReceipts receipts = new NodeReceipts(n.p2p.host.peerId(), owned.shards(), () -> CHAIN,
                id -> new Receipts(n.store, n.p2p.host.identity(), id, new ManifestBlocks(n.store, n.shards, 5_000)), exec);
        ContractBuyer b = new ContractBuyer(new PayerChain(chain.source()), account, receipts, owned.shards().signerKey(),
                Duration.ofSeconds(20), metrics);
        closing.add(b);
        return b;
    }

    @Test
    void aNamespacesObjects_arePaidByItsAccount_fundedByTheNode_andAnotherNodeWithTheKeyEndsTheContract() throws Exception {
        StorageNode a = net.get(0);
        StorageNode b = net.get(1);
        Identity namespace = Identity.generate();
        String account = Ledger.address(namespace.publicKey());
        chain.runTo(25);
        BigInteger floor = Amounts.PASS;
        io.oecloud.node.paying.FundedAccount funds = new io.oecloud.node.paying.FundedAccount(chain.account(namespace),
                chain.account(a.p2p.host.identity()), floor);
        closing.add(funds);
        assertEquals(BigInteger.ZERO, chain.balance(account));
        BigInteger nodeBefore = chain.balance(a.p2p.host.peerId().toString());
        assertEquals(floor.shiftLeft(1), funds.topUp(), "under the floor: brought to twice the floor");
        assertTrue(chain.balance(a.p2p.host.peerId().toString()).compareTo(nodeBefore.subtract(floor.shiftLeft(1))) <= 0,
                "by the node's account");
        assertEquals(floor.shiftLeft(1), funds.topUp(), "at or over the floor: nothing moves");

        StorageNode.Owned onA = a.owning(namespace);
        ContractBuyer buyer = ownedBuyer(a, onA, funds);
        assertEquals(account, buyer.payer());
        AtomicReference<ContractBuyer.Bought> bought = new AtomicReference<>();
        Cid cid = onA.objects().upload(new ByteArrayInputStream(data(2 << 20, 9)), null, true, buyer.hook(new Terms(10, 0), bought));
        assertTrue(bought.get().unanswered().isEmpty(), "every holder signed a receipt for the namespace's pins: " + bought.get());
        assertTrue(bought.get().holders().size() >= 5, bought.get().holders().toString());
        BigInteger escrow = bought.get().escrow();
        assertTrue(chain.balance(account).compareTo(floor.shiftLeft(1).subtract(escrow)) <= 0, "the namespace account paid the escrow");
        assertNotNull(chain.query("/contract", cid + "/" + account), "the contract is the namespace account's");
        assertNull(chain.query("/contract", cid + "/" + a.p2p.host.peerId()), "not the node's");

        // another node holding the namespace key sees the contract, ends it (the refund goes to the namespace account) and unpins
        StorageNode.Owned onB = b.owning(namespace);
        ContractBuyer other = ownedBuyer(b, onB, chain.account(namespace));
        assertTrue(other.contracts().stream().anyMatch(c -> c.object().equals(cid.toString())));
        BigInteger beforeEnd = chain.balance(account);
        ContractBuyer.Ended ended = other.end(cid);
        assertTrue(ended.refund().signum() > 0);
        assertTrue(chain.balance(account).compareTo(beforeEnd) > 0, "the refund came back to the namespace account");
        assertTrue(onB.objects().unpin(cid) > 0);
        for (StorageNode n : net.nodes()) {
            for (StoredShard st : n.store.list()) {
                assertFalse(st.isPinnedBy(namespace.publicKey()), "a block is still pinned by the namespace key on " + n.p2p.host.peerId());
            }
        }
    }

    private static String passes(String baseUnits) {
        return new java.math.BigDecimal(new BigInteger(baseUnits)).divide(new java.math.BigDecimal(Amounts.PASS)).stripTrailingZeros()
                .toPlainString();
    }
}
