package dev.headwatch.dl4j;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The training counters of a {@link MultiLayerNetwork} or {@link ComputationGraph}: read here only. */
public final class Counters {

    private Counters() {
    }

    /** The iteration count (the step an observation is filed under). */
    public static long iteration(Model model) {
        return model instanceof MultiLayerNetwork net ? net.getIterationCount() : graph(model).getIterationCount();
    }

    /** The epoch count. */
    public static int epoch(Model model) {
        return model instanceof MultiLayerNetwork net ? net.getEpochCount() : graph(model).getEpochCount();
    }

    private static ComputationGraph graph(Model model) {
        if (model instanceof ComputationGraph cg) {
            return cg;
        }
        throw new IllegalArgumentException("model must be a MultiLayerNetwork or ComputationGraph but was "
                + (model == null ? "null" : model.getClass().getName()));
    }
}
