package dev.headwatch.samediff;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.WeightAnalysis;
import dev.headwatch.core.WeightLayerMetrics;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SameDiffAttentionListenerTest {

    private static final int MB = 3;
    private static final int N_IN = 8;
    private static final int T = 5;
    private static final int H = 2;
    private static final int HS = 4;

    private static List<Observation> seen;
    /** qkSpectralNorm of the fused op's initial weights (what the first iteration's forward pass uses). */
    private static WeightLayerMetrics initialWeights;

    /**
     * A model with a fused multi-head attention op, a fused (rank-3) dot-product attention op on its output,
     * and a hand-written causal attention with q, k, v in [mb, heads, T, headSize] and the per-head output
     * "att"; trained for 3 iterations with the listener attached.
     */
    @BeforeAll
    static void train() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, N_IN, T);
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, N_IN, T);
        Nd4j.getRandom().setSeed(5);
        SDVariable wq = sd.var("Wq", Nd4j.randn(DataType.FLOAT, H, HS, N_IN).muli(0.3));
        SDVariable wk = sd.var("Wk", Nd4j.randn(DataType.FLOAT, H, HS, N_IN).muli(0.3));
        SDVariable wv = sd.var("Wv", Nd4j.randn(DataType.FLOAT, H, HS, N_IN).muli(0.3));
        SDVariable wo = sd.var("Wo", Nd4j.randn(DataType.FLOAT, H * HS, N_IN).muli(0.3));
        SDVariable fused = sd.nn.multiHeadDotProductAttention("mhdpa", x, x, x, wq, wk, wv, wo, null, true);
        SDVariable plain = sd.nn.dotProductAttention("dpa", fused, fused, fused, null, true);

        // Hand-written causal attention: [mb, T, nIn] -> [mb, heads, T, hs].
        SDVariable xt = sd.reshape(sd.permute(plain, 0, 2, 1), -1, N_IN);
        SDVariable q = split(sd, "q", xt.mmul(sd.var("Pq", Nd4j.randn(DataType.FLOAT, N_IN, H * HS).muli(0.3))));
        SDVariable k = split(sd, "k", xt.mmul(sd.var("Pk", Nd4j.randn(DataType.FLOAT, N_IN, H * HS).muli(0.3))));
        SDVariable v = split(sd, "v", xt.mmul(sd.var("Pv", Nd4j.randn(DataType.FLOAT, N_IN, H * HS).muli(0.3))));
        INDArray causal = Nd4j.zeros(DataType.FLOAT, T, T);
        for (int i = 0; i < T; i++) {
            for (int j = i + 1; j < T; j++) {
                causal.putScalar(i, j, -1e9);
            }
        }
        SDVariable logits = sd.mmul(q, k, false, true, false).mul(1.0 / Math.sqrt(HS)).add(sd.constant(causal));
        SDVariable att = sd.mmul(sd.nn.softmax(logits, -1), v).rename("att");
        SDVariable merged = sd.reshape(sd.permute(att, 0, 2, 1, 3), -1, H * HS);
        SDVariable out = sd.reshape(merged.mmul(sd.var("Po", Nd4j.randn(DataType.FLOAT, H * HS, N_IN).muli(0.3))), -1, T, N_IN);
        sd.loss.meanSquaredError("loss", sd.permute(y, 0, 2, 1), out, null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-3))
                .dataSetFeatureMapping("x").dataSetLabelMapping("y").build());

        initialWeights = WeightAnalysis.compute(wq.getArr().dup(), wk.getArr().dup(), Double.NaN);
        seen = new ArrayList<>();
        double[] iterations = {0};
        SameDiffAttentionListener listener = SameDiffAttentionListener.builder().background(false).maxSequences(2)
                .declare(AttentionVariables.of("hand", "q", "k", "v").causal().output("att"))
                .sink(seen::add).loss(() -> iterations[0]++).build();
        sd.setListeners(listener);
        Nd4j.getRandom().setSeed(9);
        for (int i = 0; i < 3; i++) {
            sd.fit(new DataSet(Nd4j.randn(DataType.FLOAT, MB, N_IN, T), Nd4j.randn(DataType.FLOAT, MB, N_IN, T)));
        }
        listener.close();
    }

    private static SDVariable split(SameDiff sd, String name, SDVariable flat) {
        return sd.permute(sd.reshape(flat, -1, T, H, HS), 0, 2, 1, 3).rename(name);
    }

    @Test
    void fit_observesEveryIteration_withItsLoss() {
        assertThat(seen).extracting(Observation::step).containsExactly(0L, 1L, 2L);
        // SameDiff hands listeners a loss of 0; the builder's loss source (here the iteration) is what counts
        assertThat(seen).extracting(Observation::loss).containsExactly(0.0, 1.0, 2.0);
    }

    @Test
    void fusedOps_areFoundByThemselves_andRebuiltExactly() {
        Map<String, List<HeadRecord>> byLayer = seen.get(1).heads().stream()
                .collect(Collectors.groupingBy(HeadRecord::layer));
        assertThat(byLayer.get("mhdpa")).hasSize(H);
        assertThat(byLayer.get("dpa")).hasSize(1);
        for (String layer : List.of("mhdpa", "dpa")) {
            assertThat(byLayer.get(layer)).allSatisfy(r -> {
                assertThat(r.mask()).isEqualTo(Visibility.FULL);
                assertThat(r.n()).isEqualTo(T);
                assertThat(r.metrics().reconstructionError()).isBetween(0.0, 1e-5);
            });
        }
        assertThat(byLayer.get("mhdpa").get(0).d()).isEqualTo(HS);
        assertThat(byLayer.get("dpa").get(0).d()).isEqualTo(N_IN);
    }

    @Test
    void fusedMultiHeadOp_reportsQkSpectralNorm_ofItsWeightInputs_declaredLayersDoNot() {
        List<HeadRecord> first = seen.get(0).heads();
        assertThat(first).filteredOn(r -> r.layer().equals("mhdpa")).hasSize(H).allSatisfy(r -> {
            double expected = initialWeights.heads().get(r.head()).qkSpectralNorm();
            assertThat(r.qkSpectralNorm()).isCloseTo(expected, within(1e-9 * expected));
        });
        // No projection weights: the rank-3 dot-product op and the declared q/k variables.
        assertThat(first).filteredOn(r -> !r.layer().equals("mhdpa"))
                .isNotEmpty().allSatisfy(r -> assertThat(r.qkSpectralNorm()).isNaN());
    }

    @Test
    void declaredVariables_areReadPerHead_withTheirVisibility_andRebuiltExactly() {
        List<HeadRecord> hand = seen.get(2).heads().stream().filter(r -> r.layer().equals("hand")).toList();
        assertThat(hand).extracting(HeadRecord::head).containsExactly(0, 1);
        assertThat(hand).allSatisfy(r -> {
            assertThat(r.mask()).isEqualTo(Visibility.CAUSAL);
            assertThat(r.d()).isEqualTo(HS);
            assertThat(r.metrics().reconstructionError()).isBetween(0.0, 1e-5);
            assertThat(r.metrics().entropy()).isBetween(0.0, 1.0);
        });
    }

    @Test
    void declare_rejectsDuplicatesAndBadValues() {
        assertThatThrownBy(() -> SameDiffAttentionListener.builder()
                .declare(AttentionVariables.of("a", "q", "k", null))
                .declare(AttentionVariables.of("a", "q2", "k2", null)))
                .hasMessage("layer a was already declared");
        assertThatThrownBy(() -> AttentionVariables.of("a", "q", "k", "v").heads(0))
                .hasMessage("heads must be >= 1 but was 0 (layer a)");
        assertThatThrownBy(() -> AttentionVariables.of("a", null, "k", "v"))
                .hasMessageContaining("q=null");
    }
}
