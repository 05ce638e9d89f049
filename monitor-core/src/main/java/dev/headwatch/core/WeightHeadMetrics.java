package dev.headwatch.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The weight-only metrics of one head (see {@link WeightField}).
 *
 * @param qkSpectralNorm {@code sigma_1(tau Wq_h^T Wk_h)}, {@code >= 0}
 * @param qkStableRank   {@code sum sigma^2 / sigma_1^2} in {@code [1, hs]}, 0 when the form is zero
 */
public record WeightHeadMetrics(double qkSpectralNorm, double qkStableRank) {

    /** The value of one field. */
    public double get(WeightField field) {
        return switch (field) {
            case QK_SPECTRAL_NORM -> qkSpectralNorm;
            case QK_STABLE_RANK -> qkStableRank;
        };
    }

    /** Every field by its output name; NaN maps to {@code null}. */
    public Map<String, Double> toMap() {
        Map<String, Double> map = new LinkedHashMap<>();
        for (WeightField f : WeightField.values()) {
            double v = get(f);
            map.put(f.fieldName(), Double.isNaN(v) ? null : v);
        }
        return map;
    }
}
