package dev.headwatch.samediff;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.checkpoint.CheckpointAnalyzer;
import dev.headwatch.checkpoint.CheckpointResult;
import dev.headwatch.checkpoint.LayerResult;
import dev.headwatch.checkpoint.Probe;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.sink.ObservationSink;

/**
 * Attention written by hand, in the ways people write it, is found by its shape and read exactly: the listener,
 * with nothing declared, rebuilds each head's output from what the pattern named (reconstructionError at float
 * precision).
 */
class AttentionPatternsTest {

    private static final int T = 6;
    private static final int N_IN = 8;
    private static final int HEADS = 2;
    private static final int HS = N_IN / HEADS;

    /** How a block is written. */
    private record Style(boolean scaleBefore, boolean divide, String mask, boolean headsFirst, boolean projectOut) {
    }

    /** One block of self-attention over x [mb, T, nIn], written in the given style, with an MSE loss. */
    private static SameDiff block(Style s) {
        SameDiff sd = SameDiff.create();
        Nd4j.getRandom().setSeed(7);
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, T, N_IN);
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, T, N_IN);
        SDVariable x2 = sd.reshape(x, -1, N_IN);
        SDVariable wq = sd.var("Wq", Nd4j.randn(DataType.FLOAT, N_IN, N_IN).muli(0.5));
        SDVariable wk = sd.var("Wk", Nd4j.randn(DataType.FLOAT, N_IN, N_IN).muli(0.5));
        SDVariable wv = sd.var("Wv", Nd4j.randn(DataType.FLOAT, N_IN, N_IN).muli(0.5));
        int heads = s.headsFirst ? HEADS : 1;
        int hs = N_IN / heads;
        SDVariable q;
        SDVariable k;
        SDVariable v;
        if (s.headsFirst) {
            q = sd.permute("q", sd.reshape(sd.mmul(x2, wq), -1, T, HEADS, HS), 0, 2, 1, 3);
            k = sd.permute("k", sd.reshape(sd.mmul(x2, wk), -1, T, HEADS, HS), 0, 2, 1, 3);
            v = sd.permute("v", sd.reshape(sd.mmul(x2, wv), -1, T, HEADS, HS), 0, 2, 1, 3);
        } else {
            q = sd.reshape("q", sd.mmul(x2, wq), -1, T, N_IN);
            k = sd.reshape("k", sd.mmul(x2, wk), -1, T, N_IN);
            v = sd.reshape("v", sd.mmul(x2, wv), -1, T, N_IN);
        }
        double tau = 1 / Math.sqrt(hs);
        SDVariable logits;
        if (s.scaleBefore) {
            SDVariable scaled = s.divide ? q.div(1 / tau) : q.mul(tau);
            logits = sd.mmul(scaled, k, false, true, false);
        } else {
            // k^T written as its own op
            SDVariable kt = s.headsFirst ? sd.permute(k, 0, 1, 3, 2) : sd.permute(k, 0, 2, 1);
            SDVariable product = sd.mmul(q, kt);
            logits = s.divide ? product.div(1 / tau) : product.mul(tau);
        }
        INDArray causal = Nd4j.zeros(DataType.FLOAT, T, T);
        INDArray visible = Nd4j.zeros(DataType.BOOL, T, T);
        for (int i = 0; i < T; i++) {
            for (int j = 0; j < T; j++) {
                if (j > i) {
                    causal.putScalar(i, j, -1e9);
                } else {
                    visible.putScalar(i, j, 1);
                }
            }
        }
        if (s.mask.equals("add")) {
            logits = logits.add(sd.constant("causal_mask", causal));
        } else if (s.mask.equals("where")) {
            logits = sd.where(logits, sd.constant("fill", Nd4j.valueArrayOf(new long[] {T, T}, -1e9f)), sd.constant("visible", visible));
        }
        SDVariable att = sd.nn.softmax("attention", logits, -1);
        SDVariable o = sd.mmul("out", att, v);
        SDVariable merged = s.headsFirst ? sd.reshape(sd.permute(o, 0, 2, 1, 3), -1, T, N_IN) : o;
        SDVariable result = s.projectOut
                ? sd.reshape(sd.mmul(sd.reshape(merged, -1, N_IN), sd.var("Wo", Nd4j.randn(DataType.FLOAT, N_IN, N_IN))),
                        -1, T, N_IN)
                : merged;
        sd.loss().meanSquaredError("loss", y, result, null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Sgd(1e-3)).dataSetFeatureMapping("x")
                .dataSetLabelMapping("y").build());
        return sd;
    }

    private static final List<Style> STYLES = List.of(
            new Style(false, false, "add", true, true),     // as the demo: scale after, additive causal mask
            new Style(true, false, "none", true, false),    // scale on q before the product, no mask
            new Style(false, true, "where", true, true),    // divide, mask by where
            new Style(true, true, "add", false, false),     // one head, batch-first [mb, T, d]
            new Style(false, false, "none", false, true));

    /**
     * Whether ND4J can run the style at all: in 1.0.0-M2.1 where() neither broadcasts a [T, T] condition over
     * [mb, heads, T, T] logits ("Op validation failed") nor has a gradient, so a where-masked block is only found.
     */
    private static boolean runs(Style s) {
        return !s.mask.equals("where");
    }

    @Test
    void everyStyle_isFoundWithItsVariablesScaleAndVisibility() {
        for (Style s : STYLES) {
            List<AttentionPatterns.Found> found = AttentionPatterns.find(block(s));
            assertThat(found).as("%s", s).singleElement().satisfies(f -> {
                assertThat(f.problem()).isNull();
                AttentionVariables v = f.variables();
                assertThat(v.q()).isEqualTo("q");
                assertThat(v.k()).isEqualTo("k");
                assertThat(v.v()).isEqualTo("v");
                assertThat(v.output()).isEqualTo("out");
                int hs = s.headsFirst ? HS : N_IN;
                assertThat(v.scale()).as("%s", s).isCloseTo(1 / Math.sqrt(hs), org.assertj.core.api.Assertions.within(1e-6));
                assertThat(v.visibility()).as("%s", s)
                        .isEqualTo(s.mask.equals("none") ? Visibility.FULL : Visibility.CAUSAL);
                if (s.headsFirst) {
                    assertThat(v.heads()).isEqualTo(HEADS);
                    assertThat(f.wq()).isEqualTo("Wq");
                    assertThat(f.wk()).isEqualTo("Wk");
                }
            });
        }
    }

    @Test
    void everyTrainableStyle_isReadLiveWithoutDeclarations_exactly() {
        for (Style s : STYLES) {
            if (!runs(s)) {
                continue;
            }
            SameDiff sd = block(s);
            List<Observation> seen = new ArrayList<>();
            ObservationSink sink = seen::add;
            SameDiffAttentionListener listener = SameDiffAttentionListener.builder().background(false)
                    .maxSequences(2).sink(sink).build();
            sd.setListeners(listener);
            sd.fit(new DataSet(Nd4j.randn(DataType.FLOAT, 3, T, N_IN), Nd4j.randn(DataType.FLOAT, 3, T, N_IN)));
            listener.close();

            assertThat(seen).as("%s", s).hasSize(1);
            List<HeadRecord> heads = seen.get(0).heads();
            assertThat(heads).as("%s", s).hasSize(s.headsFirst ? HEADS : 1).allSatisfy(h -> {
                assertThat(h.layer()).isEqualTo("attention");
                assertThat(h.mask()).isEqualTo(s.mask.equals("none") ? Visibility.FULL : Visibility.CAUSAL);
                assertThat(h.metrics().reconstructionError()).as("%s", s).isLessThan(1e-5);
            });
        }
    }

    @Test
    void everyStyle_isAnalysedOfflineWithoutDeclarations_exactly(@TempDir Path dir) {
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, T, N_IN);
        for (Style s : STYLES) {
            if (!runs(s)) {
                continue;
            }
            Path file = dir.resolve("block-" + STYLES.indexOf(s) + ".fb");
            block(s).save(file.toFile(), false);
            Map<String, INDArray> placeholders = new LinkedHashMap<>();
            placeholders.put("x", x);
            placeholders.put("y", x);

            CheckpointAnalysis withProbe = CheckpointAnalyzer.builder().probe(Probe.sameDiff(placeholders)).build()
                    .analyze(List.of(file));
            CheckpointAnalysis weightOnly = CheckpointAnalyzer.builder().build().analyze(List.of(file));

            assertThat(withProbe.failed()).as("%s", s).isEmpty();
            LayerResult layer = withProbe.checkpoints().get(0).layers().get(0);
            assertThat(layer.layer()).isEqualTo("attention");
            assertThat(layer.heads()).as("%s", s).hasSize(s.headsFirst ? HEADS : 1).allSatisfy(h ->
                    assertThat(h.metrics().reconstructionError()).as("%s", s).isLessThan(1e-5));
            if (s.headsFirst) {
                assertThat(weightOnly.checkpoints().get(0).layers()).singleElement().satisfies(l ->
                        assertThat(l.heads()).hasSize(HEADS).allSatisfy(h ->
                                assertThat(h.weights().qkSpectralNorm()).isPositive()));
            }
        }
    }

    @Test
    void aGraphWithoutAttention_isListedWithTheOpsItHolds(@TempDir Path dir) {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, N_IN);
        sd.nn.relu("h", sd.mmul(x, sd.var("W", Nd4j.ones(DataType.FLOAT, N_IN, N_IN))), 0);
        Path file = dir.resolve("mlp.fb");
        sd.save(file.toFile(), false);

        CheckpointResult c = CheckpointAnalyzer.builder().build().analyze(List.of(file)).checkpoints().get(0);

        assertThat(c.layers()).isEmpty();
        assertThat(c.skipped()).singleElement().satisfies(k ->
                assertThat(k.reason()).contains("no attention found").contains("matmul").contains("relu"));
    }

    @Test
    void headsSplitBySlicing_areFoundAsOneLayerPerHead_andReadExactly() {
        SameDiff sd = SameDiff.create();
        Nd4j.getRandom().setSeed(9);
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, T, N_IN);
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, T, N_IN);
        SDVariable x2 = sd.reshape(x, -1, N_IN);
        SDVariable[] proj = new SDVariable[3];
        String[] names = {"Wq", "Wk", "Wv"};
        for (int i = 0; i < 3; i++) {
            proj[i] = sd.reshape(sd.mmul(x2, sd.var(names[i], Nd4j.randn(DataType.FLOAT, N_IN, N_IN).muli(0.5))),
                    -1, T, N_IN);
        }
        SDVariable[] outs = new SDVariable[HEADS];
        for (int h = 0; h < HEADS; h++) {
            SDIndex cols = SDIndex.interval(h * HS, (h + 1) * HS);
            SDVariable q = proj[0].get(SDIndex.all(), SDIndex.all(), cols);
            SDVariable k = proj[1].get(SDIndex.all(), SDIndex.all(), cols);
            SDVariable v = proj[2].get(SDIndex.all(), SDIndex.all(), cols);
            SDVariable att = sd.nn.softmax("attention" + h, sd.mmul(q, k, false, true, false).mul(1 / Math.sqrt(HS)), -1);
            outs[h] = sd.mmul("out" + h, att, v);
        }
        sd.loss().meanSquaredError("loss", y, sd.concat(2, outs), null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Sgd(1e-3)).dataSetFeatureMapping("x")
                .dataSetLabelMapping("y").build());

        assertThat(AttentionPatterns.find(sd)).extracting(AttentionPatterns.Found::layer)
                .containsExactly("attention0", "attention1");

        List<Observation> seen = new ArrayList<>();
        ObservationSink sink = seen::add;
        SameDiffAttentionListener listener = SameDiffAttentionListener.builder().background(false).maxSequences(2)
                .sink(sink).build();
        sd.setListeners(listener);
        sd.fit(new DataSet(Nd4j.randn(DataType.FLOAT, 3, T, N_IN), Nd4j.randn(DataType.FLOAT, 3, T, N_IN)));
        listener.close();

        assertThat(seen).hasSize(1);
        assertThat(seen.get(0).heads()).extracting(HeadRecord::layer).containsExactlyInAnyOrder("attention0", "attention1");
        assertThat(seen.get(0).heads()).allSatisfy(h -> {
            assertThat(h.d()).isEqualTo(HS);
            assertThat(h.metrics().reconstructionError()).isLessThan(1e-5);
        });
    }

    @Test
    void aMaskThatIsNotCausal_isReportedAsAProblem_notGuessed() {
        SameDiff sd = SameDiff.create();
        SDVariable q = sd.placeHolder("q", DataType.FLOAT, -1, T, N_IN);
        SDVariable k = sd.placeHolder("k", DataType.FLOAT, -1, T, N_IN);
        SDVariable v = sd.placeHolder("v", DataType.FLOAT, -1, T, N_IN);
        SDVariable logits = sd.mmul(q, k, false, true, false).add(sd.constant("odd", Nd4j.ones(DataType.FLOAT, T, T)));
        sd.mmul("out", sd.nn.softmax("attention", logits, -1), v);

        assertThat(AttentionPatterns.find(sd)).singleElement().satisfies(f -> {
            assertThat(f.variables()).isNull();
            assertThat(f.problem()).contains("odd").contains("not causal");
        });
    }

    @Test
    void isCausal_acceptsOnlyTheLowerTriangle() {
        INDArray additive = Nd4j.create(new float[][] {{0, -1e9f}, {0, 0}});
        INDArray condition = Nd4j.create(new boolean[][] {{true, false}, {true, true}});
        assertThat(AttentionPatterns.isCausal(additive, true)).isTrue();
        assertThat(AttentionPatterns.isCausal(condition, false)).isTrue();
        assertThat(AttentionPatterns.isCausal(Nd4j.create(new float[][] {{0, -1}, {0, 0}}), true)).isFalse();
        assertThat(AttentionPatterns.isCausal(Nd4j.create(new float[][] {{0, 0}, {-1e9f, 0}}), true)).isFalse();
    }
}
