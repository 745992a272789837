package io.oecloud.node.cli;

import io.oecloud.node.DhtOps;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.proofs.Cid;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code oe dht ...}: the Kademlia DHT from the command line, shaped like kubo's. */
@Command(name = "dht", description = "Query and update the DHT.", subcommands = {
    DhtCommand.Provide.class, DhtCommand.FindProvs.class, DhtCommand.FindPeer.class,
    DhtCommand.Put.class, DhtCommand.Get.class})
final class DhtCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static Cid cid(String s) {
        return Cid.parse(s); // CidFormatException names the wrong part
    }

    @Command(name = "provide", description = "Announce that the node holds CID.")
    static final class Provide extends ClientCommand {
        @Parameters(paramLabel = "CID")
        String cid;

        @Override
        int run(DhtOps node) throws Exception {
            Cid c = cid(cid);
            int n = await(node.provide(c));
            out().println("provided " + c + " to " + n + " peers");
            return n > 0 ? 0 : 1;
        }
    }

    @Command(name = "findprovs", description = "Find peers that provide CID.")
    static final class FindProvs extends ClientCommand {
        @Parameters(paramLabel = "CID")
        String cid;

        @Option(names = {"-n", "--num-providers"}, defaultValue = "20", description = "Stop after this many (default: ${DEFAULT-VALUE}).")
        int max;

        @Override
        int run(DhtOps node) throws Exception {
            List<Provider> ps = await(node.findProviders(cid(cid), Math.max(1, max)));
            for (Provider p : ps) {
                out().println(p.peer() + (p.addrs().isEmpty() ? "" : " " + String.join(" ",
                        p.addrs().stream().map(Multiaddr::toString).toList())));
            }
            if (ps.isEmpty()) {
                spec.commandLine().getErr().println("oe dht findprovs: no providers found for " + cid);
                return 1;
            }
            return 0;
        }
    }

    @Command(name = "findpeer", description = "Find the addresses of PEERID.")
    static final class FindPeer extends ClientCommand {
        @Parameters(paramLabel = "PEERID")
        String peer;

        @Override
        int run(DhtOps node) throws Exception {
            for (Multiaddr a : await(node.findPeer(PeerId.parse(peer)))) {
                out().println(a);
            }
            return 0;
        }
    }

    @Command(name = "put", description = {"Store VALUE under /oe/<node peer id>/NAME, signed by the node.",
        "A newer put replaces an older one (sequence numbers increase)."})
    static final class Put extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "VALUE")
        String value;

        @Override
        int run(DhtOps node) throws Exception {
            String n = name.startsWith("/oe/") ? name.substring(name.lastIndexOf('/') + 1) : name;
            out().println(await(node.put(n, value.getBytes(StandardCharsets.UTF_8))));
            return 0;
        }
    }

    @Command(name = "get", description = "Print the value stored under KEY (e.g. /oe/12D3KooW.../name).")
    static final class Get extends ClientCommand {
        @Parameters(paramLabel = "KEY")
        String key;

        @Override
        int run(DhtOps node) throws Exception {
            byte[] v = await(node.get(key));
            out().println(new String(v, StandardCharsets.UTF_8));
            return 0;
        }
    }
}
