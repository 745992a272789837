package io.oecloud.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.ExecTxResult;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCheckTx;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.RequestPrepareProposal;
import io.oecloud.chain.abci.AbciTypesProto.RequestQuery;
import io.oecloud.chain.abci.AbciTypesProto.Response;
import io.oecloud.chain.abci.AbciTypesProto.ResponseCheckTx;
import io.oecloud.chain.abci.AbciTypesProto.ResponseCommit;
import io.oecloud.chain.abci.AbciTypesProto.ResponseEcho;
import io.oecloud.chain.abci.AbciTypesProto.ResponseExtendVote;
import io.oecloud.chain.abci.AbciTypesProto.ResponseFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.ResponseFlush;
import io.oecloud.chain.abci.AbciTypesProto.ResponseInfo;
import io.oecloud.chain.abci.AbciTypesProto.ResponseInitChain;
import io.oecloud.chain.abci.AbciTypesProto.ResponseListSnapshots;
import io.oecloud.chain.abci.AbciTypesProto.ResponsePrepareProposal;
import io.oecloud.chain.abci.AbciTypesProto.ResponseProcessProposal;
import io.oecloud.chain.abci.AbciTypesProto.ResponseQuery;
import io.oecloud.chain.abci.AbciTypesProto.ResponseVerifyVoteExtension;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The ledger as CometBFT sees it over ABCI 2.0. Three states, as every ABCI application keeps:
 * the committed one (in RocksDB), the one FinalizeBlock builds for the block being decided, and
 * the mempool's check state (committed + the transactions CheckTx admitted since). Calls arrive
 * one at a time (the server serialises them), so no locking is needed here.
 */
public final class LedgerApp {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(LedgerApp.class.getName());

    private final LedgerStore store;
    private Ledger ledger;
    private LedgerState committed;
    private LedgerState working;
    private LedgerState check;
    private byte[] workingHash;
    private final java.util.concurrent.atomic.AtomicLong txsCommitted = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong txsRefused = new java.util.concurrent.atomic.AtomicLong();
    private int workingTxs;
    private int workingRefused;

    /** Transactions applied in committed blocks since this process started. */
    public long txsCommitted() {
        return txsCommitted.get();
    }

    /** Transactions in committed blocks that the ledger refused (their fee was not taken). */
    public long txsRefused() {
        return txsRefused.get();
    }

    public LedgerApp(LedgerStore store) throws IOException {
        this.store = store;
        this.committed = store.load();
        this.check = committed.copy();
        Map<String, String> params = store.params();
        if (params.containsKey("chainId")) {
            this.ledger = new Ledger(params.get("chainId"), new BigInteger(params.get("minFee")));
        }
    }

    /** The committed state (for tests and queries). */
    public LedgerState committed() {
        return committed;
    }

