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
        subcommands = {S3Commands.Keys.class, S3Commands.Public.class})
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
