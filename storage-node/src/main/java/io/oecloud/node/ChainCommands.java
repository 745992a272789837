package io.oecloud.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.netty.handler.codec.http.HttpMethod;
import io.oecloud.chain.Amounts;
import io.oecloud.chain.Ledger;
import io.oecloud.chain.pb.ChainProto.RegisterCid;
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
    static JsonNode request(ObjectCommands.Target target, HttpMethod method, String uri, byte[] body) throws Exception {
        try (ApiClient client = new ApiClient(target.address())) {
            ApiClient.Answer a = client.call(method, uri, body).get(2, TimeUnit.MINUTES);
            JsonNode doc = JSON.readTree(a.body());
            if (a.status() / 100 != 2) {
                String msg = doc.path("error").asText(doc.path("log").asText("HTTP " + a.status()));
                throw new IOException(msg + (doc.has("code") ? " (code " + doc.get("code").asInt() + ")" : ""));
            }
            return doc;
        }
    }

    /** Signs and submits {@code body} (nonce and chain ID filled in from the chain), waiting for its block. */
    static JsonNode submit(ObjectCommands.Target target, Identity key, BigInteger fee, TxBody.Builder body) throws Exception {
        String me = Ledger.address(key.publicKey());
        JsonNode acct = request(target, HttpMethod.GET, "/v1/chain/accounts/" + me, null);
        JsonNode status = request(target, HttpMethod.GET, "/v1/chain/status", null);
        body.setChainId(status.path("chainId").asText()).setSender(ByteString.copyFrom(key.publicKey()))
                .setNonce(acct.path("nonce").asLong()).setFee(ByteString.copyFrom(Amounts.encode(fee)));
        return request(target, HttpMethod.POST, "/v1/chain/txs?wait=commit", Ledger.sign(key, body.build()));
    }

    /** Base units as passes: "2.5 passes (2500000000000000000)". */
    static String passes(String baseUnits) {
        BigInteger v = new BigInteger(baseUnits);
        return new java.math.BigDecimal(v).divide(new java.math.BigDecimal(Amounts.PASS)).stripTrailingZeros().toPlainString()
                + " passes (" + v + " base units)";
    }

    abstract static class Base implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        ObjectCommands.Target target;

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
            subcommands = {WalletNew.class, WalletImport.class, WalletAddress.class, WalletBalance.class, WalletSend.class})
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

        @Override
        void run() throws Exception {
            String a = address != null ? address : WalletKey.address(keys.file());
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

        @Option(names = "--fee", paramLabel = "BASE_UNITS", defaultValue = "1000", description = "Fee in base units (default: ${DEFAULT-VALUE}).")
        BigInteger fee;

        @Override
        void run() throws Exception {
            io.oecloud.dht.PeerId.parse(to);
            BigInteger base = Amounts.parsePasses(amount);
            JsonNode r = submit(target, keys.open(), fee, TxBody.newBuilder()
                    .setTransfer(Transfer.newBuilder().setTo(to).setAmount(ByteString.copyFrom(Amounts.encode(base)))));
            out().println("sent " + passes(base.toString()) + " to " + to + " in block " + r.path("height").asLong()
                    + " (tx " + r.path("hash").asText() + ")");
        }
    }

    @Command(name = "chain", description = "OEChain: status, accounts, the CID registry.",
            subcommands = {ChainStatus.class, ChainValidators.class, ChainAccount.class, RegisterCidCmd.class, Whois.class})
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

    @Command(name = "account", description = "An account's balance and nonce.")
    static final class ChainAccount extends Base {
        @Parameters(paramLabel = "ADDRESS")
        String address;

        @Override
        void run() throws Exception {
            JsonNode a = request(target, HttpMethod.GET, "/v1/chain/accounts/" + address, null);
            out().println("address  " + a.path("address").asText());
            out().println("balance  " + passes(a.path("balance").asText("0")));
            out().println("nonce    " + a.path("nonce").asLong());
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

        @Option(names = "--fee", paramLabel = "BASE_UNITS", defaultValue = "1000")
        BigInteger fee;

        @Override
        void run() throws Exception {
            Cid c = Cid.parse(cid);
            JsonNode r = submit(target, keys.open(), fee, TxBody.newBuilder().setRegisterCid(RegisterCid.newBuilder()
                    .setCid(ByteString.copyFrom(c.toBytes())).setTitle(title).setLicense(license)));
            out().println("registered " + c + " in block " + r.path("height").asLong() + " (tx " + r.path("hash").asText() + ")");
        }
    }

    @Command(name = "whois", description = "Who holds CID in the registry, and since when.")
    static final class Whois extends Base {
        @Parameters(paramLabel = "CID")
        String cid;

        @Override
        void run() throws Exception {
            Cid c = Cid.parse(cid);
            JsonNode r = request(target, HttpMethod.GET, "/v1/chain/cids/" + c, null);
            r.fields().forEachRemaining(e -> out().printf("%-12s %s%n", e.getKey(), e.getValue().asText()));
        }
    }
}
