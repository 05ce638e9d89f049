package dev.headwatch.checkpoint;

import java.util.List;

/**
 * One analysed checkpoint.
 *
 * @param label     how the report names it (the file name)
 * @param file      the file path as given
 * @param iteration training iteration, or -1 when unknown
 * @param epoch     epoch, or -1 when unknown
 * @param format    what the file held ({@code MultiLayerNetwork}, {@code ComputationGraph}, {@code SameDiff})
 * @param layers    the attention layers, in network order
 * @param skipped   attention-like layers that could not be read, with the reason
 */
public record CheckpointResult(String label, String file, long iteration, int epoch, String format,
                               List<LayerResult> layers, List<SkippedLayer> skipped) {
    public CheckpointResult {
        if (label == null || file == null || format == null || layers == null || skipped == null) {
            throw new IllegalArgumentException("label, file, format, layers and skipped must not be null");
        }
        layers = List.copyOf(layers);
        skipped = List.copyOf(skipped);
    }

    /** This checkpoint without per-head plot data. */
    public CheckpointResult withoutPlots() {
        return new CheckpointResult(label, file, iteration, epoch, format,
                layers.stream().map(LayerResult::withoutPlots).toList(), skipped);
    }

    /**
     * An attention-like layer that was not analysed.
     *
     * @param layer  its name
     * @param reason why
     */
    public record SkippedLayer(String layer, String reason) {
    }
}
