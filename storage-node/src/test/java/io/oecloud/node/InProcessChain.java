package io.oecloud.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.ExecTxResult;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.RequestQuery;
import io.oecloud.chain.abci.AbciTypesProto.ResponseQuery;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.node.LedgerApp;
import io.oecloud.chain.node.LedgerStore;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.node.paying.PayerAccount;
import io.oecloud.node.paying.PayerChain;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * OEChain's ledger application (chain-bridge's {@link LedgerApp}, the one super-nodes run) driven
 * in process: genesis through InitChain, one block per transaction (FinalizeBlock + Commit, a
 * second apart), queries through the app's ABCI Query (the JSON a super-node's RPC answers). Only
 * CometBFT's own two reads the payer side makes ({@code /status}, {@code /block}) are answered here,
 * from the heights and times of the blocks this harness made.
 */
final class InProcessChain implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Block h's time: a second after block h - 1. */
    static final long GENESIS_SECONDS = 1_800_000_000L;

    final String chainId;
    private final LedgerStore store;
    private final LedgerApp app;
    private long height;

    /** A chain of {@code chainId} with {@code appState} as its genesis (accounts, params, storage). */
    InProcessChain(Path dir, String chainId, ObjectNode appState) throws IOException {
        this.chainId = chainId;
        this.store = LedgerStore.open(dir);
        this.app = new LedgerApp(store);
        app.handle(Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(chainId).setInitialHeight(1)
                .setAppStateBytes(ByteString.copyFrom(JSON.writeValueAsBytes(appState)))).build());
    }

    /** The result of a transaction: its code (0 = OK) and the ledger's words. */
    record Result(int code, String log, long height) {}

    /** Runs one block holding {@code txs} (none: an empty block); the results in order. */
    synchronized List<ExecTxResult> block(List<byte[]> txs) throws IOException {
        height++;
        RequestFinalizeBlock.Builder b = RequestFinalizeBlock.newBuilder().setHeight(height)
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(GENESIS_SECONDS + height));
        txs.forEach(t -> b.addTxs(ByteString.copyFrom(t)));
        List<ExecTxResult> r = app.handle(Request.newBuilder().setFinalizeBlock(b).build()).getFinalizeBlock().getTxResultsList();
        app.handle(Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build());
        return r;
    }

    /** Empty blocks until the chain's height is {@code h}. */
    synchronized void runTo(long h) throws IOException {
        while (height < h) {
            block(List.of());
        }
    }

    synchronized long height() {
        return height;
    }

    /** Signs {@code body} as {@code key} (its next nonce, the fee the ledger asks) and runs it in a block of its own. */
    synchronized Result submit(Identity key, TxBody.Builder body) throws IOException {
        String addr = Ledger.address(key.publicKey());
        JsonNode acct = query("/account", addr);
        long nonce = acct == null ? 0 : acct.path("nonce").asLong();
        body.setChainId(chainId).setSender(ByteString.copyFrom(key.publicKey())).setNonce(nonce);
        byte[] tx = app.fees().sign(key, body);
        ExecTxResult r = block(List.of(tx)).getFirst();
        return new Result(r.getCode(), r.getLog(), height);
    }

    /** The abci_query answer's JSON; null when its code is not 0 (not there). */
    JsonNode query(String path, String data) throws IOException {
        ResponseQuery q = app.handle(Request.newBuilder().setQuery(RequestQuery.newBuilder().setPath(path)
                .setData(ByteString.copyFromUtf8(data))).build()).getQuery();
        if (q.getCode() != 0 || q.getValue().isEmpty()) {
            return null;
        }
        return JSON.readTree(q.getValue().toByteArray());
    }

    BigInteger balance(String addr) throws IOException {
        JsonNode a = query("/account", addr);
        return a == null ? BigInteger.ZERO : new BigInteger(a.path("balance").asText("0"));
    }

    BigInteger escrowPool() throws IOException {
        return new BigInteger(query("/escrow", "").path("pool").asText());
    }

    BigInteger feePool() throws IOException {
        return new BigInteger(query("/params", "").path("feePool").asText());
    }

    /** What the payer side reads, from this chain. */
    PayerChain.Source source() {
        return new PayerChain.Source() {
            @Override
            public JsonNode query(String path, String data) throws IOException {
                return InProcessChain.this.query(path, data);
            }

            @Override
            public JsonNode get(String path) throws IOException {
                long h = height();
                if (path.equals("/status")) {
                    ObjectNode r = JSON.createObjectNode();
                    r.putObject("result").putObject("sync_info").put("latest_block_height", h)
                            .put("latest_block_time", Instant.ofEpochSecond(GENESIS_SECONDS + h).toString());
                    return r;
                }
                if (path.startsWith("/block?height=")) {
                    long at = Long.parseLong(path.substring("/block?height=".length()));
                    ObjectNode r = JSON.createObjectNode();
                    r.putObject("result").putObject("block").putObject("header").put("time", Instant.ofEpochSecond(GENESIS_SECONDS + at).toString());
                    return r;
                }
                throw new IOException("no RPC " + path + " in process");
            }
        };
    }

    /** {@code key}'s account on this chain, as the payer side uses it. */
    PayerAccount account(Identity key) {
        return new PayerAccount() {
            @Override
            public String address() {
                return Ledger.address(key.publicKey());
            }

            @Override
            public BigInteger balance() throws IOException {
                return InProcessChain.this.balance(address());
            }

            @Override
            public long submit(TxBody.Builder tx) throws IOException {
                Result r = InProcessChain.this.submit(key, tx);
                if (r.code() != 0) {
                    throw new PayerAccount.Refused(r.code(), r.log());
                }
                return r.height();
            }
        };
    }

    @Override
    public void close() {
        store.close();
    }
}
