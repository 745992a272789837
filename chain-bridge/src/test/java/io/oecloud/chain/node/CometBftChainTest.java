package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.chain.testnet.LocalTestnet;
import io.oecloud.dht.Identity;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The ledger driven by a real CometBFT process over the ABCI socket, on loopback. */
@Timeout(300)
class CometBftChainTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-it";
    private static Path cometbft;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> open = new ArrayList<>();
    private Process engine;

    @BeforeAll
    static void install() throws Exception {
        cometbft = LocalTestnet.cometbft();
    }

    @AfterEach
    void stop() throws Exception {
        if (engine != null) {
            engine.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private JsonNode rpc(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private long height(int rpc) {
        try {
            return rpc(rpc, "/status").at("/result/sync_info/latest_block_height").asLong();
        } catch (Exception e) {
            return -1;
        }
    }

    private void awaitHeight(int rpc, long h) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (height(rpc) < h) {
            assertTrue(System.nanoTime() < end, "the chain did not reach height " + h);
            Thread.sleep(100); // polling another process's RPC
        }
    }

    private JsonNode account(int rpc, String address) throws Exception {
        String hex = HexFormat.of().formatHex(address.getBytes(StandardCharsets.UTF_8));
        JsonNode r = rpc(rpc, "/abci_query?path=%22/account%22&data=0x" + hex);
        return JSON.readTree(Base64.getDecoder().decode(r.at("/result/response/value").asText()));
    }

    /** Starts the ledger's ABCI server on its data dir and CometBFT on its home. */
    private void start(Path home, Path data, int abci) throws Exception {
        LedgerStore store = LedgerStore.open(data);
        open.add(store);
        AbciServer server = new AbciServer(new LedgerApp(store)).start(new InetSocketAddress("127.0.0.1", abci));
        open.add(server);
        engine = new ProcessBuilder(cometbft.toString(), "start", "--home", home.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("cometbft.log").toFile()).start();
    }

    @Test
    void oneValidator_commitsASignedTransfer_refusesItsReplay_andComesBackAfterKill9() throws Exception {
        Path home = dir.resolve("home");
        Process init = new ProcessBuilder(cometbft.toString(), "init", "--home", home.toString()).redirectErrorStream(true).start();
        init.getInputStream().readAllBytes();
        assertEquals(0, init.waitFor());
        int[] ports = CometConfig.freePorts(3);
        int abci = ports[0];
        int rpc = ports[1];
        int p2p = ports[2];
        Path config = home.resolve("config/config.toml");
        CometConfig.toml(config, "", "proxy_app", "\"tcp://127.0.0.1:" + abci + "\"");
        CometConfig.toml(config, "rpc", "laddr", "\"tcp://127.0.0.1:" + rpc + "\"");
        CometConfig.toml(config, "p2p", "laddr", "\"tcp://127.0.0.1:" + p2p + "\"");
        CometConfig.toml(config, "rpc", "pprof_laddr", "\"\"");
        CometConfig.toml(config, "consensus", "timeout_commit", "\"300ms\"");

        Identity alice = Identity.generate();
        Identity bob = Identity.generate();
        ObjectNode genesis = (ObjectNode) JSON.readTree(home.resolve("config/genesis.json").toFile());
        genesis.put("chain_id", CHAIN);
        ObjectNode app = genesis.putObject("app_state");
        Fees fees = new Fees(BigInteger.valueOf(1000), Fees.DEFAULT_PER_BYTE);
        app.put("minFee", fees.minimum().toString()).put("feePerByte", fees.perByte().toString());
        ArrayNode accounts = app.putArray("accounts");
        accounts.addObject().put("address", Ledger.address(alice.publicKey())).put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        Files.writeString(home.resolve("config/genesis.json"), JSON.writeValueAsString(genesis));

        Path data = dir.resolve("ledger");
        start(home, data, abci);
        awaitHeight(rpc, 2);

        BigInteger amount = Amounts.parsePasses("2.5");
        byte[] tx = fees.sign(alice, TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(alice.publicKey()))
                .setNonce(0)
                .setTransfer(Transfer.newBuilder().setTo(Ledger.address(bob.publicKey())).setAmount(ByteString.copyFrom(Amounts.encode(amount)))));
        String hex = HexFormat.of().formatHex(tx);
        JsonNode committed = rpc(rpc, "/broadcast_tx_commit?tx=0x" + hex);
        assertEquals(0, committed.at("/result/check_tx/code").asInt(), committed.toString());
        assertEquals(0, committed.at("/result/tx_result/code").asInt(), committed.toString());
        long txHeight = committed.at("/result/height").asLong();
        assertTrue(txHeight > 0);

        awaitHeight(rpc, txHeight + 1);
        assertEquals(amount.toString(), account(rpc, Ledger.address(bob.publicKey())).get("balance").asText());
        assertEquals(1, account(rpc, Ledger.address(alice.publicKey())).get("nonce").asLong());

        // the same bytes again stop at CometBFT's mempool cache; a new transaction reusing the nonce at the ledger
        JsonNode again = rpc(rpc, "/broadcast_tx_sync?tx=0x" + hex);
        assertTrue(again.toString().contains("already exists in cache"), again.toString());
        byte[] reuse = fees.sign(alice, TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(alice.publicKey()))
                .setNonce(0)
                .setTransfer(Transfer.newBuilder().setTo(Ledger.address(bob.publicKey())).setAmount(ByteString.copyFrom(Amounts.encode(BigInteger.TWO)))));
        JsonNode replay = rpc(rpc, "/broadcast_tx_sync?tx=0x" + HexFormat.of().formatHex(reuse));
        assertEquals(Ledger.Code.BAD_NONCE.value(), replay.at("/result/code").asInt(), replay.toString());
        assertTrue(replay.at("/result/log").asText().contains("replay"), replay.toString());

        // "OE copyright": register a CID, then ask who holds it
        io.oecloud.proofs.Cid work = io.oecloud.proofs.Cid.raw("a registered work".getBytes(StandardCharsets.UTF_8));
        byte[] reg = fees.sign(alice, TxBody.newBuilder().setChainId(CHAIN).setSender(ByteString.copyFrom(alice.publicKey()))
                .setNonce(1)
                .setRegisterCid(io.oecloud.chain.pb.ChainProto.RegisterCid.newBuilder().setCid(ByteString.copyFrom(work.toBytes()))
                        .setTitle("A work")));
        JsonNode registered = rpc(rpc, "/broadcast_tx_commit?tx=0x" + HexFormat.of().formatHex(reg));
        assertEquals(0, registered.at("/result/tx_result/code").asInt(), registered.toString());
        long regHeight = registered.at("/result/height").asLong();
        awaitHeight(rpc, regHeight + 1);
        String hexCid = HexFormat.of().formatHex(work.toString().getBytes(StandardCharsets.UTF_8));
        JsonNode whois = JSON.readTree(Base64.getDecoder().decode(
                rpc(rpc, "/abci_query?path=%22/cid%22&data=0x" + hexCid).at("/result/response/value").asText()));
        assertEquals(Ledger.address(alice.publicKey()), whois.get("owner").asText());
        assertEquals(regHeight, whois.get("sinceHeight").asLong());
        assertTrue(whois.get("sinceTime").asText().startsWith("20"), "the block's time: " + whois);

        // kill -9 the engine, restart app and engine on the same data: the handshake lines them up
        engine.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        open.clear();
        long before = height(rpc);
        start(home, data, abci);
        awaitHeight(rpc, txHeight + 3);
        assertTrue(height(rpc) > Math.max(before, txHeight), "blocks continue after the restart");
        assertEquals(amount.toString(), account(rpc, Ledger.address(bob.publicKey())).get("balance").asText());
    }
}
