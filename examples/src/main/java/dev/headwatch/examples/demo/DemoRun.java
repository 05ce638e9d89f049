package dev.headwatch.examples.demo;

import dev.headwatch.examples.UpstreamNoise;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.listeners.checkpoint.CheckpointListener;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import dev.headwatch.checkpoint.CheckpointAnalyzer;
import dev.headwatch.cli.ProgressConsole;
import dev.headwatch.io.Npy;
import dev.headwatch.checkpoint.DeclaredAttention;
import dev.headwatch.checkpoint.Probe;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.report.ReportWriter;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.checkpoint.CheckpointAlert;
import dev.headwatch.samediff.AttentionVariables;
import dev.headwatch.core.sink.ObservationSink;
import dev.headwatch.samediff.SameDiffAttentionListener;
import dev.headwatch.core.sink.AlertJsonlSink;
import dev.headwatch.core.sink.JsonLinesSink;
import dev.headwatch.examples.text.ByteCorpus;
import dev.headwatch.examples.text.Europarl;

/**
 * Trains the demo transformer on Europarl text with its heads monitored and writes everything into one
 * directory: {@code metrics.jsonl} (one record per head per observation), {@code alerts.jsonl},
 * {@code checkpoints/} (SameDiff FlatBuffers and {@code checkpointInfo.txt}, every {@code checkpointEvery}
 * iterations) and {@code model.fb} (the final model); {@link #report(Options, List)} adds {@code report.html}.
 */
public final class DemoRun {

