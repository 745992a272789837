package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The engine child process against a stand-in binary (a shell script that sleeps), in real processes. */
@Timeout(120)
class CometBftProcessTest {
    @TempDir
    Path dir;

    @Test
    void aNodeKilledWithSigkill_takesItsEngineWithIt() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs util-linux's setpriv");
        Path engine = fakeEngine();
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process node = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), NodeMain.class.getName(),
                engine.toString(), dir.toString()).redirectErrorStream(true).start();
        Path pidFile = dir.resolve("cometbft.pid");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(pidFile) || Files.readString(pidFile).isBlank()) {
            assertTrue(node.isAlive() && System.nanoTime() < deadline, "the node process did not start its engine");
            Thread.sleep(50);
        }
        long enginePid = Long.parseLong(Files.readString(pidFile).strip());
        assertTrue(running(enginePid));

        node.destroyForcibly();
        node.waitFor(30, TimeUnit.SECONDS);

        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (running(enginePid) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        boolean orphaned = running(enginePid);
        ProcessHandle.of(enginePid).ifPresent(ProcessHandle::destroyForcibly);
        assertFalse(orphaned, "the engine outlived its node");
    }

    @Test
    void close_stopsTheEngine_andRemovesThePidFile() throws Exception {
        CometBftProcess p = CometBftProcess.start(fakeEngine(), dir);
        long pid = p.pid();
        assertTrue(p.isAlive());
        assertEquals(Long.toString(pid), Files.readString(dir.resolve("cometbft.pid")).strip());
        p.close();
        assertFalse(p.isAlive());
        assertFalse(Files.exists(dir.resolve("cometbft.pid")));
    }

    @Test
    void anEngineThatDies_isStartedAgain() throws Exception {
        try (CometBftProcess p = CometBftProcess.start(fakeEngine(), dir)) {
            long first = p.pid();
            ProcessHandle.of(first).orElseThrow().destroyForcibly();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((p.pid() == first || !p.isAlive()) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(p.pid() != first && p.isAlive(), "no new engine after the first died");
        }
    }

    /** Stands in for the cometbft binary: takes its arguments and sleeps (exec, so the pid stays the same). */
    private Path fakeEngine() throws IOException {
        Path script = dir.resolve("fake-cometbft");
        Files.writeString(script, "#!/bin/sh\nexec sleep 600\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /** A node process in miniature: starts the engine and waits to be killed. */
    public static final class NodeMain {
        public static void main(String[] args) throws Exception {
            CometBftProcess.start(Path.of(args[0]), Path.of(args[1]));
            Thread.sleep(TimeUnit.MINUTES.toMillis(5));
        }
    }
}
