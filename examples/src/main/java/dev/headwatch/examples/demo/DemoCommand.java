package dev.headwatch.examples.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import dev.headwatch.cli.CtrlC;
import dev.headwatch.cli.Headwatch;
import dev.headwatch.core.sink.ObservationSink;
import dev.headwatch.core.sink.TensorBoardSink;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code headwatch demo}: trains the demo transformer on Europarl text with every head monitored. */
@Command(name = "demo",
        header = "Trains the demo transformer on English text with every head monitored and writes its report.",
        sortOptions = false,
        description = {
                "Trains a small GPT-style transformer (SameDiff, byte-level) on English Europarl text with every "
                        + "attention head monitored.",
                "Writes metrics.jsonl, alerts.jsonl, checkpoints/, model.fb and report.html into --out, shows the "
                        + "loss while training and a table of heads at the end."
        })
public final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--steps", defaultValue = "900", description = "Training iterations. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "headwatch-out",
            description = "Output directory. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--layers", defaultValue = "2", description = "Transformer blocks. Default: ${DEFAULT-VALUE}.")
    int layers;

    @Option(names = "--heads", defaultValue = "4",
            description = "Heads per block (16 dimensions each). Default: ${DEFAULT-VALUE}.")
    int heads;

    @Option(names = "--context", defaultValue = "64", description = "Sequence length. Default: ${DEFAULT-VALUE}.")
    int context;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of weights and batches. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--induce", paramLabel = "ALERT",
            description = "Break head 0 of layer 0 at mid-run so that an alert fires: ENTROPY_COLLAPSE (query "
                    + "weights x30), DEAD_HEAD (query weights held at 0) or REDUNDANT_HEAD (head 1 copies head 0).")
    String induce;

    @Option(names = "--tensorboard", paramLabel = "DIR",
            description = "Also write TensorBoard event files into DIR (view with: tensorboard --logdir DIR).")
    Path tensorboard;

    @Override
    public Integer call() throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw Headwatch.badInput(spec, "--out " + out + " is a file, not a directory");
        }
        if (Files.isDirectory(out)) {
            try (Stream<Path> entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw Headwatch.badInput(spec, "--out " + out + " is not empty: give a new directory (a second "
                            + "run would mix its records with the first one's)");
                }
            }
        }
        DemoRun.Options options;
        try {
            options = DemoRun.Options.defaults(steps, out, layers, heads, context, seed,
                    induce == null ? null : Induce.parse(induce));
        } catch (IllegalArgumentException e) {
            throw Headwatch.badInput(spec, e.getMessage());
        }
        // Alert events are shown on the console above the progress bar; the engine's own WARN lines would break it.
        System.setProperty("org.slf4j.simpleLogger.log.dev.headwatch.core.alert", "off");
        PrintStream console = System.out;
        console.printf("headwatch demo: %d layers x %d heads, context %d, %d steps -> %s%n", layers, heads, context,
                steps, out.toAbsolutePath());
        CtrlC ctrlC = CtrlC.listen(() -> System.err.printf(
                "%nstopping after this step, then writing the report (Ctrl-C again to quit at once)%n"));
        List<ObservationSink> sinks = tensorboard == null ? List.of() : List.of(TensorBoardSink.create(tensorboard));
        DemoRun.Result r = DemoRun.train(options, console, System.console() != null, List.of(), sinks, ctrlC);
        int done = r.losses().size();
        String notice = done < steps ? "interrupted at step " + done + " of " + steps : null;
        console.printf("loss %.3f -> %.3f nats/byte (mean of the first and last 20 steps), %.0f s%n",
                r.lossAtStart(20), r.lossAtEnd(20), r.seconds());
        console.print(DemoRun.headTable(r.heads(), r.openAlerts()));
        console.println("report: " + DemoRun.report(options, r.alerts(), notice));
        console.println("metrics: " + out.resolve("metrics.jsonl") + ", alerts: " + out.resolve("alerts.jsonl")
                + ", probe: " + out.resolve("probe-input.npy") + ", " + out.resolve("probe-label.npy"));
        if (tensorboard != null) {
            console.println("tensorboard: tensorboard --logdir " + tensorboard);
        }
        if (notice != null) {
            console.println(notice);
            return CtrlC.EXIT_CODE;
        }
        return 0;
    }
}
