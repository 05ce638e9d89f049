package dev.headwatch.examples;

import java.util.List;

import dev.headwatch.cli.SubcommandProvider;

/** The subcommands of this module, added to {@code headwatch} by {@link java.util.ServiceLoader}. */
public final class ExampleSubcommands implements SubcommandProvider {

    @Override
    public List<Object> subcommands() {
        return List.of(
                dev.headwatch.examples.demo.DemoCommand.class,
                dev.headwatch.examples.papers.ExampleCommand.class,
                dev.headwatch.examples.bench.BenchCommand.class);
    }
}
