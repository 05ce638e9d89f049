package dev.headwatch.sparkexample;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code headwatch example spark}: the Spark example. The launcher runs it with Spark's classpath (this
 * module's target/lib), so it stands as its own {@code example} command with the one subcommand.
 */
@Command(name = "example", header = "Runs the Spark example (with Spark's classpath).",
        subcommands = SparkExampleCommand.Spark.class)
public final class SparkExampleCommand {

    /** {@code spark}: both training masters on local[2]; RESULT lines. */
    @Command(name = "spark", sortOptions = false,
            header = "Trains a SelfAttentionLayer network on a local[2] Spark master with each training master.",
            description = "Writes <out>/parameter-averaging/ and <out>/shared-training/, each with metrics.jsonl (one"
                    + " record per head per worker per iteration, tagged with its worker), alerts.jsonl and a"
                    + " TensorBoard run. Head 0 starts broken: LOGIT_GROWTH fires on the driver and the stop policy"
                    + " ends training early. Ends with one 'RESULT spark ...' line per training master.")
    static final class Spark implements Callable<Integer> {

        @Option(names = "--out", paramLabel = "DIR", defaultValue = "headwatch-out/spark",
                description = "Output directory. Default: ${DEFAULT-VALUE}.")
        Path out;

        @Option(names = "--epochs", paramLabel = "N", defaultValue = "4",
                description = "fit() calls at most per training master. Default: ${DEFAULT-VALUE}.")
        int epochs;

        @Override
        public Integer call() throws IOException {
            SparkExample.run(out, epochs, System.out);
            return 0;
        }
    }
}
