package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/oe as a user runs it: a real process, its JDK found by the script. */
class OeLauncherTest {
    static final Path ROOT = Path.of(System.getProperty("oe.repo.root", "../..")).toAbsolutePath().normalize();

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}


    static Run oe(Map<String, String> env, String... args) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder();
        pb.command().add(ROOT.resolve("bin/oe").toString());
        pb.command().addAll(List.of(args));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("oe-out", ".txt");
        Path err = Files.createTempFile("oe-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(5, TimeUnit.MINUTES)) { // a first run may build the project
            p.destroyForcibly();
            throw new AssertionError("bin/oe " + String.join(" ", args) + " did not finish");
        }
        Run r = new Run(p.exitValue(), Files.readString(out).strip(), Files.readString(err).strip());
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    @Test
    void binOe_withJavaHomeAtJdk17_stillRunsOnJdk25() throws Exception {
        Run r = oe(Map.of("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64"), "version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("java: 25"), r.out());
        assertTrue(r.out().contains("erasure backend: "), r.out());
        assertTrue(!r.err().contains("Using incubator modules"), "launcher hides the incubator notice: " + r.err());
    }

    @Test
    void binOe_cid_printsTheRawCidOfAFile() throws Exception {
        byte[] data = new byte[5_000_000];
        new Random(4).nextBytes(data);
        Path f = Files.write(dir.resolve("data.bin"), data);
        Run r = oe(Map.of(), "cid", f.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Cid.raw(data).toString(), r.out());
        Run b3 = oe(Map.of(), "cid", "--hash", "blake3", f.toString());
        assertTrue(b3.out().startsWith("bafkr4i"), b3.out());
    }

    @Test
    void binOe_backendForcedBySystemProperty_isReportedOrRejectedClearly() throws Exception {
        Run scalar = oe(Map.of("OE_JAVA_OPTS", "-Doe.erasure.backend=scalar"), "version");
        assertTrue(scalar.out().contains("erasure backend: scalar"), scalar.out());
        Run bogus = oe(Map.of("OE_JAVA_OPTS", "-Doe.erasure.backend=gpu"), "version");
        assertEquals(2, bogus.code());
        assertTrue(bogus.err().contains("oe.erasure.backend must be one of isal, vector, scalar, was: 'gpu'"), bogus.err());
    }

    @Test
    void binOeNode_runsUntilKilled_andClientCommandsFindItThroughTheDataDir() throws Exception {
        Path data = dir.resolve("node");
        Process node = new ProcessBuilder(ROOT.resolve("bin/oe").toString(), "node", "--data-dir", data.toString(),
                "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0")
                .redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile()).start();
        try {
            java.io.BufferedReader log = Files.newBufferedReader(dir.resolve("node.log"));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            String line;
            StringBuilder seen = new StringBuilder();
            while (true) { // follow the log until the node says it is ready
                line = log.readLine();
                if (line == null) {
                    if (!node.isAlive() || System.nanoTime() > end) {
                        throw new AssertionError("node did not start: " + seen);
                    }
                    Thread.sleep(50);
                    continue;
                }
                seen.append(line).append('\n');
                if (line.endsWith("ready")) {
                    break;
                }
            }
            String peer = io.oecloud.dht.Identity.loadOrCreate(data).peerId().toString();
            assertTrue(seen.toString().contains("peer ID " + peer), seen.toString());
            Run id = oe(Map.of(), "id", "--data-dir", data.toString());
            assertEquals(0, id.code(), id.err());
            assertTrue(id.out().startsWith("ID        " + peer), id.out());
            // the API token: created at the first start, readable by its owner only; the CLI reads it itself
            Path token = data.resolve("api-token");
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(token)));
            assertTrue(Files.readString(token).strip().matches("[0-9a-f]{64}"));
            Run status = oe(Map.of(), "status", "--data-dir", data.toString());
            assertEquals(0, status.code(), status.err());
            String api = Files.readString(data.resolve("api")).strip();
            Run stranger = oe(Map.of(), "status", "--api", api, "--data-dir", dir.resolve("elsewhere").toString());
            assertEquals(1, stranger.code(), "without the token: refused");
            assertTrue(stranger.err().contains("API token"), stranger.err());
            // OE_API and OE_API_TOKEN name the node and its token instead of --api and --token-file
            Run fromEnv = oe(Map.of("OE_API", api, "OE_API_TOKEN", Files.readString(token).strip()),
                    "status", "--data-dir", dir.resolve("elsewhere").toString());
            assertEquals(0, fromEnv.code(), fromEnv.err());
            assertTrue(fromEnv.out().contains(peer), fromEnv.out());
        } finally {
            node.destroy(); // SIGTERM: the shutdown hook closes the node and removes DATA_DIR/api
            assertTrue(node.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(!Files.exists(data.resolve("api")), "api file removed on stop");
        assertTrue(Files.exists(data.resolve("peers.txt")), "peer store saved on stop");
    }

    @Test
    void binOe_helpOnASubcommand_printsItsUsage() throws Exception {
        for (List<String> cmd : List.of(List.of("node"), List.of("wallet", "new"))) { // both said "Unknown option" once
            List<String> args = new java.util.ArrayList<>(cmd);
            args.add("--help");
            Run r = oe(Map.of(), args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().startsWith("Usage: oe " + String.join(" ", cmd) + " "), r.out());
        }
    }

    @Test
    void binOe_cidOfMissingFile_exitsNonZeroWithTheName() throws Exception {
        Run r = oe(Map.of(), "cid", dir.resolve("absent").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no such file: " + dir.resolve("absent")), r.err());
        assertEquals("", new String(new byte[0], StandardCharsets.UTF_8) + r.out());
    }
}
