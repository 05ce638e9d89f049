package dev.headwatch.checkpoint;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.LayerAnalyzer;
import dev.headwatch.core.LayerCapture;
import dev.headwatch.core.LayerObservation;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.WeightAnalysis;
import dev.headwatch.core.WeightHeadMetrics;
import dev.headwatch.core.WeightLayerMetrics;
import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertConfig;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.math.EnergyField;
import dev.headwatch.core.math.Spectrum;
import dev.headwatch.dl4j.AttentionLayers;
import dev.headwatch.dl4j.Counters;
import dev.headwatch.samediff.AttentionPatterns;
import dev.headwatch.samediff.AttentionVariables;
import dev.headwatch.samediff.SameDiffCapture;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.Map;

/**
 * Analyses a series of checkpoints into a {@link CheckpointAnalysis}. Per checkpoint and attention layer: the
 * weight-only metrics of every head ({@link WeightAnalysis}); with a {@link Probe}, every per-head and
 * per-layer metric: the layer is captured by the same {@link AttentionLayers} the live listener uses (the
 * network is run forward on the probe) and measured by {@link LayerObservation}, as a live monitor measures
 * each step. SameDiff files: fused attention ops are found by themselves, hand-written attention is declared
 * ({@link Builder#declare}); on a probe both are captured by {@link SameDiffCapture}, as the live
 * {@code SameDiffAttentionListener} captures them. The checkpoints are fed to an {@link AlertEngine} in order, one
 * observation each. A checkpoint that cannot be read is listed in the report and the others are still
 * analysed. The plot data (fields, spectra) is kept for the last checkpoint of the series only, and not
 * at all with {@code plots(false)}.
 *
 * <pre>{@code
 * CheckpointAnalysis report = CheckpointAnalyzer.builder().probe(Probe.of(probeBatch)).build()
 *         .analyze(List.of(Path.of("checkpoints")));
 * ReportWriter.write(report, Path.of("headwatch-report"));
 * }</pre>
 */
