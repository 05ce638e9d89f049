package dev.headwatch.core;

import java.util.List;

/**
 * The heads of one attention layer at one step: for each sampled sequence, one
 * {@link HeadInput} per observed head (same order as {@link #heads()}), plus the layer's
 * reconstruction error when the layer's own output was at hand and each head's weight-only
 * {@code qkSpectralNorm} when the adapter read the layer's weights.
 *
 * @param layer               the layer or vertex name (or its index as text)
 * @param heads               the head indices, in the order of each sequence's inputs
 * @param sequences           per sampled sequence, the inputs of the observed heads
 * @param reconstructionError METRICS.md item 4 over the sampled sequences, NaN when unknown
 * @param qkSpectralNorms     per observed head (same order as {@link #heads()}), the weight-only
 *                            {@code qkSpectralNorm}; NaN where unknown
 */
public record LayerInput(String layer, List<Integer> heads, List<List<HeadInput>> sequences,
                         double reconstructionError, List<Double> qkSpectralNorms) implements LayerData {
    public LayerInput {
        if (layer == null || heads == null || sequences == null) {
            throw new IllegalArgumentException("layer, heads and sequences must not be null");
        }
        heads = List.copyOf(heads);
        sequences = List.copyOf(sequences);
        qkSpectralNorms = qkSpectralNorms == null
                ? java.util.Collections.nCopies(heads.size(), Double.NaN) : List.copyOf(qkSpectralNorms);
        if (qkSpectralNorms.size() != heads.size()) {
            throw new IllegalArgumentException("layer " + layer + ": " + qkSpectralNorms.size()
                    + " qkSpectralNorm values but " + heads.size() + " heads were named");
        }
        for (List<HeadInput> s : sequences) {
            if (s.size() != heads.size()) {
                throw new IllegalArgumentException("layer " + layer + ": a sequence holds " + s.size()
                        + " head inputs but " + heads.size() + " heads were named");
            }
        }
    }

    /** The heads that {@code keep} accepts (by their index in the layer), in the same order. */
    LayerInput select(java.util.function.IntPredicate keep) {
        List<Integer> positions = new java.util.ArrayList<>();
        for (int i = 0; i < heads.size(); i++) {
            if (keep.test(heads.get(i))) {
                positions.add(i);
            }
        }
        if (positions.size() == heads.size()) {
            return this;
        }
        List<List<HeadInput>> kept = new java.util.ArrayList<>();
        for (List<HeadInput> s : sequences) {
            kept.add(positions.stream().map(s::get).toList());
        }
        return new LayerInput(layer, positions.stream().map(heads::get).toList(), kept, reconstructionError,
                positions.stream().map(qkSpectralNorms::get).toList());
    }

    /** The same heads with the given reconstruction error. */
    LayerInput withReconstructionError(double error) {
        return new LayerInput(layer, heads, sequences, error, qkSpectralNorms);
    }

    /** A layer input without weight metrics. */
    public LayerInput(String layer, List<Integer> heads, List<List<HeadInput>> sequences, double reconstructionError) {
        this(layer, heads, sequences, reconstructionError, null);
    }
}
