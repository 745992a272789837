package io.oecloud.node;

import io.oecloud.dht.Multiaddr;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * Parsers of option values shared by {@code oe node}, {@code oe devnet} and the client commands;
 * each error names the option and the value. Which node a client command talks to is
 * {@link NodeChoice}'s.
 */
final class Options {
    private Options() {}

    static List<Multiaddr> multiaddrs(List<String> values, String option) {
        List<Multiaddr> out = new ArrayList<>();
        for (String v : values) {
            try {
                out.add(Multiaddr.parse(v));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(new CommandLine(new Oe()), option + " " + v + ": " + e.getMessage());
            }
        }
        return out;
    }

    static InetSocketAddress hostPort(String v, String option) {
        int colon = v.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new NumberFormatException();
            }
            int port = Integer.parseInt(v.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(v.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be HOST:PORT, was '" + v + "'");
        }
    }

    /** "500ms", "30s", "5m", "2h", "1d", or ISO-8601 ("PT5M"). */
    static java.time.Duration duration(String v, String option) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d{1,9})(ms|s|m|h|d)$").matcher(v.trim());
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> java.time.Duration.ofMillis(n);
                    case "s" -> java.time.Duration.ofSeconds(n);
                    case "m" -> java.time.Duration.ofMinutes(n);
                    case "h" -> java.time.Duration.ofHours(n);
                    default -> java.time.Duration.ofDays(n);
                };
            }
            return java.time.Duration.parse(v.trim());
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException(option + " must be a duration like 30s, 5m or 24h, was '" + v + "'");
        }
    }
}