public final class CheckpointAnalyzer {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointAnalyzer.class);

    /** Told before each checkpoint is analysed. */
    @FunctionalInterface
    public interface Progress {
        /**
         * @param index 0-based position in the series
         * @param total checkpoints in the series
         * @param ref   the checkpoint about to be analysed
         */
        void starting(int index, int total, CheckpointRef ref);
    }

    private final CheckpointLoader loader;
    private final Probe probe;
    private final AlertConfig alerts;
    private final AlertConfig explicitAlerts;
    private final Progress progress;
    private final BooleanSupplier stop;
    private final int maxSequences;
    private final boolean plots;
    private final List<DeclaredAttention> declared;
    private final Clock clock;
    private final boolean directRead;

    private CheckpointAnalyzer(Builder b) {
        this.loader = b.loader;
        this.probe = b.probe;
        this.explicitAlerts = b.alerts;
        this.alerts = b.alerts != null ? b.alerts : defaultAlerts(b.probe != null);
        this.progress = b.progress;
        this.stop = b.stop;
        this.maxSequences = b.maxSequences;
        this.plots = b.plots;
        this.declared = List.copyOf(b.declared);
        this.clock = b.clock;
        this.directRead = b.directRead;
    }

    /** A builder: standard loader, no probe (weight-only), alert defaults with {@code persist = 1} (see {@link Builder#alerts}). */
    public static Builder builder() {
        return new Builder();
    }

    /** Resolves the paths ({@link CheckpointSeries}) and analyses them. */
    public CheckpointAnalysis analyze(List<Path> paths) {
        return analyze(CheckpointSeries.resolve(paths));
    }

    /** Analyses a resolved series. */
    public CheckpointAnalysis analyze(CheckpointSeries series) {
        List<FailedCheckpoint> failed = new ArrayList<>();
        series.problems().forEach(p -> failed.add(failure(p.file(), p.file().getFileName() + "", p.problem())));
        AlertEngine engine = AlertEngine.of(alerts, clock);
        List<CheckpointResult> results = new ArrayList<>();
        List<CheckpointAlert> events = new ArrayList<>();
        List<CheckpointRef> refs = series.checkpoints();
        String notice = null;
        for (int i = 0; i < refs.size(); i++) {
            if (stop.getAsBoolean()) {
                notice = "interrupted after " + i + " of " + refs.size() + " checkpoints";
                break;
            }
            CheckpointRef ref = refs.get(i);
            progress.starting(i, refs.size(), ref);
            Analysed a;
            try {
                a = analyze(ref, plots && i == refs.size() - 1);
            } catch (CheckpointException e) {
                failed.add(failure(ref.file(), ref.label(), e.problem()));
                continue;
            } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
                failed.add(failure(ref.file(), ref.label(), "cannot analyse (" + CheckpointLoader.rootMessage(e) + ")"));
                LOG.debug("analysis of {} failed", ref.file(), e);
                continue;
            }
            long step = a.result.iteration() >= 0 ? a.result.iteration() : i;
            for (AlertEvent ev : engine.evaluate(new Observation(step, Math.max(a.result.epoch(), 0), mtime(ref.file()),
                    a.records))) {
                events.add(new CheckpointAlert(ref.label(), ev));
            }
            results.add(a.result);
        }
        return new CheckpointAnalysis(clock.instant(), probe == null ? null : probe.description(), results, failed,
                ruleNames(alerts), events, probe == null ? List.of() : probe.tokens(), notice);
    }

    /** METRICS.md's rules with {@code persist = 1}; without probe data only the rule that reads weights. */
    private static AlertConfig defaultAlerts(boolean probe) {
        return probe ? AlertConfig.builder().persist(1).build()
                : AlertConfig.builder().persist(1).enableOnly(Alert.LOGIT_GROWTH).build();
    }

    private static List<String> ruleNames(AlertConfig config) {
        List<String> rules = new ArrayList<>();
        for (Alert r : Alert.values()) {
            if (config.isEnabled(r)) {
                rules.add(r.name());
            }
        }
        config.userRules().forEach(r -> rules.add(r.name()));
        return rules;
    }

    /**
     * An attention layer that another front end read from a model this analyzer cannot load (a pretrained
     * ONNX model): its capture on the probe sequences and its weight metrics, measured here exactly as a
     * checkpoint's layers are.
     *
     * @param name     the layer name
     * @param kind     the layer kind the report shows
     * @param heads    number of heads
     * @param headSize head dimension
     * @param weights  weight-only metrics ({@link WeightAnalysis}), or null
     * @param capture  the layer on the probe sequences, or null without probe data
     */
    public record ExtractedLayer(String name, String kind, int heads, int headSize, WeightLayerMetrics weights,
                                 LayerCapture capture) {
        public ExtractedLayer {
            if (name == null || kind == null || heads < 1 || headSize < 1) {
                throw new IllegalArgumentException("layer " + name + ": name and kind must be given and heads ("
                        + heads + ") and headSize (" + headSize + ") positive");
            }
        }
    }

    /**
     * One model whose attention layers were captured elsewhere ({@link ExtractedLayer}), as a one-checkpoint
     * analysis: the same per-layer analysis, plot data and alert rules (the builder's, or the defaults for
     * {@code probe} given or not) as {@link #analyze(CheckpointSeries)}.
     *
     * @param file   the model file
     * @param format what the file holds (e.g. {@code ONNX})
     * @param probe  a description of the probe data, or null for weight-only metrics
     * @param layers the attention layers, in model order
     */
    public CheckpointAnalysis analyzeExtracted(Path file, String format, String probe, List<ExtractedLayer> layers) {
        AlertConfig config = explicitAlerts != null ? explicitAlerts : defaultAlerts(probe != null);
        List<LayerResult> results = new ArrayList<>();
        List<HeadRecord> records = new ArrayList<>();
        for (ExtractedLayer l : layers) {
            results.add(layer(l.name(), l.kind(), l.heads(), l.headSize(), l.weights(), l.capture(), plots, records));
        }
        String label = String.valueOf(file.getFileName());
        List<CheckpointAlert> events = new ArrayList<>();
        for (AlertEvent ev : AlertEngine.of(config, clock).evaluate(new Observation(0, 0, mtime(file), records))) {
            events.add(new CheckpointAlert(label, ev));
        }
        CheckpointResult result = new CheckpointResult(label, file.toString(), -1, -1, format, results, List.of());
        return new CheckpointAnalysis(clock.instant(), probe, List.of(result), List.of(), ruleNames(config), events,
                List.of(), null);
    }

    private static FailedCheckpoint failure(Path file, String label, String problem) {
        return new FailedCheckpoint(label, String.valueOf(file), problem);
    }

    private Instant mtime(Path file) {
        try {
            return Files.getLastModifiedTime(file).toInstant();
        } catch (IOException e) {
            return clock.instant();
        }
    }

    /** One checkpoint's result and its observation for the alert engine. */
    private record Analysed(CheckpointResult result, List<HeadRecord> records) {
    }

    /**
     * One checkpoint. Weight-only analysis of a SameDiff file reads its FlatBuffers directly when it can
     * ({@link CheckpointLoader#storedGraph}); everything else loads the model. The iteration and epoch are the
     * series' (from {@code checkpointInfo.txt}) or else the counters the model was saved with.
     */
    private Analysed analyze(CheckpointRef ref, boolean plots) throws CheckpointException {
        List<LayerResult> layers = new ArrayList<>();
        List<CheckpointResult.SkippedLayer> skipped = new ArrayList<>();
        List<HeadRecord> records = new ArrayList<>();
        java.util.Optional<StoredGraph> direct = probe == null && directRead
                ? loader.storedGraph(ref, declared) : java.util.Optional.empty();
        if (direct.isPresent() && declared.isEmpty() && direct.get().fusedAttention().isEmpty()) {
            direct = java.util.Optional.empty();   // finding hand-written attention needs the whole graph
        }
        LoadedModel.Format format;
        long[] counters;
        if (direct.isPresent()) {
            format = LoadedModel.Format.SAMEDIFF;
            counters = sameDiff(ref, direct.get(), null, plots, layers, skipped, records);
        } else {
            LoadedModel m = loader.load(ref);
            format = m.format();
            counters = m.network() != null ? network(m, plots, layers, skipped, records)
                    : sameDiff(ref, StoredGraph.of(m.sameDiff()), m.sameDiff(), plots, layers, skipped, records);
        }
        long iteration = ref.iteration() >= 0 ? ref.iteration() : counters[0];
        int epoch = ref.epoch() >= 0 ? ref.epoch() : (int) counters[1];
        CheckpointResult result = new CheckpointResult(ref.label(), ref.file().toString(), iteration, epoch,
                format.label(), layers, skipped);
        return new Analysed(result, records);
    }

    /** A MultiLayerNetwork or ComputationGraph; returns its saved {iteration, epoch} counters. */
    private long[] network(LoadedModel m, boolean plots, List<LayerResult> layers, List<CheckpointResult.SkippedLayer> skipped,
                           List<HeadRecord> records) throws CheckpointException {
        Model model = m.network();
        AttentionLayers found = AttentionLayers.of(model);
        found.skipped().forEach(s -> skipped.add(new CheckpointResult.SkippedLayer(s.name(), s.reason())));
        List<LayerCapture> data = null;
        if (probe != null) {
            if (probe.inputs() == null) {
                throw new CheckpointException(m.ref().file(), "probe holds SameDiff placeholders but the file is a "
                        + m.format().label() + "; give --input PROBE.npy");
            }
            int rows = Math.min(probe.batchSize(), maxSequences);
            int[] sample = new int[rows];
            Arrays.setAll(sample, i -> i);
            INDArray[] masks = probe.masks() == null ? null : probe.masks().toArray(INDArray[]::new);
            try {
                data = found.forward(probe.inputs().toArray(INDArray[]::new), masks, sample);
            } catch (RuntimeException e) {
                throw new CheckpointException(m.ref().file(), "the probe does not fit this network ("
                        + CheckpointLoader.rootMessage(e) + ")", e);
            }
        }
        List<AttentionLayers.Site> sites = found.sites();
        if (sites.isEmpty() && skipped.isEmpty()) {
            skipped.add(new CheckpointResult.SkippedLayer("(model)", "no attention layer among its layers: "
                    + layerKinds(model)));
        }
        // Layers are independent: their weight metrics are computed in parallel, heads within them too.
        WeightLayerMetrics[] weights = sites.parallelStream()
                .map(site -> site.projectInput() ? weights(new INDArray[] {found.parameter(site, "Wq"),
                        found.parameter(site, "Wk")}, 1.0 / Math.sqrt(site.headSize())) : null)
                .toArray(WeightLayerMetrics[]::new);
        for (int i = 0; i < sites.size(); i++) {
            AttentionLayers.Site site = sites.get(i);
            LayerCapture x = data == null ? null : data.get(i);
            layers.add(layer(site.name(), site.kind().name(), site.nHeads(), site.headSize(), weights[i], x, plots, records));
        }
        return new long[] {Counters.iteration(model), Counters.epoch(model)};
    }

    /**
     * Weight metrics from {@code qk} (Wq, Wk as {@code [H, hs, nInQ]} and {@code [H, hs, nInK]}), or null when
     * there are none or they differ in heads or head size.
     */
    private static WeightLayerMetrics weights(INDArray[] qk, double tau) {
        if (qk != null && qk[0] != null && qk[1] != null && qk[0].rank() == 3 && qk[1].rank() == 3 && qk[0].size(0) == qk[1].size(0)
                && qk[0].size(1) == qk[1].size(1)) {
            return WeightAnalysis.compute(qk[0], qk[1], tau);
        }
        return null;
    }

    /**
     * One layer: its weight metrics (null when there are none) and its data metrics, measured from the capture (null
     * without probe) by {@link LayerObservation}, the analysis a live monitor runs on each step.
     */
    private LayerResult layer(String name, String kind, int nHeads, int headSize, WeightLayerMetrics weights,
                              LayerCapture capture, boolean keepPlots, List<HeadRecord> records) {
        LayerObservation observed = capture == null ? null
                : LayerObservation.of(capture, h -> true, LayerAnalyzer.standard()).orElse(null);
        List<HeadInput> first = observed == null ? null : observed.input().sequences().get(0);
        List<HeadResult> heads = new ArrayList<>();
        for (int h = 0; h < nHeads; h++) {
            HeadRecord r = observed == null ? null : observed.records().get(h);
            HeadPlots plots;
            if (!keepPlots) {
                plots = null;
            } else if (first != null) {
                HeadInput in = first.get(h);
                plots = new HeadPlots(EnergyField.attention(in), EnergyField.energy(in), Spectrum.singularValues(in), true);
            } else if (weights != null) {
                plots = new HeadPlots(null, null, weights.singularValues(h), false);
            } else {
                plots = null;
            }
            WeightHeadMetrics w = weights == null ? null : weights.heads().get(h);
            heads.add(new HeadResult(h, r == null ? 0 : r.n(), r == null ? headSize : r.d(),
                    r == null ? Visibility.FULL : r.mask(), w, r == null ? null : r.metrics(), plots));
            records.add(new HeadRecord(name, h, r == null ? 0 : r.n(), r == null ? headSize : r.d(),
                    r == null ? Visibility.FULL : r.mask(), r == null ? HeadMetrics.builder().build() : r.metrics(),
                    w == null ? Double.NaN : w.qkSpectralNorm(), r != null && r.nonFiniteInput()));
        }
        return new LayerResult(name, kind, heads, weights == null ? null : weights.qkOverlap(),
                observed == null ? null : observed.energyCorrelation(), observed == null ? null : observed.attentionJsd());
    }

    /**
     * SameDiff: every fused attention op (found by itself) and every declared layer. Weight metrics from the
     * fused op's {@code Wq, Wk} or the declared projection variables; with a probe, data metrics through
     * {@link SameDiffCapture}, the code the live {@code SameDiffAttentionListener} reads with, on the loaded
     * graph {@code sd} (null without a probe). Returns the saved {iteration, epoch} counters.
     */
    private long[] sameDiff(CheckpointRef ref, StoredGraph g, SameDiff sd, boolean plots, List<LayerResult> layers,
                            List<CheckpointResult.SkippedLayer> skipped, List<HeadRecord> records) throws CheckpointException {
        if (probe != null && probe.placeholders() == null) {
            throw new CheckpointException(ref.file(), "the file is a SameDiff model: give its probe data as "
                    + "--input NAME=FILE.npy per placeholder");
        }
        List<StoredGraph.FusedAttention> fusedOps = g.fusedAttention();
        List<DeclaredAttention> layersToRead = declared.isEmpty() && sd != null ? found(sd, skipped) : declared;
        if (fusedOps.isEmpty() && layersToRead.isEmpty() && skipped.isEmpty()) {
            skipped.add(new CheckpointResult.SkippedLayer("(model)", "no attention found (no fused attention op, "
                    + "no softmax between two products) among its ops: " + opKinds(sd)
                    + "; declare hand-written attention with --attention"));
        }
        List<DeclaredAttention> present = new ArrayList<>();
        for (DeclaredAttention d : layersToRead) {
            String missing = missingVariable(g, d);
            if (missing != null) {
                skipped.add(new CheckpointResult.SkippedLayer(d.layer(), "declared variable " + missing
                        + " is not in the model"));
            } else {
                present.add(d);
            }
        }
        Map<String, INDArray> values = probe == null ? Map.of() : probeValues(ref, sd, fusedOps, present);
        for (StoredGraph.FusedAttention op : fusedOps) {
            String name = op.layer();
            List<String> in = op.inputs();
            boolean multi = op.multiHead();
            WeightLayerMetrics weights = null;
            INDArray wq = multi ? g.array(SameDiffCapture.queryWeights(true, in)) : null;
            if (multi) {
                INDArray wk = g.array(SameDiffCapture.keyWeights(true, in));
                if (wq != null && wk != null && wq.rank() == 3) {
                    weights = weights(new INDArray[] {wq, wk}, op.scaled() ? 1.0 / Math.sqrt(wq.size(1)) : 1.0);
                }
            }
            LayerCapture x = null;
            if (probe != null) {
                List<INDArray> arrays = in.stream().map(values::get).toList();
                int[] rows = probeRows(arrays.get(0));
                x = capture(ref, name, () -> SameDiffCapture.fused(name, op.multiHead(), op.scaled(), arrays,
                        values.get(name), rows));
            }
            if (weights == null && x == null) {
                skipped.add(new CheckpointResult.SkippedLayer(name, multi
                        ? "projection weights Wq, Wk are not stored in the file; give probe data for the data metrics"
                        : "a dot_product_attention op has no weights; give probe data for its metrics"));
                continue;
            }
            int nHeads = x != null ? x.heads() : weights.heads().size();
            int hs = x != null ? x.headSize() : (int) wq.size(1);
            String kind = multi ? "MULTI_HEAD_DOT_PRODUCT_ATTENTION" : "DOT_PRODUCT_ATTENTION";
            layers.add(layer(name, kind, nHeads, hs, weights, x, plots, records));
        }
        for (DeclaredAttention d : present) {
            WeightLayerMetrics weights = null;
            int hs = 0;
            if (d.wq() != null) {
                try {
                    INDArray wq = d.headsFirst(d.wq(), g.array(d.wq()));
                    INDArray wk = d.headsFirst(d.wk(), g.array(d.wk()));
                    hs = (int) wq.size(1);
                    double scale = d.variables().scale();
                    weights = weights(new INDArray[] {wq, wk}, Double.isNaN(scale) ? 1.0 / Math.sqrt(hs) : scale);
                } catch (IllegalArgumentException e) {
                    throw new CheckpointException(ref.file(), "declared layer " + d.layer() + ": " + e.getMessage(), e);
                }
            }
            LayerCapture x = null;
            if (probe != null) {
                AttentionVariables v = d.variables();
                int[] rows = probeRows(values.get(v.q()));
                x = capture(ref, d.layer(), () -> {
                    Map<String, SameDiffCapture.Variable> captured = new java.util.HashMap<>();
                    for (String var : java.util.Arrays.asList(v.q(), v.k(), v.v(), v.output())) {
                        if (var != null) {
                            captured.put(var, SameDiffCapture.variable(d.layer(), values.get(var), rows));
                        }
                    }
                    return SameDiffCapture.declared(v, captured);
                });
            }
            if (weights == null && x == null) {
                skipped.add(new CheckpointResult.SkippedLayer(d.layer(), "declared without wq, wk: give probe data "
                        + "or the projection variables"));
                continue;
            }
            int nHeads = x != null ? x.heads() : weights.heads().size();
            if (x != null) {
                hs = x.headSize();
            }
            layers.add(layer(d.layer(), layersToRead == declared ? "DECLARED" : "FOUND", nHeads, hs, weights, x, plots,
                    records));
        }
        return new long[] {g.iteration(), g.epoch()};
    }

    /**
     * Hand-written attention found in the graph by its shape ({@link AttentionPatterns}), as declarations; what is
     * found but cannot be read goes to {@code skipped} with the reason.
     */
    private static List<DeclaredAttention> found(SameDiff sd, List<CheckpointResult.SkippedLayer> skipped) {
        List<DeclaredAttention> layers = new ArrayList<>();
        for (AttentionPatterns.Found f : AttentionPatterns.find(sd)) {
            if (f.problem() != null) {
                skipped.add(new CheckpointResult.SkippedLayer(f.layer(), f.problem()));
            } else {
                DeclaredAttention d = DeclaredAttention.of(f.variables());
                layers.add(f.wq() == null ? d : d.weights(f.wq(), f.wk(), DeclaredAttention.WeightLayout.COLUMNS));
            }
        }
        return layers;
    }

    /** The kinds of a graph's ops, each once, for a message ("none" when the graph was not loaded). */
    private static String opKinds(SameDiff sd) {
        if (sd == null) {
            return "none read";
        }
        return String.join(", ", sd.getOps().values().stream().map(op -> op.getOp().opName())
                .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new)));
    }

    /** The kinds of a network's layers, each once, for a message. */
    private static String layerKinds(Model model) {
        Layer[] all = model instanceof MultiLayerNetwork n ? n.getLayers() : ((ComputationGraph) model).getLayers();
        return String.join(", ", java.util.Arrays.stream(all).map(l -> l.conf().getLayer().getClass().getSimpleName())
                .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new)));
    }

    /** The first variable a declared layer names that the model does not hold, or null. */
    private static String missingVariable(StoredGraph g, DeclaredAttention d) {
        AttentionVariables v = d.variables();
        for (String var : java.util.Arrays.asList(v.q(), v.k(), v.v(), v.output(), d.wq(), d.wk())) {
            if (var != null && !g.hasVariable(var)) {
                return var;
            }
        }
        return null;
    }

    /**
     * Every array the captures read, by variable name: placeholders from the probe, stored variables and
     * constants from the model, and op outputs from one inference pass on the probe.
     */
    private Map<String, INDArray> probeValues(CheckpointRef ref, SameDiff sd, List<StoredGraph.FusedAttention> fusedOps,
                                              List<DeclaredAttention> present) throws CheckpointException {
        java.util.Set<String> wanted = new java.util.LinkedHashSet<>();
        for (StoredGraph.FusedAttention op : fusedOps) {
            wanted.addAll(op.inputs());
            wanted.add(op.layer());
        }
        for (DeclaredAttention d : present) {
            AttentionVariables v = d.variables();
            for (String var : java.util.Arrays.asList(v.q(), v.k(), v.v(), v.output())) {
                if (var != null) {
                    wanted.add(var);
                }
            }
        }
        Map<String, INDArray> values = new java.util.HashMap<>();
        List<String> computed = new ArrayList<>();
        for (String name : wanted) {
            INDArray given = probe.placeholders().get(name);
            org.nd4j.autodiff.samediff.VariableType type = sd.getVariable(name).getVariableType();
            if (given != null) {
                values.put(name, given);
            } else if (type == org.nd4j.autodiff.samediff.VariableType.PLACEHOLDER) {
                throw new CheckpointException(ref.file(), "the probe gives no value for placeholder " + name
                        + " (give --input " + name + "=FILE.npy)");
            } else if (type == org.nd4j.autodiff.samediff.VariableType.ARRAY) {
                computed.add(name);
            } else {
                values.put(name, sd.getArrForVarName(name));
            }
        }
        if (!computed.isEmpty()) {
            try {
                values.putAll(sd.output(probe.placeholders(), computed.toArray(String[]::new)));
            } catch (RuntimeException e) {
                throw new CheckpointException(ref.file(), "the probe does not fit this model ("
                        + CheckpointLoader.rootMessage(e) + ")", e);
            }
        }
        return values;
    }

    /**
     * The analysed rows: the first {@code maxSequences} sequences of a layer's queries. Taken from the queries, not
     * from the probe's placeholders, which may have other leading sizes (labels flattened to {@code [mb*T, V]}).
     */
    private int[] probeRows(INDArray queries) {
        long batch = queries.size(0);
        int[] rows = new int[(int) Math.min(batch, maxSequences)];
        Arrays.setAll(rows, i -> i);
        return rows;
    }

    private static LayerCapture capture(CheckpointRef ref, String layer, java.util.function.Supplier<LayerCapture> read)
            throws CheckpointException {
        try {
            return read.get();
        } catch (RuntimeException e) {
            throw new CheckpointException(ref.file(), "cannot read attention layer " + layer + " on the probe ("
                    + CheckpointLoader.rootMessage(e) + ")", e);
        }
    }

    /** Builds a {@link CheckpointAnalyzer}. */
    public static final class Builder {
        private CheckpointLoader loader = CheckpointLoader.standard();
        private Probe probe;
        private AlertConfig alerts;
        private Progress progress = (i, n, ref) -> { };
        private BooleanSupplier stop = () -> false;
        private int maxSequences = 32;
        private boolean plots = true;
        private final List<DeclaredAttention> declared = new ArrayList<>();
        private Clock clock = Clock.systemUTC();
        private boolean directRead = true;

        private Builder() {
        }

        /** How files are read (default {@link CheckpointLoader#standard()}). */
        public Builder loader(CheckpointLoader loader) {
            this.loader = require(loader, "loader");
            return this;
        }

        /** Probe data for the data metrics; null (the default) for weight-only analysis. */
        public Builder probe(Probe probe) {
            this.probe = probe;
            return this;
        }

        /**
         * The alert rules. Default: METRICS.md's defaults with {@code persist = 1}, since one checkpoint is
         * a settled state of the weights rather than one noisy minibatch; without a probe only
         * {@code LOGIT_GROWTH} (the one rule that reads weights: {@code qkSpectralNorm} growth).
         */
        public Builder alerts(AlertConfig alerts) {
            this.alerts = require(alerts, "alerts");
            return this;
        }

        /** Told before each checkpoint (default: nothing). */
        public Builder progress(Progress progress) {
            this.progress = require(progress, "progress");
            return this;
        }

        /**
         * Checked before each checkpoint: once it says stop, the analysis ends there and its result says so in
         * {@link CheckpointAnalysis#notice()} (e.g. on Ctrl-C).
         */
        public Builder stopWhen(BooleanSupplier stop) {
            this.stop = require(stop, "stop");
            return this;
        }

        /** Most probe sequences analysed per checkpoint (default 32). */
        public Builder maxSequences(int maxSequences) {
            if (maxSequences < 1) {
                throw new IllegalArgumentException("maxSequences must be >= 1 but was " + maxSequences);
            }
            this.maxSequences = maxSequences;
            return this;
        }

        /**
         * Declares a hand-written attention layer of SameDiff models (fused attention ops are found by
         * themselves). Layer names must be unique.
         */
        public Builder declare(DeclaredAttention layer) {
            require(layer, "declared layer");
            if (declared.stream().anyMatch(d -> d.layer().equals(layer.layer()))) {
                throw new IllegalArgumentException("layer " + layer.layer() + " was already declared");
            }
            declared.add(layer);
            return this;
        }

        /**
         * Whether to keep the plot data of the last checkpoint (default true): the fields and spectra the
         * HTML report draws. Without it the report holds every number but nothing to draw.
         */
        public Builder plots(boolean plots) {
            this.plots = plots;
            return this;
        }

        /** The clock for the report time and alert events (default system UTC). */
        public Builder clock(Clock clock) {
            this.clock = require(clock, "clock");
            return this;
        }

        /**
         * Whether weight-only analysis may read SameDiff files directly (default true); false always loads the
         * whole graph, which the direct reader is tested against.
         */
        Builder directRead(boolean direct) {
            this.directRead = direct;
            return this;
        }

        public CheckpointAnalyzer build() {
            return new CheckpointAnalyzer(this);
        }

        private static <T> T require(T value, String what) {
            if (value == null) {
                throw new IllegalArgumentException(what + " must not be null");
            }
            return value;
        }
    }
}
