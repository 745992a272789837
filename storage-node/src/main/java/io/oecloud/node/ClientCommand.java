package io.oecloud.node;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A command that asks a node something: finds the node, runs, reports failures in one line. */
abstract class ClientCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    Options options;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60", description = "Give up after this long (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    <T> T await(CompletableFuture<T> f) throws Exception {
        return f.get(timeoutSeconds, TimeUnit.SECONDS);
    }

    abstract int run(DhtOps node) throws Exception;

    @Override
    public final Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try (DhtOps node = options.open(err)) {
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
