package io.oecloud.proofs.slice;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code b3sum}, BLAKE3's reference implementation in Rust: a digest written apart from
 * ours to check {@code Blake3} and the slices against. Installed by {@code .ci/run}; when it is
 * missing, the test setup installs it with apt-get, and a test that still has none fails under CI
 * (CI=true) and is skipped elsewhere with the reason (as {@code io.oecloud.it.Chromium}).
 */
final class B3sum {
    static final Path BINARY = Path.of("/usr/bin/b3sum");
    private static final long TIMEOUT_SECONDS = 60;

    private B3sum() {}

    /** The binary, installed now when it is missing and this user may (root, or sudo without a password). */
    static Path require() {
        return io.oecloud.testkit.DebianPackage.require(BINARY, "b3sum");
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
}
