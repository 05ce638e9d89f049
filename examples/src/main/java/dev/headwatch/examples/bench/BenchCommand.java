package dev.headwatch.examples.bench;

import dev.headwatch.cli.Headwatch;
import dev.headwatch.core.math.Products;
import dev.headwatch.examples.layerapi.ReversalTask;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code headwatch bench}: benchmarks. */
@Command(name = "bench",
        header = "Runs the benchmarks: what monitoring costs, and how well the alert rules tell healthy runs from failing ones.",
        subcommands = {BenchCommand.Overhead.class, AlertsCommand.class})
public final class BenchCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw Headwatch.badInput(spec, "missing benchmark (see 'headwatch bench --help')");
    }

    /** {@code headwatch bench overhead}. */
    @Command(name = "overhead",
            header = "Measures the training-step overhead of headwatch and of DL4J's StatsListener.",
            description = {"Training-step overhead of headwatch at its defaults and of DL4J's StatsListener, "
                    + "measured interleaved against unmonitored training of the same attention model.",
                    "Ends with: overhead: headwatch=<x>x statslistener=<y>x (median step-time ratios)."})
    static final class Overhead implements Runnable {

        @Spec
        CommandSpec spec;

        // On 2 cores the JIT compiles the monitor over its first 1,000-3,000 observations (1.6 ms each at first,
        // 0.5 ms once compiled, replayed by the benchmarks module's ObservationCpu), one compiler thread sharing
        // the cores with training: after 600 steps the timed ones still paid for it.
        @Option(names = "--warmup", defaultValue = "2000",
                description = "Untimed steps per way, so the JIT has compiled the training code and the listeners "
                        + "(default ${DEFAULT-VALUE}); the output says how much it still compiled in the last 100.")
        int warmup;

        /** The defaults of {@code --rounds} and {@code --steps}, which {@code StepCpu}'s split of steps follows. */
        static final String ROUNDS = "50";
        static final String STEPS = "10";

        @Option(names = "--rounds", defaultValue = ROUNDS, description = "Interleaved rounds (default ${DEFAULT-VALUE}).")
        int rounds;

        @Option(names = "--steps", defaultValue = STEPS, description = "Timed steps per way and round (default ${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--every", defaultValue = "1",
                description = "headwatch observes every N-th iteration (default ${DEFAULT-VALUE}, its own default).")
        int every;

        @Option(names = "--batch", defaultValue = "32", description = "Sequences per minibatch (default ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--length", defaultValue = "32", description = "Sequence length (default ${DEFAULT-VALUE}).")
        int length;

        @Option(names = "--times", paramLabel = "FILE",
                description = "Also write every timed step to FILE as CSV (round, position, way, step, nanos).")
        Path times;

        @Override
        public void run() {
            check(warmup >= 0, "--warmup must be >= 0 but was " + warmup);
            check(rounds >= 1, "--rounds must be >= 1 but was " + rounds);
            check(steps >= 1, "--steps must be >= 1 but was " + steps);
            check(every >= 1, "--every must be >= 1 but was " + every);
            check(batch >= 1, "--batch must be >= 1 but was " + batch);
            check(length >= 2, "--length must be >= 2 but was " + length);
            Path folder = times == null ? null : times.toAbsolutePath().getParent();
            check(times == null || Files.isDirectory(folder) && Files.isWritable(folder),
                    "--times: cannot write a file in " + folder);
            ReversalTask.Shape d = ReversalTask.Shape.DEFAULT;
            ReversalTask.Shape shape = new ReversalTask.Shape(d.vocab(), length, d.width(), d.heads(), batch);
            PrintWriter out = spec.commandLine().getOut();
            out.printf("bench overhead: reversal model, %d attention layers x %d heads, batch %d, length %d; "
                    + "%d warmup, %d rounds x %d steps per way; headwatch observes every %s%n", 2, shape.heads(), batch,
                    length, warmup, rounds, steps, every == 1 ? "iteration" : every + " iterations");
            String omp = System.getenv("OMP_NUM_THREADS");
            int threads = Nd4j.getEnvironment().maxThreads();
            out.printf("ND4J: %d thread%s on %d cores (OMP_NUM_THREADS%s)%n", threads, threads == 1 ? "" : "s",
                    Runtime.getRuntime().availableProcessors(), omp == null ? " unset" : "=" + omp);
            out.println(Products.vectorised() ? "headwatch's products: on the JDK's vector API"
                    : "headwatch's products: plain Java (the vector API needs the JVM flag --add-modules "
                    + "jdk.incubator.vector, and no -Dheadwatch.vector=false)");
            out.flush();
            OverheadBenchmark.Result r = OverheadBenchmark.run(shape, warmup, rounds, steps, every, out);
            out.println(r.monitorLine());
            out.println(r.cpuLine());
            out.println(r.warmupLine());
            out.println(r.backgroundLine());
            out.println(r.allocationLine());
            out.println(r.slowLine());
            out.println(r.intervalLine());
            out.println(r.line());
            out.flush();
            if (times != null) {
                try {
                    r.writeTimes(times, steps);
                } catch (IOException e) {
                    throw Headwatch.badInput(spec, "cannot write " + times + ": " + e.getMessage());
                }
            }
        }

        private void check(boolean ok, String message) {
            if (!ok) {
                throw Headwatch.badInput(spec, message);
            }
        }
    }
}
