package io.oecloud.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Where the CometBFT binary is: {@code --cometbft}, else {@code OE_COMETBFT}, else the project's
 * pinned one, installed on first use by {@code chain-bridge/tools/cometbft.sh} (found from
 * {@code OE_ROOT}, which bin/oe sets).
 */
public final class Cometbft {
    private Cometbft() {}

    public static Path binary(Path explicit) throws IOException {
        if (explicit != null) {
            return explicit;
        }
        String env = System.getenv("OE_COMETBFT");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String root = System.getenv("OE_ROOT");
        if (root == null) {
            throw new IOException("cannot find CometBFT: pass --cometbft PATH or set OE_COMETBFT (bin/oe finds it itself)");
        }
        Path script = Path.of(root, "chain-bridge", "tools", "cometbft.sh");
        try {
            Process p = new ProcessBuilder("bash", script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0 || !Files.isExecutable(Path.of(out))) {
                throw new IOException("installing CometBFT with " + script + " failed");
            }
            return Path.of(out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while installing CometBFT", e);
        }
    }
}
