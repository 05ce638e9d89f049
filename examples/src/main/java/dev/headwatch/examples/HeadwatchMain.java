package dev.headwatch.examples;

import dev.headwatch.cli.Headwatch;
import picocli.CommandLine;

/**
 * The main class of the {@code ./headwatch} launcher: the library's command line plus the subcommands
 * that live in this module.
 */
public final class HeadwatchMain {

    private HeadwatchMain() {
    }

    /** The full command line: {@link Headwatch}'s subcommands and this module's. */
    public static CommandLine commandLine() {
        return Headwatch.commandLine(
                // Subcommands of the examples module, one per line (a picocli @Command class or instance).
                dev.headwatch.examples.demo.DemoCommand.class,
                dev.headwatch.examples.papers.ExampleCommand.class,
                dev.headwatch.examples.bench.BenchCommand.class
        );
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
