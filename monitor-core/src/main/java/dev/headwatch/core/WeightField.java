package dev.headwatch.core;

/**
 * The weight-only per-head fields (METRICS.md "Weight-only metrics"), computed from {@code Wq, Wk}
 * alone; {@link #fieldName()} is the exact output name.
 */
public enum WeightField {
    /** {@code sigma_1(M_h)}, {@code M_h = tau Wq_h^T Wk_h}: bounds every logit by {@code sigma_1 |x_i| |x_j|}. */
    QK_SPECTRAL_NORM("qkSpectralNorm"),
    /** {@code sum sigma^2 / sigma_1^2} of {@code M_h}; 0 when {@code M_h = 0}. */
    QK_STABLE_RANK("qkStableRank");

    private final String fieldName;

    WeightField(String fieldName) {
        this.fieldName = fieldName;
    }

    /** The field's name in every output. */
    public String fieldName() {
        return fieldName;
    }
}
