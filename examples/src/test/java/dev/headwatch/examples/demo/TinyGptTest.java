package dev.headwatch.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import dev.headwatch.examples.text.ByteCorpus;

class TinyGptTest {

    static final GptConfig CONFIG = new GptConfig(1, 2, 16, 8, ByteCorpus.VOCAB);

    @Test
    void attention_isCausal_rowsSumToOne_andNoWeightOnLaterKeys() {
        SameDiff sd = TinyGpt.build(CONFIG, 1, 1e-3);
        MultiDataSet batch = TinyGpt.batch(new int[][] {{1, 2, 3, 4, 5, 6, 7, 8, 9}}, ByteCorpus.VOCAB);
        INDArray a = sd.output(Map.of(TinyGpt.INPUT, batch.getFeatures(0), TinyGpt.LABEL, batch.getLabels(0)),
                TinyGpt.var(0, "attention")).get(TinyGpt.var(0, "attention"));
        assertThat(a.shape()).containsExactly(1, 2, 8, 8);
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 8; i++) {
                double row = 0;
                for (int j = 0; j < 8; j++) {
                    double p = a.getDouble(0, h, i, j);
                    row += p;
                    if (j > i) {
                        assertThat(p).isZero();
                    }
                }
                assertThat(row).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    @Test
    void rebuild_longerContext_sameWeights_sameHeadOutputsOnThePrefixPositions() {
        // Causal attention and fixed sinusoids: position i of a longer sequence attends exactly as before.
        SameDiff sd = TinyGpt.build(CONFIG, 2, 1e-3);
        SameDiff longer = TinyGpt.rebuild(sd, CONFIG.withContext(16));
        int[][] w = ByteCorpus.of(java.util.List.of("the parliament adopted the resolution"))
                .windows(1, 16, new SplittableRandom(3));
        int[][] prefix = {java.util.Arrays.copyOf(w[0], 9)};
        INDArray q8 = probe(sd, prefix, CONFIG);
        INDArray q16 = probe(longer, w, CONFIG.withContext(16));
        for (int i = 0; i < 8; i++) {
            for (int k = 0; k < 8; k++) {
                assertThat(q16.getDouble(0, 1, i, k)).isCloseTo(q8.getDouble(0, 1, i, k),
                        org.assertj.core.data.Offset.offset(1e-4));
            }
        }
    }

    private static INDArray probe(SameDiff sd, int[][] windows, GptConfig c) {
        MultiDataSet batch = TinyGpt.batch(windows, ByteCorpus.VOCAB);
        String out = TinyGpt.var(0, "out");
        return sd.output(Map.of(TinyGpt.INPUT, batch.getFeatures(0), TinyGpt.LABEL, batch.getLabels(0)), out).get(out);
    }

    @Test
    void crossEntropy_uniformLogits_isLogVocab() {
        // Equal logits: every row's loss is log(V).
        INDArray logits = org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 4);
        INDArray labels = org.nd4j.linalg.factory.Nd4j.eye(4).getRows(0, 1, 2);
        assertThat(ProgressListener.crossEntropy(logits, labels)).isCloseTo(Math.log(4),
                org.assertj.core.data.Offset.offset(1e-6));
    }
}
