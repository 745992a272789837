package io.oecloud.chain.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * CometBFT as a child process of the super-node: started after the ABCI server listens,
 * restarted (after a pause that grows to 30 s) when it dies, stopped with the node. Its pid is
 * kept in {@code HOME/cometbft.pid}: a node killed with SIGKILL cannot stop its child, so the next
 * start of the node reaps a CometBFT still running on the same home before starting its own.
 */
final class CometBftProcess implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CometBftProcess.class.getName());

    private final Path binary;
    private final Path home;
    private final Path log;
    private volatile Process process;
    private volatile boolean closed;
    private final Thread watcher;

    private CometBftProcess(Path binary, Path home) {
        this.binary = binary;
        this.home = home;
        this.log = home.resolve("cometbft.log");
        this.watcher = Thread.ofPlatform().daemon().name("cometbft-watch").unstarted(this::watch);
    }

    /** Reaps an orphan from an earlier run, then starts CometBFT on {@code home} and watches it. */
    public static CometBftProcess start(Path binary, Path home) throws IOException {
        reapOrphan(home);
        CometBftProcess p = new CometBftProcess(binary, home);
        p.launch();
        p.watcher.start();
        return p;
    }

    static void reapOrphan(Path home) {
        Path pidFile = home.resolve("cometbft.pid");
        try {
            if (!Files.exists(pidFile)) {
                return;
            }
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            ProcessHandle.of(pid).ifPresent(h -> {
                String cmd = h.info().commandLine().orElse("");
                if (cmd.contains("cometbft") && cmd.contains(home.toString())) {
                    LOG.log(System.Logger.Level.WARNING, "stopping CometBFT {0} left running by an earlier run on {1}", pid, home);
                    h.destroy();
                    try {
                        h.onExit().get(20, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        h.destroyForcibly();
                    }
                }
            });
            Files.deleteIfExists(pidFile);
        } catch (IOException | NumberFormatException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read {0}: {1}", pidFile, e.getMessage());
        }
    }

    private void launch() throws IOException {
        process = new ProcessBuilder(binary.toString(), "start", "--home", home.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Files.writeString(home.resolve("cometbft.pid"), process.pid() + "\n", StandardCharsets.UTF_8);
    }

    private void watch() {
        long pause = 1000;
        while (!closed) {
            try {
                int code = process.waitFor();
                if (closed) {
                    return;
                }
                LOG.log(System.Logger.Level.WARNING, "CometBFT exited with {0}; restarting in {1} ms (log: {2})", code, pause, log);
                Thread.sleep(pause);
                pause = Math.min(30_000, pause * 2);
                if (!closed) {
                    launch();
                }
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot restart CometBFT: {0}", e.getMessage());
            }
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        closed = true;
        watcher.interrupt();
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroy();
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.deleteIfExists(home.resolve("cometbft.pid"));
        } catch (IOException ignored) {
            // a stale pid file is checked against the process's command line before anything is killed
        }
    }
}
