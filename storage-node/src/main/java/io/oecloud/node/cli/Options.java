package io.oecloud.node.cli;

import io.oecloud.dht.Multiaddr;
import io.oecloud.node.NodeConfig;
import java.util.List;
import picocli.CommandLine;

/**
 * Parsers of the client commands' option values, each error naming the option and the value (the
 * node's settings have theirs in {@link NodeConfig}). Which node a client command talks to is
 * {@link NodeChoice}'s.
 */
final class Options {
    private Options() {}

    static List<Multiaddr> multiaddrs(List<String> values, String option) {
        try {
            return NodeConfig.multiaddrs(values, option);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(new Oe()), e.getMessage());
        }
    }
}
