package io.oecloud.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code oe contracts} and {@code oe renew CID}: the storage contracts the running node's account
 * pays for (a node with a chain link), through its HTTP API. Ending one is {@code oe rm CID}.
 */
final class ContractCommands {
    private ContractCommands() {}

    /** {@code oe contracts}: the account's contracts. */
    @Command(name = "contracts", description = "List the storage contracts the running node's account pays for: object, bytes, holders, "
            + "cost a period, paid through, escrow left.")
    static final class Contracts implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        NodeChoice target;

        @Option(names = "--json", description = "Print the node's JSON answer.")
        boolean json;

        @Override
        public Integer call() {
            return ObjectCommands.simple(spec, target, HttpMethod.GET, "/v1/contracts", doc -> {
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(doc.toPrettyString());
                    return;
                }
                JsonNode list = doc.path("contracts");
                if (list.isEmpty()) {
                    out.println("the account " + doc.path("payer").asText() + " pays for no storage contract");
                    return;
                }
                out.printf("%-62s %12s %7s %14s %12s %-24s %14s%n", "OBJECT", "BYTES", "HOLDERS", "COST/PERIOD", "PAID THROUGH", "UNTIL (ABOUT)",
                        "ESCROW LEFT");
                for (JsonNode c : list) {
                    out.printf("%-62s %12d %7d %14s %12d %-24s %14s%n", c.path("object").asText(), c.path("bytes").asLong(),
                            c.path("holders").size(), ChainCommands.shortPasses(c.path("costPerPeriod").asText("0")),
                            c.path("paidThrough").asLong(), c.path("paidUntil").asText("-"),
                            ChainCommands.shortPasses(c.path("escrow").asText("0")));
                }
                out.println(list.size() + " contracts paid by " + doc.path("payer").asText() + " (amounts in passes)");
            });
        }
    }

    /** {@code oe renew CID --periods N | --days D}. */
    @Command(name = "renew", description = "Extend the storage contract of CID by N periods or D days at the current price, from the "
            + "running node's account.")
    static final class Renew implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        NodeChoice target;

        @Parameters(paramLabel = "CID")
        String cid;

        @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
        ObjectCommands.Put.Duration duration;

        @Override
        public Integer call() {
            try {
                io.oecloud.proofs.Cid.parse(cid);
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println("oe renew: malformed CID '" + cid + "': " + e.getMessage());
                return 1;
            }
            return ObjectCommands.simple(spec, target, HttpMethod.POST, "/v1/contracts/" + cid + "/renew?" + duration.query(), c ->
                    spec.commandLine().getOut().println("renewed " + c.path("object").asText() + " by " + c.path("periods").asLong()
                            + " periods: " + ChainCommands.passes(c.path("costPerPeriod").asText("0")) + " a period, paid through period "
                            + c.path("paidThrough").asLong() + (c.path("paidUntil").isTextual() ? " (about " + c.path("paidUntil").asText() + ")" : "")
                            + ", " + ChainCommands.passes(c.path("escrow").asText("0")) + " in escrow"));
        }
    }
}
