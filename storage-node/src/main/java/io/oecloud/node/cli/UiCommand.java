package io.oecloud.node.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code oe ui}: the link to a running node's dashboard, carrying its API token in the URL's
 * fragment ({@code #token=…}), which a browser never sends to a server; the page keeps it in the
 * tab's sessionStorage and takes it out of the address bar.
 */
@Command(name = "ui", description = "Print the link to the running node's dashboard (it carries the API token: keep it to yourself).")
final class UiCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    NodeChoice target;

    @Override
    public Integer call() throws Exception {
        ApiEndpoint e;
        try {
            e = target.endpoint();
        } catch (java.io.IOException x) {
            spec.commandLine().getErr().println("oe ui: " + x.getMessage());
            return 1;
        }
        String host = e.address().getAddress() != null && e.address().getAddress().isAnyLocalAddress()
                ? "127.0.0.1" : e.address().getHostString();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        String link = "http://" + host + ":" + e.address().getPort() + "/ui/";
        if (e.token() == null) {
            spec.commandLine().getErr().println("oe ui: no API token found (give the node's --data-dir, --token-file FILE, or set "
                    + ApiEndpoint.TOKEN_ENV + "); the page will ask for it");
            spec.commandLine().getOut().println(link);
            return 0;
        }
        spec.commandLine().getOut().println(link + "#token=" + e.token().value());
        return 0;
    }
}
