package io.oecloud.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --help} and {@code -h} on every command and subcommand: usage on stdout, exit 0, nothing run. */
class OeHelpTest {
    /** Every command of the tree by its qualified name ("oe", "oe wallet", "oe wallet new", ...); aliases once. */
    private static Map<String, List<String>> commands() {
        Map<String, List<String>> all = new LinkedHashMap<>();
        walk(Oe.commandLine(), new ArrayList<>(), all);
        return all;
    }

    private static void walk(CommandLine cl, List<String> path, Map<String, List<String>> into) {
        into.put(cl.getCommandSpec().qualifiedName(" "), List.copyOf(path));
        for (CommandLine sub : new java.util.LinkedHashSet<>(cl.getSubcommands().values())) {
            List<String> p = new ArrayList<>(path);
            p.add(sub.getCommandName());
            walk(sub, p, into);
        }
    }

    private static CidCommandTest.Result run(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Oe.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args.toArray(String[]::new));
        return new CidCommandTest.Result(code, out.toString().strip(), err.toString().strip());
    }

    @Test
    void help_onEveryCommandAndSubcommand_printsItsUsageAndExitsZero() {
        Map<String, List<String>> all = commands();
        // the tree as the README's Commands section lists it, so a command added without help fails here
        assertTrue(all.keySet().containsAll(List.of("oe node", "oe devnet", "oe wallet new", "oe chain whois", "oe dht findprovs",
                "oe put", "oe ls", "oe id", "oe help")), all.keySet().toString());
        assertTrue(all.size() >= 40, all.size() + " commands: " + all.keySet());
        for (var e : all.entrySet()) {
            for (String flag : List.of("--help", "-h")) {
                List<String> args = new ArrayList<>(e.getValue());
                args.add(flag);
                CidCommandTest.Result r = run(args);
                assertEquals(0, r.code(), e.getKey() + " " + flag + ": " + r.err());
                assertTrue(r.out().lines().anyMatch(l -> l.startsWith("Usage: " + e.getKey() + " ")),
                        e.getKey() + " " + flag + " printed: " + r.out());
                assertEquals("", r.err(), e.getKey() + " " + flag);
            }
        }
    }

    @Test
    void help_afterOtherArguments_stillWins_andRunsNothing() {
        // a node would start (and create DATA_DIR) if --help were not seen first
        CidCommandTest.Result node = run(List.of("node", "--data-dir", "/nonexistent-oe-help/x", "--help"));
        assertEquals(0, node.code(), node.err());
        assertTrue(node.out().contains("--super-node"), node.out());
        assertTrue(!java.nio.file.Files.exists(java.nio.file.Path.of("/nonexistent-oe-help")));
        CidCommandTest.Result send = run(List.of("wallet", "send", "ADDRESS", "5", "--help"));
        assertEquals(0, send.code(), send.err());
        assertTrue(send.out().contains("--fee"), send.out());
    }

    @Test
    void version_onASubcommand_printsTheVersionLines() {
        CidCommandTest.Result r = run(List.of("put", "--version"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("oe "), r.out());
    }
}
