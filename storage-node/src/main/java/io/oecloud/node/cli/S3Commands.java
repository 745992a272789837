package io.oecloud.node.cli;

import io.oecloud.node.s3.S3Keys;
import io.oecloud.node.s3.S3Signer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code oe s3}: the S3 gateway's keys ({@code keys create|list|revoke}, on the gateway node's data
 * directory; a running gateway sees a change at its next request) and a bucket's public reads
 * ({@code public BUCKET on|off}, a signed PUT ?acl to the running gateway). A devnet's directory
 * may be given for its gateway node's (node 0).
 */
@Command(name = "s3", description = "The S3 gateway: access keys and public buckets.",
        subcommands = {S3Commands.Keys.class, S3Commands.Public.class, S3Commands.Restore.class})
final class S3Commands {
    private S3Commands() {}

    /** The gateway node's data directory: DIR itself, or node-0 of the devnet in DIR or DIR/devnet. */
    static Path gatewayDir(Path dir) {
        for (Path candidate : new Path[] {dir, dir.resolve("devnet")}) {
            if (Files.exists(candidate.resolve("devnet.json"))) {
                return candidate.resolve("node-0");
            }
        }
        return dir;
    }

    /** The URL of the gateway recorded in a devnet's devnet.json, or null. */
    static String devnetUrl(Path dir) throws IOException {
        for (Path candidate : new Path[] {dir, dir.resolve("devnet")}) {
            Path f = candidate.resolve("devnet.json");
            if (Files.exists(f)) {
                var s3 = new com.fasterxml.jackson.databind.ObjectMapper().readTree(f.toFile()).path("s3");
                return s3.isMissingNode() ? null : s3.path("url").asText();
            }
        }
        return null;
    }

    @Command(name = "keys", description = "Create, list or revoke the gateway's access keys.")
    static final class Keys implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ACTION", description = "create, list or revoke")
        String action;

        @Parameters(index = "1", arity = "0..1", paramLabel = "ACCESS_KEY_ID", description = "the key to revoke")
        String id;

