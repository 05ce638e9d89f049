package dev.headwatch.checkpoint;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.WeightAnalysis;
import dev.headwatch.core.WeightLayerMetrics;
import dev.headwatch.core.sink.ObservationSink;
import dev.headwatch.samediff.AttentionVariables;
import dev.headwatch.samediff.SameDiffAttentionListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * SameDiff checkpoints with probe data: every metric, through the extraction the live
 * {@link SameDiffAttentionListener} uses. As for the layer API, the model is saved just before the
 * observed {@code fit()} call, so the live observation and the offline analysis see the same weights and
 * the same minibatch; the listener samples every sequence.
 */
class SameDiffProbeTest {

    private static final int BATCH = 4;

    @TempDir
    static Path tmp;

    @Test
    void fusedOp_analyzerEqualsListener() {
        SameDiff sd = Models.sameDiff();
        Path file = tmp.resolve("fused.fb");
        sd.save(file.toFile(), false);
        DataSet batch = new DataSet(Models.features(BATCH, 31), Models.features(BATCH, 32));
        List<HeadRecord> live = live(sd, SameDiffAttentionListener.builder(), batch);

        CheckpointAnalysis report = CheckpointAnalyzer.builder()
                .probe(Probe.sameDiff(Map.of("input", batch.getFeatures(), "label", batch.getLabels())))
                .build().analyze(List.of(file));
        LayerResult layer = only(report);
        assertThat(layer.layer()).isEqualTo("attention");
        assertSameAsLive(layer, live);
        assertThat(layer.heads().get(0).weights()).isNotNull();
        assertThat(layer.heads().get(0).metrics().reconstructionError()).isLessThan(1e-3);
    }

    @Test
    void declaredLayer_analyzerEqualsListener_andColumnBlockWeightsGiveEachHeadsWeightMetrics() {
        SameDiff sd = Models.handWritten();
        Path file = tmp.resolve("hand.fb");
        sd.save(file.toFile(), false);
        AttentionVariables vars = AttentionVariables.of("block", "q", "k", "v").causal().output("out");
        DataSet batch = new DataSet(Models.sequences(BATCH, 81), Models.sequences(BATCH, 82));
        // Expected weight metrics: head h of x W is W[:, h*hs .. (h+1)*hs] transposed, [hs, nIn].
        int hs = Models.N_IN / Models.HAND_HEADS;
        List<INDArray> wq = new ArrayList<>();
        List<INDArray> wk = new ArrayList<>();
        for (int h = 0; h < Models.HAND_HEADS; h++) {
            wq.add(sd.getArrForVarName("Wq").get(NDArrayIndex.all(), NDArrayIndex.interval(h * hs, (h + 1) * hs)).transpose().dup());
            wk.add(sd.getArrForVarName("Wk").get(NDArrayIndex.all(), NDArrayIndex.interval(h * hs, (h + 1) * hs)).transpose().dup());
        }
        WeightLayerMetrics expected = WeightAnalysis.compute(wq, wk, Double.NaN);
        List<HeadRecord> live = live(sd, SameDiffAttentionListener.builder().autoDetect(false).declare(vars), batch);

        DeclaredAttention declared = DeclaredAttention.of(vars.heads(Models.HAND_HEADS))
                .weights("Wq", "Wk", DeclaredAttention.WeightLayout.COLUMNS);
        CheckpointAnalysis withProbe = CheckpointAnalyzer.builder().declare(declared)
                .probe(Probe.sameDiff(Map.of("x", batch.getFeatures(), "y", batch.getLabels())))
                .build().analyze(List.of(file));
        LayerResult layer = only(withProbe);
        assertThat(layer.kind()).isEqualTo("DECLARED");
        assertSameAsLive(layer, live);
        assertThat(layer.heads().get(0).metrics().reconstructionError()).isLessThan(1e-3);
        assertThat(layer.heads().get(1).mask().label()).isEqualTo("causal");

        CheckpointAnalysis weightOnly = CheckpointAnalyzer.builder().declare(declared).build().analyze(List.of(file));
        for (LayerResult l : List.of(layer, only(weightOnly))) {
            for (HeadResult h : l.heads()) {
                assertThat(h.weights()).isEqualTo(expected.heads().get(h.head()));
            }
            assertThat(l.qkOverlap()).isDeepEqualTo(expected.qkOverlap());
        }
        assertThat(only(weightOnly).heads().get(0).metrics()).isNull();
    }