    public Response handle(Request r) throws IOException {
        return switch (r.getValueCase()) {
            case ECHO -> Response.newBuilder().setEcho(ResponseEcho.newBuilder().setMessage(r.getEcho().getMessage())).build();
            case FLUSH -> Response.newBuilder().setFlush(ResponseFlush.getDefaultInstance()).build();
            case INFO -> Response.newBuilder().setInfo(ResponseInfo.newBuilder().setData("oechain").setVersion("0.1.0")
                    .setAppVersion(1).setLastBlockHeight(committed.height())
                    .setLastBlockAppHash(ByteString.copyFrom(committed.height() == 0 ? new byte[0] : store.appHash()))).build();
            case INIT_CHAIN -> Response.newBuilder().setInitChain(initChain(r.getInitChain())).build();
            case CHECK_TX -> Response.newBuilder().setCheckTx(checkTx(r.getCheckTx())).build();
            case PREPARE_PROPOSAL -> Response.newBuilder().setPrepareProposal(prepare(r.getPrepareProposal())).build();
            case PROCESS_PROPOSAL -> Response.newBuilder().setProcessProposal(ResponseProcessProposal.newBuilder()
                    .setStatus(ResponseProcessProposal.ProposalStatus.ACCEPT)).build();
            case EXTEND_VOTE -> Response.newBuilder().setExtendVote(ResponseExtendVote.getDefaultInstance()).build();
            case VERIFY_VOTE_EXTENSION -> Response.newBuilder().setVerifyVoteExtension(ResponseVerifyVoteExtension.newBuilder()
                    .setStatus(ResponseVerifyVoteExtension.VerifyStatus.ACCEPT)).build();
            case FINALIZE_BLOCK -> Response.newBuilder().setFinalizeBlock(finalizeBlock(r.getFinalizeBlock())).build();
            case COMMIT -> Response.newBuilder().setCommit(commit()).build();
            case QUERY -> Response.newBuilder().setQuery(query(r.getQuery())).build();
            case LIST_SNAPSHOTS -> Response.newBuilder().setListSnapshots(ResponseListSnapshots.getDefaultInstance()).build();
            case OFFER_SNAPSHOT -> Response.newBuilder().setOfferSnapshot(
                    io.oecloud.chain.abci.AbciTypesProto.ResponseOfferSnapshot.newBuilder()
                            .setResult(io.oecloud.chain.abci.AbciTypesProto.ResponseOfferSnapshot.Result.REJECT)).build();
            case LOAD_SNAPSHOT_CHUNK -> Response.newBuilder().setLoadSnapshotChunk(
                    io.oecloud.chain.abci.AbciTypesProto.ResponseLoadSnapshotChunk.getDefaultInstance()).build();
            case APPLY_SNAPSHOT_CHUNK -> Response.newBuilder().setApplySnapshotChunk(
                    io.oecloud.chain.abci.AbciTypesProto.ResponseApplySnapshotChunk.newBuilder()
                            .setResult(io.oecloud.chain.abci.AbciTypesProto.ResponseApplySnapshotChunk.Result.ABORT)).build();
            default -> Response.newBuilder().setException(io.oecloud.chain.abci.AbciTypesProto.ResponseException.newBuilder()
                    .setError("unknown ABCI request " + r.getValueCase())).build();
        };
    }

