package io.oecloud.node.cli;

import io.oecloud.node.DhtOps;
import picocli.CommandLine.Command;

/** {@code oe id}: the node's peer ID, addresses and protocols (as {@code ipfs id}). */
@Command(name = "id", description = "Show the node's peer ID, addresses and protocols.")
final class IdCommand extends ClientCommand {
    @Override
    int run(DhtOps node) throws Exception {
        DhtOps.NodeInfo i = await(node.id());
        out().println("ID        " + i.peerId());
        out().println("Agent     " + i.agentVersion());
        for (String a : i.addrs()) {
            out().println("Address   " + a);
        }
        for (String p : i.protocols()) {
            out().println("Protocol  " + p);
        }
        return 0;
    }
}
