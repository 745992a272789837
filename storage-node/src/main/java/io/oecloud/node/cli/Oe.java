package io.oecloud.node.cli;

import io.oecloud.erasure.ErasureBackend;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code oe} program: one binary, one subcommand per role or client action. Its attributes are
 * inherited by every subcommand at any depth ({@code scope = INHERIT}), so {@code -h/--help} and
 * {@code -V/--version} work on each of them ({@code OeHelpTest} walks the tree).
 */
@Command(
        name = "oe",
        scope = CommandLine.ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "OE Cloud: decentralized storage and CDN.",
        subcommands = {VersionCommand.class, CidCommand.class, NodeCommand.class, EdgeCommand.class, SiteCommand.class, DevnetCommand.class,
            ObjectCommands.Put.class, ObjectCommands.Get.class, ObjectCommands.Ls.class, ObjectCommands.Rm.class,
            ObjectCommands.Status.class, ContractCommands.Contracts.class, ContractCommands.Renew.class, ChainCommands.Wallet.class, ChainCommands.Chain.class, IdCommand.class,
            PingCommand.class, DhtCommand.class, UiCommand.class, S3Commands.class, CommandLine.HelpCommand.class})
public final class Oe implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the program and returns its exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        try {
            ErasureBackend.active(); // a bad -Doe.erasure.backend is reported once, up front
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("oe: " + e.getMessage());
            return 2;
        }
        return commandLine().execute(args);
    }

    /** The command tree as {@link #run} executes it (tests set its output streams). */
    static CommandLine commandLine() {
        return new CommandLine(new Oe()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
