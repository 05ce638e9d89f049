package dev.headwatch.samediff;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.WeightAnalysis;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fused attention ops as nd4j's own op tests use them: queries and keys of different lengths (2 query steps
 * over 5 key steps, with a key mask) and of different widths ({@code Wq [2, 3, 6]}, {@code Wk [2, 3, 4]}).
 */
class SameDiffCrossAttentionTest {

    private static final int MB = 3;
    private static final int TQ = 2;
    private static final int TK = 5;

    @Test
    void crossAttentionOps_ofOtherLengthsAndWidths_areReadExactly_andTrainingIsUnchanged() {
        List<Observation> seen = new ArrayList<>();
        SameDiffAttentionListener listener = SameDiffAttentionListener.builder().background(false).maxSequences(MB)
                .sink(seen::add).build();
        SameDiff watched = model();
        watched.setListeners(listener);
        SameDiff twin = model();
        for (int step = 0; step < 2; step++) {
            watched.fit(data(step));
            twin.fit(data(step));
        }
        listener.close();

        assertThat(seen).hasSize(2);
        Map<String, List<HeadRecord>> byLayer = seen.get(1).heads().stream().collect(Collectors.groupingBy(HeadRecord::layer));
        assertThat(byLayer.keySet()).containsExactlyInAnyOrder("mhdpa", "dpa");
        assertThat(byLayer.get("mhdpa")).hasSize(2);
        for (Observation o : seen) {
            for (HeadRecord r : o.heads()) {
                assertThat(r.n()).as("queries of %s", r.layer()).isEqualTo(TQ);
                assertThat(r.metrics().reconstructionError()).as("%s head %d", r.layer(), r.head()).isBetween(0.0, 1e-5);
                assertThat(r.metrics().rankBound()).isEqualTo(Math.min(r.d(), TQ));
            }
        }
        // the first step's forward pass used the initial weights: Wq [2, 3, 6], Wk [2, 3, 4]
        SameDiff initial = model();
        double[] expected = WeightAnalysis.spectralNorms(initial.getArrForVarName("Wq"), initial.getArrForVarName("Wk"),
                Double.NaN);
        List<HeadRecord> first = seen.get(0).heads().stream().filter(r -> r.layer().equals("mhdpa")).toList();
        for (HeadRecord r : first) {
            assertThat(r.qkSpectralNorm()).as("qkSpectralNorm of head %d", r.head())
                    .isCloseTo(expected[r.head()], org.assertj.core.api.Assertions.within(1e-6 * expected[r.head()]));
        }
        for (String name : List.of("Wq", "Wk", "Wv", "Wo")) {
            assertThat(watched.getArrForVarName(name)).as(name).isEqualTo(twin.getArrForVarName(name));
        }
    }

    /** Queries [mb, 6, 2] over keys and values [mb, 4, 5]: the fused multi-head op, then plain dot-product attention. */
    private static SameDiff model() {
        SameDiff sd = SameDiff.create();
        SDVariable q = sd.placeHolder("q", DataType.FLOAT, -1, 6, TQ);
        SDVariable kv = sd.placeHolder("kv", DataType.FLOAT, -1, 4, TK);
        SDVariable mask = sd.placeHolder("mask", DataType.FLOAT, -1, TK);
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, 4, TQ);
        Nd4j.getRandom().setSeed(3);
        SDVariable wq = sd.var("Wq", Nd4j.randn(DataType.FLOAT, 2, 3, 6).muli(0.4));
        SDVariable wk = sd.var("Wk", Nd4j.randn(DataType.FLOAT, 2, 3, 4).muli(0.4));
        SDVariable wv = sd.var("Wv", Nd4j.randn(DataType.FLOAT, 2, 3, 4).muli(0.4));
        SDVariable wo = sd.var("Wo", Nd4j.randn(DataType.FLOAT, 6, 4).muli(0.4));
        SDVariable fused = sd.nn.multiHeadDotProductAttention("mhdpa", q, kv, kv, wq, wk, wv, wo, mask, true);
        SDVariable plain = sd.nn.dotProductAttention("dpa", fused, kv, kv, mask, true);
        sd.loss.meanSquaredError("loss", y, plain, null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-2))
                .dataSetFeatureMapping("q", "kv", "mask").dataSetLabelMapping("y").build());
        return sd;
    }

    /** The minibatch of a step; sequence 1 sees 3 keys, sequence 2 keys 0, 2 and 4. */
    private static MultiDataSet data(int step) {
        Nd4j.getRandom().setSeed(100 + step);
        INDArray mask = Nd4j.ones(DataType.FLOAT, MB, TK);
        mask.putScalar(1, 3, 0).putScalar(1, 4, 0).putScalar(2, 1, 0).putScalar(2, 3, 0);
        return new MultiDataSet(new INDArray[] {Nd4j.randn(DataType.FLOAT, MB, 6, TQ), Nd4j.randn(DataType.FLOAT, MB, 4, TK), mask},
                new INDArray[] {Nd4j.randn(DataType.FLOAT, MB, 4, TQ)});
    }
}
