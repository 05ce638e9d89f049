package dev.headwatch.sparkexample;

import java.util.List;

import dev.headwatch.cli.SubcommandProvider;

/** Adds {@code example spark} to {@code headwatch} when this module's classpath is the one that runs it. */
public final class SparkSubcommands implements SubcommandProvider {

    @Override
    public List<Object> subcommands() {
        return List.of(SparkExampleCommand.class);
    }
}
