package dev.headwatch.checkpoint;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.LayerMetrics;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.WeightAnalysis;
import dev.headwatch.core.WeightLayerMetrics;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Layers extracted elsewhere are measured as a checkpoint's: the core's numbers, aggregated, with the alert rules. */
class AnalyzeExtractedTest {

    private static double[] gaussian(Random r, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextGaussian();
        }
        return x;
    }

    @Test
    void analyzeExtracted_givesTheCoreMetricsAggregatedOverSequences_andEvaluatesTheRules() {
        Random r = new Random(7);
        int heads = 2;
        int hs = 3;
        int t = 5;
        List<List<HeadInput>> sequences = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            List<HeadInput> in = new ArrayList<>();
            for (int h = 0; h < heads; h++) {
                in.add(HeadInput.of(gaussian(r, t * hs), gaussian(r, t * hs), gaussian(r, t * hs), hs, DataType.FLOAT,
                        s == 0 ? Visibility.FULL : Visibility.padded(4), Double.NaN));
            }
            sequences.add(in);
        }
        WeightLayerMetrics weights = WeightAnalysis.compute(Nd4j.create(gaussian(r, heads * hs * 6), heads, hs, 6),
                Nd4j.create(gaussian(r, heads * hs * 6), heads, hs, 6), Double.NaN);
        CheckpointAnalysis a = CheckpointAnalyzer.builder().build().analyzeExtracted(Path.of("model.onnx"), "ONNX",
                "probe", List.of(new CheckpointAnalyzer.ExtractedLayer("att", "KIND", heads, hs, weights, sequences, 1e-7),
                        new CheckpointAnalyzer.ExtractedLayer("weightsOnly", "KIND", heads, hs, weights, List.of(),
                                Double.NaN)));

        CheckpointResult c = a.checkpoints().get(0);
        assertThat(c.format()).isEqualTo("ONNX");
        assertThat(c.label()).isEqualTo("model.onnx");
        assertThat(a.rules()).contains("ENTROPY_COLLAPSE", "LOGIT_GROWTH");
        LayerMetrics first = LayerAnalysis.compute(sequences.get(0));
        LayerMetrics second = LayerAnalysis.compute(sequences.get(1));
        for (int h = 0; h < heads; h++) {
            HeadResult got = c.layers().get(0).heads().get(h);
            HeadMetrics want = HeadMetrics.aggregate(List.of(first.heads().get(h), second.heads().get(h)));
            for (HeadField f : HeadField.values()) {
                double expected = f == HeadField.RECONSTRUCTION_ERROR ? 1e-7 : want.get(f);
                assertThat(got.metrics().get(f)).as(f.fieldName()).isEqualTo(expected);
            }
            assertThat(got.weights()).isEqualTo(weights.heads().get(h));
            assertThat(c.layers().get(1).heads().get(h).metrics()).isNull();
        }
        assertThat(c.layers().get(0).energyCorrelation()[0][1])
                .isEqualTo((first.energyCorrelation()[0][1] + second.energyCorrelation()[0][1]) / 2);
    }
}