    /**
     * Genesis: {@code app_state} is {"minFee": "base units", "accounts": [{"address", "balance"}]}
     * (balances in base units as decimal strings).
     */
    private ResponseInitChain initChain(RequestInitChain r) throws IOException {
        JsonNode doc = r.getAppStateBytes().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.getAppStateBytes().toByteArray());
        BigInteger minFee = new BigInteger(doc.path("minFee").asText("0"));
        LedgerState s = new LedgerState();
        BigInteger total = BigInteger.ZERO;
        for (JsonNode a : doc.path("accounts")) {
            String addr = a.path("address").asText();
            io.oecloud.dht.PeerId.parse(addr); // a bad genesis is refused, not half-loaded
            BigInteger b = new BigInteger(a.path("balance").asText());
            s.accounts.put(addr, new LedgerState.Account(b, 0));
            total = total.add(b);
        }
        if (total.compareTo(Amounts.LIMIT) >= 0) {
            throw new IOException("genesis supply " + total + " reaches 2^128");
        }
        s.genesisSupply = total;
        s.height = r.getInitialHeight() - 1;
        ledger = new Ledger(r.getChainId(), minFee);
        store.saveParams(Map.of("chainId", r.getChainId(), "minFee", minFee.toString()));
        byte[] hash = s.appHash();
        store.commit(s, hash);
        committed = s;
        check = s.copy();
        LOG.log(System.Logger.Level.INFO, "genesis of {0}: {1} accounts, {2} base units", r.getChainId(), s.accounts.size(), total);
        return ResponseInitChain.newBuilder().setAppHash(ByteString.copyFrom(hash)).build();
    }

    private ResponseCheckTx checkTx(RequestCheckTx r) {
        // NEW and RECHECK alike go on top of what the mempool admitted since the last commit
        Ledger.Result res = ledger.apply(check, r.getTx().toByteArray());
        return ResponseCheckTx.newBuilder().setCode(res.code().value()).setLog(res.log()).setCodespace(res.ok() ? "" : "oechain").build();
    }

    private ResponsePrepareProposal prepare(RequestPrepareProposal r) {
        ResponsePrepareProposal.Builder b = ResponsePrepareProposal.newBuilder();
        long size = 0;
        for (ByteString tx : r.getTxsList()) {
            size += tx.size();
            if (size > r.getMaxTxBytes()) {
                break;
            }
            b.addTxs(tx);
        }
        return b.build();
    }

    private ResponseFinalizeBlock finalizeBlock(RequestFinalizeBlock r) {
        working = committed.copy();
        working.height = r.getHeight();
        working.timeMillis = r.getTime().getSeconds() * 1000 + r.getTime().getNanos() / 1_000_000; // block time, never the clock
        ResponseFinalizeBlock.Builder b = ResponseFinalizeBlock.newBuilder();
        workingTxs = 0;
        workingRefused = 0;
        for (ByteString tx : r.getTxsList()) {
            Ledger.Result res = ledger.apply(working, tx.toByteArray());
            workingTxs += res.ok() ? 1 : 0;
            workingRefused += res.ok() ? 0 : 1;
            b.addTxResults(ExecTxResult.newBuilder().setCode(res.code().value()).setLog(res.log())
                    .setCodespace(res.ok() ? "" : "oechain"));
        }
        if (!working.supply().equals(working.genesisSupply())) { // the invariant, at every block
            throw new IllegalStateException("supply invariant broken at height " + r.getHeight() + ": "
                    + working.supply() + " != " + working.genesisSupply());
        }
        workingHash = working.appHash();
        return b.setAppHash(ByteString.copyFrom(workingHash)).build();
    }

    private ResponseCommit commit() throws IOException {
        if (working == null) {
            throw new IllegalStateException("Commit without FinalizeBlock");
        }
        store.commit(working, workingHash); // atomically, with its height: a crash before this replays the block
        committed = working;
        working = null;
        txsCommitted.addAndGet(workingTxs);
        txsRefused.addAndGet(workingRefused);
        check = committed.copy(); // CometBFT rechecks the mempool against the new state
        return ResponseCommit.getDefaultInstance();
    }

    /** {@code /account} with data = the address: {"address", "balance", "nonce"} at the committed height. */
    private ResponseQuery query(RequestQuery r) throws IOException {
        if (r.getPath().equals("/account")) {
            String addr = r.getData().toString(StandardCharsets.UTF_8);
            LedgerState.Account a = committed.account(addr);
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("address", addr);
            m.put("balance", a.balance().toString());
            m.put("nonce", a.nonce());
            byte[] value = JSON.writeValueAsBytes(m);
            return ResponseQuery.newBuilder().setCode(0).setKey(r.getData()).setValue(ByteString.copyFrom(value))
                    .setHeight(committed.height()).build();
        }
        if (r.getPath().equals("/cid")) {
            String cid = r.getData().toString(StandardCharsets.UTF_8);
            LedgerState.CidRecord c = committed.cid(cid);
            if (c == null) {
                return ResponseQuery.newBuilder().setCode(2).setLog(cid + " is not registered").setHeight(committed.height()).build();
            }
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("cid", cid);
            m.put("owner", c.owner());
            m.put("sinceHeight", c.sinceHeight());
            m.put("sinceTime", java.time.Instant.ofEpochMilli(c.sinceMillis()).toString());
            m.put("title", c.title());
            m.put("license", c.license());
            byte[] value = JSON.writeValueAsBytes(m);
            return ResponseQuery.newBuilder().setCode(0).setKey(r.getData()).setValue(ByteString.copyFrom(value))
                    .setHeight(committed.height()).build();
        }
        return ResponseQuery.newBuilder().setCode(1).setLog("unknown query path '" + r.getPath() + "' (known: /account, /cid)").build();
    }
}
