package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.CommitInfo;
import io.oecloud.chain.abci.AbciTypesProto.ExtendedCommitInfo;
import io.oecloud.chain.abci.AbciTypesProto.ExtendedVoteInfo;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestExtendVote;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.RequestPrepareProposal;
import io.oecloud.chain.abci.AbciTypesProto.RequestProcessProposal;
import io.oecloud.chain.abci.AbciTypesProto.RequestQuery;
import io.oecloud.chain.abci.AbciTypesProto.RequestVerifyVoteExtension;
import io.oecloud.chain.abci.AbciTypesProto.ResponseFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.ResponseProcessProposal.ProposalStatus;
import io.oecloud.chain.abci.AbciTypesProto.ResponseVerifyVoteExtension.VerifyStatus;
import io.oecloud.chain.abci.AbciTypesProto.Validator;
import io.oecloud.chain.abci.AbciTypesProto.VoteInfo;
import io.oecloud.chain.abci.TypesvalidatorProto.BlockIDFlag;
import io.oecloud.chain.beacon.Beacon;
import io.oecloud.chain.beacon.Bls;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Genesis;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The beacon at the ABCI boundary, no CometBFT: four validators' apps (their own stores and
 * beacon keys) driven with the requests CometBFT sends, ExtendVote to Commit. A forged, missing
 * or misplaced beacon is rejected by ProcessProposal; every app reaches the same app hash.
 */
