package dev.headwatch.cli;

import dev.headwatch.checkpoint.CheckpointAnalyzer;
import dev.headwatch.checkpoint.CheckpointException;
import dev.headwatch.checkpoint.CheckpointLoader;
import dev.headwatch.checkpoint.CheckpointRef;
import dev.headwatch.checkpoint.CheckpointResult;
import dev.headwatch.checkpoint.DeclaredAttention;
import dev.headwatch.checkpoint.Probe;
import dev.headwatch.io.Npy;
import dev.headwatch.checkpoint.FailedCheckpoint;
import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.report.ReportWriter;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code headwatch analyze}: every head of saved models, across checkpoints, into a report directory.
 * Exit code 0 when every checkpoint was read, 2 when one could not be (each named on stderr; the others
 * are still analysed and the report lists the bad ones).
 */
@Command(name = "analyze",
        header = "Analyses saved models and checkpoint series into HTML, JSON and CSV reports.",
        sortOptions = false,
        description = {
                "Per-head metrics of saved models: ModelSerializer zips (MultiLayerNetwork or ComputationGraph), "
                        + "CheckpointListener directories (every checkpoint, by iteration), SameDiff FlatBuffers files and "
                        + "pretrained transformers in ONNX files (*.onnx, probe: --input IDS.npy or --text).",
                "Without --input: weight-only metrics. With --input: every metric, on the probe data. Writes "
                        + "report.json, metrics.csv and a self-contained report.html. Never deserializes Java objects "
                        + "from a file."
        })
final class AnalyzeCommand implements Callable<Integer> {

    private static final CheckpointLoader LOADER = CheckpointLoader.standard();

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Model files or checkpoint directories, in order.")
    List<Path> paths;

    @Option(names = "--input", paramLabel = "PROBE.npy|NAME=FILE.npy",
            description = "Probe data. Layer API: NCW [mb, nIn, T] (repeat for each ComputationGraph input, in order). "
                    + "SameDiff: NAME=FILE.npy per placeholder.")
    List<String> inputs = new ArrayList<>();

    @Option(names = "--mask", paramLabel = "MASK.npy", description = "Feature mask [mb, T] for the (first) probe input.")
    Path mask;

    @Option(names = "--tokens", paramLabel = "FILE",
            description = "The first probe sequence's tokens, one per line (UTF-8), e.g. the word pieces of a tokenized "
                    + "text: the report's heat maps label their axes with them.")
    Path tokens;

    @Option(names = "--text", paramLabel = "TEXT",
            description = "ONNX models: a probe sequence as text, through the model's tokenizer.json beside it (repeat for more).")
    List<String> texts = new ArrayList<>();

    @Option(names = "--attention", paramLabel = "SPEC",
            description = "SameDiff: declare a hand-written attention layer, "
                    + "LAYER=Q:K[:V[:OUT]][,causal][,heads=N][,scale=X][,wq=VAR,wk=VAR][,layout=columns|rows|heads-first]. "
                    + "Q, K, V, OUT: [mb, heads, T, headSize] or [mb, T, heads*headSize]; wq, wk: the query and key "
                    + "projections, for weight-only metrics. Repeat per layer.")
    List<String> attention = new ArrayList<>();

    @Option(names = "--attention-file", paramLabel = "FILE",
            description = "Declarations as for --attention, one per line ('#' starts a comment).")
    Path attentionFile;

    @Option(names = "--heads", paramLabel = "N", defaultValue = "1",
            description = "Heads of a declared layer that gives no heads=N (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "headwatch-report",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--format", paramLabel = "FMT", split = ",", defaultValue = "json,csv,html",
            description = "Files to write: json, csv, html (default: ${DEFAULT-VALUE}).")
    List<String> formats;

    @Option(names = "--max-sequences", paramLabel = "N", defaultValue = "32",
            description = "Most probe sequences analysed per checkpoint (default: ${DEFAULT-VALUE}).")
    int maxSequences;

    @Option(names = "--quiet", description = "No progress on stderr.")
    boolean quiet;

    @Option(names = "--benchmark", paramLabel = "ROUNDS",
            description = "Instead of a report: time the weight-only analysis of each file against loading the "
                    + "whole model as DL4J builds it (configuration, parameters, init; SameDiff's full load for "
                    + "FlatBuffers), ROUNDS interleaved rounds, and print the median ratio.")
    Integer benchmark;

