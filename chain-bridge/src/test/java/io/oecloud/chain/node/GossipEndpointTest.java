package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestCommit;
import io.oecloud.chain.abci.AbciTypesProto.RequestFinalizeBlock;
import io.oecloud.chain.abci.AbciTypesProto.RequestInitChain;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.TxSignatures;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.wire.LengthPrefix;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, "The chain": the super-nodes' gossip endpoint ({@code POST /v1/chain/mempool}) was
 * open to anyone, buffered 8 MiB per connection before looking at it, and checked each bad
 * signature twice, the second time inside the ledger's lock. Real sockets, one ledger in this JVM.
 */
@Timeout(60)
class GossipEndpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-gossip";
    private static final Fees FEES = new Fees(BigInteger.valueOf(1000), Fees.DEFAULT_PER_BYTE);

    @TempDir
    Path dir;

    private final Identity alice = Identity.generate();
    private final Identity self = Identity.generate();
    /** A configured gossip peer of this node. */
    private final Identity peer = Identity.generate();
    /** A validator's operator (from the genesis), named in no configuration. */
    private final Identity operator = Identity.generate();
    private final List<AutoCloseable> open = new ArrayList<>();
    /** The clock gossip times are checked with. */
    private final AtomicLong now = new AtomicLong(1_800_000_000_000L);
    private LedgerApp app;
    private TxServer server;

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private void start(TxServer.Limits limits) throws Exception {
        LedgerStore store = LedgerStore.open(dir.resolve("ledger"));
        open.add(store);
        app = new LedgerApp(store);
        ObjectNode state = JSON.createObjectNode().put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString());
        state.putArray("accounts").addObject().put("address", Ledger.address(alice.publicKey()))
                .put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        state.putArray("candidates").addObject().put("address", Ledger.address(operator.publicKey()))
                .put("validatorKey", java.util.Base64.getEncoder().encodeToString(Identity.generate().publicKey()))
                .put("selfBond", Amounts.PASS.multiply(BigInteger.TEN).toString()).put("commissionPpm", 0).put("moniker", "v0");
        app.handle(Request.newBuilder().setInitChain(RequestInitChain.newBuilder().setChainId(CHAIN).setInitialHeight(1)
                .setAppStateBytes(ByteString.copyFrom(JSON.writeValueAsBytes(state)))).build());
        GossipAuth auth = new GossipAuth(self.peerId().toString(), java.util.Set.of(peer.peerId().toString()), app::validatorOperators,
                app::chainId, now::get);
        server = new TxServer(app, auth, limits).start(new InetSocketAddress("127.0.0.1", 0));
        open.add(server);
    }

    private void start() throws Exception {
        start(TxServer.Limits.DEFAULTS);
    }

    private byte[] transfer(long nonce) {
        return FEES.sign(alice, TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(alice.publicKey())).setNonce(nonce)
                .setTransfer(Transfer.newBuilder().setTo(Ledger.address(peer.publicKey())).setAmount(ByteString.copyFrom(Amounts.encode(BigInteger.ONE)))));
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

    /** The gossip headers {@code from} signs for {@code to} over {@code body}, at {@code time}. */
    private static String signed(Identity from, String to, byte[] body, long time, String chain) {
        HttpHeaders h = new DefaultHttpHeaders();
        GossipAuth.sign(h, from, chain, to, GossipAuth.sha256(body), time);
        StringBuilder sb = new StringBuilder();
        h.forEach(e -> sb.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n"));
        return sb.toString();
    }

    private String signed(Identity from, byte[] body) {
        return signed(from, self.peerId().toString(), body, now.get(), CHAIN);
    }

    /** A raw HTTP exchange: the status and body of the answer (the server closes or answers with a length). */
    private record Reply(int status, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(server.address(), 5000);
        s.setSoTimeout(10_000); // an answer that never comes fails the test rather than hanging it
        open.add(s);
        return s;
    }

    private static Reply read(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before an answer: " + head);
            }
            head.write(b);
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(h.substring(9, 12));
        int len = 0;
        for (String line : h.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                len = Integer.parseInt(line.substring(15).strip());
            }
        }
        return new Reply(status, new String(in.readNBytes(len), StandardCharsets.UTF_8));
    }

    private Reply post(String path, String headers, byte[] body) throws IOException {
        Socket s = connect();
        OutputStream out = s.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + body.length + "\r\n" + headers + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        return read(s);
    }

    @Test
    void aBatchFromAStranger_isRefusedFromItsHeaders_beforeItsBodyIsRead() throws Exception {
        start();
        // headers announcing 4 MB, and no body at all: the answer comes anyway, at once
        Socket s = connect();
        s.getOutputStream().write(("POST /v1/chain/mempool HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000000\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        Reply unsigned = read(s);
        assertEquals(401, unsigned.status(), unsigned.body());
        assertTrue(unsigned.json().path("error").asText().contains("known super-nodes"), unsigned.body());

        byte[] body = batch(transfer(0));
        Identity stranger = Identity.generate();
        Reply r = post("/v1/chain/mempool", signed(stranger, body), body);
        assertEquals(403, r.status(), r.body());
        assertTrue(r.json().path("error").asText().contains("not a known super-node"), r.body());
        assertEquals(0, app.pending(), "nothing a stranger sent was admitted");
        assertEquals(0, server.buffered()[1], "and nothing of it is held");
    }

    @Test
    void aBatchSignedByAConfiguredPeer_orACurrentValidatorsOperator_isAdmitted() throws Exception {
        start();
        byte[] body = batch(transfer(0));
        Reply r = post("/v1/chain/mempool", signed(peer, body), body);
        assertEquals(200, r.status(), r.body());
        assertEquals(1, r.json().path("admitted").asInt());
        byte[] next = batch(transfer(1));
        Reply v = post("/v1/chain/mempool", signed(operator, next), next);
        assertEquals(200, v.status(), "a validator elected later gossips without a configuration change: " + v.body());
        assertEquals(2, app.pending());
    }

    @Test
    void aBatchSignedForAnotherNode_orChain_replayed_outOfTheWindow_orChanged_isRefused() throws Exception {
        start();
        byte[] body = batch(transfer(0));
        String other = Identity.generate().peerId().toString();
        assertEquals(401, post("/v1/chain/mempool", signed(peer, other, body, now.get(), CHAIN), body).status(), "signed for another node");
        assertEquals(401, post("/v1/chain/mempool", signed(peer, self.peerId().toString(), body, now.get(), "other-chain"), body).status(),
                "signed for another chain");
        Reply late = post("/v1/chain/mempool", signed(peer, self.peerId().toString(), body, now.get() - 31_000, CHAIN), body);
        assertEquals(401, late.status());
        assertTrue(late.json().path("error").asText().contains("-31 s"), late.body());
        assertEquals(401, post("/v1/chain/mempool", signed(peer, self.peerId().toString(), body, now.get() + 31_000, CHAIN), body).status(),
                "from the future");
        byte[] changed = batch(transfer(1));
        assertEquals(401, post("/v1/chain/mempool", signed(peer, body), changed).status(), "the body is not the one signed");
        assertEquals(0, app.pending());

        String headers = signed(peer, body);
        assertEquals(200, post("/v1/chain/mempool", headers, body).status());
        Reply replay = post("/v1/chain/mempool", headers, body);
        assertEquals(401, replay.status());
        assertTrue(replay.json().path("error").asText().contains("replay"), replay.body());
    }

    @Test
    void gossipBodies_areBoundedFromTheirLength_andWhileTheyStream() throws Exception {
        start();
        // over the batch limit, from the length alone: no body is sent
        Socket s = connect();
        byte[] none = new byte[0];
        s.getOutputStream().write(("POST /v1/chain/mempool HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + (TxServer.MAX_BODY + 1)
                + "\r\n" + signed(peer, none) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(413, read(s).status());
        // a batch must say its length
        Socket c = connect();
        c.getOutputStream().write(("POST /v1/chain/mempool HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                + signed(peer, none) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(411, read(c).status());
        // a client's chunked transaction is cut off once it passes 64 KiB
        Socket t = connect();
        OutputStream out = t.getOutputStream();
        out.write("POST /v1/chain/txs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        byte[] chunk = new byte[16 << 10];
        int status = 0;
        try {
            for (int i = 0; i < 6; i++) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
        } catch (IOException closed) {
            // the server answered and closed while we were still writing
        }
        status = read(t).status();
        assertEquals(413, status);
        // more than 20,000 entries in one batch stop there
        byte[][] many = new byte[TxServer.MAX_BATCH_TXS + 1][];
        java.util.Arrays.fill(many, new byte[] {1});
        TxServer.Answer a = TxServer.receiveBatch(app, io.netty.buffer.Unpooled.wrappedBuffer(batch(many)));
        assertEquals(400, a.status());
        assertEquals(TxServer.MAX_BATCH_TXS, a.body().get("received"));
    }

    @Test
    void bodiesBeingReadAtOnce_areBoundedInTotal_andAStalledOneIsDroppedAtItsDeadline() throws Exception {
        start(new TxServer.Limits(3L * Ledger.MAX_TX_BYTES, 32L << 20, java.time.Duration.ofSeconds(3), TxServer.Limits.DEFAULTS.connections()));
        List<Socket> stalled = new ArrayList<>();
        for (int i = 0; i < 3; i++) { // three uploads that announce 64 KiB and send 10 bytes
            Socket s = connect();
            s.getOutputStream().write(("POST /v1/chain/txs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + Ledger.MAX_TX_BYTES + "\r\n\r\n0123456789")
                    .getBytes(StandardCharsets.ISO_8859_1));
            stalled.add(s);
        }
        awaitBuffered(3L * Ledger.MAX_TX_BYTES);
        Reply busy = post("/v1/chain/txs", "", transfer(0));
        assertEquals(503, busy.status(), "the fourth does not fit in what is left: " + busy.body());
        // each stalled one is answered 408 at its deadline and its share freed
        for (Socket s : stalled) {
            Reply r = read(s);
            assertEquals(408, r.status(), r.body());
        }
        awaitBuffered(0);
        assertEquals(200, post("/v1/chain/txs", "", transfer(0)).status());
    }

    /**
     * The limits the HTTP front adds (issue 23): a head must be whole within the deadline of its
     * first byte, and connections over the cap are answered 503 and closed before anything is read;
     * a keep-alive connection that answered a request waits for its next head without a deadline.
     */
    @Test
    void aHeadNotWholeInTime_is408_andConnectionsOverTheCap_are503_whileKeptAliveOnesServeOn() throws Exception {
        start(new TxServer.Limits(8L << 20, 32L << 20, java.time.Duration.ofSeconds(1), 2));
        Socket kept = connect();
        OutputStream out = kept.getOutputStream();
        out.write("GET /v1/chain/mempool HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(200, read(kept).status());
        Socket slow = connect(); // half a head, then nothing
        slow.getOutputStream().write("GET /v1/chain/mempool HTTP/1.1\r\nHo".getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < 1000 && server.connections() < 2; i++) {
            Thread.sleep(5); // the server's event loops take both connections in; a bounded wait for that event
        }
        Socket third = connect();
        Reply refused = read(third);
        assertEquals(503, refused.status(), refused.body());
        assertTrue(refused.body().contains("too many connections"), refused.body());
        assertEquals(-1, third.getInputStream().read(), "and the connection is closed");
        Reply timedOut = read(slow);
        assertEquals(408, timedOut.status(), timedOut.body());
        assertEquals(-1, slow.getInputStream().read(), "and the connection is closed");
        Thread.sleep(1500); // past the deadline: a kept-alive connection's next head has none until its first byte
        out.write("GET /v1/chain/mempool HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(200, read(kept).status());
    }

    private void awaitBuffered(long bytes) throws InterruptedException {
        for (int i = 0; i < 1000 && server.buffered()[0] != bytes; i++) {
            Thread.sleep(5); // the server's event loop takes the headers in; a bounded wait for that event
        }
        assertEquals(bytes, server.buffered()[0]);
    }

    @Test
    void requestsOverTheHeaderLimits_orWithContradictoryLengths_areRefusedAndClosed() throws Exception {
        start();
        Socket h = connect();
        h.getOutputStream().write(("GET /v1/chain/mempool HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a".repeat(10_000) + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(431, read(h).status());
        Socket l = connect();
        l.getOutputStream().write(("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(414, read(l).status());
        for (String bad : List.of("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "Content-Length: -5\r\n", "Content-Length: zz\r\n")) {
            Socket s = connect();
            s.getOutputStream().write(("POST /v1/chain/txs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + bad + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            Reply r = read(s);
            assertEquals(400, r.status(), bad + ": " + r.body());
        }
        Socket g = connect(); // and the endpoint still serves
        g.getOutputStream().write("GET /v1/chain/mempool HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(200, read(g).status());
    }

    @Test
    void aBadSignature_isVerifiedOnce_andNeverUnderTheLedgersLock() throws Exception {
        start();
        AtomicInteger underLock = new AtomicInteger();
        Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        app.verifier((sig, pk, msg) -> {
            if (Thread.holdsLock(app)) {
                underLock.incrementAndGet();
            }
            calls.computeIfAbsent(java.util.HexFormat.of().formatHex(sig), k -> new AtomicInteger()).incrementAndGet();
            return TxSignatures.verify(sig, pk, msg);
        });
        byte[] good = transfer(0);
        byte[] bad = transfer(1).clone();
        bad[bad.length - 1] ^= 1; // the signature's last byte
        byte[] body = batch(bad, good);
        Reply r = post("/v1/chain/mempool", signed(peer, body), body);
        assertEquals(200, r.status(), r.body());
        assertEquals(1, r.json().path("admitted").asInt());
        assertEquals(2, calls.size());
        calls.values().forEach(n -> assertEquals(1, n.get(), "each signature checked once: " + calls));

        // a block holding both (a proposer may send anything): the good one comes from the cache, the bad one is checked outside the lock
        app.handle(Request.newBuilder().setFinalizeBlock(RequestFinalizeBlock.newBuilder().setHeight(1)
                .addTxs(ByteString.copyFrom(good)).addTxs(ByteString.copyFrom(bad))
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L))).build());
        app.handle(Request.newBuilder().setCommit(RequestCommit.getDefaultInstance()).build());
        assertEquals(1, app.committed().account(Ledger.address(alice.publicKey())).nonce());
        assertEquals(0, underLock.get(), "no signature was verified while the ledger was locked");
        assertEquals(1, calls.get(java.util.HexFormat.of().formatHex(java.util.Arrays.copyOfRange(good, good.length - 64, good.length))).get(),
                "the admitted one is not verified again by the block");
        assertFalse(calls.values().stream().anyMatch(n -> n.get() > 2), calls.toString());
    }
}
