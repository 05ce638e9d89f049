package dev.headwatch.examples.bench;

import dev.headwatch.cli.Headwatch;
import dev.headwatch.core.alert.AlertConfig;
import dev.headwatch.core.alert.AlertEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** {@code headwatch bench alerts}: the default alert rules on healthy runs and on induced failures. */
@Command(name = "alerts", sortOptions = false,
        description = {"Trains healthy runs of several attention models and seeds, and the demo with a failure "
                + "induced at mid-run, observing every iteration; evaluates the default alert rules on them.",
                "Prints per rule the firings on healthy runs per 1,000 head-observations, which induced failures "
                        + "were detected, and the lead time in steps from that firing to the loss blowing up.",
                "The engine's own log lines stay off the console (--details lists the WARNING+ firings on "
                        + "healthy runs)."})
final class AlertsCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Option(names = "--steps", defaultValue = "400",
            description = "Iterations of every run but the healthy demo runs; failures act from the middle "
                    + "(default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--seeds", defaultValue = "3", description = "Seeds per healthy model (default ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--demo-steps", defaultValue = "300",
            description = "Iterations of each healthy demo run; 0 leaves them out (default ${DEFAULT-VALUE}).")
    int demoSteps;

    @Option(names = "--models", split = ",", paramLabel = "MODEL",
            description = "Healthy models to train (default all): marked-token, reversal, graph-example, "
                    + "dl4j-self-attention, dl4j-attention-vertex, dl4j-recurrent-attention, demo.")
    List<String> models;

    @Option(names = "--failures", split = ",", paramLabel = "FAILURE",
            description = "Failures to induce (default all; none for none): lr-diverge, lr-ramp, query-x30, "
                    + "dead-head, duplicate-head, nan.")
    List<String> failures;

    @Option(names = "--record", paramLabel = "FILE",
            description = "Also save the recorded runs to FILE (rewritten after every run).")
    Path record;

    @Option(names = "--replay", split = ",", paramLabel = "FILE",
            description = "Evaluate the rules on runs saved with --record (one or more files) instead of training.")
    List<Path> replay;

    @Option(names = "--details", description = "Also list every WARNING or CRITICAL firing on a healthy run.")
    boolean details;

    @Override
    public void run() {
        // Every firing on every run would be logged (thousands of lines on the induced failures); the table
        // below is the result. slf4j-simple reads the level when the engine's logger is made, after this.
        System.setProperty("org.slf4j.simpleLogger.log." + AlertEngine.class.getName(), "error");
        check(steps >= 2, "--steps must be >= 2 but was " + steps);
        check(seeds >= 1, "--seeds must be >= 1 but was " + seeds);
        check(demoSteps >= 0, "--demo-steps must be >= 0 but was " + demoSteps);
        List<AlertBenchmark.Model> chosenModels;
        List<AlertBenchmark.Failure> chosenFailures;
        try {
            chosenModels = models == null ? List.of(AlertBenchmark.Model.values())
                    : models.stream().map(AlertBenchmark.Model::parse).toList();
            chosenFailures = failures == null ? List.of(AlertBenchmark.Failure.values())
                    : failures.equals(List.of("none")) ? List.of()
                    : failures.stream().map(AlertBenchmark.Failure::parse).toList();
        } catch (IllegalArgumentException e) {
            throw Headwatch.badInput(spec, e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        List<AlertBenchmark.Run> runs;
        try {
            if (replay != null) {
                runs = new java.util.ArrayList<>();
                for (Path file : replay) {
                    runs.addAll(AlertBenchmark.load(file));
                }
                out.printf("bench alerts: %d runs replayed from %s%n", runs.size(), replay);
            } else {
                out.printf("bench alerts: %d seeds x %s, %d steps (demo %d); failures %s on demo, "
                                + "induced at step %d%n", seeds, names(chosenModels.stream().map(m -> m.id)), steps,
                        demoSteps, names(chosenFailures.stream().map(f -> f.id)), steps / 2);
                out.flush();
                // Saved after every run, so that a long benchmark stopped early keeps what it trained.
                runs = AlertBenchmark.train(chosenModels, chosenFailures, seeds, steps, demoSteps, out, trained -> {
                    if (record != null) {
                        try {
                            AlertBenchmark.save(trained, record);
                        } catch (IOException e) {
                            throw new UncheckedIOException("cannot write " + record, e);
                        }
                    }
                });
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AlertBenchmark.report(runs, AlertConfig.defaults(), details, out);
    }

    private static String names(Stream<String> ids) {
        return "[" + String.join(", ", ids.toList()) + "]";
    }

    private void check(boolean ok, String message) {
        if (!ok) {
            throw Headwatch.badInput(spec, message);
        }
    }
}
