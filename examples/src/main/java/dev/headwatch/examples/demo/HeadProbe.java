package dev.headwatch.examples.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.Visibility;

/** Reads every head's Q, K, V out of the demo model on a probe batch and measures them with monitor-core. */
public final class HeadProbe {

    private HeadProbe() {
    }

    /** The q, k, v variables of every layer on a batch, {@code [batch, heads, T, headDim]} each. */
    public static Map<String, INDArray> run(SameDiff sd, GptConfig c, MultiDataSet batch) {
        List<String> names = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            names.add(TinyGpt.var(l, "q"));
            names.add(TinyGpt.var(l, "k"));
            names.add(TinyGpt.var(l, "v"));
        }
        return sd.output(Map.of(TinyGpt.INPUT, batch.getFeatures(0), TinyGpt.LABEL, batch.getLabels(0)), names);
    }

    /** Head h of one layer on sequence b as a causal {@link HeadInput}. */
    public static HeadInput head(Map<String, INDArray> vars, int layer, int b, int h) {
        return HeadInput.of(slice(vars.get(TinyGpt.var(layer, "q")), b, h),
                slice(vars.get(TinyGpt.var(layer, "k")), b, h),
                slice(vars.get(TinyGpt.var(layer, "v")), b, h), Visibility.CAUSAL, Double.NaN);
    }

    private static INDArray slice(INDArray a, int b, int h) {
        return a.get(NDArrayIndex.point(b), NDArrayIndex.point(h), NDArrayIndex.all(), NDArrayIndex.all()).dup();
    }

    /** Per layer, per head: the metrics averaged over the sequences of the batch (per-layer fields included). */
    public static List<List<HeadMetrics>> measure(Map<String, INDArray> vars, GptConfig c) {
        int batch = (int) vars.get(TinyGpt.var(0, "q")).size(0);
        List<List<HeadMetrics>> out = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            List<List<HeadMetrics>> perHead = new ArrayList<>();
            for (int h = 0; h < c.heads(); h++) {
                perHead.add(new ArrayList<>());
            }
            for (int b = 0; b < batch; b++) {
                List<HeadInput> heads = new ArrayList<>();
                for (int h = 0; h < c.heads(); h++) {
                    heads.add(head(vars, l, b, h));
                }
                List<HeadMetrics> m = LayerAnalysis.compute(heads).heads();
                for (int h = 0; h < c.heads(); h++) {
                    perHead.get(h).add(m.get(h));
                }
            }
            List<HeadMetrics> layer = new ArrayList<>();
            for (List<HeadMetrics> seqs : perHead) {
                layer.add(HeadMetrics.aggregate(seqs));
            }
            out.add(layer);
        }
        return out;
    }
}
