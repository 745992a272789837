package io.oecloud.node.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Audits;
import io.oecloud.chain.ledger.Block;
import io.oecloud.chain.ledger.Genesis;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.ledger.Storage;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Host;
import io.oecloud.dht.HostConfig;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProver;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import io.oecloud.proofs.storage.Windows;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 24, cheating strategy 9: a node that lost its shards and fetches challenged data from
 * elsewhere on demand. It still passes its window proof (it has the window's blocks, minutes in
 * production), but a timed audit asks it for a range it could not know in advance with a deadline
 * of seconds, and its answer comes late: TIMEOUT, recorded on the chain. An honest node audited in
 * the same window by the same committee PASSes.
 *
 * <p>The network is real (five libp2p hosts on loopback: two super-nodes running the auditor
 * role, an honest node and a cheater answering {@code /oe/proof/1.0.0}, and the far origin the
 * cheater fetches from over {@code /oe/shard/1.0.0}); the chain is the real ledger rules on an
 * in-memory state driven block by block (no CometBFT), its committee drawn by the ledger.
 *
 * <p>The model of the cheater: its shard files are deleted after it committed its root; its
 * {@link AuditServer.SliceSource} fetches the whole shard from the origin with a delay of
 * {@link #ORIGIN_DELAY_MILLIS} (a far origin or cold storage: anything slower than the deadline)
 * and proves the range from the fetched bytes. What timing cannot catch: a cheater that rebuilds
 * the range from k peers over fast links inside the deadline (storage-node/README.md, "Timed
 * retrieval audits"; sealed replicas, a later issue, close that).
 */
@Timeout(180)
class Strategy9TimedAuditTest {
    private static final String CHAIN = "oe-audit-s9";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long DEADLINE_MILLIS = 2000;
    private static final long ORIGIN_DELAY_MILLIS = 2500;

    @TempDir
    Path dir;

    private final List<AutoCloseable> closing = new ArrayList<>();
    private Ledger ledger;
    private LedgerState state;

    @AfterEach
    void stop() {
        for (AutoCloseable c : closing.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                // best effort
            }
        }
    }

    private static Identity id(int i) {
        byte[] s = new byte[32];
        s[0] = (byte) i;
        s[1] = 's';
        s[2] = '9';
        return Identity.fromSeed(s);
    }

    private static String addr(Identity id) {
        return Ledger.address(id.publicKey());
    }

    private synchronized Ledger.Result block(Identity signer, TxBody.Builder body) {
        Block b = Block.begin(state, state.height() + 1, 1_000L * (state.height() + 1), List.of(), List.of());
        Ledger.Result r = null;
        if (signer != null) {
            body.setChainId(CHAIN).setSender(ByteString.copyFrom(signer.publicKey())).setNonce(state.account(addr(signer)).nonce());
            r = b.apply(ledger, ledger.check(ledger.fees().sign(signer, body)));
        }
        b.end();
        state = b.state();
        return r;
    }

    private synchronized void runTo(long h) {
        while (state.height() + 1 < h) {
            block(null, null);
        }
    }

    /** The chain as {@code who} sees and uses it: {@code /audits} from the ledger's state, verdicts in the next block. */
    private AuditChain chainFor(Identity who) {
        return new AuditChain() {
            @Override
            public Window window() {
                synchronized (Strategy9TimedAuditTest.this) {
                    LedgerState s = state;
                    Windows w = s.storageParams().windowing();
                    long period = w.period(s.height());
                    int window = w.window(s.height());
                    List<Target> targets = new ArrayList<>();
                    s.storageNodes().forEach((a, n) -> {
                        LedgerState.StorageRoot r = s.storageRoot(period, a);
                        if (n.active() && r != null && r.count() > 0) {
                            targets.add(new Target(a, r.root(), r.count()));
                        }
                    });
                    List<String> c = Audits.committee(s, period, window);
                    Windows.BlockRange range = w.blocks(period, window);
                    return new Window(s.height(), period, window, range.first(), range.last(),
                            range.last() + s.storageParams().auditVerdictBlocks(), c == null ? List.of() : c,
                            s.storageParams().auditTargets(), s.storageParams().auditDeadlineMillis(), targets);
                }
            }

            @Override
            public void submit(TxBody.Builder tx) throws IOException {
                Ledger.Result r = block(who, tx);
                if (!r.ok()) {
                    throw new IOException(r.code() + ": " + r.log());
                }
            }
        };
    }

    private Host host(Identity id) {
        Host h = new Host(id, HostConfig.defaults());
        closing.add(h);
        return h;
    }

    private ShardStore store(String name) throws StoreException {
        ShardStore s = ShardStore.open(dir.resolve(name), 64 << 20);
        closing.add(s);
        return s;
    }

    @Test
    void aNodeFetchingOnDemandPassesItsWindowButTimesOutTheAuditWhileAnHonestNodePasses() throws Exception {
        List<Identity> supers = List.of(id(1), id(2));
        Identity honest = id(10);
        Identity cheater = id(11);
        Identity origin = id(12);

        // the chain: two super-nodes with beacon keys (both are the committee: A = 2), P = 20, W = 4, c = 4, a 2 s deadline
        ObjectNode app = JSON.createObjectNode().put("minFee", "1").put("feePerByte", "0");
        app.putObject("storage").put("periodBlocks", 20).put("windows", 4).put("challenges", 4).put("minCollateral", "1000000")
                .put("penaltyPpm", 100_000).put("faultFee", "10").put("commitDeadline", 1).put("retainPeriods", 4).put("auditors", 2)
                .put("auditTargets", 4).put("auditDeadlineMillis", DEADLINE_MILLIS).put("auditVerdictBlocks", 10)
                .put("auditStandingPeriods", 4).put("auditFailThreshold", 2);
        ArrayNode accounts = app.putArray("accounts");
        ArrayNode candidates = app.putArray("candidates");
        for (Identity s : supers) {
            accounts.addObject().put("address", addr(s)).put("balance", Amounts.PASS.multiply(BigInteger.valueOf(100)).toString());
            byte[] vk = new byte[32];
            vk[0] = (byte) supers.indexOf(s);
            vk[1] = 'v';
            Genesis.putBeaconKey(candidates.addObject().put("address", addr(s)).put("selfBond", Amounts.PASS.multiply(BigInteger.TEN).toString())
                    .put("validatorKey", Base64.getEncoder().encodeToString(Identity.fromSeed(vk).publicKey())), s);
        }
        for (Identity n : List.of(honest, cheater)) {
            accounts.addObject().put("address", addr(n)).put("balance", BigInteger.TEN.pow(15).toString());
        }
        Genesis g = Genesis.read(CHAIN, JSON.writeValueAsBytes(app), 1);
        ledger = new Ledger(CHAIN, g.fees());
        state = g.state();

        // the same shards on the honest node, the cheater (for now) and the origin
        ShardStore honestStore = store("honest");
        ShardStore cheaterStore = store("cheater");
        ShardStore originStore = store("origin");
        byte[] owner = Identity.generate().publicKey();
        Random rnd = new Random(9);
        List<Cid> cids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            byte[] b = new byte[5_000 + rnd.nextInt(60_000)];
            rnd.nextBytes(b);
            Cid cid = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
            cids.add(cid);
            for (ShardStore s : List.of(honestStore, cheaterStore, originStore)) {
                s.put(cid, b, owner);
            }
        }

        // both storage nodes register and commit their roots for period 1
        for (Identity n : List.of(honest, cheater)) {
            Ledger.Result r = block(n, TxBody.newBuilder().setRegisterStorageNode(ChainProto.RegisterStorageNode.newBuilder()
                    .setCapacity(1L << 30).setCollateral(ByteString.copyFrom(Amounts.encode(BigInteger.valueOf(5_000_000))))));
            assertTrue(r.ok(), r.log());
        }
        NodeRoot honestTree = NodeRoot.build(honestStore.hold(1).entries());
        NodeRoot cheaterTree = NodeRoot.build(cheaterStore.hold(1).entries());
        for (Identity n : List.of(honest, cheater)) {
            NodeRoot t = n == honest ? honestTree : cheaterTree;
            Ledger.Result r = block(n, TxBody.newBuilder().setCommitRoot(ChainProto.CommitRoot.newBuilder().setPeriod(1)
                    .setRoot(ByteString.copyFrom(t.root())).setCount(t.count())));
            assertTrue(r.ok(), r.log());
        }
        // ... then the cheater loses every shard file: from here on it keeps nothing but its committed entries
        for (Cid c : cids) {
            assertTrue(cheaterStore.delete(c));
        }
        assertFalse(cheaterStore.has(cids.get(0)));

        // the network
        ExecutorService io = Executors.newFixedThreadPool(2);
        closing.add(io::shutdownNow);
        Host originHost = host(origin);
        originHost.setStreamHandler(ShardServer.PROTOCOL_ID, new ShardServer(originStore, io, originHost.peerId())::newHandler);
        originHost.start();
        Host honestHost = host(honest);
        AuditServer honestServer = new AuditServer(honestStore, new CommitteeGate(chainFor(honest), Duration.ofMillis(200)),
                AuditServer.Limits.defaults());
        closing.add(honestServer);
        honestHost.setStreamHandler(AuditProtocol.PROTOCOL_ID, honestServer::newHandler);
        honestHost.start();
        Host cheaterHost = host(cheater);
        cheaterHost.start();
        cheaterHost.dial(originHost.listenAddresses().get(0).withPeerId(originHost.peerId())).get(10, TimeUnit.SECONDS);
        ShardClient fetch = new ShardClient(cheaterHost, cheater, 30_000);
        AuditServer.SliceSource farOrigin = (cid, first, count) -> {
            try {
                Thread.sleep(ORIGIN_DELAY_MILLIS); // the model: a far origin or cold storage
                byte[] b = fetch.get(originHost.peerId(), cid).get(30, TimeUnit.SECONDS);
                return SliceProver.prove(b, first, count);
            } catch (Exception e) {
                throw new StoreException(StoreException.Code.IO, "the origin did not give " + cid + ": " + e.getMessage());
            }
        };
        AuditServer cheaterServer = new AuditServer(cheaterStore, new CommitteeGate(chainFor(cheater), Duration.ofMillis(200)),
                AuditServer.Limits.defaults(), farOrigin);
        closing.add(cheaterServer);
        cheaterHost.setStreamHandler(AuditProtocol.PROTOCOL_ID, cheaterServer::newHandler);

        List<AuditorRole> auditors = new ArrayList<>();
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        for (Identity s : supers) {
            Host h = host(s);
            h.start();
            for (Host t : List.of(honestHost, cheaterHost)) {
                h.dial(t.listenAddresses().get(0).withPeerId(t.peerId())).get(10, TimeUnit.SECONDS);
            }
            AuditorRole role = new AuditorRole(chainFor(s), new AuditClient(h), addr(s), h::connect, metrics);
            closing.add(role);
            auditors.add(role);
        }

        // period 1, window 0 (blocks 20..24): the committee is drawn at block 20; both members audit both nodes
        runTo(21);
        List<String> committee = Audits.committee(state, 1, 0);
        assertNotNull(committee);
        assertEquals(supers.stream().map(Strategy9TimedAuditTest::addr).sorted().toList(), committee.stream().sorted().toList());
        long t0 = System.nanoTime();
        List<CompletableFuture<Void>> rounds = auditors.stream().map(a -> CompletableFuture.runAsync(a::tick)).toList();
        CompletableFuture.allOf(rounds.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 30_000, "a window's audits take about the deadline, took " + ms + " ms");

        for (AuditorRole a : auditors) {
            assertEquals(0L, a.status().get("errors"), "auditor: " + a.status());
        }
        for (Identity s : supers) {
            assertEquals(Audits.Outcome.PASS, Audits.verdict(state, 1, addr(s), addr(honest)).outcome(), "the honest node, by " + addr(s));
            assertEquals(Audits.Outcome.TIMEOUT, Audits.verdict(state, 1, addr(s), addr(cheater)).outcome(), "the cheater, by " + addr(s));
        }
        Audits.Record h = Audits.record(state, addr(honest));
        Audits.Record c = Audits.record(state, addr(cheater));
        assertEquals(2, h.passed());
        assertEquals(0, h.failed());
        assertEquals(2, c.timeouts());
        assertEquals(0, c.passed());
        assertFalse(Audits.poorStanding(state, addr(honest)));
        assertTrue(Audits.poorStanding(state, addr(cheater)), "two timeouts reach the threshold: placement avoids it");
        assertEquals(2.0, metrics.get("oe_audits_sent_total").tag("verdict", "timeout").counter().count());
        assertEquals(2.0, metrics.get("oe_audits_sent_total").tag("verdict", "pass").counter().count());
        assertEquals(2, honestServer.answered());
        assertEquals(2, cheaterServer.answered());

        // ... and yet the cheater passes its window proof: it has the window's blocks to fetch what is challenged
        byte[] nodeId = Storage.nodeId(addr(cheater));
        Windows.BlockRange w = state.storageParams().windowing().nodeBlocks(nodeId, 1);
        runTo(Math.max(w.first() + 1, state.height() + 1));
        byte[] seed = state.storageSeed(1, state.storageParams().windowing().nodeWindow(nodeId));
        assertNotNull(seed);
        List<CompletableFuture<ChainProto.ProofAnswer>> answers = new ArrayList<>();
        List<Challenge> challenged = Challenges.derive(seed, nodeId, 1, cheaterTree.count(), state.storageParams().challenges());
        byte[] entries = cheaterTree.proveEntries(challenged.stream().mapToLong(Challenge::entry).toArray()).encode();
        for (Challenge ch : challenged) {
            answers.add(CompletableFuture.supplyAsync(() -> {
                NodeEntry e = cheaterTree.entries().get((int) ch.entry());
                try {
                    SliceProof sp = farOrigin.prove(e.cid(), ch.chunk(e.size()), 1);
                    return ChainProto.ProofAnswer.newBuilder().setSlice(ByteString.copyFrom(sp.encode())).build();
                } catch (StoreException x) {
                    throw new IllegalStateException(x);
                }
            }));
        }
        List<ChainProto.ProofAnswer> proof = new ArrayList<>();
        for (CompletableFuture<ChainProto.ProofAnswer> a : answers) {
            proof.add(a.get(60, TimeUnit.SECONDS));
        }
        Ledger.Result r = block(cheater, TxBody.newBuilder().setSubmitProof(ChainProto.SubmitProof.newBuilder().setPeriod(1).setFirst(0)
                .setEntries(ByteString.copyFrom(entries)).addAllAnswers(proof)));
        assertTrue(r.ok(), "the window proof of a node that fetches on demand verifies: " + r.log());
        assertEquals(LedgerState.StorageRoot.PROVEN, state.storageRoot(1, addr(cheater)).status());
        assertEquals(1, state.storageNode(addr(cheater)).proven());
    }
}
