package io.oecloud.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's headless Chromium for the tests of what a browser shows: it loads a page, runs its
 * script (fetches included: virtual time waits for the network) for at most a budget of virtual
 * time, and prints the DOM. Installed by {@code .ci/run}; when it is missing, the test setup
 * installs it with apt-get, and a test that still has none fails under CI (CI=true) and is skipped
 * elsewhere with the reason.
 */
final class Chromium {
    static final Path BINARY = Path.of("/usr/bin/chromium");
    private static final Pattern VALUE = Pattern.compile("id=\"([a-z0-9-]+)\"[^>]*?data-value=\"([^\"]*)\"");

    private Chromium() {}

    /** The binary, installed now when it is missing and this user may (root, or sudo without a password). */
    static Path require() {
        return io.oecloud.testkit.DebianPackage.require(BINARY, "chromium");
    }

    /** The DOM of {@code url} after its scripts ran for up to {@code budgetMillis} of virtual time. */
    static String dumpDom(String url, Path profile, long budgetMillis) throws Exception {
        Process p = new ProcessBuilder(require().toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--virtual-time-budget=" + budgetMillis, "--dump-dom", url)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish loading " + url + " within 120 s");
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /** The {@code data-value} of the element with {@code id}, or null when it has none. */
    static String value(String dom, String id) {
        Matcher m = VALUE.matcher(dom);
        while (m.find()) {
            if (m.group(1).equals(id)) {
                return m.group(2).replace("&amp;", "&").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">");
            }
        }
        return null;
    }
}
