package io.oecloud.node.cli;

import io.oecloud.node.DhtOps;
import io.oecloud.dht.Multiaddr;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code oe ping MULTIADDR}: libp2p ping round trips from the node to a peer. */
@Command(name = "ping", description = "Ping a peer (/ip4/.../tcp/.../p2p/PEERID) over /ipfs/ping/1.0.0.")
final class PingCommand extends ClientCommand {
    @Parameters(paramLabel = "MULTIADDR")
    String target;

    @Option(names = {"-n", "--count"}, defaultValue = "3", description = "Round trips (default: ${DEFAULT-VALUE}).")
    int count;

    @Override
    int run(DhtOps node) throws Exception {
        Multiaddr addr = Multiaddr.parse(target);
        if (addr.peerId() == null) {
            throw new IllegalArgumentException("the address needs /p2p/PEERID: " + target);
        }
        double total = 0;
        for (int i = 0; i < Math.max(1, count); i++) {
            Duration d = await(node.ping(addr));
            double ms = d.toNanos() / 1e6;
            total += ms;
            out().printf("Pong from %s: time=%.3f ms%n", addr.peerId(), ms);
        }
        out().printf("Average latency: %.3f ms%n", total / Math.max(1, count));
        return 0;
    }
}
