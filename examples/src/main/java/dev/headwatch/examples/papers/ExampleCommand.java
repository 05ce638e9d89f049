package dev.headwatch.examples.papers;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import dev.headwatch.cli.CtrlC;
import dev.headwatch.cli.Headwatch;
import dev.headwatch.cli.ProgressConsole;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code headwatch example <name>}: one paper reproduction, a PNG plot and a RESULT line. */
@Command(name = "example",
        header = "Reproduces one of the four papers behind the metrics, or runs the layer-API example.",
        sortOptions = false,
        description = {
                "Reproduces one of the papers behind the metrics: writes <out>/<name>.png and ends with a line "
                        + "'RESULT <name> key=value ...'.",
                "Names: signal-recovery, linear-regime, specialization, invariants.",
                "'layer-api' trains the DL4J layer-API example (ComputationGraph + SelfAttentionLayer) instead.",
                "'spark' trains on a local Spark master; ./headwatch runs it with Spark's classpath (docs/spark.md)."
        })
public final class ExampleCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME",
            description = "signal-recovery | linear-regime | specialization | invariants | layer-api")
    String name;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "headwatch-out",
            description = "Directory for the plot (and the invariants training run). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--from", paramLabel = "DIR",
            description = "invariants: a './headwatch demo' output directory (default shape) to measure instead of "
                    + "training the demo model again.")
    Path from;

    @Override
    public Integer call() throws java.io.IOException {
        PrintStream console = System.out;
        CtrlC.listen(() -> {
            System.err.printf("%ninterrupted: %s writes its plot and RESULT line only when it finishes%n", name);
            System.exit(CtrlC.EXIT_CODE);
        });
        // The paper models print nothing until they finish: show that they run (the others print their own progress).
        boolean quiet = List.of("signal-recovery", "linear-regime", "specialization").contains(name);
        try (ProgressConsole running = quiet && System.console() != null
                ? ProgressConsole.open(name, 0, System.err, true) : null) {
            return run(console);
        }
    }

    private Integer run(PrintStream console) throws java.io.IOException {
        if (name.equals("layer-api")) {
            dev.headwatch.examples.layerapi.AttentionGraphExample.run(300, 42, out, console);
            return 0;
        }
        Path png = out.resolve(name + ".png");
        String line = switch (name) {
            case "signal-recovery" -> {
                SignalRecovery.Result r = SignalRecovery.run(SignalRecovery.Config.paper());
                SignalRecovery.plot(r, png);
                yield r.line();
            }
            case "linear-regime" -> {
                LinearRegime.Result r = LinearRegime.run(LinearRegime.Config.paper());
                LinearRegime.plot(r, png);
                yield r.line();
            }
            case "specialization" -> {
                Specialization.Result r = Specialization.run(Specialization.Config.paper());
                Specialization.plot(r, png);
                yield r.line();
            }
            case "invariants" -> {
                Invariants.Result r = Invariants.run(Invariants.Config.paper(from != null ? from : out.resolve("invariants-run")), console);
                Invariants.plot(r, png);
                yield r.line();
            }
            case "spark" -> throw Headwatch.badInput(spec, "example spark needs Spark's classpath: run it with"
                    + " ./headwatch from a built tree (mvn -B -DskipTests package builds spark-example/target/lib)");
            default -> throw Headwatch.badInput(spec, "unknown example '" + name
                    + "': choose signal-recovery, linear-regime, specialization, invariants, layer-api or spark");
        };
        console.println("plot: " + png);
        console.println(line);
        return 0;
    }
}
