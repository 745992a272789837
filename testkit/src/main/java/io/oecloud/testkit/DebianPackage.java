package io.oecloud.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A program from a Debian package that a test runs (Chromium, b3sum): installed by
 * {@code .ci/run}; when it is missing, the test setup installs it with apt-get (as root, or with
 * {@code sudo -n}), once a JVM, and a test that still has none fails under CI (CI=true) and is
 * skipped elsewhere with the reason.
 */
public final class DebianPackage {
    private static final Set<String> TRIED = ConcurrentHashMap.newKeySet(); // apt-get once a JVM: a failing install takes minutes

    private DebianPackage() {}

    /** {@code binary}, installed now from {@code pkg} when it is missing and this user may. */
    public static Path require(Path binary, String pkg) {
        if (!Files.isExecutable(binary) && TRIED.add(pkg)) {
            boolean root = "root".equals(System.getProperty("user.name"));
            List<String> sudo = root ? List.of() : List.of("sudo", "-n");
            run(concat(sudo, List.of("apt-get", "update", "-qq")), 600);
            run(concat(sudo, List.of("apt-get", "install", "-y", "-qq", pkg)), 900);
        }
        if (!Files.isExecutable(binary)) {
            String why = binary + " is missing and apt-get could not install Debian's " + pkg + " package";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(why);
            }
            Assumptions.abort(why);
        }
        return binary;
    }

    private static void run(List<String> cmd, long seconds) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            // no sudo or apt-get: the check after it names what is missing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }
}
