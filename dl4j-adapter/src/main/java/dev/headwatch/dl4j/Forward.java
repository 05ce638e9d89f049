package dev.headwatch.dl4j;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/**
 * The activations of one forward pass, as DL4J delivers them to {@code TrainingListener.onForwardPass}: a
 * MultiLayerNetwork's list (index 0 the input, {@code i+1} the output of layer i) or a ComputationGraph's map
 * (vertex name to output).
 */
record Forward(List<INDArray> mln, Map<String, INDArray> cg) {
}
