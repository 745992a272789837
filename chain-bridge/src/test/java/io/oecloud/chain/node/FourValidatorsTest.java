package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.beacon.Beacon;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.BlockBeacon;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.chain.testnet.LocalTestnet;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Four CometBFT validators on loopback, each with its own ledger: agreement, double spends, crashes, the beacon. */
@Timeout(400)
class FourValidatorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-four";
    /** 1,000 base units a transaction plus 1,000 per byte of it, as the genesis says. */
    private static final Fees FEES = new Fees(BigInteger.valueOf(1000), Fees.DEFAULT_PER_BYTE);
    private static Path cometbft;

    @TempDir
    Path dir;

    private LocalTestnet net;
    private final List<Identity> keys = new ArrayList<>();

    @BeforeAll
    static void install() throws Exception {
        cometbft = LocalTestnet.cometbft();
    }

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    private ObjectNode genesis(int accounts, BigInteger each) {
        ObjectNode app = JSON.createObjectNode();
        app.put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString());
        ArrayNode a = app.putArray("accounts");
        for (int i = 0; i < accounts; i++) {
            Identity k = Identity.generate();
            keys.add(k);
            a.addObject().put("address", Ledger.address(k.publicKey())).put("balance", each.toString());
        }
        return app;
    }

    private static String transfer(Identity from, long nonce, String to, BigInteger amount) {
        return HexFormat.of().formatHex(FEES.sign(from, TxBody.newBuilder().setChainId(CHAIN)
                .setSender(ByteString.copyFrom(from.publicKey())).setNonce(nonce)
                .setTransfer(Transfer.newBuilder().setTo(to).setAmount(ByteString.copyFrom(Amounts.encode(amount))))));
    }

    private static String addr(Identity k) {
        return Ledger.address(k.publicKey());
    }

    /** Waits until no validator has transactions waiting, then for two more blocks. */
    private void drain() throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (int i = 0; i < net.size(); i++) {
            while (net.pending(i) > 0) {
                assertTrue(System.nanoTime() < end, "mempools did not drain");
                Thread.sleep(100); // polling another process's RPC
            }
        }
        net.awaitHeight(0, net.height(0) + 2, 30);
    }

    /** Each validator's own ledger reports the app hash the network signed for its last height. */
    private void assertSameAppHash() throws Exception {
        for (int i = 0; i < net.size(); i++) {
            JsonNode info = net.info(i);
            long h = info.path("last_block_height").asLong();
            String mine = HexFormat.of().formatHex(java.util.Base64.getDecoder().decode(info.path("last_block_app_hash").asText()))
                    .toUpperCase();
            net.awaitHeight(0, h + 1, 30);
            assertEquals(net.appHashAfter(0, h), mine, "validator " + i + " at height " + h);
        }
    }

    /**
     * The beacon on real CometBFT: the genesis enables vote extensions from height 1, every block
     * from 2 on starts with a beacon entry, and each validator's {@code /beacon} seed is the one
     * those entries chain to from seed_0 (the same on all four, advancing every block).
     */
    private void assertBeaconAdvancesEveryBlock() throws Exception {
        JsonNode genesis = JSON.readTree(net.home(0).resolve("config/genesis.json").toFile());
        assertEquals("1", genesis.at("/consensus_params/abci/vote_extensions_enable_height").asText(), "the genesis written here");
        List<JsonNode> answers = new ArrayList<>();
        long top = 0;
        for (int i = 0; i < net.size(); i++) {
            JsonNode q = JSON.readTree(java.util.Base64.getDecoder().decode(
                    net.rpc(i, "/abci_query?path=%22/beacon%22").at("/result/response/value").asText()));
            answers.add(q);
            top = Math.max(top, q.path("height").asLong());
            assertTrue(q.path("advanced").asBoolean(), "validator " + i + ": its last block carried a beacon: " + q);
        }
        net.awaitHeight(0, top, 30);
        java.util.Map<Long, String> seeds = new java.util.HashMap<>();
        byte[] seed = Beacon.seed0(CHAIN);
        seeds.put(1L, HexFormat.of().formatHex(seed)); // block 1 has no last commit: it keeps seed_0
        for (long h = 2; h <= top; h++) {
            JsonNode txs = net.rpc(0, "/block?height=" + h).at("/result/block/data/txs");
            byte[] first = java.util.Base64.getDecoder().decode(txs.get(0).asText());
            assertTrue(Beacon.isBeacon(first), "block " + h + " starts with a beacon");
            BlockBeacon b = BlockBeacon.parseFrom(java.util.Arrays.copyOfRange(first, Beacon.PREFIX.length, first.length));
            assertTrue(Integer.bitCount(b.getSigners().byteAt(0) & 0xff) >= 3, "more than 2/3 of four equal validators signed block " + h);
            seed = Beacon.nextSeed(seed, new Beacon.Entry(b.getSigners().toByteArray(), b.getSignature().toByteArray()));
            seeds.put(h, HexFormat.of().formatHex(seed));
        }
        assertEquals(top, seeds.values().stream().distinct().count(), "seed_0 at block 1, then a new seed at every block up to " + top);
        for (int i = 0; i < net.size(); i++) {
            JsonNode q = answers.get(i);
            assertEquals(seeds.get(q.path("height").asLong()), q.path("seed").asText(), "validator " + i + "'s seed at " + q.path("height"));
        }
    }

    @Test
    void aThousandRandomTransactionsThroughAllValidators_oneAppHash_andADoubleSpendHappensOnce() throws Exception {
        ObjectNode app = genesis(8, Amounts.PASS.multiply(BigInteger.valueOf(1000)));
        Identity spender = Identity.generate();
        ((ArrayNode) app.get("accounts")).addObject().put("address", addr(spender)).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        net = new LocalTestnet(cometbft, dir.resolve("net"), 4, 0, CHAIN, app, false, new long[] {100, 100, 100, 100});
        net.startAll();
        for (int i = 0; i < 4; i++) {
            net.awaitHeight(i, 2, 90);
        }

        // CometBFT's own mempool is off: the ledger keeps it (its broadcast RPC says so)
        String direct = net.rpc(0, "/broadcast_tx_sync?tx=0x" + transfer(keys.get(0), 0, addr(keys.get(1)), BigInteger.ONE)).toString();
        assertTrue(direct.contains("not allowed with `nop` mempool"), direct);

        Random rnd = new Random(5);
        long[] nonce = new long[keys.size()];
        int sent = 0;
        for (int t = 0; t < 1000; t++) {
            int from = rnd.nextInt(keys.size());
            int to = rnd.nextInt(keys.size());
            boolean invalid = rnd.nextInt(10) == 0;
            BigInteger amount = invalid ? Amounts.PASS.multiply(BigInteger.valueOf(100_000)) : BigInteger.valueOf(1 + rnd.nextInt(1_000_000));
            String tx = transfer(keys.get(from), nonce[from], addr(keys.get(to)), amount);
            JsonNode r = net.submit(from % 4, HexFormat.of().parseHex(tx), false); // each sender through "its" validator
            if (r.path("code").asInt(-1) == 0) {
                nonce[from]++;
                sent++;
            } else {
                assertTrue(invalid, "a valid transaction was refused: " + r);
            }
        }
        drain();
        for (int i = 0; i < 4; i++) {
            for (int k = 0; k < keys.size(); k++) {
                assertEquals(nonce[k], net.account(i, addr(keys.get(k))).get("nonce").asLong(),
                        "validator " + i + ", account " + k + ": every admitted transaction was committed once");
            }
        }
        assertTrue(sent > 800, "most transactions were valid: " + sent);
        assertSameAppHash();

        // the same 8 passes sent at once through two validators to two receivers: one transfer happens
        Identity y = Identity.generate();
        Identity z = Identity.generate();
        BigInteger eight = Amounts.PASS.multiply(BigInteger.valueOf(8));
        CompletableFuture<JsonNode> one = CompletableFuture.supplyAsync(() -> call(0, transfer(spender, 0, addr(y), eight)));
        CompletableFuture<JsonNode> two = CompletableFuture.supplyAsync(() -> call(2, transfer(spender, 0, addr(z), eight)));
        one.join();
        two.join();
        drain();
        for (int i = 0; i < 4; i++) {
            BigInteger gotY = new BigInteger(net.account(i, addr(y)).get("balance").asText());
            BigInteger gotZ = new BigInteger(net.account(i, addr(z)).get("balance").asText());
            assertEquals(eight, gotY.add(gotZ), "validator " + i + ": exactly one of the two transfers happened");
            assertEquals(1, net.account(i, addr(spender)).get("nonce").asLong());
        }
        assertSameAppHash();
        assertBeaconAdvancesEveryBlock();
    }

    private JsonNode call(int node, String txHex) {
        try {
            return net.submit(node, HexFormat.of().parseHex(txHex), false);
        } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
        }
    }

    @Test
    void oneOfFourKilled_blocksGoOn_twoKilled_halts_bothBack_catchUpToTheSameAppHash() throws Exception {
        ObjectNode app = genesis(2, Amounts.PASS.multiply(BigInteger.valueOf(1000)));
        net = new LocalTestnet(cometbft, dir.resolve("net"), 4, 0, CHAIN, app, false, new long[] {100, 100, 100, 100});
        net.startAll();
        net.awaitHeight(0, 3, 90);

        net.kill(3);
        long h = net.height(0);
        net.awaitHeight(0, h + 3, 30); // three of four: more than 2/3 of the power signs
        assertEquals(0, net.submit(0, HexFormat.of().parseHex(transfer(keys.get(0), 0, addr(keys.get(1)), BigInteger.TEN)), false)
                .path("code").asInt(-1));

        net.kill(2);
        // Two of four cannot decide anything. A halt is an absence of blocks, so it can only be
        // seen over a window: the height may finish the block in flight, then must stay put
        // for 5 s (ten block intervals at this commit timeout), watched every 100 ms.
        long stalled = net.height(0) + 1;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < end) {
            assertTrue(net.height(0) <= stalled, "a block without more than 2/3 of the power: " + net.height(0));
            Thread.sleep(100); // polling another process's RPC
        }
        assertEquals(net.height(0), net.height(1), "the two live validators agree; no fork");

        net.start(2);
        net.start(3);
        long target = net.height(0) + 3;
        for (int i = 0; i < 4; i++) {
            net.awaitHeight(i, target, 120);
        }
        assertEquals(Amounts.PASS.multiply(BigInteger.valueOf(1000)).add(BigInteger.TEN).toString(),
                net.account(3, addr(keys.get(1))).get("balance").asText(), "the restarted validator has the transfer");
        assertSameAppHash();
        assertBeaconAdvancesEveryBlock(); // three of four kept making it while one was down
    }

    /**
     * Proofs of storage on real CometBFT: a storage node registers, commits its root for the next
     * period, answers its window's 32 challenges in two transactions from the seed the chain
     * recorded, and every validator's {@code /storage-node} shows the period proven, with one app hash.
     */
    @Test
    void aStorageNodeCommitsAndProvesOnePeriod_everyValidatorRecordsIt() throws Exception {
        ObjectNode app = genesis(1, Amounts.PASS.multiply(BigInteger.valueOf(1000)));
        app.putObject("storage").put("periodBlocks", 20).put("windows", 2).put("minCollateral", "1000000");
        net = new LocalTestnet(cometbft, dir.resolve("net"), 4, 0, CHAIN, app, false, new long[] {100, 100, 100, 100});
        net.startAll();
        for (int i = 0; i < 4; i++) {
            net.awaitHeight(i, 2, 90);
        }
        Identity node = keys.get(0);
        String address = addr(node);
        long[] nonce = {0};
        java.util.function.Function<TxBody.Builder, JsonNode> send = body -> {
            try {
                body.setChainId(CHAIN).setSender(ByteString.copyFrom(node.publicKey())).setNonce(nonce[0]);
                JsonNode r = net.submit(0, FEES.sign(node, body), true);
                if (r.path("code").asInt(-1) == 0) {
                    nonce[0]++;
                }
                return r;
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        };
        JsonNode reg = send.apply(io.oecloud.chain.ledger.StorageChain.register(1L << 30, BigInteger.valueOf(5_000_000)));
        assertEquals(0, reg.path("code").asInt(-1), reg.toString());
        io.oecloud.chain.ledger.StorageChain.Shards shards = new io.oecloud.chain.ledger.StorageChain.Shards(44, 12);
        long period = 0;
        JsonNode r = null;
        for (int attempt = 0; attempt < 3 && period == 0; attempt++) { // the next period, unless its deadline passes meanwhile
            long p = net.height(0) / 20 + 1;
            r = send.apply(io.oecloud.chain.ledger.StorageChain.commit(p, shards.tree.root(), shards.tree.count()));
            if (r.path("code").asInt(-1) == 0) {
                period = p;
            }
        }
        assertTrue(period > 0, "the root was committed: " + r);
        byte[] id = io.oecloud.chain.ledger.Storage.nodeId(address);
        io.oecloud.proofs.storage.Windows windows = net.ledger(0).committed().storageParams().windowing();
        io.oecloud.proofs.storage.Windows.BlockRange w = windows.nodeBlocks(id, period);
        net.awaitHeight(0, w.first(), 120);
        byte[] seed = null;
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); seed == null; Thread.sleep(50)) {
            assertTrue(System.nanoTime() < end, "no seed recorded for the window");
            seed = net.ledger(0).committed().storageSeed(period, windows.nodeWindow(id));
        }
        JsonNode first = send.apply(io.oecloud.chain.ledger.StorageChain.proof(period, 0, shards.answers(seed, id, period, 0, 16, shards.content)));
        assertEquals(0, first.path("code").asInt(-1), first.toString());
        JsonNode second = send.apply(io.oecloud.chain.ledger.StorageChain.proof(period, 16, shards.answers(seed, id, period, 16, 32, shards.content)));
        assertEquals(0, second.path("code").asInt(-1), second.toString());
        net.awaitHeight(0, w.end() + 1, 60);
        for (int i = 0; i < 4; i++) {
            net.awaitHeight(i, w.end() + 1, 60);
            String hex = HexFormat.of().formatHex(address.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            JsonNode q = JSON.readTree(java.util.Base64.getDecoder().decode(
                    net.rpc(i, "/abci_query?path=%22/storage-node%22&data=0x" + hex).at("/result/response/value").asText()));
            assertEquals(1, q.path("proven").asInt(), "validator " + i + ": " + q);
            assertEquals(0, q.path("missed").asInt(), "validator " + i + ": " + q);
            assertEquals("5000000", q.path("collateral").asText());
        }
        assertSameAppHash();

        // the node leaves (UnregisterStorageNode): every validator marks it leaving, then pays the withdrawal at withdrawAt
        JsonNode leave = send.apply(TxBody.newBuilder().setUnregisterStorageNode(
                io.oecloud.chain.pb.ChainProto.UnregisterStorageNode.getDefaultInstance()));
        assertEquals(0, leave.path("code").asInt(-1), leave.toString());
        long leftAt = leave.path("height").asLong(net.height(0));
        long withdrawAt = (leftAt / 20 + 2) * 20;
        for (int i = 0; i < 4; i++) {
            net.awaitHeight(i, leftAt + 1, 60);
            io.oecloud.chain.ledger.LedgerState.StorageNode n = net.ledger(i).committed().storageNode(address);
            assertTrue(n != null && n.leaving(), "validator " + i + ": " + n);
            assertEquals(withdrawAt, n.withdrawAt(), "validator " + i);
        }
        BigInteger before = net.ledger(0).committed().account(address).balance();
        for (int i = 0; i < 4; i++) {
            net.awaitHeight(i, withdrawAt + 1, 120);
            io.oecloud.chain.ledger.LedgerState s = net.ledger(i).committed();
            assertEquals(null, s.storageNode(address), "validator " + i + ": unregistered once paid");
            assertEquals(before.add(BigInteger.valueOf(5_000_000)), s.account(address).balance(), "validator " + i);
            assertEquals(s.expectedSupply(), s.supply());
        }
        assertSameAppHash();
    }
}