    @Test
    void probePlaceholders_areBoundByName_whateverTheirOrderAndLeadingSizes() {
        Path file = tmp.resolve("hand-order.fb");
        Models.handWritten().save(file.toFile(), false);
        DeclaredAttention declared = DeclaredAttention.of(AttentionVariables.of("block", "q", "k", "v")
                .heads(Models.HAND_HEADS).causal().output("out"));
        INDArray x = Models.sequences(BATCH, 83);
        // The label placeholder has another leading size (as a label flattened to [mb*T, ...]) and comes first.
        INDArray y = Models.sequences(3 * BATCH, 84);
        for (boolean labelFirst : new boolean[] {true, false}) {
            Map<String, INDArray> placeholders = new java.util.LinkedHashMap<>();
            if (labelFirst) {
                placeholders.put("y", y);
            }
            placeholders.put("x", x);
            placeholders.putIfAbsent("y", y);
            CheckpointAnalysis report = CheckpointAnalyzer.builder().declare(declared).maxSequences(2 * BATCH)
                    .probe(Probe.sameDiff(placeholders)).build().analyze(List.of(file));
            LayerResult layer = only(report);
            assertThat(layer.heads()).as("label first: %s", labelFirst).hasSize(Models.HAND_HEADS)
                    .allSatisfy(h -> assertThat(h.metrics().reconstructionError()).isLessThan(1e-5));
        }
    }

    @Test
    void sameDiffCheckpointListenerDirectory_isOrderedByIteration_andDeclaredWeightsAreAnalysed() throws Exception {
        SameDiff sd = Models.handWritten();
        java.io.File dir = tmp.resolve("sd-checkpoints").toFile();
        sd.setListeners(new org.nd4j.autodiff.listeners.checkpoint.CheckpointListener.Builder(dir)
                .saveEveryNIterations(1).keepAll().saveUpdaterState(false).logSaving(false).build());
        for (int i = 0; i < 3; i++) {
            sd.fit(new DataSet(Models.sequences(BATCH, 90 + i), Models.sequences(BATCH, 95 + i)));
        }
        DeclaredAttention declared = DeclaredAttention.of(AttentionVariables.of("block", "q", "k", null)
                .heads(Models.HAND_HEADS)).weights("Wq", "Wk", DeclaredAttention.WeightLayout.COLUMNS);

        CheckpointAnalysis report = CheckpointAnalyzer.builder().declare(declared).build().analyze(List.of(dir.toPath()));

        assertThat(report.failed()).isEmpty();
        long saved;
        try (var files = java.nio.file.Files.list(dir.toPath())) {
            saved = files.filter(f -> f.toString().endsWith(".bin")).count();
        }
        assertThat(report.checkpoints()).hasSizeGreaterThanOrEqualTo(2).hasSize((int) saved);
        assertThat(report.checkpoints()).extracting(CheckpointResult::iteration).isSorted().doesNotHaveDuplicates();
        assertThat(report.checkpoints()).allSatisfy(c -> assertThat(c.layers()).singleElement()
                .satisfies(l -> assertThat(l.heads().get(0).weights().qkSpectralNorm()).isPositive()));
    }

