package io.oecloud.proofs.slice;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's {@code b3sum}, BLAKE3's reference implementation in Rust: a digest written apart from
 * ours to check {@code Blake3} and the slices against. Installed by {@code .ci/run}; when it is
 * missing, the test setup installs it with apt-get, and a test that still has none fails under CI
 * (CI=true) and is skipped elsewhere with the reason (as {@code io.oecloud.it.Chromium}).
 */
final class B3sum {
    static final Path BINARY = Path.of("/usr/bin/b3sum");
    private static final long TIMEOUT_SECONDS = 60;
    private static boolean installTried; // once a JVM: when it fails, apt-get for each of 78 tests took minutes

    private B3sum() {}

    /** The binary, installed now when it is missing and this user may (root, or sudo without a password). */
    static synchronized Path require() throws Exception {
        if (!Files.isExecutable(BINARY) && !installTried) {
            installTried = true;
            boolean root = "root".equals(System.getProperty("user.name"));
            List<String> sudo = root ? List.of() : List.of("sudo", "-n");
            run(concat(sudo, List.of("apt-get", "update", "-qq")), 600);
            run(concat(sudo, List.of("apt-get", "install", "-y", "-qq", "b3sum")), 600);
        }
        if (!Files.isExecutable(BINARY)) {
            String why = BINARY + " is missing and apt-get could not install Debian's b3sum package";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(why);
            }
            Assumptions.abort(why);
        }
        return BINARY;
    }

    /** The 32-byte digest {@code b3sum --no-names} prints for {@code file}. */
    static byte[] digest(Path file) throws Exception {
        // output to a file, not a pipe, so that a hung b3sum cannot block the read past the timeout
        Path out = Files.createTempFile(file.getParent(), "b3sum", ".out");
        Process p = new ProcessBuilder(require().toString(), "--no-names", file.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("b3sum did not hash " + file + " within " + TIMEOUT_SECONDS + " s");
        }
        String text = Files.readString(out, StandardCharsets.US_ASCII).strip();
        if (p.exitValue() != 0 || !text.matches("[0-9a-f]{64}")) {
            throw new AssertionError("b3sum --no-names " + file + " exited " + p.exitValue() + " printing: " + text);
        }
        return HexFormat.of().parseHex(text);
    }

    private static void run(List<String> cmd, long seconds) throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            return; // no sudo or apt-get: the check after it names what is missing
        }
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }
}