@Timeout(60)
class BeaconAbciTest {
    private static final String CHAIN = "oe-beacon-abci";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final List<LedgerStore> stores = new ArrayList<>();
    private final List<LedgerApp> apps = new ArrayList<>();
    private final List<Identity> operators = new ArrayList<>();
    private final List<Identity> validatorKeys = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        ObjectNode app = JSON.createObjectNode().put("minFee", "1000").put("feePerByte", "0");
        ArrayNode candidates = app.putArray("candidates");
        for (int i = 0; i < 4; i++) {
            operators.add(Identity.fromSeed(seed(i)));
            validatorKeys.add(Identity.fromSeed(seed(50 + i)));
            Genesis.putBeaconKey(candidates.addObject().put("address", Ledger.address(operators.get(i).publicKey()))
                    .put("selfBond", Amounts.PASS.multiply(BigInteger.TEN).toString())
                    .put("validatorKey", Base64.getEncoder().encodeToString(validatorKeys.get(i).publicKey())), operators.get(i));
        }
        Request init = Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(CHAIN).setInitialHeight(1)
                .setAppStateBytes(ByteString.copyFrom(JSON.writeValueAsBytes(app)))).build();
        for (int i = 0; i < 4; i++) {
            LedgerStore s = LedgerStore.open(dir.resolve("ledger" + i));
            stores.add(s);
            LedgerApp a = new LedgerApp(s);
            a.beaconKey(Bls.SecretKey.fromIdentity(operators.get(i)));
            a.handle(init);
            apps.add(a);
        }
    }

    @AfterEach
    void close() {
        stores.forEach(LedgerStore::close);
    }

    private static byte[] seed(int i) {
        byte[] s = new byte[32];
        Arrays.fill(s, (byte) (i + 1));
        return s;
    }

    private ByteString address(int i) {
        return ByteString.copyFrom(HexFormat.of().parseHex(LedgerState.consensusAddress(validatorKeys.get(i).publicKey())));
    }

    private Validator validator(int i) {
        return Validator.newBuilder().setAddress(address(i)).setPower(10).build();
    }

    private CommitInfo commit(long height) {
        CommitInfo.Builder c = CommitInfo.newBuilder();
        for (int i = 0; height > 1 && i < 4; i++) {
            c.addVotes(VoteInfo.newBuilder().setValidator(validator(i)).setBlockIdFlag(BlockIDFlag.BLOCK_ID_FLAG_COMMIT));
        }
        return c.build();
    }

    private ProposalStatus process(LedgerApp a, long height, List<ByteString> txs) throws Exception {
        return a.handle(Request.newBuilder().setProcessProposal(RequestProcessProposal.newBuilder().setHeight(height)
                .setProposedLastCommit(commit(height)).addAllTxs(txs)).build()).getProcessProposal().getStatus();
    }

    private VerifyStatus verify(LedgerApp a, long height, int validator, byte[] ext) throws Exception {
        return a.handle(Request.newBuilder().setVerifyVoteExtension(RequestVerifyVoteExtension.newBuilder().setHeight(height)
                .setValidatorAddress(address(validator)).setVoteExtension(ByteString.copyFrom(ext))).build()).getVerifyVoteExtension().getStatus();
    }

    private JsonNode beaconQuery(LedgerApp a) throws Exception {
        return JSON.readTree(a.handle(Request.newBuilder().setQuery(RequestQuery.newBuilder().setPath("/beacon")).build())
                .getQuery().getValue().toByteArray());
    }

    @Test
    void fourApps_extendPrepareProcessFinalize_seedAdvances_sameAppHash_forgeriesRejected() throws Exception {
        List<byte[]> extensions = new ArrayList<>(); // the votes of the previous height
        byte[] lastSeed = null;
        for (long h = 1; h <= 5; h++) {
            int proposer = (int) (h % 4);
            ExtendedCommitInfo.Builder local = ExtendedCommitInfo.newBuilder();
            for (int i = 0; h > 1 && i < 4; i++) {
                local.addVotes(ExtendedVoteInfo.newBuilder().setValidator(validator(i)).setBlockIdFlag(BlockIDFlag.BLOCK_ID_FLAG_COMMIT)
                        .setVoteExtension(ByteString.copyFrom(extensions.get(i))));
            }
            List<ByteString> txs = apps.get(proposer).handle(Request.newBuilder().setPrepareProposal(RequestPrepareProposal.newBuilder()
                    .setHeight(h).setMaxTxBytes(1 << 20).setLocalLastCommit(local)).build()).getPrepareProposal().getTxsList();
            if (h == 1) {
                assertTrue(txs.isEmpty(), "block 1 has no last commit: no beacon");
            } else {
                assertEquals(1, txs.size());
                byte[] entry = txs.get(0).toByteArray();
                assertTrue(Beacon.isBeacon(entry));
                assertEquals(105, entry.length, "4-byte prefix, 1-byte bitmap, 96-byte aggregate, 4 bytes of protobuf tags and lengths");
                // what every other validator refuses: a forged aggregate, none, one with half the power, one not first
                byte[] forged = entry.clone();
                forged[forged.length - 1] ^= 1;
                byte[] half = Beacon.encode(new Beacon.Entry(new byte[] {0x03}, Bls.aggregate(extensions.subList(0, 2))));
                for (int i = 0; i < 4; i++) {
                    assertEquals(ProposalStatus.ACCEPT, process(apps.get(i), h, txs));
                    assertEquals(ProposalStatus.REJECT, process(apps.get(i), h, List.of(ByteString.copyFrom(forged))), "forged, app " + i);
                    assertEquals(ProposalStatus.REJECT, process(apps.get(i), h, List.of()), "missing, app " + i);
                    assertEquals(ProposalStatus.REJECT, process(apps.get(i), h, List.of(ByteString.copyFrom(half))), "half the power, app " + i);
                    assertEquals(ProposalStatus.REJECT, process(apps.get(i), h, List.of(ByteString.copyFrom(new byte[] {0x0a, 0}), txs.get(0))),
                            "a beacon not first, app " + i);
                }
            }
            // the votes on h: each app extends with its key, every app checks the others'
            extensions = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                byte[] ext = apps.get(i).handle(Request.newBuilder().setExtendVote(RequestExtendVote.newBuilder().setHeight(h)).build())
                        .getExtendVote().getVoteExtension().toByteArray();
                assertEquals(96, ext.length);
                extensions.add(ext);
            }
            for (int i = 0; i < 4; i++) {
                for (int v = 0; v < 4; v++) {
                    assertEquals(VerifyStatus.ACCEPT, verify(apps.get(i), h, v, extensions.get(v)));
                }
                assertEquals(VerifyStatus.REJECT, verify(apps.get(i), h, 1, extensions.get(2)), "validator 2's signature as validator 1's");
                assertEquals(VerifyStatus.REJECT, verify(apps.get(i), h, 1, new byte[0]), "a keyed validator must contribute");
            }
            Request fb = Request.newBuilder().setFinalizeBlock(RequestFinalizeBlock.newBuilder().setHeight(h).setDecidedLastCommit(commit(h))
                    .addAllTxs(txs).setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L + h))).build();
            byte[] appHash = null;
            for (LedgerApp a : apps) {
                ResponseFinalizeBlock r = a.handle(fb).getFinalizeBlock();
                assertEquals(txs.size(), r.getTxResultsCount(), "one result per entry, the beacon's included");
                if (appHash == null) {
                    appHash = r.getAppHash().toByteArray();
                } else {
                    assertArrayEquals(appHash, r.getAppHash().toByteArray(), "the same app hash on every app at height " + h);
                }
                a.handle(Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build());
            }
            JsonNode q = beaconQuery(apps.get(0));
            assertEquals(h, q.path("height").asLong());
            assertEquals(h > 1, q.path("advanced").asBoolean(), q.toString());
            byte[] seedNow = HexFormat.of().parseHex(q.path("seed").asText());
            if (h > 1) {
                assertFalse(Arrays.equals(lastSeed, seedNow), "the seed advances at height " + h);
            }
            for (LedgerApp a : apps) {
                assertEquals(q, beaconQuery(a));
            }
            lastSeed = seedNow;
        }
        // a block decided with a forged beacon stops the chain rather than commit it (FinalizeBlock checks again)
        byte[] forged = Beacon.encode(new Beacon.Entry(new byte[] {0x0f}, Bls.aggregate(extensions.subList(0, 4))));
        forged[forged.length - 1] ^= 1;
        Request bad = Request.newBuilder().setFinalizeBlock(RequestFinalizeBlock.newBuilder().setHeight(6).setDecidedLastCommit(commit(6))
                .addTxs(ByteString.copyFrom(forged))).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> apps.get(0).handle(bad));
        assertTrue(e.getMessage().contains("decided with a refused beacon"), e.getMessage());
    }

    /** Signing and pairings run before the ledger's lock: with the lock held elsewhere, they still answer. */
    @Test
    void beaconWork_doesNotWaitForTheLedgersLock() throws Exception {
        LedgerApp a = apps.get(0);
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Thread holder = new Thread(() -> {
            synchronized (a) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        holder.start();
        held.await();
        try {
            java.util.concurrent.CompletableFuture<byte[]> ext = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    byte[] e = a.handle(Request.newBuilder().setExtendVote(RequestExtendVote.newBuilder().setHeight(1)).build())
                            .getExtendVote().getVoteExtension().toByteArray();
                    assertEquals(VerifyStatus.ACCEPT, verify(a, 1, 0, e));
                    assertEquals(ProposalStatus.ACCEPT, process(a, 1, List.of()));
                    return e;
                } catch (Exception x) {
                    throw new java.util.concurrent.CompletionException(x);
                }
            });
            assertEquals(96, ext.get(10, java.util.concurrent.TimeUnit.SECONDS).length);
        } finally {
            release.countDown();
            holder.join();
        }
    }

    @Test
    void theMempool_neverAdmitsABeacon() throws Exception {
        byte[] entry = Beacon.encode(new Beacon.Entry(new byte[] {0x0f}, new byte[96]));
        LedgerApp.Submission s = apps.get(0).submit(entry, true, false);
        assertEquals(Ledger.Code.MALFORMED, s.admission().code(), s.admission().log());
    }
}