    @Test
    void declaredVariableMissing_isListedAsSkipped_andWrongLayoutNamesTheShape() {
        Path file = tmp.resolve("hand-missing.fb");
        Models.handWritten().save(file.toFile(), false);
        AttentionVariables vars = AttentionVariables.of("block", "q", "nope", null);
        CheckpointResult c = CheckpointAnalyzer.builder().declare(DeclaredAttention.of(vars)).build()
                .analyze(List.of(file)).checkpoints().get(0);
        assertThat(c.layers()).isEmpty();
        assertThat(c.skipped()).anySatisfy(s -> assertThat(s.reason()).contains("nope"));
        // Nothing declared: the block is found by its shape, with its projection weights.
        CheckpointResult undeclared = CheckpointAnalyzer.builder().build().analyze(List.of(file)).checkpoints().get(0);
        assertThat(undeclared.skipped()).isEmpty();
        assertThat(undeclared.layers()).singleElement().satisfies(l -> assertThat(l.heads()).hasSize(Models.HAND_HEADS)
                .allSatisfy(h -> assertThat(h.weights().qkSpectralNorm()).isPositive()));

        DeclaredAttention threeHeads = DeclaredAttention.of(AttentionVariables.of("block", "q", "k", null).heads(3))
                .weights("Wq", "Wk", DeclaredAttention.WeightLayout.COLUMNS);
        CheckpointAnalysis report = CheckpointAnalyzer.builder().declare(threeHeads).build().analyze(List.of(file));
        assertThat(report.failed()).singleElement()
                .satisfies(f -> assertThat(f.problem()).contains("does not split into 3 heads").contains("[8, 8]"));
    }

    @Test
    void parse_readsVariablesAndOptions_andNamesTheSpecOnError() {
        DeclaredAttention d = DeclaredAttention.parse(
                "layer0=layer0/q:layer0/k:layer0/v:layer0/out,causal,wq=layer0/Wq,wk=layer0/Wk,scale=0.5", 4);
        assertThat(d.variables()).isEqualTo(AttentionVariables.of("layer0", "layer0/q", "layer0/k", "layer0/v")
                .heads(4).causal().output("layer0/out").scale(0.5));
        assertThat(d.wq()).isEqualTo("layer0/Wq");
        assertThat(d.layout()).isEqualTo(DeclaredAttention.WeightLayout.COLUMNS);
        DeclaredAttention plain = DeclaredAttention.parse("a=q:k,heads=2,layout=heads-first", 1);
        assertThat(plain.variables().v()).isNull();
        assertThat(plain.variables().heads()).isEqualTo(2);
        assertThat(plain.layout()).isEqualTo(DeclaredAttention.WeightLayout.HEADS_FIRST);
        assertThatThrownBy(() -> DeclaredAttention.parse("a=q", 1)).hasMessageContaining("'a=q'");
        assertThatThrownBy(() -> DeclaredAttention.parse("a=q:k,sideways", 1)).hasMessageContaining("sideways");
        assertThatThrownBy(() -> DeclaredAttention.parse("a=q:k,wq=W", 1)).hasMessageContaining("wq=W, wk=null");
        assertThatThrownBy(() -> DeclaredAttention.parse("a=q:k,layout=diagonal", 1)).hasMessageContaining("diagonal");
    }

    private static List<HeadRecord> live(SameDiff sd, SameDiffAttentionListener.Builder builder, DataSet batch) {
        Collecting sink = new Collecting();
        SameDiffAttentionListener listener = builder.background(false).maxSequences(BATCH).sink(sink).build();
        sd.setListeners(listener);
        sd.fit(batch);
        listener.close();
        assertThat(sink.seen).hasSize(1);
        return sink.seen.get(0).heads();
    }

    private static LayerResult only(CheckpointAnalysis report) {
        assertThat(report.failed()).isEmpty();
        assertThat(report.checkpoints()).hasSize(1);
        assertThat(report.checkpoints().get(0).layers()).hasSize(1);
        return report.checkpoints().get(0).layers().get(0);
    }

    private static void assertSameAsLive(LayerResult layer, List<HeadRecord> live) {
        assertThat(layer.heads()).hasSameSizeAs(live);
        for (HeadResult h : layer.heads()) {
            HeadRecord r = live.stream().filter(x -> x.layer().equals(layer.layer()) && x.head() == h.head())
                    .findFirst().orElseThrow(() -> new AssertionError("listener did not report " + layer.layer()));
            assertThat(h.n()).isEqualTo(r.n());
            assertThat(h.mask()).isEqualTo(r.mask());
            assertThat(h.metrics()).as("head %d", h.head()).isEqualTo(r.metrics());
        }
    }

    /** Keeps every observation in memory. */
    private static final class Collecting implements ObservationSink {
        final List<Observation> seen = new ArrayList<>();

        @Override
        public void write(Observation observation) {
            seen.add(observation);
        }
    }
}