        @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${sys:user.home}/.oecloud",
                description = "The gateway node's data directory, or a devnet's (its node 0) (default: ${DEFAULT-VALUE}).")
        Path dataDir;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            S3Keys keys = S3Keys.in(gatewayDir(dataDir));
            var out = spec.commandLine().getOut();
            switch (action) {
                case "create" -> {
                    S3Keys.Key k = keys.create(System.currentTimeMillis());
                    out.println("AWS_ACCESS_KEY_ID=" + k.accessKeyId());
                    out.println("AWS_SECRET_ACCESS_KEY=" + k.secret());
                    out.println("(the secret is kept in " + keys.file() + ", readable by this user only)");
                }
                case "list" -> {
                    for (S3Keys.Key k : keys.list()) {
                        out.println(k.accessKeyId() + "  created " + Instant.ofEpochMilli(k.createdMillis()) + (k.revoked() ? "  REVOKED" : ""));
                    }
                }
                case "revoke" -> {
                    if (id == null) {
                        throw new CommandLine.ParameterException(spec.commandLine(), "revoke needs the ACCESS_KEY_ID");
                    }
                    if (!keys.revoke(id)) {
                        throw new CommandLine.ParameterException(spec.commandLine(), "no key " + id + " in " + keys.file());
                    }
                    out.println("revoked " + id);
                }
                default -> throw new CommandLine.ParameterException(spec.commandLine(), "ACTION is create, list or revoke, not '" + action + "'");
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "restore", description = "Rebuild the gateway's namespace (buckets, keys, uploads) from its latest snapshot on the"
            + " network: the name the namespace key publishes on OEChain, the sealed snapshot it points to. With --namespace-key the key"
            + " becomes this node's namespace key (DIR/s3/identity.key), so a fresh node takes the namespace over: it reads, deletes"
            + " and pays for the objects as the old one did. Run it with the node stopped; the node's s3/index must not exist.")
    static final class Restore implements Callable<Integer> {
        @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${sys:user.home}/.oecloud",
                description = "The gateway node's data directory, or a devnet's (its node 0) (default: ${DEFAULT-VALUE}).")
        Path dataDir;

        @Option(names = "--namespace-key", paramLabel = "FILE",
                description = "The namespace key (a copy of the old DATA_DIR/s3/identity.key; default: the one in DIR/s3), installed as"
                        + " this node's.")
        Path namespaceKey;

        @Option(names = "--replace-namespace-key", description = "DIR/s3 holds another namespace key: set it aside"
                + " (identity.key.replaced-MILLIS) and install the given one. Without it restore refuses.")
        boolean replace;

        @Option(names = "--api", paramLabel = "HOST:PORT", description = "A running super-node's API to read the name and the snapshot"
                + " through (default for a devnet: its node 1).")
        String api;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Path node = gatewayDir(dataDir);
            Path s3 = node.resolve("s3");
            Path index = s3.resolve("index");
            if (Files.exists(index)) {
                throw new CommandLine.ParameterException(spec.commandLine(), index + " exists: stop the node and move it away first"
                        + " (restore builds a new index and never overwrites one)");
            }
            Path installed = io.oecloud.node.s3.NamespaceKey.file(node);
            if (namespaceKey == null && !Files.exists(installed)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "no namespace key: give --namespace-key FILE (a copy of the"
                        + " lost node's s3/identity.key)");
            }
            io.oecloud.dht.Identity key;
            try {
                key = io.oecloud.node.s3.NamespaceKey.read(namespaceKey != null ? namespaceKey : installed);
                io.oecloud.node.s3.NamespaceKey.checkInstallable(key, node, replace); // refused before anything is read or written
            } catch (IOException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            String name = io.oecloud.node.s3.S3Snapshots.name(key.publicKey());
            String base = "http://" + (api != null ? api : devnetApi(dataDir, 1));
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> rec = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chain/names/" + name))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            if (rec.statusCode() == 404) {
                spec.commandLine().getErr().println("the name " + name + " is not registered: this namespace published no snapshot");
                return 1;
            }
            if (rec.statusCode() != 200) {
                spec.commandLine().getErr().println("the chain did not answer for " + name + " (" + rec.statusCode() + "): " + rec.body());
                return 1;
            }
            var doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(rec.body());
            String owner = doc.findValue("owner") == null ? "" : doc.findValue("owner").asText();
            if (!owner.equals(io.oecloud.chain.ledger.Ledger.address(key.publicKey()))) {
                spec.commandLine().getErr().println("the name " + name + " belongs to " + owner + ", not to this namespace key");
                return 1;
            }
            String cid = doc.findValue("root").asText();
            HttpResponse<byte[]> snap = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/objects/" + cid))
                    .timeout(Duration.ofMinutes(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
            if (snap.statusCode() != 200) {
                spec.commandLine().getErr().println("the snapshot " + cid + " could not be read (" + snap.statusCode() + ")");
                return 1;
            }
            // the index first: a key installed without its index would start an empty namespace that could overwrite the name
            io.oecloud.node.s3.S3Snapshots.restore(key, io.oecloud.proofs.Cid.parse(cid), snap.body(), s3);
            Path aside = io.oecloud.node.s3.NamespaceKey.install(key, node, replace);
            var out = spec.commandLine().getOut();
            if (aside != null) {
                out.println("the namespace key that was in " + s3 + " is now " + aside);
            }
            out.println("restored the namespace " + name + " from snapshot " + cid + " (" + snap.body().length
                    + " bytes) into " + index + ", owned by the namespace key " + installed + " (account "
                    + io.oecloud.chain.ledger.Ledger.address(key.publicKey()) + "); start the node with --s3");
            return 0;
        }
    }

    /** The API (HOST:PORT) of node {@code i} of the devnet in {@code dir} or {@code dir/devnet}. */
    static String devnetApi(Path dir, int i) throws IOException {
        for (Path candidate : new Path[] {dir, dir.resolve("devnet")}) {
            Path f = candidate.resolve("devnet.json");
            if (Files.exists(f)) {
                String api = new com.fasterxml.jackson.databind.ObjectMapper().readTree(f.toFile()).path("nodes").get(i).path("api").asText();
                return api.replaceFirst("^http://", "");
            }
        }
        throw new IOException("give --api HOST:PORT (a running super-node's API): " + dir + " is not a devnet's directory");
    }

    @Command(name = "public", description = "Turn a bucket's public reads on (objects stored unencrypted, readable by anyone) or off.")
    static final class Public implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "BUCKET")
        String bucket;

        @Parameters(index = "1", paramLabel = "on|off")
        String state;

        @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${sys:user.home}/.oecloud",
                description = "The gateway node's data directory (its keys), or a devnet's (default: ${DEFAULT-VALUE}).")
        Path dataDir;

        @Option(names = "--endpoint", paramLabel = "URL", description = "The gateway (default: the devnet's, else http://127.0.0.1:9000).")
        String endpoint;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (!state.equals("on") && !state.equals("off")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give on or off, not '" + state + "'");
            }
            String url = endpoint != null ? endpoint : devnetUrl(dataDir) != null ? devnetUrl(dataDir) : "http://127.0.0.1:9000";
            S3Keys.Key key = S3Keys.in(gatewayDir(dataDir)).list().stream().filter(k -> !k.revoked()).findFirst().orElseThrow(
                    () -> new CommandLine.ParameterException(spec.commandLine(), "no active key in " + gatewayDir(dataDir)));
            URI uri = URI.create(url + "/" + bucket + "?acl");
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).PUT(HttpRequest.BodyPublishers.noBody());
            S3Signer.sign(b, "PUT", uri, java.util.Map.of("x-amz-acl", state.equals("on") ? "public-read" : "private"), key, "us-east-1",
                    Instant.now());
            HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(b.build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                spec.commandLine().getErr().println("the gateway refused (" + r.statusCode() + "): " + r.body());
                return 1;
            }
            spec.commandLine().getOut().println(bucket + ": public reads " + state);
            return 0;
        }
    }
}
