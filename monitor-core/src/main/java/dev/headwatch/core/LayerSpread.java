package dev.headwatch.core;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The spread of one metric over the heads of one layer at one observation: its minimum, median and
 * maximum. Dashboards show these three lines per layer instead of one line per head, which keeps the
 * number of series small on models with hundreds of heads.
 *
 * <p>Undefined values (NaN) are left out; a layer and metric with no defined value has no spread.
 * Infinities count. The median of an even count is the mean of the two middle values.
 *
 * @param layer  the layer name
 * @param field  the metric
 * @param min    the smallest value over the layer's heads
 * @param median the median over the layer's heads
 * @param max    the largest value over the layer's heads
 */
public record LayerSpread(String layer, HeadField field, double min, double median, double max) {

    /**
     * The metrics that are summarised per layer: every field except those holding a position or a
     * head index ({@code sinkPosition}, {@code redundancyPartner}), whose median means nothing.
     */
    public static final Set<HeadField> FIELDS = fields();

    private static Set<HeadField> fields() {
        EnumSet<HeadField> set = EnumSet.allOf(HeadField.class);
        set.remove(HeadField.SINK_POSITION);
        set.remove(HeadField.REDUNDANCY_PARTNER);
        return java.util.Collections.unmodifiableSet(set);
    }

    /**
     * The spreads of one observation, layers in their order of first appearance, fields in
     * {@link HeadField} order within a layer.
     */
    public static List<LayerSpread> of(Observation observation) {
        Map<String, List<HeadRecord>> byLayer = new LinkedHashMap<>();
        for (HeadRecord r : observation.heads()) {
            byLayer.computeIfAbsent(r.layer(), k -> new ArrayList<>()).add(r);
        }
        List<LayerSpread> spreads = new ArrayList<>();
        for (Map.Entry<String, List<HeadRecord>> layer : byLayer.entrySet()) {
            for (HeadField field : FIELDS) {
                double[] values = layer.getValue().stream()
                        .mapToDouble(r -> r.metrics().get(field))
                        .filter(v -> !Double.isNaN(v))
                        .sorted()
                        .toArray();
                if (values.length > 0) {
                    spreads.add(new LayerSpread(layer.getKey(), field,
                            values[0], median(values), values[values.length - 1]));
                }
            }
        }
        return spreads;
    }

    private static double median(double[] sorted) {
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /** The three statistics by name ({@code min}, {@code median}, {@code max}), in that order. */
    public Map<String, Double> stats() {
        Map<String, Double> map = new LinkedHashMap<>();
        map.put("min", min);
        map.put("median", median);
        map.put("max", max);
        return map;
    }
}
