package dev.headwatch.checkpoint;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Probe data for an analysis with data metrics. For the layer API: the network inputs (NCW
 * {@code [mb, nIn, T]} for attention layers; one per network input of a ComputationGraph, in input
 * order) and optional feature masks {@code [mb, T]}. For SameDiff: one array per placeholder name.
 */
public final class Probe {

    private final List<INDArray> inputs;
    private final List<INDArray> masks;
    private final Map<String, INDArray> placeholders;
    private final String description;
    private final List<String> tokens;

    private Probe(List<INDArray> inputs, List<INDArray> masks, Map<String, INDArray> placeholders, String description,
                  List<String> tokens) {
        this.inputs = inputs;
        this.masks = masks;
        this.placeholders = placeholders;
        this.description = description;
        this.tokens = tokens;
    }

    /** Inputs for a MultiLayerNetwork (one) or ComputationGraph (one per network input), no masks. */
    public static Probe of(INDArray... inputs) {
        return withMasks(inputs == null ? null : Arrays.asList(inputs), null);
    }

    /** Inputs with feature masks ({@code masks} null, or one entry per input, entries may be null). */
    public static Probe withMasks(List<INDArray> inputs, List<INDArray> masks) {
        if (inputs == null || inputs.isEmpty() || inputs.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("a probe needs at least one input array and no null inputs");
        }
        if (masks != null && masks.size() != inputs.size()) {
            throw new IllegalArgumentException("got " + masks.size() + " masks for " + inputs.size() + " inputs");
        }
        long mb = inputs.get(0).size(0);
        for (INDArray in : inputs) {
            if (in.rank() < 2 || in.size(0) != mb || mb < 1) {
                throw new IllegalArgumentException("probe inputs must share a minibatch size >= 1 but have shapes "
                        + inputs.stream().map(a -> Arrays.toString(a.shape())).toList());
            }
        }
        String d = "inputs " + String.join(", ", inputs.stream().map(a -> Arrays.toString(a.shape())).toList());
        return new Probe(List.copyOf(inputs), masks == null ? null : java.util.Collections.unmodifiableList(
                new java.util.ArrayList<>(masks)), null, d, List.of());
    }

    /** Placeholder values for a SameDiff graph, by placeholder name. */
    public static Probe sameDiff(Map<String, INDArray> placeholders) {
        if (placeholders == null || placeholders.isEmpty()) {
            throw new IllegalArgumentException("a SameDiff probe needs at least one placeholder");
        }
        Map<String, INDArray> copy = new LinkedHashMap<>(placeholders);
        StringBuilder d = new StringBuilder("placeholders");
        copy.forEach((k, v) -> d.append(' ').append(k).append(Arrays.toString(v.shape())));
        return new Probe(null, null, java.util.Collections.unmodifiableMap(copy), d.toString(), List.of());
    }

    /**
     * This probe with the text of its first sequence, one token per position (a character, a word piece), so
     * reports can label the heat maps they draw of that sequence with what was read there.
     */
    public Probe withTokens(List<String> tokens) {
        if (tokens == null || tokens.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("tokens must be a list without null entries but was " + tokens);
        }
        return new Probe(inputs, masks, placeholders, description, List.copyOf(tokens));
    }

    /** The tokens of the first sequence, one per position; empty when not known. */
    public List<String> tokens() {
        return tokens;
    }

    /** The layer-API inputs, or null for a SameDiff probe. */
    public List<INDArray> inputs() {
        return inputs;
    }

    /** The feature masks, or null. */
    public List<INDArray> masks() {
        return masks;
    }

    /** The SameDiff placeholders, or null for a layer-API probe. */
    public Map<String, INDArray> placeholders() {
        return placeholders;
    }

    /** The minibatch size of the layer-API inputs (0 for SameDiff). */
    public int batchSize() {
        return inputs == null ? 0 : (int) inputs.get(0).size(0);
    }

    /** A short description for reports (shapes only). */
    public String description() {
        return description;
    }

    @Override
    public String toString() {
        return "Probe[" + description + "]";
    }
}
