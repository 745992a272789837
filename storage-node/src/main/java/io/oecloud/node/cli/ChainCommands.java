package io.oecloud.node.cli;

import io.oecloud.node.P2pNode;
import io.oecloud.node.WalletKey;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.netty.handler.codec.http.HttpMethod;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.client.LightClient;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.pb.ChainProto.RegisterCid;
import io.oecloud.chain.pb.ChainProto.StateProof;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code oe wallet ...} and {@code oe chain ...}: OEChain through a super-node's HTTP API. */
final class ChainCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChainCommands() {}

    /** Which key: {@code --key FILE}, or {@code --name NAME} in {@code --wallet-dir}. */
    static final class KeyChoice {
        @Option(names = "--wallet-dir", paramLabel = "DIR", defaultValue = "${sys:user.home}/.oecloud/wallet",
                description = "Where named keys live (default: ${DEFAULT-VALUE}).")
        Path walletDir;

        @Option(names = "--name", defaultValue = "default", description = "The key's name in the wallet directory (default: ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--key", paramLabel = "FILE", description = "A key file, instead of --name.")
        Path key;

        Path file() {
            return key != null ? key : walletDir.resolve(name + ".key");
        }

        Identity open() throws IOException {
            return WalletKey.open(file(), () -> WalletKey.passphrase("passphrase for " + file() + ": "));
        }
    }

    /** One JSON exchange with the node; a non-2xx answer becomes an IOException with its message. */
    static JsonNode request(NodeChoice target, HttpMethod method, String uri, byte[] body) throws Exception {
        try (ApiClient client = new ApiClient(target.endpoint())) {
            ApiClient.Answer a = client.call(method, uri, body).get(2, TimeUnit.MINUTES);
            JsonNode doc = JSON.readTree(a.body());
            if (a.status() / 100 != 2) {
                String msg = doc.path("error").asText(doc.path("log").asText("HTTP " + a.status()));
                throw new IOException(msg + (doc.has("code") ? " (code " + doc.get("code").asInt() + ")" : ""));
            }
            return doc;
        }
    }

    /**
     * Signs and submits {@code body} (nonce and chain ID filled in from the chain), waiting for its
     * block. The fee is what the chain asks for the signed transaction's size (minFee + feePerByte
     * x bytes, from /v1/chain/params), or {@code fee} when given (refused here when below that).
     */
    static JsonNode submit(NodeChoice target, Identity key, BigInteger fee, TxBody.Builder body) throws Exception {
        String me = Ledger.address(key.publicKey());
        JsonNode acct = request(target, HttpMethod.GET, "/v1/chain/accounts/" + me, null);
        JsonNode status = request(target, HttpMethod.GET, "/v1/chain/status", null);
        JsonNode params = request(target, HttpMethod.GET, "/v1/chain/params", null);
        io.oecloud.chain.ledger.Fees fees = new io.oecloud.chain.ledger.Fees(new BigInteger(params.path("minFee").asText("0")),
                new BigInteger(params.path("feePerByte").asText("0")));
        byte[] tx;
        try {
            tx = ChainClient.sign(key, body, status.path("chainId").asText(), acct.path("nonce").asLong(), fees, fee);
        } catch (IOException e) {
            throw new IOException("--fee " + e.getMessage(), e);
        }
        return request(target, HttpMethod.POST, "/v1/chain/txs?wait=commit", tx);
    }

    /** Base units as passes: "2.5 passes (2500000000000000000)". */
    static String passes(String baseUnits) {
        BigInteger v = new BigInteger(baseUnits);
        return new java.math.BigDecimal(v).divide(new java.math.BigDecimal(Amounts.PASS)).stripTrailingZeros().toPlainString()
                + " passes (" + v + " base units)";
    }

    /** Base units as passes alone ("1.5"), for tables. */
    static String shortPasses(String baseUnits) {
        return new java.math.BigDecimal(new BigInteger(baseUnits)).divide(new java.math.BigDecimal(Amounts.PASS)).stripTrailingZeros()
                .toPlainString();
    }

    abstract static class Base implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        NodeChoice target;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        abstract void run() throws Exception;

        @Override
        public final Integer call() {
            try {
                run();
                out().flush();
                return 0;
            } catch (Exception e) {
                spec.commandLine().getErr().println("oe " + spec.qualifiedName(" ").replaceFirst("^oe ", "") + ": "
                        + P2pNode.rootMessage(e));
                return 1;
            }
        }
    }

    @Command(name = "wallet", description = "Keys and passes on OEChain.",
            subcommands = {WalletNew.class, WalletImport.class, WalletAddress.class, WalletBalance.class, WalletSend.class,
                    WalletBond.class, WalletUnbond.class, WalletDelegate.class, WalletUndelegate.class, WalletHistory.class})
    static final class Wallet implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }
    }

    @Command(name = "new", description = "Create a key (encrypted with a passphrase unless --no-passphrase); prints its address.")
    static final class WalletNew extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Option(names = "--no-passphrase", description = "Store the key unencrypted (scripts, devnets).")
        boolean plain;

        @Override
        void run() throws Exception {
            byte[] seed = new byte[32];
            new SecureRandom().nextBytes(seed);
            WalletKey.write(keys.file(), seed, plain ? null : WalletKey.passphrase("new passphrase for " + keys.file() + ": "));
            out().println(WalletKey.address(keys.file()));
            spec.commandLine().getErr().println("key written to " + keys.file());
        }
    }

    @Command(name = "import", description = "Make a wallet key of a node's identity (its peer ID is its account) or of a hex seed.")
    static final class WalletImport extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Option(names = "--node-dir", paramLabel = "DIR", description = "A node's data directory (its identity.key).")
        Path nodeDir;

        @Option(names = "--seed", paramLabel = "HEX", description = "A 32-byte Ed25519 seed in hex.")
        String seedHex;

        @Option(names = "--no-passphrase", description = "Store the key unencrypted.")
        boolean plain;

        @Override
        void run() throws Exception {
            byte[] seed;
            if (nodeDir != null) {
                Identity id = Identity.loadOrCreate(nodeDir);
                byte[] data = io.oecloud.dht.pb.Keys.PrivateKey.parseFrom(id.privateKeyProto()).getData().toByteArray();
                seed = java.util.Arrays.copyOf(data, 32);
            } else if (seedHex != null) {
                seed = java.util.HexFormat.of().parseHex(seedHex);
            } else {
                throw new IllegalArgumentException("give --node-dir DIR or --seed HEX");
            }
            WalletKey.write(keys.file(), seed, plain ? null : WalletKey.passphrase("new passphrase for " + keys.file() + ": "));
            out().println(WalletKey.address(keys.file()));
        }
    }

    @Command(name = "address", description = "The key's account address (its peer ID).")
    static final class WalletAddress extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Override
        void run() throws Exception {
            out().println(WalletKey.address(keys.file()));
        }
    }

    @Command(name = "balance", description = "Passes held by the key's account (or ADDRESS).")
    static final class WalletBalance extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Parameters(arity = "0..1", paramLabel = "ADDRESS")
        String address;

        @CommandLine.Mixin
        VerifyOptions verify;

        @Override
        void run() throws Exception {
            String a = address != null ? address : WalletKey.address(keys.file());
            if (verify.verify) {
                java.io.StringWriter note = new java.io.StringWriter();
                LedgerState.Account acct = verifiedAccount(target, verify, a, new PrintWriter(note));
                out().println(passes(acct.balance().toString()));
                out().print(note);
                return;
            }
            JsonNode acct = request(target, HttpMethod.GET, "/v1/chain/accounts/" + a, null);
            out().println(passes(acct.path("balance").asText("0")));
        }
    }

    @Command(name = "send", description = "Send AMOUNT passes (decimal, e.g. 2.5) to ADDRESS; waits for the block.")
    static final class WalletSend extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Parameters(index = "0", paramLabel = "ADDRESS")
        String to;

        @Parameters(index = "1", paramLabel = "AMOUNT")
        String amount;

        @Option(names = "--fee", paramLabel = "BASE_UNITS", description = "Fee in base units (default: what the chain asks for the transaction's size: minFee + feePerByte x bytes).")
        BigInteger fee;

        @CommandLine.Mixin
        VerifyOptions verify;

        @Override
        void run() throws Exception {
            io.oecloud.dht.PeerId.parse(to);
            BigInteger base = Amounts.parsePasses(amount);
            JsonNode r = submit(target, keys.open(), fee, TxBody.newBuilder()
                    .setTransfer(Transfer.newBuilder().setTo(to).setAmount(ByteString.copyFrom(Amounts.encode(base)))));
            out().println("sent " + passes(base.toString()) + " to " + to + " in block " + r.path("height").asLong()
                    + " (tx " + r.path("hash").asText() + ")");
            if (verify.verify) {
                LedgerState.Account a = verifiedAccount(target, verify, to, out());
                out().println(to + " now holds " + passes(a.balance().toString()));
            }
        }
    }

    @Command(name = "chain", description = "OEChain: status, accounts, the CID and name registries.",
            subcommands = {ChainStatus.class, ChainValidators.class, ChainCandidates.class, ChainParams.class, ChainAccount.class, ChainTx.class,
                    ChainStorageNodes.class, StorageUnregisterCmd.class, RegisterCidCmd.class, Whois.class, NameRegisterCmd.class,
                    NameUpdateCmd.class, NameTransferCmd.class, NameCmd.class, RegisterCandidateCmd.class, UnjailCmd.class})
    static final class Chain implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }
    }

    @Command(name = "status", description = "Chain ID, height, app hash, this super-node's voting power.")
    static final class ChainStatus extends Base {
        @Override
        void run() throws Exception {
            JsonNode s = request(target, HttpMethod.GET, "/v1/chain/status", null);
            s.fields().forEachRemaining(e -> out().printf("%-17s %s%n", e.getKey(), e.getValue().asText()));
        }
    }

    @Command(name = "validators", description = "The current validator set: address and voting power.")
    static final class ChainValidators extends Base {
        @Override
        void run() throws Exception {
            JsonNode r = request(target, HttpMethod.GET, "/v1/chain/validators", null);
            out().println("at height " + r.path("height").asLong());
            for (JsonNode v : r.path("validators")) {
                out().printf("%s  power %d%n", v.path("address").asText(), v.path("power").asLong());
            }
        }
    }

    @Command(name = "storage-nodes", description = "Registered storage nodes and their proving records: collateral, periods "
            + "proven and missed, faults declared, penalties, timed audits passed and failed, standing.")
    static final class ChainStorageNodes extends Base {
        @Override
        void run() throws Exception {
            JsonNode nodes = request(target, HttpMethod.GET, "/v1/chain/storage-nodes", null);
            if (nodes.isEmpty()) {
                out().println("no storage node is registered");
            }
            for (JsonNode n : nodes) {
                out().printf("%s  %s  collateral %s  window %d  proven %d  missed %d  faults %d  penalties %s  audits passed %d"
                                + " failed %d%s%s%n",
                        n.path("address").asText(), n.path("leaving").asBoolean() ? "leaving " : n.path("active").asBoolean() ? "active  " : "inactive",
                        shortPasses(n.path("collateral").asText("0")), n.path("window").asInt(), n.path("proven").asLong(),
                        n.path("missed").asLong(), n.path("faultsDeclared").asLong(), shortPasses(n.path("penalties").asText("0")),
                        n.path("auditsPassed").asLong(), n.path("auditsFailed").asLong(),
                        n.path("poorStanding").asBoolean() ? "  POOR STANDING" : "", leaving(n));
            }
        }

        /** What a leaving node's line adds: the withdrawal and the block that pays it. */
        static String leaving(JsonNode n) {
            return n.path("leaving").asBoolean() ? "  withdrawing " + shortPasses(n.path("withdrawing").asText("0")) + " at block "
                    + n.path("withdrawAt").asLong() : "";
        }
    }

    @Command(name = "storage-unregister", description = "A storage node leaves: it commits no new roots, still answers the periods "
            + "it committed, and its collateral (less any penalty for a window it still misses) returns to its balance at the first "
            + "block of period current + withdrawPeriods (chain params). Signed by the node's identity (--node-dir) or a wallet key "
            + "holding it (oe wallet import --node-dir).")
    static final class StorageUnregisterCmd extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Option(names = "--node-dir", paramLabel = "DIR",
                description = "The storage node's data directory: its identity.key signs (its peer ID is the registered account).")
        Path nodeDir;

        @Option(names = "--fee", paramLabel = "BASE_UNITS", description = "Fee in base units (default: what the chain asks for the transaction's size: minFee + feePerByte x bytes).")
        BigInteger fee;

        /** The signing key: the node's identity when --node-dir is given, else the wallet key. */
        Identity signer() throws IOException {
            if (nodeDir == null) {
                return keys.open();
            }
            if (!java.nio.file.Files.exists(nodeDir.resolve(Identity.KEY_FILE))) {
                throw new IOException("--node-dir " + nodeDir + " holds no node identity (" + Identity.KEY_FILE + ")");
            }
            return Identity.loadOrCreate(nodeDir);
        }

        static TxBody.Builder body() {
            return TxBody.newBuilder().setUnregisterStorageNode(io.oecloud.chain.pb.ChainProto.UnregisterStorageNode.getDefaultInstance());
        }

        @Override
        void run() throws Exception {
            Identity key = signer();
            String me = Ledger.address(key.publicKey());
            JsonNode r = submit(target, key, fee, body());
            JsonNode n = request(target, HttpMethod.GET, "/v1/chain/storage-nodes/" + me, null);
            out().println(me + " unregistered in block " + r.path("height").asLong() + " (tx " + r.path("hash").asText() + "): "
                    + passes(n.path("withdrawing").asText("0")) + " return to its balance at block " + n.path("withdrawAt").asLong()
                    + "; it still answers the windows of the roots it committed");
        }
    }

    @Command(name = "account", description = "An account's balance and nonce, its stake and what is unbonding.")
    static final class ChainAccount extends Base {
        @Parameters(paramLabel = "ADDRESS")
        String address;

        @CommandLine.Mixin
        VerifyOptions verify;

        @Override
        void run() throws Exception {
            if (verify.verify) {
                LedgerState.Account a = verifiedAccount(target, verify, address, out());
                out().println("address  " + address);
                out().println("balance  " + passes(a.balance().toString()));
                out().println("nonce    " + a.nonce());
                return;
            }
            JsonNode a = request(target, HttpMethod.GET, "/v1/chain/accounts/" + address, null);
            out().println("address  " + a.path("address").asText());
            out().println("balance  " + passes(a.path("balance").asText("0")));
            out().println("nonce    " + a.path("nonce").asLong());
            a.path("delegations").fields().forEachRemaining(e -> out().println("bonded   " + passes(e.getValue().asText()) + " on " + e.getKey()));
            for (JsonNode u : a.path("unbonding")) {
                out().println("unbonding " + passes(u.path("amount").asText()) + " from " + u.path("candidate").asText()
                        + ", back at height " + u.path("completeHeight").asLong());
            }
        }
    }

    @Command(name = "register-cid", description = "Register CID to the key's account (the first registration wins).")
    static final class RegisterCidCmd extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Parameters(paramLabel = "CID")
        String cid;

        @Option(names = "--title")
        String title = "";

        @Option(names = "--license", description = "e.g. an SPDX identifier")
        String license = "";

        @Option(names = "--fee", paramLabel = "BASE_UNITS", description = "Fee in base units (default: what the chain asks for the transaction's size: minFee + feePerByte x bytes).")
        BigInteger fee;

        @CommandLine.Mixin
        VerifyOptions verify;

        @Override
        void run() throws Exception {
            Cid c = Cid.parse(cid);
            Identity key = keys.open();
            JsonNode r = submit(target, key, fee, TxBody.newBuilder().setRegisterCid(RegisterCid.newBuilder()
                    .setCid(ByteString.copyFrom(c.toBytes())).setTitle(title).setLicense(license)));
            out().println("registered " + c + " in block " + r.path("height").asLong() + " (tx " + r.path("hash").asText() + ")");
            if (verify.verify) {
                byte[] v = verified(target, verify, provedAnswer(target, "/v1/chain/cids/" + c + "?prove=true"), "cid/" + c, out());
                String me = Ledger.address(key.publicKey());
                if (v == null || !LedgerState.CidRecord.decode(v).owner().equals(me)) {
                    throw new IOException("the proven registry does not record " + c + " as " + me + "'s");
                }
            }
        }
    }

    @Command(name = "whois", description = "Who holds CID in the registry, and since when.")
    static final class Whois extends Base {
        @Parameters(paramLabel = "CID")
        String cid;

        @CommandLine.Mixin
        VerifyOptions verify;

        @Override
        void run() throws Exception {
            Cid c = Cid.parse(cid);
            if (verify.verify) {
                JsonNode answer = provedAnswer(target, "/v1/chain/cids/" + c + "?prove=true");
                byte[] v = verified(target, verify, answer, "cid/" + c, out());
                if (v == null) {
                    throw new IOException(c + " is not registered (proven absent)");
                }
                LedgerState.CidRecord r = LedgerState.CidRecord.decode(v);
                if (!r.owner().equals(answer.at("/value/owner").asText())) {
                    throw new IOException("the node's answer (owner " + answer.at("/value/owner").asText()
                            + ") differs from the proven state (owner " + r.owner() + ")");
                }
                out().printf("%-12s %s%n%-12s %s%n%-12s %d%n%-12s %s%n%-12s %s%n%-12s %s%n", "cid", c, "owner", r.owner(), "sinceHeight",
                        r.sinceHeight(), "sinceTime", java.time.Instant.ofEpochMilli(r.sinceMillis()), "title", r.title(), "license", r.license());
                return;
            }
            JsonNode r = request(target, HttpMethod.GET, "/v1/chain/cids/" + c, null);
            r.fields().forEachRemaining(e -> out().printf("%-12s %s%n", e.getKey(), e.getValue().asText()));
        }
    }

    /** A name as the chain's rule allows it (IllegalArgumentException naming what is wrong otherwise). */
    static String checkedName(String name) {
        String why = io.oecloud.chain.ledger.Names.problem(name);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        return name;
    }

    /** A name's record proven by the light client (null when proven absent), compared with the node's answer. */
    static io.oecloud.chain.ledger.Names.Record verifiedName(NodeChoice target, VerifyOptions o, String name, PrintWriter out) throws Exception {
        JsonNode answer = provedAnswer(target, "/v1/chain/names/" + name + "?prove=true");
        byte[] v = verified(target, o, answer, "name/" + name, out);
        if (v == null) {
            if (answer.has("value")) {
                throw new IOException("the node's answer (owner " + answer.at("/value/owner").asText() + ") differs from the proven state ("
                        + name + " is not registered)");
            }
            return null;
        }
        io.oecloud.chain.ledger.Names.Record r = io.oecloud.chain.ledger.Names.Record.decode(v);
        if (!r.owner().equals(answer.at("/value/owner").asText()) || !r.root().toString().equals(answer.at("/value/root").asText())) {
            throw new IOException("the node's answer (owner " + answer.at("/value/owner").asText() + ", root " + answer.at("/value/root").asText()
                    + ") differs from the proven state (owner " + r.owner() + ", root " + r.root() + ")");
        }
        return r;
    }

    /** Submits a name transaction, says what happened, and with --verify checks the proven record. */
    abstract static class NameTx extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Option(names = "--fee", paramLabel = "BASE_UNITS", description = "Fee in base units (default: what the chain asks for the transaction's size: minFee + feePerByte x bytes).")
        BigInteger fee;

        @CommandLine.Mixin
        VerifyOptions verify;

        /** The transaction; its arguments are checked here, before anything is asked of the node. */
        abstract TxBody.Builder body();

        abstract String done();

        /** Whether the proven record is what this transaction made. */
        abstract boolean holds(io.oecloud.chain.ledger.Names.Record r, String sender);

        abstract String name();

        @Override
        void run() throws Exception {
            TxBody.Builder body = body();
            Identity key = keys.open();
            JsonNode r = submit(target, key, fee, body);
            out().println(done() + " in block " + r.path("height").asLong() + " (tx " + r.path("hash").asText() + ")");
            if (verify.verify) {
                io.oecloud.chain.ledger.Names.Record rec = verifiedName(target, verify, name(), out());
                if (rec == null || !holds(rec, Ledger.address(key.publicKey()))) {
                    throw new IOException("the proven registry does not show the change to " + name());
                }
            }
        }
    }

    /** A name pointed at a root CID by its owner: registered or updated, the same arguments and the same proven outcome. */
    abstract static class NamePointTx extends NameTx {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "CID")
        String cid;

        /** The transaction for a checked name and a parsed CID. */
        abstract TxBody.Builder body(String checkedName, Cid root);

        /** What was done, for the output: "registered", "updated". */
        abstract String verb();

        @Override
        TxBody.Builder body() {
            return body(checkedName(name), Cid.parse(cid));
        }

        @Override
        String done() {
            return verb() + " " + name + " -> " + Cid.parse(cid);
        }

        @Override
        boolean holds(io.oecloud.chain.ledger.Names.Record r, String sender) {
            return r.owner().equals(sender) && r.root().equals(Cid.parse(cid));
        }

        @Override
        String name() {
            return name;
        }
    }

    @Command(name = "name-register", description = "Register NAME to the key's account, pointing at CID (the first registration wins; "
            + "pays the chain's names.registerFee on top of the fee). NAME: 3-63 of a-z, 0-9, '-', not first or last.")
    static final class NameRegisterCmd extends NamePointTx {
        @Override
        TxBody.Builder body(String checkedName, Cid root) {
            return io.oecloud.chain.client.ChainClient.registerNameTx(checkedName, root);
        }

        @Override
        String verb() {
            return "registered";
        }
    }

    @Command(name = "name-update", description = "Point the key's NAME at CID.")
    static final class NameUpdateCmd extends NamePointTx {
        @Override
        TxBody.Builder body(String checkedName, Cid root) {
            return io.oecloud.chain.client.ChainClient.updateNameTx(checkedName, root);
        }

        @Override
        String verb() {
            return "updated";
        }
    }

    @Command(name = "name-transfer", description = "Give the key's NAME to ADDRESS (its root stays).")
    static final class NameTransferCmd extends NameTx {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "ADDRESS")
        String to;

        @Override
        TxBody.Builder body() {
            io.oecloud.dht.PeerId.parse(to);
            return io.oecloud.chain.client.ChainClient.transferNameTx(checkedName(name), to);
        }

        @Override
        String done() {
            return "transferred " + name + " to " + to;
        }

        @Override
        boolean holds(io.oecloud.chain.ledger.Names.Record r, String sender) {
            return r.owner().equals(to);
        }

        @Override
        String name() {
            return name;
        }
    }

    @Command(name = "name", description = "Who owns NAME and which root CID it points to.")
    static final class NameCmd extends Base {
        @Parameters(paramLabel = "NAME")
        String name;

        @CommandLine.Mixin
        VerifyOptions verify;

        @Override
        void run() throws Exception {
            checkedName(name);
            if (verify.verify) {
                java.io.StringWriter note = new java.io.StringWriter();
                io.oecloud.chain.ledger.Names.Record r = verifiedName(target, verify, name, new PrintWriter(note));
                if (r == null) {
                    out().print(note);
                    throw new IOException(name + " is not registered (proven absent)");
                }
                out().printf("%-14s %s%n%-14s %s%n%-14s %s%n%-14s %d%n%-14s %d%n%-14s %s%n", "name", name, "owner", r.owner(), "root", r.root(),
                        "sinceHeight", r.sinceHeight(), "updatedHeight", r.updatedHeight(), "updatedTime",
                        java.time.Instant.ofEpochMilli(r.updatedMillis()));
                out().print(note);
                return;
            }
            JsonNode r = request(target, HttpMethod.GET, "/v1/chain/names/" + name, null);
            r.fields().forEachRemaining(e -> out().printf("%-14s %s%n", e.getKey(), e.getValue().asText()));
        }
    }

    /** {@code --verify}: check answers with a light client instead of trusting the node. */
    static final class VerifyOptions {
        @Option(names = "--verify", description = "Check the answer with its Merkle proof against a header signed by more than 2/3 of "
                + "the validators' power (a light client), instead of trusting the node.")
        boolean verify;

        @Option(names = "--trust-file", paramLabel = "FILE",
                description = "The light client's trusted header (default: ~/.oecloud/light/CHAIN_ID.json).")
        Path trustFile;

        @Option(names = "--trust-hash", paramLabel = "HEX",
                description = "Pin the first trusted header by its hash (otherwise it is trusted as first seen).")
        String trustHash;

        @Option(names = "--trust-height", paramLabel = "N", defaultValue = "1",
                description = "The height of the first trusted header (default: ${DEFAULT-VALUE}); used when the trust file holds none.")
        long trustHeight;

        @Option(names = "--trusting-period", paramLabel = "DURATION", defaultValue = "P14D",
                description = "How old a trusted header may be to vouch for later ones, ISO-8601 (default: ${DEFAULT-VALUE}).")
        java.time.Duration trustingPeriod;
    }

    /** A node that serves headers, commits and validator sets, each checked by the light client. */
    private record HttpSource(NodeChoice target) implements LightClient.Source {
        @Override
        public JsonNode commit(long height) throws Exception {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (request(target, HttpMethod.GET, "/v1/chain/status", null).path("height").asLong() < height) {
                if (System.nanoTime() > end) {
                    throw new IOException("the chain did not reach height " + height + " within 20 s");
                }
                Thread.sleep(200); // the next block comes within a commit timeout
            }
            return request(target, HttpMethod.GET, "/v1/chain/light/commit/" + height, null);
        }

        @Override
        public JsonNode validators(long height) throws Exception {
            return request(target, HttpMethod.GET, "/v1/chain/light/validators/" + height, null);
        }
    }

    /** GET of a proved answer: 200 and 404 both carry a proof. */
    static JsonNode provedAnswer(NodeChoice target, String uri) throws Exception {
        try (ApiClient client = new ApiClient(target.endpoint())) {
            ApiClient.Answer a = client.call(HttpMethod.GET, uri, null).get(2, TimeUnit.MINUTES);
            JsonNode doc = JSON.readTree(a.body());
            if (!doc.has("proof") || doc.path("proof").asText().isEmpty()) {
                throw new IOException(doc.path("error").asText("HTTP " + a.status()) + " (no proof in the answer)");
            }
            return doc;
        }
    }

    /** Checks a proved answer: returns the proven state entry (null when proven absent) and says what vouches for it. */
    static byte[] verified(NodeChoice target, VerifyOptions o, JsonNode answer, String key, PrintWriter out) throws Exception {
        StateProof proof = StateProof.parseFrom(java.util.Base64.getDecoder().decode(answer.path("proof").asText()));
        String chainId = request(target, HttpMethod.GET, "/v1/chain/status", null).path("chainId").asText();
        Path file = o.trustFile != null ? o.trustFile : Path.of(System.getProperty("user.home"), ".oecloud", "light", chainId + ".json");
        boolean first = !java.nio.file.Files.exists(file);
        LightClient lc = new LightClient(new HttpSource(target), file, chainId, o.trustHeight,
                o.trustHash == null ? null : java.util.HexFormat.of().parseHex(o.trustHash), o.trustingPeriod, java.time.Instant::now);
        LightClient.Proven proven = lc.verifyEntry(proof, key);
        LightClient.Verified h = proven.header();
        if (first) {
            out.println("trusting " + chainId + " from its header at height " + o.trustHeight
                    + (o.trustHash == null ? " as first seen (pin it with --trust-hash)" : ", pinned by its hash") + "; kept in " + file);
        }
        out.println("verified against block " + h.height() + " signed by " + h.signedPower() + " of " + h.totalPower()
                + " voting power (state after block " + proof.getHeight() + ")");
        return proven.value();
    }

    /** An account's balance and nonce from a proof checked by the light client, compared with the node's answer. */
    static LedgerState.Account verifiedAccount(NodeChoice target, VerifyOptions o, String address, PrintWriter out) throws Exception {
        io.oecloud.dht.PeerId.parse(address);
        JsonNode answer = provedAnswer(target, "/v1/chain/accounts/" + address + "?prove=true");
        byte[] v = verified(target, o, answer, "account/" + address, out);
        LedgerState.Account a = v == null ? LedgerState.Account.EMPTY : LedgerState.Account.decode(v);
        if (!a.balance().toString().equals(answer.at("/value/balance").asText()) || a.nonce() != answer.at("/value/nonce").asLong()) {
            throw new IOException("the node's answer (balance " + answer.at("/value/balance").asText() + ") differs from the proven state (balance "
                    + a.balance() + ")");
        }
        return a;
    }

    /** Decimal passes to a wire amount. */
    static ByteString amount(String passes) {
        return ByteString.copyFrom(Amounts.encode(Amounts.parsePasses(passes)));
    }

    /** Submits a staking transaction and says what happened. */
    abstract static class StakingTx extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Option(names = "--fee", paramLabel = "BASE_UNITS", description = "Fee in base units (default: what the chain asks for the transaction's size: minFee + feePerByte x bytes).")
        BigInteger fee;

        abstract TxBody.Builder body();

        /** The transaction, for kinds that need to know who signs it; most do not. */
        TxBody.Builder body(Identity sender) throws IOException {
            return body();
        }

        abstract String done();

        @Override
        void run() throws Exception {
            Identity sender = keys.open();
            JsonNode r = submit(target, sender, fee, body(sender));
            out().println(done() + " in block " + r.path("height").asLong() + " (tx " + r.path("hash").asText() + ")");
        }
    }

    @Command(name = "bond", description = "Add AMOUNT passes to your own candidacy's stake (self-bond).")
    static final class WalletBond extends StakingTx {
        @Parameters(paramLabel = "AMOUNT")
        String amount;

        @Override
        TxBody.Builder body() {
            return TxBody.newBuilder().setBond(io.oecloud.chain.pb.ChainProto.Bond.newBuilder().setAmount(amount(amount)));
        }

        @Override
        String done() {
            return "bonded " + amount + " passes";
        }
    }

    @Command(name = "unbond", description = "Start unbonding AMOUNT passes of your self-bond (paid back after the unbonding period).")
    static final class WalletUnbond extends StakingTx {
        @Parameters(paramLabel = "AMOUNT")
        String amount;

        @Override
        TxBody.Builder body() {
            return TxBody.newBuilder().setUnbond(io.oecloud.chain.pb.ChainProto.Unbond.newBuilder().setAmount(amount(amount)));
        }

        @Override
        String done() {
            return "unbonding " + amount + " passes";
        }
    }

    @Command(name = "delegate", description = "Stake AMOUNT passes on CANDIDATE (a stake-weighted vote; earns a share of its rewards).")
    static final class WalletDelegate extends StakingTx {
        @Parameters(index = "0", paramLabel = "CANDIDATE")
        String candidate;

        @Parameters(index = "1", paramLabel = "AMOUNT")
        String amount;

        @Override
        TxBody.Builder body() {
            io.oecloud.dht.PeerId.parse(candidate);
            return TxBody.newBuilder().setDelegate(io.oecloud.chain.pb.ChainProto.Delegate.newBuilder().setCandidate(candidate)
                    .setAmount(amount(amount)));
        }

        @Override
        String done() {
            return "delegated " + amount + " passes to " + candidate;
        }
    }

    @Command(name = "undelegate", description = "Start taking AMOUNT passes back from CANDIDATE (paid back after the unbonding period).")
    static final class WalletUndelegate extends StakingTx {
        @Parameters(index = "0", paramLabel = "CANDIDATE")
        String candidate;

        @Parameters(index = "1", paramLabel = "AMOUNT")
        String amount;

        @Override
        TxBody.Builder body() {
            io.oecloud.dht.PeerId.parse(candidate);
            return TxBody.newBuilder().setUndelegate(io.oecloud.chain.pb.ChainProto.Undelegate.newBuilder().setCandidate(candidate)
                    .setAmount(amount(amount)));
        }

        @Override
        String done() {
            return "undelegating " + amount + " passes from " + candidate;
        }
    }

    @Command(name = "history", description = "Committed transactions sent or received by the key's account (or ADDRESS), and its storage payments, newest first.")
    static final class WalletHistory extends Base {
        @CommandLine.Mixin
        KeyChoice keys;

        @Parameters(arity = "0..1", paramLabel = "ADDRESS")
        String address;

        @Override
        void run() throws Exception {
            String a = address != null ? address : WalletKey.address(keys.file());
            JsonNode r = request(target, HttpMethod.GET, "/v1/chain/accounts/" + a + "/txs", null);
            // transactions and storage payments together, newest first
            java.util.TreeMap<Long, java.util.List<String>> byHeight = new java.util.TreeMap<>(java.util.Comparator.reverseOrder());
            for (JsonNode t : r.path("txs")) {
                byHeight.computeIfAbsent(t.path("height").asLong(), h -> new java.util.ArrayList<>()).add(line(t));
            }
            for (JsonNode p : r.path("payments")) {
                byHeight.computeIfAbsent(p.path("height").asLong(), h -> new java.util.ArrayList<>()).add(paymentLine(p));
            }
            byHeight.values().forEach(lines -> lines.forEach(out()::println));
        }
    }

    /** One storage payment: the period settled, what the node was due, and whether it was paid. */
    static String paymentLine(JsonNode p) {
        return "height " + p.path("height").asLong() + "  storage payment  period " + p.path("period").asLong() + "  "
                + passes(p.path("amount").asText()) + (p.path("paid").asBoolean()
                ? "  paid" : "  NOT PAID (the window was not proven: to the fee pool)");
    }

    /** One line of a transaction: height, kind, what moved, and whether it was refused. */
    static String line(JsonNode t) {
        StringBuilder b = new StringBuilder().append("height ").append(t.path("height").asLong()).append("  ").append(t.path("kind").asText());
        b.append("  from ").append(t.path("sender").asText());
        for (String f : new String[] {"to", "candidate"}) {
            if (t.has(f)) {
                b.append("  ").append(f).append(' ').append(t.path(f).asText());
            }
        }
        for (String f : new String[] {"amount", "selfBond"}) {
            if (t.has(f)) {
                b.append("  ").append(passes(t.path(f).asText()));
            }
        }
        if (t.has("cid")) {
            b.append("  ").append(t.path("cid").asText());
        }
        if (t.path("code").asInt() != 0) {
            b.append("  REFUSED (code ").append(t.path("code").asInt()).append("): ").append(t.path("log").asText());
        }
        return b.append("  tx ").append(t.path("hash").asText()).toString();
    }

    @Command(name = "candidates", description = "Candidates for super-node by stake: power (0 when not in the set), commission, jail.")
    static final class ChainCandidates extends Base {
        @Override
        void run() throws Exception {
            for (JsonNode c : request(target, HttpMethod.GET, "/v1/chain/candidates", null)) {
                out().printf("%s  %-12s stake %s  power %d  commission %s%%  delegators %d%s%n", c.path("address").asText(),
                        c.path("moniker").asText(), passes(c.path("stake").asText()), c.path("power").asLong(),
                        new java.math.BigDecimal(c.path("commissionPpm").asInt()).movePointLeft(4).stripTrailingZeros().toPlainString(),
                        c.path("delegators").asInt(), c.path("jailed").asBoolean() ? "  JAILED until " + c.path("jailedUntil").asLong() : "");
            }
        }
    }

    @Command(name = "params", description = "Staking parameters (epoch, set size, unbonding, rewards, slashing), pools and supply counters.")
    static final class ChainParams extends Base {
        @Override
        void run() throws Exception {
            JsonNode p = request(target, HttpMethod.GET, "/v1/chain/params", null);
            java.util.Set<String> amounts = java.util.Set.of("minSelfBond", "blockReward", "minFee", "feePool", "reserve", "genesisSupply", "minted", "slashed");
            p.fields().forEachRemaining(e -> out().printf("%-21s %s%n", e.getKey(),
                    amounts.contains(e.getKey()) ? passes(e.getValue().asText()) : e.getValue().asText()));
        }
    }

    @Command(name = "tx", description = "A committed transaction by its hash: block, result and content.")
    static final class ChainTx extends Base {
        @Parameters(paramLabel = "HASH")
        String hash;

        @Override
        void run() throws Exception {
            JsonNode t = request(target, HttpMethod.GET, "/v1/chain/txs/" + hash, null);
            t.fields().forEachRemaining(e -> out().printf("%-13s %s%n", e.getKey(), e.getValue().asText()));
        }
    }

    @Command(name = "register-candidate", description = "Make the key's account a candidate for super-node, signing blocks with a CometBFT validator key.")
    static final class RegisterCandidateCmd extends StakingTx {
        @Option(names = "--validator-key", paramLabel = "FILE", required = true,
                description = "CometBFT's priv_validator_key.json (only its public key is read), e.g. HOME/config/priv_validator_key.json.")
        Path validatorKey;

        @Option(names = "--commission", defaultValue = "0.1", description = "Share of delegators' rewards kept, 0 to 1 (default: ${DEFAULT-VALUE}).")
        java.math.BigDecimal commission;

        @Option(names = "--self-bond", defaultValue = "0", paramLabel = "PASSES", description = "Passes bonded at once (default: ${DEFAULT-VALUE}).")
        String selfBond;

        @Option(names = "--moniker", defaultValue = "")
        String moniker;

        @Option(names = "--node-dir", paramLabel = "DIR",
                description = "The data directory of the super-node that will sign blocks for this candidacy: its identity's beacon key "
                        + "(BLS, derived from the identity) is registered with a proof of possession, so its votes add to the chain's "
                        + "randomness (default: the sending key is the node's own identity, as when a node registers itself).")
        Path nodeDir;

        @Override
        TxBody.Builder body(Identity sender) throws IOException {
            Identity node = sender;
            if (nodeDir != null) {
                if (!java.nio.file.Files.exists(nodeDir.resolve(Identity.KEY_FILE))) {
                    throw new IOException("--node-dir " + nodeDir + " holds no node identity (" + Identity.KEY_FILE + ")");
                }
                node = Identity.loadOrCreate(nodeDir);
            }
            io.oecloud.chain.beacon.Bls.SecretKey beacon = io.oecloud.chain.beacon.Bls.SecretKey.fromIdentity(node);
            TxBody.Builder b = body();
            b.getRegisterCandidateBuilder().setBeaconKey(ByteString.copyFrom(beacon.publicKey()))
                    .setBeaconPop(ByteString.copyFrom(beacon.pop(Ledger.address(sender.publicKey()))));
            return b;
        }

        @Override
        TxBody.Builder body() {
            byte[] key;
            try {
                key = java.util.Base64.getDecoder().decode(JSON.readTree(validatorKey.toFile()).at("/pub_key/value").asText());
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot read a validator public key from " + validatorKey + ": " + e.getMessage());
            }
            if (commission.signum() < 0 || commission.compareTo(java.math.BigDecimal.ONE) > 0) {
                throw new IllegalArgumentException("--commission is a fraction from 0 to 1, not " + commission);
            }
            return TxBody.newBuilder().setRegisterCandidate(io.oecloud.chain.pb.ChainProto.RegisterCandidate.newBuilder()
                    .setValidatorKey(ByteString.copyFrom(key)).setCommissionPpm(commission.movePointRight(6).intValue())
                    .setSelfBond(amount(selfBond)).setMoniker(moniker));
        }

        @Override
        String done() {
            return "registered as a candidate";
        }
    }

    @Command(name = "unjail", description = "Ask to be chosen again after a jail term (refused before it ends).")
    static final class UnjailCmd extends StakingTx {
        @Override
        TxBody.Builder body() {
            return TxBody.newBuilder().setUnjail(io.oecloud.chain.pb.ChainProto.Unjail.getDefaultInstance());
        }

        @Override
        String done() {
            return "unjailed";
        }
    }
}
