package io.oecloud.node.cli;

import io.oecloud.node.DhtOps;
import io.oecloud.node.P2pNode;
import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A command that asks a node something ({@code oe id}, {@code oe ping}, {@code oe dht ...}): finds
 * the node, runs, reports failures in one line. {@code --bootstrap} starts a transient node for the
 * command; otherwise it talks to the running node {@link NodeChoice} finds.
 */
abstract class ClientCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    NodeChoice nodeChoice;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR",
            description = "Start a transient node joined through these peers instead of using a running node.")
    List<String> bootstrap = List.of();

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60", description = "Give up after this long (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    <T> T await(CompletableFuture<T> f) throws Exception {
        return f.get(timeoutSeconds, TimeUnit.SECONDS);
    }

    abstract int run(DhtOps node) throws Exception;

    /** Opens the node the command talks to. */
    private DhtOps open(PrintWriter err) throws IOException {
        if (bootstrap.isEmpty()) {
            try {
                return new ApiClient(nodeChoice.endpoint());
            } catch (ApiEndpoint.NoNodeFound e) {
                throw new ApiEndpoint.NoNodeFound(e.getMessage() + ", or --bootstrap MULTIADDR for a transient node");
            }
        }
        List<Multiaddr> boot = Options.multiaddrs(bootstrap, "--bootstrap");
        // Records are signed by the data directory's identity when there is one.
        Path dataDir = nodeChoice.dataDir;
        Identity id = Files.exists(dataDir.resolve(Identity.KEY_FILE)) ? Identity.loadOrCreate(dataDir) : Identity.generate();
        P2pNode node = P2pNode.start(id, List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")), null, false);
        if (node.bootstrap(boot, err).isEmpty()) {
            node.close();
            throw new IOException("no bootstrap peer could be reached");
        }
        return node.service(node::close);
    }

    @Override
    public final Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try (DhtOps node = open(err)) {
            int code = run(node);
            out().flush();
            return code;
        } catch (java.util.concurrent.TimeoutException e) {
            err.println("oe " + spec.qualifiedName(" ").replaceFirst("^oe ", "") + ": no answer within " + timeoutSeconds + " s");
            return 1;
        } catch (Exception e) {
            err.println("oe " + spec.qualifiedName(" ").replaceFirst("^oe ", "") + ": " + P2pNode.rootMessage(e));
            return 1;
        }
    }
}
