package io.oecloud.chain.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * CometBFT as a child process of the super-node: started after the ABCI server listens,
 * restarted (after a pause that grows to 30 s) when it dies, stopped with the node.
 *
 * <p>A node killed with SIGKILL cannot stop its child. Where util-linux's {@code setpriv} exists,
 * CometBFT is started under {@code setpriv --pdeathsig KILL}: the kernel kills it when the thread
 * that started it ends, and that thread is this class's watcher, which lives exactly as long as the
 * node. (CometBFT also exits by itself when its ABCI connection breaks, in about 50 ms on an idle
 * machine, but that path once took more than 120 s on a loaded 2-core CI machine.) Its pid is kept
 * in {@code HOME/cometbft.pid} as well, so the next start of the node reaps a CometBFT still
 * running on the same home where neither happened.
 */
final class CometBftProcess implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CometBftProcess.class.getName());

    private final Path binary;
    private final Path home;
    private final Path log;
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private final CompletableFuture<Void> firstLaunch = new CompletableFuture<>();
    private Process process; // guarded by this
    private boolean closed; // guarded by this
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
        p.watcher.start();
        try {
            p.firstLaunch.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.close();
            throw new IOException("interrupted while starting CometBFT", e);
        } catch (ExecutionException e) {
            p.close();
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
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

    /** Called on the watcher thread only: the parent-death signal is tied to the thread that forks. */
    private synchronized Process launch() throws IOException {
        if (closed) {
            return null;
        }
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(SETPRIV)) {
            command.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL"));
        }
        command.addAll(List.of(binary.toString(), "start", "--home", home.toString()));
        process = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Files.writeString(home.resolve("cometbft.pid"), process.pid() + "\n", StandardCharsets.UTF_8);
        return process;
    }

    private void watch() {
        Process current;
        try {
            current = launch();
            firstLaunch.complete(null);
        } catch (IOException | RuntimeException e) {
            firstLaunch.completeExceptionally(e);
            return;
        }
        long pause = 1000;
        while (current != null) {
            try {
                int code = current.waitFor();
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                }
                LOG.log(System.Logger.Level.WARNING, "CometBFT exited with {0}; restarting in {1} ms (log: {2})", code, pause, log);
                Thread.sleep(pause);
                pause = Math.min(30_000, pause * 2);
                current = launch();
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot restart CometBFT: {0}", e.getMessage());
            }
        }
    }

    public synchronized long pid() {
        return process.pid();
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /**
     * Stops CometBFT with SIGTERM (SIGKILL after 20 s), then the watcher. In that order: the watcher's
     * end would SIGKILL a CometBFT still shutting down.
     */
    @Override
    public void close() {
        Process p;
        synchronized (this) {
            closed = true;
            p = process;
        }
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
        watcher.interrupt();
        try {
            Files.deleteIfExists(home.resolve("cometbft.pid"));
        } catch (IOException ignored) {
            // a stale pid file is checked against the process's command line before anything is killed
        }
    }
}
