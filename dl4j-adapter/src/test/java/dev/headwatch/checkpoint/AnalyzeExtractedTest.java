package dev.headwatch.checkpoint;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.LayerCapture;
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

    /** Columns {@code from .. from+count-1} of a row-major {@code [rows, cols]} matrix. */
    private static double[] columns(double[] a, int rows, int cols, int from, int count) {
        double[] out = new double[rows * count];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(a, i * cols + from, out, i * count, count);
        }
        return out;
    }

    /** Per head, softmax attention over the first {@code keys} keys, by the definition; heads side by side. */
    private static double[] attention(double[] q, double[] k, double[] v, int t, int heads, int hs, int keys) {
        double[] out = new double[t * heads * hs];
        double tau = 1 / Math.sqrt(hs);
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < t; i++) {
                double[] p = new double[keys];
                double sum = 0;
                for (int j = 0; j < keys; j++) {
                    double s = 0;
                    for (int c = 0; c < hs; c++) {
                        s += q[i * heads * hs + h * hs + c] * k[j * heads * hs + h * hs + c];
                    }
                    p[j] = Math.exp(tau * s);
                    sum += p[j];
                }
                for (int j = 0; j < keys; j++) {
                    for (int c = 0; c < hs; c++) {
                        out[i * heads * hs + h * hs + c] += p[j] / sum * v[j * heads * hs + h * hs + c];
                    }
                }
            }
        }
        return out;
    }

    @Test
    void analyzeExtracted_givesTheCoreMetricsAggregatedOverSequences_andEvaluatesTheRules() {
        Random r = new Random(7);
        int heads = 2;
        int hs = 3;
        int t = 5;
        int width = heads * hs;
        List<LayerCapture.Sequence> captured = new ArrayList<>();
        List<List<HeadInput>> sequences = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            int keys = s == 0 ? t : 4;
            boolean[] visible = new boolean[t];
            java.util.Arrays.fill(visible, 0, keys, true);
            double[] q = gaussian(r, t * width);
            double[] k = gaussian(r, t * width);
            double[] v = gaussian(r, t * width);
            captured.add(new LayerCapture.Sequence(t, q, t, k, v, attention(q, k, v, t, heads, hs, keys), visible,
                    visible));
            List<HeadInput> in = new ArrayList<>();
            for (int h = 0; h < heads; h++) {
                in.add(HeadInput.of(columns(q, t, width, h * hs, hs), columns(k, t, width, h * hs, hs),
                        columns(v, t, width, h * hs, hs), hs, DataType.FLOAT,
                        s == 0 ? Visibility.FULL : Visibility.padded(4), Double.NaN));
            }
            sequences.add(in);
        }
        LayerCapture capture = new LayerCapture("att", heads, hs, Double.NaN, false, false, null, null, captured);
        WeightLayerMetrics weights = WeightAnalysis.compute(Nd4j.create(gaussian(r, heads * hs * 6), heads, hs, 6),
                Nd4j.create(gaussian(r, heads * hs * 6), heads, hs, 6), Double.NaN);
        CheckpointAnalysis a = CheckpointAnalyzer.builder().build().analyzeExtracted(Path.of("model.onnx"), "ONNX",
                "probe", List.of(new CheckpointAnalyzer.ExtractedLayer("att", "KIND", heads, hs, weights, capture),
                        new CheckpointAnalyzer.ExtractedLayer("weightsOnly", "KIND", heads, hs, weights, null)));

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
                if (f != HeadField.RECONSTRUCTION_ERROR) {
                    assertThat(got.metrics().get(f)).as(f.fieldName()).isEqualTo(want.get(f));
                }
            }
            // the output given is the attention of the float64 inputs; the heads are read in float32
            assertThat(got.metrics().reconstructionError()).isBetween(0.0, 1e-6);
            assertThat(got.weights()).isEqualTo(weights.heads().get(h));
            assertThat(c.layers().get(1).heads().get(h).metrics()).isNull();
        }
        assertThat(c.layers().get(0).energyCorrelation()[0][1])
                .isEqualTo((first.energyCorrelation()[0][1] + second.energyCorrelation()[0][1]) / 2);
    }
}
