package io.oecloud.node.cli;

import io.oecloud.erasure.ErasureBackend;
import io.oecloud.proofs.Blake3;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code oe version}: the program's version and the implementations this machine runs. */
@Command(name = "version", description = "Print the version and the active codec and hash implementations.")
final class VersionCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static String version() {
        String v = Oe.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    static List<String> lines() {
        List<String> l = new ArrayList<>();
        l.add("oe " + version());
        l.add("java: " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")");
        l.add("erasure backend: " + ErasureBackend.active().name().toLowerCase(java.util.Locale.ROOT)
                + " (available: " + String.join(", ", java.util.Arrays.stream(ErasureBackend.values())
                        .filter(ErasureBackend::isAvailable)
                        .map(b -> b.name().toLowerCase(java.util.Locale.ROOT)).toList())
                + "; force one with the system property " + ErasureBackend.PROPERTY + ", e.g. OE_JAVA_OPTS=-D"
                + ErasureBackend.PROPERTY + "=scalar bin/oe ...)");
        l.add("blake3: " + (Blake3.isVectorized() ? "vector (16 lanes)" : "scalar"));
        return l;
    }

    @Override
    public void run() {
        lines().forEach(spec.commandLine().getOut()::println);
    }

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return lines().toArray(String[]::new);
        }
    }
}
