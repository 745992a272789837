package io.oecloud.it.interop;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real js-libp2p node (../shared/interop/js-peer) in a child process, driven by JSON lines.
 * The shared folder is read-only, so the peer is copied under target/ and installed there with
 * {@code npm ci} once per build.
 */
final class JsPeer implements AutoCloseable {
    private static final String[] FILES = {"package.json", "package-lock.json", "peer.mjs", "polyfill.mjs"};

    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    final Map<String, Object> startup;

    private JsPeer(Process p) throws IOException {
        this.process = p;
        this.out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        this.in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
        String first = readLine(60);
        if (first == null) {
            throw new IOException("js-peer exited before its startup line");
        }
        this.startup = Json.object(first);
    }

    /** Installs the peer under {@code target/js-peer} (once) and returns its folder. */
    static synchronized Path install() throws IOException, InterruptedException {
        Path root = Path.of(System.getProperty("oe.repo.root", "../..")).toAbsolutePath().normalize();
        Path source = root.resolveSibling("shared").resolve("interop/js-peer");
        boolean ci = System.getenv("CI") != null;
        if (!Files.isDirectory(source)) {
            if (ci) {
                throw new IOException("CI needs ../shared/interop/js-peer beside the checkout: " + source);
            }
            Assumptions.abort("no js-peer at " + source);
        }
        Path dir = root.resolve("src/test/target/js-peer");
        Files.createDirectories(dir);
        boolean fresh = !Files.isDirectory(dir.resolve("node_modules"));
        for (String f : FILES) {
            Path dst = dir.resolve(f);
            if (!Files.exists(dst) || Files.mismatch(source.resolve(f), dst) != -1) {
                Files.copy(source.resolve(f), dst, StandardCopyOption.REPLACE_EXISTING);
                dst.toFile().setWritable(true);
                fresh = true;
            }
        }
        if (fresh) {
            Process npm;
            try {
                npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
                        .directory(dir.toFile()).redirectErrorStream(true).start();
            } catch (IOException e) {
                if (ci) {
                    throw e;
                }
                Assumptions.abort("npm is not installed: " + e.getMessage());
                return dir;
            }
            String log = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!npm.waitFor(5, TimeUnit.MINUTES) || npm.exitValue() != 0) {
                throw new IOException("npm ci failed in " + dir + ":\n" + log);
            }
        }
        return dir;
    }

    /** Starts a peer; {@code args} are peer.mjs arguments (e.g. bootstrap multiaddrs). */
    static JsPeer start(String... args) throws IOException, InterruptedException {
        Path dir = install();
        List<String> cmd = new ArrayList<>(List.of("node", "peer.mjs", "--port", "0"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectError(dir.resolve("peer-stderr.log").toFile()).start();
        return new JsPeer(p);
    }

    String peerId() {
        return (String) startup.get("peerId");
    }

    @SuppressWarnings("unchecked")
    String addr() {
        return ((List<String>) startup.get("addrs")).get(0);
    }

    /** Sends a command and waits for its answer; fails the test on {"ok":false}. */
    Map<String, Object> call(String cmd, Object... kv) throws IOException {
        Map<String, Object> answer = tryCall(cmd, kv);
        if (!Boolean.TRUE.equals(answer.get("ok"))) {
            throw new AssertionError("js-peer " + cmd + " failed: " + answer.get("error"));
        }
        return answer;
    }

    Map<String, Object> tryCall(String cmd, Object... kv) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cmd", cmd);
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        in.write(Json.write(m) + "\n");
        in.flush();
        String line = readLine(90);
        if (line == null) {
            throw new IOException("js-peer exited during " + cmd);
        }
        return Json.object(line);
    }

    private String readLine(int seconds) throws IOException {
        CompletableFuture<String> f = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IOException("no answer from js-peer in " + seconds + " s", e);
        }
    }

    @Override
    public void close() {
        try {
            in.close(); // EOF on stdin stops the peer
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
