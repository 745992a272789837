package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/** bin/oe devnet with its OEChain, as a user meets it: a funded key, oe wallet, oe chain. */
@Timeout(400)
class DevnetChainTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run leaves its nodes' logs
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        ChainDevnet.stopAll(started);
    }

    private static void awaitTrue(DevnetTest.Check c, long seconds, String what) throws Exception {
        DevnetTest.awaitTrue(c, seconds, what);
    }

    /** bin/oe devnet with its chain (free ports); waits for devnet.json, written once all is up. */
    private JsonNode startDevnet(Path data) throws Exception {
        Path log = dir.resolve("devnet.log");
        Process net = new ProcessBuilder(OeLauncherTest.ROOT.resolve("bin/oe").toString(), "devnet",
                "--data-dir", data.toString(), "--p2p-port", "0", "--api-port", "0")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(net);
        awaitTrue(() -> Files.exists(data.resolve("devnet.json")) || !net.isAlive(), 240, "devnet start");
        assertTrue(net.isAlive(), Files.readString(log));
        assertTrue(Files.readString(log).contains("a funded key"), Files.readString(log));
        return JSON.readTree(data.resolve("devnet.json").toFile());
    }

    private static OeLauncherTest.Run oe(String... args) throws Exception {
        return OeLauncherTest.oe(Map.of(), args);
    }

    private static long height(String api) throws Exception {
        OeLauncherTest.Run r = oe("chain", "status", "--api", api);
        if (r.code() != 0) {
            return -1;
        }
        for (String line : r.out().lines().toList()) {
            if (line.startsWith("height")) {
                return Long.parseLong(line.substring("height".length()).strip());
            }
        }
        return -1;
    }

    /** A Prometheus value from the node's /metrics, which needs its API token (the file devnet.json names). */
    private static double metric(String api, Path tokenFile, String name) throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        String text = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + api + "/metrics"))
                .header("Authorization", "Bearer " + Files.readString(tokenFile).strip())
                .timeout(java.time.Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).strip());
            }
        }
        return Double.NaN;
    }

    @Test
    void devnet_runsFourSuperNodes_aUserSendsPasses_andRegistersACid_andAKilledSuperNodeLeavesNoCometBft() throws Exception {
        Path data = dir.resolve("devnet");
        JsonNode doc = startDevnet(data);
        Process net = started.get(0);
        JsonNode chain = doc.get("chain");
        assertEquals("oe-devnet", chain.get("chainId").asText());
        assertEquals(4, chain.get("validators").size());
        String api = doc.at("/nodes/0/api").asText().substring("http://".length());
        String api2 = doc.at("/nodes/2/api").asText().substring("http://".length());
        awaitTrue(() -> height(api) >= 2, 60, "first blocks");

        // a new user's key, passes from the devnet's funded key, a CID registered
        Path wallet = dir.resolve("wallet");
        OeLauncherTest.Run created = oe("wallet", "new", "--wallet-dir", wallet.toString(), "--name", "me", "--no-passphrase");
        assertEquals(0, created.code(), created.err());
        String me = created.out();
        OeLauncherTest.Run sent = oe("wallet", "send", "--key", chain.get("devnetKey").asText(), "--api", api, me, "5");
        assertEquals(0, sent.code(), sent.err());
        assertTrue(sent.out().startsWith("sent 5 passes"), sent.out());
        OeLauncherTest.Run balance = oe("wallet", "balance", "--wallet-dir", wallet.toString(), "--name", "me", "--api", api2);
        assertEquals(0, balance.code(), balance.err());
        assertEquals("5 passes (5000000000000000000 base units)", balance.out(), "another super-node sees the transfer");

        Path work = Files.writeString(dir.resolve("work.txt"), "a work of mine");
        String cid = oe("cid", work.toString()).out().split("\\s+")[0];
        OeLauncherTest.Run reg = oe("chain", "register-cid", cid, "--title", "my work", "--wallet-dir", wallet.toString(), "--name", "me", "--api", api);
        assertEquals(0, reg.code(), reg.err());
        OeLauncherTest.Run whois = oe("chain", "whois", cid, "--api", api2);
        assertEquals(0, whois.code(), whois.err());
        assertTrue(whois.out().contains("owner        " + me), whois.out());
        // the same answers checked by the light client: a proof against a header signed by > 2/3 of the power
        Path trust = dir.resolve("light.json");
        OeLauncherTest.Run proven = oe("chain", "whois", cid, "--verify", "--trust-file", trust.toString(), "--api", api2);
        assertEquals(0, proven.code(), proven.err());
        assertTrue(proven.out().contains("trusting oe-devnet from its header at height 1 as first seen"), proven.out());
        assertTrue(proven.out().contains("verified against block") && proven.out().contains("owner        " + me), proven.out());
        OeLauncherTest.Run provenBalance = oe("wallet", "balance", me, "--verify", "--trust-file", trust.toString(), "--api", api);
        assertEquals(0, provenBalance.code(), provenBalance.err());
        // 5 passes less the registration's fee: 1,000 + 1,000 per byte of the signed transaction (a few hundred bytes)
        assertTrue(provenBalance.out().startsWith("4.99999999999") && provenBalance.out().contains(" of 40000 voting power"), provenBalance.out());
        assertFalse(provenBalance.out().contains("first seen"), "the trusted header is kept: " + provenBalance.out());
        Path otherWork = Files.writeString(dir.resolve("other.txt"), "nobody registered this");
        String unregistered = oe("cid", otherWork.toString()).out().split("\\s+")[0];
        OeLauncherTest.Run absent = oe("chain", "whois", unregistered, "--verify", "--trust-file", trust.toString(), "--api", api);
        assertEquals(1, absent.code());
        assertTrue(absent.err().contains("is not registered (proven absent)"), absent.err());
        OeLauncherTest.Run again = oe("chain", "register-cid", cid, "--key", chain.get("devnetKey").asText(), "--api", api);
        assertEquals(1, again.code());
        assertTrue(again.err().contains("is registered to " + me), again.err());
        OeLauncherTest.Run poor = oe("wallet", "send", "--wallet-dir", wallet.toString(), "--name", "me", "--api", api, me, "6");
        assertEquals(1, poor.code());
        assertTrue(poor.err().contains("holds"), poor.err());

        // bad input over HTTP: a clear error, nothing changes
        String balanceBefore = oe("wallet", "balance", "--wallet-dir", wallet.toString(), "--name", "me", "--api", api).out();
        var http = java.net.http.HttpClient.newHttpClient();
        var junk = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + api + "/v1/chain/txs?wait=commit"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[] {1, 2, 3})).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(422, junk.statusCode(), junk.body());
        assertTrue(junk.body().contains("not a transaction"), junk.body());
        var badAddr = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + api + "/v1/chain/accounts/nobody")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, badAddr.statusCode(), badAddr.body());
        var storageOnly = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(doc.at("/nodes/5/api").asText() + "/v1/chain/status")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(404, storageOnly.statusCode());
        assertTrue(storageOnly.body().contains("--super-node"), storageOnly.body());
        // that node reaches the chain through the super-nodes all the same: its account, funded at genesis, in oe status
        String node5 = doc.at("/nodes/5/dataDir").asText();
        // (funded with 1,000 passes at genesis, less its proving: the collateral it bonded and its transactions' fees)
        awaitTrue(() -> oe("status", "--data-dir", node5).out().contains("chain.balance      99"), 60,
                "node 5's account read from the chain");
        OeLauncherTest.Run status5 = oe("status", "--data-dir", node5);
        assertTrue(status5.out().contains("chain.account      " + doc.at("/nodes/5/peerId").asText() + "\n"), status5.out());
        java.util.function.Function<String, java.net.http.HttpResponse<String>> get = path -> {
            try {
                return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + api + path)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        var badHash = get.apply("/v1/chain/txs/not-a-hash");
        assertEquals(400, badHash.statusCode(), badHash.body());
        assertTrue(badHash.body().contains("64 hex digits"), badHash.body());
        var unknownTx = get.apply("/v1/chain/txs/" + "ab".repeat(32));
        assertEquals(404, unknownTx.statusCode(), unknownTx.body());
        var badHeight = get.apply("/v1/chain/light/commit/zero");
        assertEquals(400, badHeight.statusCode(), badHeight.body());
        assertEquals(400, get.apply("/v1/chain/accounts/nobody/txs").statusCode());
        OeLauncherTest.Run noKey = oe("chain", "register-candidate", "--validator-key", dir.resolve("missing.json").toString(),
                "--key", chain.get("devnetKey").asText(), "--api", api);
        assertEquals(1, noKey.code());
        assertTrue(noKey.err().contains("cannot read a validator public key from"), noKey.err());
        OeLauncherTest.Run badCommission = oe("chain", "register-candidate", "--validator-key",
                Path.of(chain.at("/validators/0/home").asText(), "config/priv_validator_key.json").toString(), "--commission", "2",
                "--key", chain.get("devnetKey").asText(), "--api", api);
        assertEquals(1, badCommission.code());
        assertTrue(badCommission.err().contains("--commission is a fraction from 0 to 1"), badCommission.err());
        assertEquals(balanceBefore, oe("wallet", "balance", "--wallet-dir", wallet.toString(), "--name", "me", "--api", api).out(),
                "refusals changed nothing");

        OeLauncherTest.Run vals = oe("chain", "validators", "--api", api);
        assertEquals(0, vals.code(), vals.err());
        assertEquals(4, vals.out().lines().filter(l -> l.contains("power 1")).count(), vals.out());
        // staking: the genesis candidates are the four super-nodes; the user votes for one with a delegation
        OeLauncherTest.Run cands = oe("chain", "candidates", "--api", api);
        assertEquals(0, cands.code(), cands.err());
        assertEquals(4, cands.out().lines().filter(l -> l.contains("stake 10000 passes") && l.contains("power 10000")).count(), cands.out());
        OeLauncherTest.Run params = oe("chain", "params", "--api", api);
        assertEquals(0, params.code(), params.err());
        assertTrue(params.out().contains("epochBlocks           20") && params.out().contains("reserve               10000000 passes"),
                params.out());
        String operator0 = chain.at("/validators/0/operator").asText();
        OeLauncherTest.Run delegated = oe("wallet", "delegate", "--wallet-dir", wallet.toString(), "--name", "me", "--api", api, operator0, "2");
        assertEquals(0, delegated.code(), delegated.err());
        String delegateTx = delegated.out().substring(delegated.out().indexOf("(tx ") + 4, delegated.out().length() - 1);
        OeLauncherTest.Run account = oe("chain", "account", me, "--api", api2);
        assertTrue(account.out().contains("bonded   2 passes (2000000000000000000 base units) on " + operator0), account.out());
        OeLauncherTest.Run tooMuch = oe("wallet", "undelegate", "--wallet-dir", wallet.toString(), "--name", "me", "--api", api, operator0, "3");
        assertEquals(1, tooMuch.code());
        assertTrue(tooMuch.err().contains("bonded to " + operator0 + ", not"), tooMuch.err());
        OeLauncherTest.Run undelegated = oe("wallet", "undelegate", "--wallet-dir", wallet.toString(), "--name", "me", "--api", api, operator0, "1");
        assertEquals(0, undelegated.code(), undelegated.err());
        assertTrue(oe("chain", "account", me, "--api", api).out().contains("unbonding 1 passes"), "one pass on its way back");
        OeLauncherTest.Run history = oe("wallet", "history", "--wallet-dir", wallet.toString(), "--name", "me", "--api", api2);
        assertEquals(0, history.code(), history.err());
        List<String> lines = history.out().lines().toList();
        assertEquals(4, lines.size(), history.out());
        assertTrue(lines.get(0).contains("undelegate") && lines.get(1).contains("delegate") && lines.get(2).contains("register_cid")
                && lines.get(3).contains("transfer") && lines.get(3).contains("to " + me), history.out());
        OeLauncherTest.Run tx = oe("chain", "tx", delegateTx, "--api", api2);
        assertEquals(0, tx.code(), tx.err());
        assertTrue(tx.out().contains("kind          delegate") && tx.out().contains("candidate     " + operator0), tx.out());

        Path token0 = Path.of(doc.at("/nodes/0/apiToken").asText());
        awaitTrue(() -> metric(api, token0, "oe_chain_height") > 2 && metric(api, token0, "oe_chain_validators") == 4, 30, "chain metrics");
        assertTrue(metric(api, token0, "oe_chain_txs_total") >= 4, "the transfer, the registration and the stake were counted");

        // a super-node killed with SIGKILL: its CometBFT goes too (its ABCI connection is gone); the rest go on
        JsonNode node1 = doc.at("/nodes/1");
        long engine = Long.parseLong(Files.readString(Path.of(chain.at("/validators/1/home").asText(), "cometbft.pid")).strip());
        ProcessHandle.of(node1.get("pid").asLong()).orElseThrow().destroyForcibly();
        // the kernel kills it (parent-death signal); it also quits on the broken ABCI connection
        awaitTrue(() -> !running(engine), 30, "the orphaned CometBFT exits");
        long h = height(api);
        awaitTrue(() -> height(api) >= h + 3, 60, "blocks with three of four super-nodes");

        // the whole devnet stops: no node and no CometBFT is left
        net.destroy();
        assertTrue(net.waitFor(60, TimeUnit.SECONDS));
        for (JsonNode v : chain.get("validators")) {
            Path pid = Path.of(v.get("home").asText(), "cometbft.pid");
            if (Files.exists(pid)) {
                long p = Long.parseLong(Files.readString(pid).strip());
                assertFalse(running(p), "CometBFT " + p + " still runs");
            }
        }
    }

    /**
     * Whether {@code pid} runs. An exited orphan stays a zombie until init reaps it, and
     * {@link ProcessHandle#isAlive} counts zombies as alive, so the state in /proc decides.
     */
    static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    private static JsonNode getJson(String url) throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        return JSON.readTree(http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .timeout(java.time.Duration.ofSeconds(20)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
    }

    private static long chainHeight(String rpc) {
        try {
            return getJson(rpc + "/status").at("/result/sync_info/latest_block_height").asLong();
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void aSuperNodeKilledWithSigkillThreeTimesUnderLoad_alwaysComesBackToTheSameState() throws Exception {
        Path data = dir.resolve("devnet");
        JsonNode doc = startDevnet(data);
        String rpc0 = doc.at("/chain/validators/0/rpc").asText();
        String rpc2 = doc.at("/chain/validators/2/rpc").asText();
        awaitTrue(() -> chainHeight(rpc0) >= 2, 60, "first blocks");
        io.oecloud.dht.Identity devnet = io.oecloud.dht.Identity.fromSeed(java.util.HexFormat.of().parseHex(
                JSON.readTree(Path.of(doc.at("/chain/devnetKey").asText()).toFile()).get("seed").asText()));
        String to = io.oecloud.chain.ledger.Ledger.address(io.oecloud.dht.Identity.generate().publicKey());

        String api0 = doc.at("/nodes/0/api").asText();
        // load: a transfer every 100 ms through node 0's API (its ledger's mempool) while node 2 is killed and restarted
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong accepted = new java.util.concurrent.atomic.AtomicLong();
        Thread load = Thread.ofVirtual().start(() -> {
            long nonce = 0;
            while (!stop.get()) {
                // the devnet's genesis: 1,000 base units a transaction plus 1,000 per byte of it
                byte[] tx = new io.oecloud.chain.ledger.Fees(java.math.BigInteger.valueOf(1000), io.oecloud.chain.ledger.Fees.DEFAULT_PER_BYTE).sign(devnet,
                        io.oecloud.chain.pb.ChainProto.TxBody.newBuilder().setChainId("oe-devnet")
                        .setSender(com.google.protobuf.ByteString.copyFrom(devnet.publicKey())).setNonce(nonce)
                        .setTransfer(io.oecloud.chain.pb.ChainProto.Transfer.newBuilder().setTo(to)
                                .setAmount(com.google.protobuf.ByteString.copyFrom(io.oecloud.chain.ledger.Amounts.encode(java.math.BigInteger.ONE)))));
                try {
                    JsonNode r = JSON.readTree(java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(api0 + "/v1/chain/txs")).timeout(java.time.Duration.ofSeconds(20))
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(tx)).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString()).body());
                    if (r.path("code").asInt(-1) == 0) {
                        nonce++;
                        accepted.incrementAndGet();
                    }
                    Thread.sleep(100); // the load's pace: ten transfers a second
                } catch (Exception e) {
                    // node 0 busy for a moment: try again
                }
            }
        });
        JsonNode node2 = doc.at("/nodes/2");
        List<String> cmd = new ArrayList<>();
        node2.get("cmd").forEach(c -> cmd.add(c.asText()));
        long pid = node2.get("pid").asLong();
        for (int round = 0; round < 3; round++) {
            ProcessHandle victim = ProcessHandle.of(pid).orElseThrow();
            victim.destroyForcibly(); // SIGKILL
            victim.onExit().get(30, TimeUnit.SECONDS);
            long before = chainHeight(rpc0);
            awaitTrue(() -> chainHeight(rpc0) > before, 30, "blocks without node 2");
            Path nodeLog = dir.resolve("node2-" + round + ".log");
            Process again = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(nodeLog.toFile()).start();
            started.add(again);
            awaitTrue(() -> Files.readString(nodeLog).contains("; ready") || !again.isAlive(), 120, "node 2 restart");
            pid = again.pid();
            long target = chainHeight(rpc0);
            awaitTrue(() -> chainHeight(rpc2) >= target, 120, "node 2 catching up to height " + target);
        }
        stop.set(true);
        load.join();
        assertTrue(accepted.get() > 10, "the load ran: " + accepted.get());
        awaitTrue(() -> getJson(api0 + "/v1/chain/mempool").path("pending").asInt() == 0, 60, "mempool drained");
        long h = chainHeight(rpc0) + 2;
        awaitTrue(() -> chainHeight(rpc2) >= h && chainHeight(rpc0) >= h, 60, "both past " + h);
        // node 2's own ledger reports the app hash the network signed, and holds every transfer
        JsonNode info = getJson(rpc2 + "/abci_info").at("/result/response");
        long mine = info.path("last_block_height").asLong();
        awaitTrue(() -> chainHeight(rpc0) > mine, 30, "the next block");
        String signed = getJson(rpc0 + "/block?height=" + (mine + 1)).at("/result/block/header/app_hash").asText();
        assertEquals(signed, java.util.HexFormat.of().formatHex(java.util.Base64.getDecoder()
                .decode(info.path("last_block_app_hash").asText())).toUpperCase());
        String hex = java.util.HexFormat.of().formatHex(to.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        JsonNode account = JSON.readTree(java.util.Base64.getDecoder().decode(
                getJson(rpc2 + "/abci_query?path=%22/account%22&data=0x" + hex).at("/result/response/value").asText()));
        assertEquals(String.valueOf(accepted.get()), account.get("balance").asText(), "every admitted transfer, once");
    }
}