    /**
     * @param steps           training iterations
     * @param out             output directory
     * @param model           model shape
     * @param seed            seed of the weights and of the batches
     * @param induce          a head to break at mid-run, or null
     * @param batchSize       sequences per iteration
     * @param learningRate    Adam learning rate
     * @param checkpointEvery iterations between checkpoints
     */
    public record Options(int steps, Path out, GptConfig model, long seed, Induce induce, int batchSize,
                          double learningRate, int checkpointEvery) {

        public Options {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be >= 1 but was " + steps);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1 but was " + batchSize);
            }
            if (checkpointEvery < 1) {
                throw new IllegalArgumentException("checkpointEvery must be >= 1 but was " + checkpointEvery);
            }
            if (!(learningRate > 0)) {
                throw new IllegalArgumentException("learning rate must be > 0 but was " + learningRate);
            }
        }

        /** The defaults of {@code ./headwatch demo}, with the given shape and length. */
        public static Options defaults(int steps, Path out, int layers, int heads, int context, long seed,
                                       Induce induce) {
            GptConfig model = new GptConfig(layers, heads, 16 * heads, context, ByteCorpus.VOCAB);
            return new Options(steps, out, model, seed, induce, 16, 3e-3, Math.max(1, steps / 4));
        }
    }

    /**
     * What a run produced.
     *
     * @param model      the trained model
     * @param losses     training loss per iteration (nats per byte); fewer than the steps asked for when stopped
     * @param heads      per layer, per head: metrics on a held-out probe batch after training
     * @param seconds    wall-clock training time
     * @param openAlerts the alerts still open at the end, by {@code layer/head}
     * @param alerts     every alert transition of the run, as written to {@code alerts.jsonl}
     */
    public record Result(SameDiff model, List<Double> losses, List<List<HeadMetrics>> heads, double seconds,
                         Map<String, List<String>> openAlerts, List<AlertEvent> alerts) {

        /** Mean loss over the first {@code k} iterations. */
        public double lossAtStart(int k) {
            return mean(losses.subList(0, Math.min(k, losses.size())));
        }

        /** Mean loss over the last {@code k} iterations. */
        public double lossAtEnd(int k) {
            return mean(losses.subList(Math.max(0, losses.size() - k), losses.size()));
        }

        private static double mean(List<Double> xs) {
            return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }
    }

    /** Sequences in the held-out probe batch the head table is measured on. */
    static final int PROBE_SEQUENCES = 4;

    private DemoRun() {
    }

    /** The English Europarl text split 90/10 into training and held-out corpora. */
    public static ByteCorpus[] corpora() {
        ByteCorpus all = ByteCorpus.of(Europarl.englishLines());
        int cut = all.size() / 10 * 9;
        return new ByteCorpus[] {all.slice(0, cut), all.slice(cut, all.size())};
    }

    /** The monitor of the demo: every head of every block declared by its q, k, v and output variables. */
    public static SameDiffAttentionListener.Builder monitor(GptConfig c) {
        SameDiffAttentionListener.Builder b = SameDiffAttentionListener.builder().autoDetect(false)
                .maxSequences(4);   // averaged over 4 sequences, alerts do not flap on single-sequence noise
        for (int l = 0; l < c.layers(); l++) {
            b.declare(attention(c, l));
        }
        return b;
    }

    /** Block l's attention: its q, k, v (per head, {@code [mb, heads, T, headSize]}), causal, and its output. */
    static AttentionVariables attention(GptConfig c, int l) {
        return AttentionVariables.of(TinyGpt.layerName(l), TinyGpt.var(l, "q"), TinyGpt.var(l, "k"),
                TinyGpt.var(l, "v")).heads(c.heads()).causal().output(TinyGpt.var(l, "out"));
    }

    /**
     * Trains as configured with the monitor and the default alert rules attached, writing
     * {@code metrics.jsonl} and {@code alerts.jsonl}; {@code extra} listeners run too.
     */
    public static Result train(Options o, PrintStream console, boolean terminal, List<Listener> extra) {
        return train(o, console, terminal, extra, List.of(), () -> false);
    }

    /**
     * As {@link #train(Options, PrintStream, boolean, List)}, with more sinks (e.g. TensorBoard, closed at the
     * end), and ending early, between two steps, once {@code stop} says so. The console shows a progress bar
     * with the loss and the heads in alert, and each alert event on its own line above it.
     */
    public static Result train(Options o, PrintStream console, boolean terminal, List<Listener> extra,
                               List<ObservationSink> sinks, BooleanSupplier stop) {
        Path metrics = o.out().resolve("metrics.jsonl");
        List<AlertEvent> events = new CopyOnWriteArrayList<>();
        try (AlertJsonlSink alertFile = AlertJsonlSink.open(o.out().resolve("alerts.jsonl"));
             ProgressConsole progress = ProgressConsole.open("train", o.steps(), console, terminal)) {
            OpenAlerts open = new OpenAlerts(progress::event);
            AlertEngine alerts = AlertEngine.withDefaults().addListener(alertFile).addListener(open)
                    .addListener(events::add);
            ProgressListener losses = new ProgressListener(progress, open::heads);
            SameDiffAttentionListener.Builder builder = monitor(o.model())
                    .loss(losses::current)
                    .sink(JsonLinesSink.open(metrics))
                    .sink(alerts);
            sinks.forEach(builder::sink);
            Result r;
            try (SameDiffAttentionListener monitor = builder.seed(o.seed()).build()) {
                List<Listener> all = new ArrayList<>(extra);
                all.add(monitor);
                all.add(losses);
                r = trainWith(o, all, losses, stop);
            }
            // After close(): the monitor has delivered every observation, so every alert event is in (the same
            // events alerts.jsonl holds).
            return new Result(r.model(), r.losses(), r.heads(), r.seconds(), open.snapshot(), List.copyOf(events));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the monitor's files in " + o.out(), e);
        }
    }

    private static Result trainWith(Options o, List<Listener> extra, ProgressListener progress, BooleanSupplier stop) {
        ByteCorpus[] split = corpora();
        SameDiff sd = TinyGpt.build(o.model(), o.seed(), o.learningRate());
        File checkpoints = o.out().resolve("checkpoints").toFile();
        try {
            Files.createDirectories(checkpoints.toPath());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + checkpoints, e);
        }
        List<Listener> listeners = new ArrayList<>(extra);
        listeners.add(new CheckpointListener.Builder(checkpoints)
                .saveEveryNIterations(o.checkpointEvery())
                .keepAll()
                .deleteExisting(true)
                .saveUpdaterState(false)
                .logSaving(false)
                .build());
        if (o.induce() != null) {
            listeners.add(o.induce().at(o.model(), 0, o.steps() / 2));
        }
        long start = System.nanoTime();
        UpstreamNoise.muted(sd::createGradFunction);
        sd.fit(new BatchIterator(split[0], o.steps(), o.batchSize(), o.model().context(), o.seed(), stop), 1,
                listeners.toArray(new Listener[0]));
        double seconds = (System.nanoTime() - start) / 1e9;
        try {
            sd.save(o.out().resolve("model.fb").toFile(), false);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot save the model to " + o.out().resolve("model.fb"), e);
        }
        var probe = TinyGpt.batch(split[1].windows(PROBE_SEQUENCES, o.model().context(),
                new SplittableRandom(o.seed() + 1)), ByteCorpus.VOCAB);
        List<List<HeadMetrics>> heads = HeadProbe.measure(HeadProbe.run(sd, o.model(), probe), o.model());
        return new Result(sd, List.copyOf(progress.losses()), heads, seconds, Map.of(), List.of());
    }

    /**
     * Writes {@code report.html} into the output directory with {@code headwatch analyze}'s code, from the run's
     * checkpoints and a held-out probe batch, which it saves beside them as {@code probe-input.npy} and
     * {@code probe-label.npy} (so {@code analyze} can be run on them by hand). The report lists the run's own alert
     * transitions ({@code alerts}, the events of {@code alerts.jsonl}) rather than re-running the rules on the few
     * checkpoints; {@code notice}, if not null, opens it. Returns the file, or a one-line reason when it could not
     * be written (the training results stand either way).
     */
    public static String report(Options o, List<AlertEvent> alerts, String notice) {
        try {
            Probe probe = probe(o);
            for (Map.Entry<String, INDArray> p : probe.placeholders().entrySet()) {
                Npy.write(o.out().resolve("probe-" + p.getKey() + ".npy"), p.getValue());
            }
            CheckpointAnalysis analysed = analyze(o, probe);
            CheckpointAnalysis report = new CheckpointAnalysis(analysed.created(), analysed.probe(),
                    analysed.checkpoints(), analysed.failed(), analysed.rules(),
                    alerts.stream().map(e -> new CheckpointAlert("step " + e.step(), e)).toList(),
                    analysed.probeTokens(), notice);
            return ReportWriter.write(report, o.out(), EnumSet.of(ReportWriter.Format.HTML)).get(0).toString();
        } catch (IOException | RuntimeException e) {
            return "report not written: " + e.getMessage();
        }
    }

    /**
     * The held-out probe batch, by placeholder name ({@code input} and {@code label}), with the first sequence's
     * characters, which label the report's heat maps (a window's last byte is only its label).
     */
    static Probe probe(Options o) {
        int[][] windows = corpora()[1].windows(PROBE_SEQUENCES, o.model().context(), new SplittableRandom(o.seed() + 1));
        var batch = TinyGpt.batch(windows, ByteCorpus.VOCAB);
        Map<String, INDArray> placeholders = new LinkedHashMap<>();
        placeholders.put(TinyGpt.INPUT, batch.getFeatures(0));
        placeholders.put(TinyGpt.LABEL, batch.getLabels(0));
        List<String> characters = java.util.Arrays.stream(windows[0], 0, windows[0].length - 1)
                .mapToObj(t -> String.valueOf(ByteCorpus.charOf(t))).toList();
        return Probe.sameDiff(placeholders).withTokens(characters);
    }

    /** Every checkpoint of the run analysed on the probe, each block declared as the monitor does. */
    static CheckpointAnalysis analyze(Options o, Probe probe) {
        CheckpointAnalyzer.Builder analyzer = CheckpointAnalyzer.builder();
        for (int l = 0; l < o.model().layers(); l++) {
            // Wq and Wk are [dModel, dModel] with each head's projection a block of columns.
            analyzer.declare(DeclaredAttention.of(attention(o.model(), l))
                    .weights(TinyGpt.var(l, "Wq"), TinyGpt.var(l, "Wk"), DeclaredAttention.WeightLayout.COLUMNS));
        }
        Path checkpoints = o.out().resolve("checkpoints");
        // CheckpointListener writes its record with the first checkpoint: a run stopped (Ctrl-C) before it
        // has only its final model to show.
        List<Path> files = Files.exists(checkpoints.resolve("checkpointInfo.txt"))
                ? CheckpointListener.availableCheckpoints(checkpoints.toFile()).stream()
                        .map(c -> checkpoints.resolve(c.getFilename())).toList()
                : List.of(o.out().resolve("model.fb"));
        return analyzer.probe(probe).build().analyze(files);
    }

    /** The per-layer table of heads printed at the end of the demo, with the alerts open on each head. */
    public static String headTable(List<List<HeadMetrics>> heads, Map<String, List<String>> openAlerts) {
        StringBuilder s = new StringBuilder();
        for (int l = 0; l < heads.size(); l++) {
            s.append(String.format("layer%d  %-4s %8s %8s %8s %8s %8s %8s  %s%n", l, "head", "entropy", "effRank",
                    "particip", "keyCoh", "sinkMax", "maxLogit", "open alerts"));
            List<HeadMetrics> layer = heads.get(l);
            for (int h = 0; h < layer.size(); h++) {
                HeadMetrics m = layer.get(h);
                List<String> open = openAlerts.getOrDefault(OpenAlerts.key(TinyGpt.layerName(l), h), List.of());
                s.append(String.format("        %-4d %8.3f %8.2f %8.3f %8.2f %8.3f %8.2f  %s%n", h, m.entropy(),
                        m.effectiveRank(), m.participation(), m.keyCoherence(), m.sinkMax(), m.maxLogit(),
                        open.isEmpty() ? "-" : String.join(", ", open)));
            }
        }
        return s.toString();
    }
}