    @Override
    public Integer call() throws IOException {
        Headwatch.singleThreadedNd4j();
        Set<ReportWriter.Format> chosen = EnumSet.noneOf(ReportWriter.Format.class);
        try {
            formats.forEach(f -> chosen.add(ReportWriter.Format.parse(f)));
        } catch (IllegalArgumentException e) {
            throw Headwatch.badInput(spec, e.getMessage());
        }
        if (maxSequences < 1) {
            throw Headwatch.badInput(spec, "--max-sequences must be >= 1 but was " + maxSequences);
        }
        if (benchmark != null) {
            return benchmark();
        }
        if (paths.stream().anyMatch(dev.headwatch.onnx.OnnxAnalyze::isOnnx)) {
            return onnx(chosen);
        }
        if (!texts.isEmpty()) {
            throw Headwatch.badInput(spec, "--text applies to ONNX models only");
        }
        Probe probe = probe();
        PrintWriter err = spec.commandLine().getErr();
        CheckpointAnalyzer.Builder analyzer = CheckpointAnalyzer.builder().probe(probe).maxSequences(maxSequences)
                .plots(chosen.contains(ReportWriter.Format.HTML));
        List<DeclaredAttention> declared = declared();
        declared.forEach(analyzer::declare);
        if (!declared.isEmpty() && !quiet) {
            // Declarations override discovery: say so, since a hand-written layer left out is then not read.
            err.println(spec.qualifiedName() + ": reading the " + declared.size() + " declared layer"
                    + (declared.size() == 1 ? "" : "s") + " of SameDiff models; attention found by its shape is not read");
            err.flush();
        }
        CtrlC ctrlC = CtrlC.listen(() -> System.err.printf(
                "%nstopping after this checkpoint, then writing the report (Ctrl-C again to quit at once)%n"));
        analyzer.stopWhen(ctrlC);
        CheckpointAnalysis report;
        if (!quiet && System.console() != null) {
            try (ProgressConsole progress = ProgressConsole.open("analyze", 0, System.err, true)) {
                analyzer.progress((i, n, ref) -> {
                    progress.total(n);
                    progress.step(i, "checkpoint " + (i + 1) + " of " + n);
                });
                report = analyzer.build().analyze(paths);
            }
        } else {
            report = analyzer.build().analyze(paths);
        }
        for (FailedCheckpoint f : report.failed()) {
            err.println(spec.qualifiedName() + ": " + f.file() + ": " + f.problem());
        }
        err.flush();
        List<Path> written = ReportWriter.write(report, out, chosen);
        PrintWriter o = spec.commandLine().getOut();
        for (Path p : written) {
            o.println(p);
        }
        o.flush();
        boolean noAttention = !report.checkpoints().isEmpty()
                && report.checkpoints().stream().allMatch(c -> c.layers().isEmpty());
        if (noAttention) {
            CheckpointResult first = report.checkpoints().get(0);
            err.println(spec.qualifiedName() + ": no attention headwatch can read in " + first.file() + ": "
                    + first.skipped().stream().map(k -> k.layer() + ": " + k.reason())
                    .collect(java.util.stream.Collectors.joining("; ")));
            err.flush();
            return Headwatch.EXIT_BAD_INPUT;
        }
        if (report.notice() != null) {
            err.println(spec.qualifiedName() + ": " + report.notice());
            err.flush();
            return CtrlC.EXIT_CODE;
        }
        return report.failed().isEmpty() ? 0 : Headwatch.EXIT_BAD_INPUT;
    }

    /** A pretrained ONNX model (one file): the same report as for checkpoints. */
    private int onnx(Set<ReportWriter.Format> chosen) throws IOException {
        if (paths.size() != 1 || inputs.size() > 1 || inputs.stream().anyMatch(s -> s.contains("="))) {
            throw Headwatch.badInput(spec, "an ONNX model is analysed on its own, with at most one --input IDS.npy");
        }
        CheckpointAnalysis report;
        try {
            report = dev.headwatch.onnx.OnnxAnalyze.analyze(paths.get(0), inputs.isEmpty() ? null : Path.of(inputs.get(0)),
                    mask, texts, maxSequences, CheckpointAnalyzer.builder().plots(chosen.contains(ReportWriter.Format.HTML))
                            .build());
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            throw Headwatch.badInput(spec, e.getMessage());
        }
        PrintWriter o = spec.commandLine().getOut();
        ReportWriter.write(report, out, chosen).forEach(o::println);
        o.flush();
        return 0;
    }

