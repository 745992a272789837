package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCheckTx;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.abci.AbciTypesProto.RequestPrepareProposal;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.dht.Identity;
import io.oecloud.wire.LengthPrefix;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, "Tests that keep it so": 100,000 mutated transactions (seed 22) through every way one
 * is admitted: a client's submission, a super-node's gossip batch (the parser behind the
 * signature), CometBFT's CheckTx, and blocks (PrepareProposal from the pool, FinalizeBlock with
 * the mutated bytes themselves, Commit), plus 2,000 of them and 300 signed batches over real
 * HTTP. Mutations are structure-aware (every field of every kind, re-signed so the state logic
 * sees them, not only the signature check) and raw (bits, bytes, truncation, framing). Nothing
 * may throw, no answer may be a 500, the supply invariant holds at every block (FinalizeBlock
 * stops on a break), the pool and the bodies being read stay within their bounds, and afterwards
 * the ledger admits and commits an untouched transfer.
 */
@Timeout(300)
class TxFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-fuzz";
    private static final Fees FEES = new Fees(BigInteger.valueOf(1000), Fees.DEFAULT_PER_BYTE);
    private static final int MUTATIONS = 100_000;
    /** The loop stops here even if not done (then fails, saying how far it got): bounded in time as well as count. */
    private static final Duration BUDGET = Duration.ofSeconds(200);

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final Random rnd = new Random(22);
    /** Funded senders (their signatures make mutated bodies reach the state checks). */
    private final List<Identity> keys = new ArrayList<>();
    private final Identity untouched = Identity.generate();
    private final Identity self = Identity.generate();
    private final Identity peer = Identity.generate();
    private final List<byte[]> cids = new ArrayList<>();
    private long height;

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private LedgerApp ledger() throws Exception {
        LedgerStore store = LedgerStore.open(dir.resolve("ledger"));
        open.add(store);
        LedgerApp app = new LedgerApp(store);
        ObjectNode state = JSON.createObjectNode().put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString());
        ArrayNode accounts = state.putArray("accounts");
        ArrayNode candidates = state.putArray("candidates");
        for (int i = 0; i < 6; i++) {
            Identity k = Identity.generate();
            keys.add(k);
            accounts.addObject().put("address", Ledger.address(k.publicKey())).put("balance", Amounts.PASS.multiply(BigInteger.valueOf(1000)).toString());
            if (i < 2) {
                candidates.addObject().put("address", Ledger.address(k.publicKey())).put("moniker", "v" + i).put("commissionPpm", 100_000)
                        .put("selfBond", Amounts.PASS.multiply(BigInteger.TEN).toString())
                        .put("validatorKey", java.util.Base64.getEncoder().encodeToString(Identity.generate().publicKey()));
            }
        }
        accounts.addObject().put("address", Ledger.address(untouched.publicKey())).put("balance", Amounts.PASS.toString());
        app.handle(Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(CHAIN).setInitialHeight(1)
                .setAppStateBytes(ByteString.copyFrom(JSON.writeValueAsBytes(state)))).build());
        for (int i = 0; i < 8; i++) {
            cids.add(io.oecloud.proofs.Cid.raw(("work " + i).getBytes()).toBytes());
        }
        return app;
    }

    private byte[] randomBytes(int max) {
        byte[] b = new byte[rnd.nextInt(max + 1)];
        rnd.nextBytes(b);
        return b;
    }

    /** An amount: mostly small and canonical, sometimes zero, huge, too wide or with a leading zero. */
    private ByteString amount() {
        return switch (rnd.nextInt(8)) {
            case 0 -> ByteString.EMPTY;
            case 1 -> ByteString.copyFrom(randomBytes(18));
            case 2 -> ByteString.copyFrom(new byte[] {0, 1});
            case 3 -> ByteString.copyFrom(Amounts.encode(Amounts.LIMIT.subtract(BigInteger.ONE)));
            default -> ByteString.copyFrom(Amounts.encode(BigInteger.valueOf(1 + rnd.nextInt(1_000_000)).multiply(
                    rnd.nextBoolean() ? BigInteger.ONE : Amounts.PASS)));
        };
    }

    private String address() {
        return switch (rnd.nextInt(6)) {
            case 0 -> "";
            case 1 -> new String(randomBytes(60), java.nio.charset.StandardCharsets.ISO_8859_1);
            case 2 -> Ledger.address(Identity.generate().publicKey()); // fresh
            default -> Ledger.address(keys.get(rnd.nextInt(keys.size())).publicKey());
        };
    }

    private ByteString cid() {
        return rnd.nextInt(4) == 0 ? ByteString.copyFrom(randomBytes(40)) : ByteString.copyFrom(cids.get(rnd.nextInt(cids.size())));
    }

    private ByteString key32() {
        return rnd.nextInt(5) == 0 ? ByteString.copyFrom(randomBytes(40)) : ByteString.copyFrom(Identity.generate().publicKey());
    }

    /** A name: mostly from a few valid ones (so they collide), else any characters of any length up to 100. */
    private String name() {
        if (rnd.nextInt(3) != 0) {
            return List.of("site", "my-site", "a-b", "blog").get(rnd.nextInt(4));
        }
        StringBuilder b = new StringBuilder();
        int n = rnd.nextInt(100);
        for (int i = 0; i < n; i++) {
            b.append((char) (0x20 + rnd.nextInt(0x5f)));
        }
        return b.toString();
    }

        /** A body of any kind with plausible or broken fields. */
    private TxBody.Builder body(Identity from, long[] nonces, int who) {
        TxBody.Builder b = TxBody.newBuilder().setChainId(rnd.nextInt(30) == 0 ? "other" : CHAIN)
                .setSender(ByteString.copyFrom(from.publicKey()));
        long n = nonces[who];
        b.setNonce(switch (rnd.nextInt(10)) {
            case 0 -> rnd.nextLong();
            case 1 -> n + 1 + rnd.nextInt(3);
            case 2 -> Math.max(0, n - 1);
            default -> n;
        });
        switch (rnd.nextInt(13)) {
            case 0 -> b.setTransfer(ChainProto.Transfer.newBuilder().setTo(address()).setAmount(amount()));
            case 1 -> b.setRegisterCid(ChainProto.RegisterCid.newBuilder().setCid(cid()).setTitle("t".repeat(rnd.nextInt(300)))
                    .setLicense("l".repeat(rnd.nextInt(140))));
            case 2 -> b.setTransferCid(ChainProto.TransferCid.newBuilder().setCid(cid()).setTo(address()));
            case 3 -> b.setRegisterCandidate(ChainProto.RegisterCandidate.newBuilder().setValidatorKey(key32())
                    .setCommissionPpm(rnd.nextInt(1_200_000)).setSelfBond(amount()).setMoniker("m".repeat(rnd.nextInt(80))));
            case 4 -> b.setEditCandidate(ChainProto.EditCandidate.newBuilder().setCommissionPpm(rnd.nextInt()).setMoniker("x"));
            case 5 -> b.setBond(ChainProto.Bond.newBuilder().setAmount(amount()));
            case 6 -> b.setUnbond(ChainProto.Unbond.newBuilder().setAmount(amount()));
            case 7 -> b.setDelegate(ChainProto.Delegate.newBuilder().setCandidate(address()).setAmount(amount()));
            case 8 -> b.setUndelegate(ChainProto.Undelegate.newBuilder().setCandidate(address()).setAmount(amount()));
            case 9 -> b.setRegisterName(ChainProto.RegisterName.newBuilder().setName(name()).setRoot(cid()));
            case 10 -> b.setUpdateName(ChainProto.UpdateName.newBuilder().setName(name()).setRoot(cid()));
            case 11 -> b.setTransferName(ChainProto.TransferName.newBuilder().setName(name()).setTo(address()));
            default -> b.setUnjail(ChainProto.Unjail.getDefaultInstance());
        }
        if (rnd.nextInt(40) == 0) {
            b.setUnknownFields(UnknownFieldSet.newBuilder().addField(20 + rnd.nextInt(100), UnknownFieldSet.Field.newBuilder()
                    .addLengthDelimited(ByteString.copyFrom(randomBytes(100))).build()).build());
        }
        return b;
    }

    /** One mutated transaction: a re-signed mutated body (the state sees it), or raw damage to valid bytes. */
    private byte[] mutated(long[] nonces) {
        int who = rnd.nextInt(keys.size());
        Identity from = keys.get(who);
        TxBody.Builder b = body(from, nonces, who);
        byte[] tx;
        switch (rnd.nextInt(6)) {
            case 0 -> { // a fee of any size or encoding
                b.setFee(ByteString.copyFrom(randomBytes(18)));
                tx = Ledger.sign(from, b.build());
            }
            case 1 -> { // paying what it should, signed by someone else
                FEES.sign(from, b);
                tx = Ledger.sign(keys.get(rnd.nextInt(keys.size())), b.build());
            }
            default -> tx = FEES.sign(from, b); // pays what it should
        }
        if (rnd.nextInt(3) == 0) { // raw damage on top
            tx = tx.clone();
            switch (rnd.nextInt(5)) {
                case 0 -> tx[rnd.nextInt(tx.length)] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> tx[rnd.nextInt(tx.length)] = (byte) rnd.nextInt(256);
                case 2 -> tx = java.util.Arrays.copyOf(tx, rnd.nextInt(tx.length));
                case 3 -> tx = java.util.Arrays.copyOf(tx, tx.length + 1 + rnd.nextInt(20));
                default -> tx = randomBytes(300);
            }
        }
        return tx;
    }

    @Test
    void aHundredThousandMutatedTransactions_neverThrow_neverGet500_stayBounded_andTheLedgerStillAdmits() throws Exception {
        LedgerApp app = ledger();
        GossipAuth auth = new GossipAuth(self.peerId().toString(), Set.of(peer.peerId().toString()), app::validatorOperators,
                app::chainId, System::currentTimeMillis);
        TxServer server = new TxServer(app, auth).start(new InetSocketAddress("127.0.0.1", 0));
        open.add(server);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI txs = URI.create("http://127.0.0.1:" + server.address().getPort() + "/v1/chain/txs");
        URI mempool = URI.create("http://127.0.0.1:" + server.address().getPort() + "/v1/chain/mempool");
        long[] nonces = new long[keys.size()];
        long deadline = System.nanoTime() + BUDGET.toNanos();
        int admitted = 0;
        int blocks = 0;
        int overHttp = 0;
        int n = 0;
        for (; n < MUTATIONS && System.nanoTime() < deadline; n++) {
            byte[] tx = mutated(nonces);
            int path = rnd.nextInt(100);
            if (path < 80) {
                LedgerApp.Admission a = app.submit(tx, rnd.nextBoolean(), false).admission();
                assertTrue(a.ok() || !a.log().isEmpty(), "every refusal says why");
                if (a.ok()) {
                    admitted++;
                    ChainProto.Tx parsed = ChainProto.Tx.parseFrom(tx);
                    ByteString sender = TxBody.parseFrom(parsed.getBody()).getSender();
                    for (int i = 0; i < keys.size(); i++) {
                        if (sender.equals(ByteString.copyFrom(keys.get(i).publicKey()))) {
                            nonces[i] = TxBody.parseFrom(parsed.getBody()).getNonce() + 1; // the next one follows it
                        }
                    }
                }
            } else if (path < 90) { // the gossip parser, with a framing mistake now and then
                io.netty.buffer.ByteBuf b = io.netty.buffer.Unpooled.buffer();
                LengthPrefix.writeUvarint(b, rnd.nextInt(20) == 0 ? rnd.nextInt(1 << 20) : tx.length);
                b.writeBytes(tx);
                int status = TxServer.receiveBatch(app, b).status();
                assertTrue(status == 200 || status == 400, "gossip batch answered " + status);
            } else if (path < 95) { // CometBFT's CheckTx (its flood mempool)
                app.handle(Request.newBuilder().setCheckTx(RequestCheckTx.newBuilder().setTx(ByteString.copyFrom(tx))).build());
            } else if (path < 97 && overHttp < 2_000) {
                overHttp++;
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(txs).timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(tx)).build(), HttpResponse.BodyHandlers.ofString());
                assertTrue(Set.of(200, 400, 413, 422, 503).contains(r.statusCode()), r.statusCode() + " " + r.body());
                if (overHttp % 7 == 0) { // a signed batch from the known peer, holding this and a few more
                    byte[] body = batch(tx, mutated(nonces), mutated(nonces));
                    HttpHeaders h = new DefaultHttpHeaders();
                    GossipAuth.sign(h, peer, CHAIN, self.peerId().toString(), GossipAuth.sha256(body), System.currentTimeMillis());
                    HttpRequest.Builder req = HttpRequest.newBuilder(mempool).timeout(Duration.ofSeconds(30))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
                    h.forEach(e -> req.header(e.getKey(), e.getValue()));
                    HttpResponse<String> g = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
                    assertTrue(g.statusCode() == 200 || g.statusCode() == 400, g.statusCode() + " " + g.body());
                }
            } else { // straight into a block: a proposer may send anything
                ArrayList<ByteString> blockTxs = new ArrayList<>();
                blockTxs.add(ByteString.copyFrom(tx));
                block(app, blockTxs);
                blocks++;
            }
            if (n % 1000 == 999) { // a block from the pool now and then: proposals, commits, rechecks
                block(app, propose(app));
                blocks++;
                for (int i = 0; i < keys.size(); i++) {
                    nonces[i] = app.committed().account(Ledger.address(keys.get(i).publicKey())).nonce();
                }
                assertTrue(app.pending() <= Mempool.MAX_PENDING_TXS);
            }
        }
        System.out.println("TxFuzzTest: " + n + " mutations, " + admitted + " admitted, " + blocks + " blocks, " + overHttp + " over HTTP");
        assertEquals(MUTATIONS, n, "the time budget ran out after " + n + " mutations");
        assertTrue(admitted > 1000, "enough mutated transactions were valid to reach the pool and blocks: " + admitted);
        assertTrue(blocks > 100, "blocks: " + blocks);
        assertEquals(0, server.buffered()[0] + server.buffered()[1], "no body is held after its request");

        // the ledger is unharmed: an untouched transfer is admitted and committed
        byte[] good = FEES.sign(untouched, TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(untouched.publicKey())).setNonce(0)
                .setTransfer(ChainProto.Transfer.newBuilder().setTo(Ledger.address(keys.get(0).publicKey()))
                        .setAmount(ByteString.copyFrom(Amounts.encode(BigInteger.TEN)))));
        assertTrue(app.submit(good, true, false).admission().ok());
        for (int i = 0; i < 10 && app.committed().account(Ledger.address(untouched.publicKey())).nonce() == 0; i++) {
            block(app, propose(app));
        }
        assertEquals(1, app.committed().account(Ledger.address(untouched.publicKey())).nonce());
        HttpResponse<String> after = http.send(HttpRequest.newBuilder(mempool).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, after.statusCode(), "the endpoint still serves");
    }

    private static byte[] batch(byte[]... txs) {
        io.netty.buffer.ByteBuf b = io.netty.buffer.Unpooled.buffer();
        for (byte[] tx : txs) {
            LengthPrefix.writeUvarint(b, tx.length);
            b.writeBytes(tx);
        }
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

    private static List<ByteString> propose(LedgerApp app) throws Exception {
        return app.handle(Request.newBuilder().setPrepareProposal(RequestPrepareProposal.newBuilder().setMaxTxBytes(4 << 20)).build())
                .getPrepareProposal().getTxsList();
    }

    private void block(LedgerApp app, List<ByteString> txs) throws Exception {
        height++;
        app.handle(Request.newBuilder().setFinalizeBlock(RequestFinalizeBlock.newBuilder().setHeight(height).addAllTxs(txs)
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L + height))).build());
        app.handle(Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build());
    }
}
