package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.node.contracts.ManifestBlocks;
import io.oecloud.node.paying.ContractBuyer;
import io.oecloud.node.paying.NodeReceipts;
import io.oecloud.node.paying.PayerChain;
import io.oecloud.node.paying.Terms;
import io.oecloud.node.shard.Receipts;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * Six storage nodes on loopback signing receipts, registered on OEChain's ledger application run
 * in process ({@link InProcessChain}: one block per transaction, a second apart, periods of
 * {@value #PERIOD_BLOCKS} blocks), each funded with 10 passes: what the payer side's tests buy,
 * renew and refuse contracts on.
 */
final class PaidNetwork implements AutoCloseable {
    static final String CHAIN = "oe-paid-network";
    static final int PERIOD_BLOCKS = 20;

    final TestNetwork net;
    final InProcessChain chain;
    final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final List<AutoCloseable> closing = new ArrayList<>();

    PaidNetwork(Path dir) throws Exception {
        net = TestNetwork.start(dir.resolve("net"), 6);
        ObjectNode app = InProcessChain.JSON.createObjectNode().put("minFee", "1000").put("feePerByte", "10");
        // penaltyPpm 10 %: one missed window takes a node's collateral (exactly the minimum) below it
        app.putObject("storage").put("periodBlocks", PERIOD_BLOCKS).put("windows", 4).put("challenges", 4).put("minCollateral", "1000000")
                .put("penaltyPpm", 100_000).put("faultFee", "10").put("commitDeadline", 1);
        ArrayNode accounts = app.putArray("accounts");
        for (StorageNode n : net.nodes()) {
            accounts.addObject().put("address", n.p2p.host.peerId().toString()).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        }
        chain = new InProcessChain(dir.resolve("chain"), CHAIN, app);
        registerHolders(chain, net.nodes(), CHAIN);
    }

    /** {@code n}'s buyer paying from its own account, its receipts asked through {@code wrap} (the identity: as they come). */
    ContractBuyer buyer(StorageNode n, UnaryOperator<ContractBuyer.Receipts> wrap) {
        var exec = Executors.newVirtualThreadPerTaskExecutor();
        closing.add(exec::shutdownNow);
        NodeReceipts receipts = new NodeReceipts(n.p2p.host.peerId(), n.shards, () -> CHAIN,
                id -> new Receipts(n.store, n.p2p.host.identity(), id, new ManifestBlocks(n.store, n.shards, 5_000)), exec);
        ContractBuyer b = new ContractBuyer(new PayerChain(chain.source()), chain.account(n.p2p.host.identity()), wrap.apply(receipts),
                n.p2p.host.identity().publicKey(), Duration.ofSeconds(10), metrics);
        closing.add(b);
        return b;
    }

    /** Uploads {@code size} random bytes from {@code n}, its contract bought by {@code buyer} for {@code terms}. */
    ContractBuyer.Bought upload(StorageNode n, ContractBuyer buyer, int size, long seed, Terms terms) throws Exception {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        AtomicReference<ContractBuyer.Bought> bought = new AtomicReference<>();
        n.objects.upload(new ByteArrayInputStream(b), null, false, buyer.hook(terms, bought));
        return bought.get();
    }

    /** The contract of {@code object} paid by {@code n} as the chain holds it. */
    JsonNode contract(String object, StorageNode n) throws Exception {
        return chain.query("/contract", object + "/" + n.p2p.host.peerId());
    }

    /** The first period {@code n}'s contract of {@code object} no longer pays for. */
    long end(Cid object, StorageNode n) throws Exception {
        return contract(object.toString(), n).path("end").asLong();
    }

    /** Moves {@code amount} base units from {@code from}'s account to {@code to}'s. */
    /**
     * Registers each of {@code nodes} as a storage node on {@code chain} (1 GiB, collateral 1,000,000
     * base units) and has it sign receipts for chain {@code chainId}.
     */
    static void registerHolders(InProcessChain chain, List<StorageNode> nodes, String chainId) throws Exception {
        for (StorageNode n : nodes) {
            InProcessChain.Result r = chain.submit(n.p2p.host.identity(), TxBody.newBuilder().setRegisterStorageNode(
                    ChainProto.RegisterStorageNode.newBuilder().setCapacity(1L << 30)
                            .setCollateral(ByteString.copyFrom(Amounts.encode(BigInteger.valueOf(1_000_000))))));
            assertEquals(0, r.code(), r.log());
            n.server.signReceipts(new Receipts(n.store, n.p2p.host.identity(), chainId, new ManifestBlocks(n.store, n.shards, 5_000)));
        }
    }

    void transfer(StorageNode from, StorageNode to, BigInteger amount) throws Exception {
        InProcessChain.Result r = chain.submit(from.p2p.host.identity(), TxBody.newBuilder().setTransfer(ChainProto.Transfer.newBuilder()
                .setTo(to.p2p.host.peerId().toString()).setAmount(ByteString.copyFrom(Amounts.encode(amount)))));
        assertEquals(0, r.code(), r.log());
    }

    /**
     * {@code n} commits a root of one entry for {@code period} (the next) and will prove nothing: at
     * the end of its window in that period it misses, its collateral is cut below the minimum and
     * the chain no longer counts it as active.
     */
    void commitRootItWillMiss(StorageNode n, long period) throws Exception {
        byte[] root = new byte[32];
        new Random(period).nextBytes(root);
        InProcessChain.Result r = chain.submit(n.p2p.host.identity(), TxBody.newBuilder().setCommitRoot(ChainProto.CommitRoot.newBuilder()
                .setPeriod(period).setRoot(ByteString.copyFrom(root)).setCount(1)));
        assertEquals(0, r.code(), r.log());
    }

    /** Whether the chain counts {@code n} as an active storage node. */
    boolean active(StorageNode n) throws Exception {
        return new PayerChain(chain.source()).activeStorageNodes().contains(n.p2p.host.peerId().toString());
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
        net.close();
        chain.close();
    }
}
