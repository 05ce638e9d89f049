package dev.headwatch.checkpoint;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * A model read from a file by {@link CheckpointLoader}: exactly one of {@link #network()} and
 * {@link #sameDiff()} is set.
 *
 * @param ref      where it came from
 * @param format   what the file held
 * @param network  the MultiLayerNetwork or ComputationGraph, or null for SameDiff
 * @param sameDiff the SameDiff graph, or null for the layer API
 */
public record LoadedModel(CheckpointRef ref, Format format, Model network, SameDiff sameDiff) {

    /** What a checkpoint file holds. */
    public enum Format {
        MULTI_LAYER_NETWORK("MultiLayerNetwork"),
        COMPUTATION_GRAPH("ComputationGraph"),
        SAMEDIFF("SameDiff");

        private final String label;

        Format(String label) {
            this.label = label;
        }

        /** The name used in reports. */
        public String label() {
            return label;
        }
    }

    public LoadedModel {
        if (ref == null || format == null || (network == null) == (sameDiff == null)) {
            throw new IllegalArgumentException("need a ref, a format and exactly one of network and sameDiff");
        }
        if (format == Format.MULTI_LAYER_NETWORK && !(network instanceof MultiLayerNetwork)
                || format == Format.COMPUTATION_GRAPH && !(network instanceof ComputationGraph)) {
            throw new IllegalArgumentException("format " + format + " does not match " + network.getClass().getName());
        }
    }
}