    /** One line per file and a summary: median milliseconds of each side and their ratio. */
    private int benchmark() {
        if (benchmark < 1) {
            throw Headwatch.badInput(spec, "--benchmark must be >= 1 but was " + benchmark);
        }
        PrintWriter o = spec.commandLine().getOut();
        CheckpointAnalyzer.Builder builder = CheckpointAnalyzer.builder();
        declared().forEach(builder::declare);
        CheckpointAnalyzer analyzer = builder.build();
        List<CheckpointRef> refs = dev.headwatch.checkpoint.CheckpointSeries.resolve(paths).checkpoints();
        double restoreTotal = 0;
        double analysisTotal = 0;
        for (CheckpointRef ref : refs) {
            double[] restore = new double[benchmark];
            double[] analysis = new double[benchmark];
            for (int r = -1; r < benchmark; r++) { // round -1 warms up both paths
                long t0 = System.nanoTime();
                restore(ref);
                long t1 = System.nanoTime();
                CheckpointAnalysis report = analyzer.analyze(new dev.headwatch.checkpoint.CheckpointSeries(List.of(ref), List.of()));
                long t2 = System.nanoTime();
                if (!report.failed().isEmpty()) {
                    throw Headwatch.badInput(spec, ref.file() + ": " + report.failed().get(0).problem());
                }
                if (r >= 0) {
                    restore[r] = (t1 - t0) / 1e6;
                    analysis[r] = (t2 - t1) / 1e6;
                }
            }
            double rm = median(restore);
            double am = median(analysis);
            restoreTotal += rm;
            analysisTotal += am;
            o.printf(java.util.Locale.ROOT, "%s: restore=%.1fms analysis=%.1fms ratio=%.2fx%n", ref.label(), rm, am, am / rm);
        }
        o.printf(java.util.Locale.ROOT, "load-vs-analysis: %d files, analysis/restore=%.2fx%n", refs.size(),
                analysisTotal / restoreTotal);
        o.flush();
        return 0;
    }

    /**
     * The baseline of {@code --benchmark}: loading the whole model as DL4J builds it (configuration, parameters,
     * {@code init}), read the safe way. DL4J's {@code ModelSerializer} is not used: it deserializes Java objects
     * from the file ({@code preprocessor.bin}), which no file handed to this command may make it do.
     */
    private void restore(CheckpointRef ref) {
        try {
            LOADER.load(ref);
        } catch (CheckpointException e) {
            throw Headwatch.badInput(spec, ref.file() + ": not a model file DL4J can load (" + e.getMessage() + ")");
        }
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private List<DeclaredAttention> declared() {
        if (heads < 1) {
            throw Headwatch.badInput(spec, "--heads must be >= 1 but was " + heads);
        }
        List<String> specs = new ArrayList<>(attention);
        if (attentionFile != null) {
            List<String> lines;
            try {
                lines = java.nio.file.Files.readAllLines(attentionFile);
            } catch (IOException e) {
                throw Headwatch.badInput(spec, "cannot read --attention-file " + attentionFile + " (" + e + ")");
            }
            for (String line : lines) {
                int hash = line.indexOf('#');
                String s = (hash < 0 ? line : line.substring(0, hash)).trim();
                if (!s.isEmpty()) {
                    specs.add(s);
                }
            }
        }
        List<DeclaredAttention> out = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        try {
            for (String s : specs) {
                DeclaredAttention d = DeclaredAttention.parse(s, heads);
                if (!names.add(d.layer())) {
                    throw new IllegalArgumentException("layer " + d.layer() + " is declared twice");
                }
                out.add(d);
            }
        } catch (IllegalArgumentException e) {
            throw Headwatch.badInput(spec, e.getMessage());
        }
        return out;
    }

    private Probe probe() {
        Probe probe = probeData();
        if (tokens == null) {
            return probe;
        }
        if (probe == null) {
            throw Headwatch.badInput(spec, "--tokens needs --input");
        }
        try {
            return probe.withTokens(Files.readAllLines(tokens, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw Headwatch.badInput(spec, tokens + ": cannot read tokens (" + e.getMessage() + ")");
        }
    }

    private Probe probeData() {
        if (inputs.isEmpty()) {
            if (mask != null) {
                throw Headwatch.badInput(spec, "--mask needs --input");
            }
            return null;
        }
        try {
            long named = inputs.stream().filter(s -> s.contains("=")).count();
            if (named == inputs.size()) {
                if (mask != null) {
                    throw Headwatch.badInput(spec, "--mask applies to layer-API inputs, not SameDiff placeholders");
                }
                Map<String, INDArray> placeholders = new LinkedHashMap<>();
                for (String s : inputs) {
                    int eq = s.indexOf('=');
                    placeholders.put(s.substring(0, eq), Npy.read(Path.of(s.substring(eq + 1))));
                }
                return Probe.sameDiff(placeholders);
            }
            if (named != 0) {
                throw Headwatch.badInput(spec, "--input takes either files (layer API) or NAME=FILE.npy pairs "
                        + "(SameDiff), not both");
            }
            List<INDArray> arrays = new ArrayList<>();
            for (String s : inputs) {
                INDArray a = Npy.read(Path.of(s));
                if (a.rank() != 3) {
                    throw Headwatch.badInput(spec, s + ": probe must be NCW [mb, nIn, T] but has shape "
                            + java.util.Arrays.toString(a.shape()));
                }
                arrays.add(a);
            }
            List<INDArray> masks = null;
            if (mask != null) {
                masks = new ArrayList<>();
                masks.add(Npy.read(mask));
                for (int i = 1; i < arrays.size(); i++) {
                    masks.add(null);
                }
            }
            return Probe.withMasks(arrays, masks);
        } catch (IllegalArgumentException e) {
            throw Headwatch.badInput(spec, e.getMessage());
        }
    }
}
