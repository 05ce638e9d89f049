package dev.headwatch.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.ServiceLoader;

/**
 * The {@code headwatch} command. {@link #commandLine(Object...)} builds it with its subcommands and the
 * exit code convention every subcommand follows:
 * <ul>
 *   <li>0: success;</li>
 *   <li>2: bad input or usage (unknown option, missing or malformed file, wrong shape, value out of
 *       range): one line on stderr naming the problem. A subcommand reports bad input by throwing
 *       picocli's {@link ParameterException} (see {@link #badInput(CommandSpec, String)});</li>
 *   <li>1: internal error (any other exception): one line plus the stack trace on stderr.</li>
 * </ul>
 *
 * <p>Adding a subcommand: a picocli {@code @Command} class that lives in this module goes into the
 * {@code subcommands} list below; one that lives in another module is listed by that module's
 * {@link SubcommandProvider}. Subcommands inherit {@code --help} and {@code --version}.
 */
@Command(name = "headwatch",
        scope = ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = Headwatch.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = "Per-head attention diagnostics for Deeplearning4j.",
        subcommands = {
                // Subcommands in this module, one per line:
                QkCommand.class,
                AnalyzeCommand.class,
                PrometheusRulesCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Headwatch implements Runnable {

    /** Exit code for bad input or usage. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code for an internal error. */
    public static final int EXIT_INTERNAL = 1;

    @Spec
    CommandSpec spec;

    /** The {@code ./headwatch} launcher: these subcommands and every {@link SubcommandProvider}'s. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** This command line with the subcommands of every {@link SubcommandProvider} on the class path. */
    public static CommandLine commandLine() {
        List<Object> extra = new ArrayList<>();
        ServiceLoader.load(SubcommandProvider.class).forEach(p -> extra.addAll(p.subcommands()));
        return commandLine(extra.toArray());
    }

    @Override
    public void run() {
        throw badInput(spec, "missing subcommand (see 'headwatch --help')");
    }

    /**
     * The configured command line: this command, its subcommands and {@code extraSubcommands} (picocli
     * {@code @Command} classes or instances, e.g. those of the examples module), with the exit code and
     * error reporting convention above. Output goes to {@code getOut()} / {@code getErr()}, which callers
     * (tests) may replace.
     */
    public static CommandLine commandLine(Object... extraSubcommands) {
        CommandLine cl = new CommandLine(new Headwatch());
        for (Object sub : extraSubcommands) {
            cl.addSubcommand(sub);
        }
        cl.setParameterExceptionHandler(Headwatch::onBadInput);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> onInternalError(e, commandLine));
        return cl;
    }

    /**
     * The offline commands measure the heads of a layer on all cores themselves; ND4J's own threads (BLAS
     * and its op pool) on top of that oversubscribe the cores (on 2 cores a layer's metrics took twice as
     * long), so they give ND4J one thread. Training commands keep ND4J's setting.
     */
    static void singleThreadedNd4j() {
        org.nd4j.linalg.factory.Nd4j.factory().blas().setMaxThreads(1);
        org.nd4j.linalg.factory.Nd4j.getEnvironment().setMaxThreads(1);
    }

    /** The exception a subcommand throws for bad input: exit code 2 and {@code message} on one line. */
    public static ParameterException badInput(CommandSpec spec, String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private static int onBadInput(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandSpec().qualifiedName() + ": " + oneLine(e.getMessage()));
        err.flush();
        return EXIT_BAD_INPUT;
    }

    private static int onInternalError(Exception e, CommandLine cl) {
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandSpec().qualifiedName() + ": internal error: " + oneLine(String.valueOf(e)));
        e.printStackTrace(err);
        err.flush();
        return EXIT_INTERNAL;
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** The version Maven recorded in the jar ("unknown" when run from unpackaged classes). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Headwatch.class.getResourceAsStream(
                    "/META-INF/maven/dev.headwatch/command-line/pom.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"headwatch " + p.getProperty("version", "unknown")};
        }
    }
}
