package dev.headwatch.core;

/**
 * The per-head fields of METRICS.md, in output order. {@link #fieldName()} is the exact name used in
 * every output (JSON Lines, CSV, HTML, TensorBoard tags). Every value is held as a {@code double};
 * the {@link #isInteger() integer} fields (ranks, positions, head indices) hold whole numbers, also when
 * several sequences are aggregated (their most frequent value), and are written as integers
 * ({@link #output(double)}). Undefined values are {@code NaN} (JSON {@code null}).
 */
public enum HeadField {
    /** Item 1: max visible {@code S_ij = tau q_i . k_j}. */
    MAX_LOGIT("maxLogit"),
    /** Item 4: max over rows of {@code |sum_j E_ij| / sum_j |S_ij|}; 0 for all-zero logit rows. */
    ZERO_SUM_RESIDUAL("zeroSumResidual"),
    /** Item 4: {@code |y - y_hat|_F / |y|_F} (adapters only; NaN where the layer output is not at hand). */
    RECONSTRUCTION_ERROR("reconstructionError"),
    /** Item 5: {@code sqrt(sum_visible E_ij^2 / sum_i n_i)}. */
    ENERGY_RMS("energyRms"),
    /** Item 6: Roy-Vetterli effective rank of E, 0 when E = 0. */
    EFFECTIVE_RANK("effectiveRank"),
    /** Item 6: {@code sum sigma^2 / sigma_1^2}, 0 when E = 0. */
    STABLE_RANK("stableRank"),
    /** Item 6: {@code sigma_1^2 / sum sigma^2}, 0 when E = 0. */
    TOP_ENERGY("topEnergy"),
    /** Item 6: count of {@code sigma_k > sigma_1 max(n, d) eps}. */
    NUMERICAL_RANK("numericalRank", true),
    /** Item 6: {@code min(d, n-1)} (FULL), {@code min(d, len-1)} (PADDED), NaN for CAUSAL. */
    RANK_BOUND("rankBound", true),
    /** Item 7: {@code (1 / sum s_j^2) / m} in (0, 1]; NaN when E = 0. */
    PARTICIPATION("participation"),
    /** Item 7: {@code max_j s_j}; NaN when E = 0. */
    MAX_KEY_SHARE("maxKeyShare"),
    /** Item 8: {@code (m / r) max_j l_j} in [1, m/r]; NaN when rank(Kc) = 0. */
    KEY_COHERENCE("keyCoherence"),
    /** Item 8: key coherence over keys 1..m-1, re-centred. */
    KEY_COHERENCE_NO_FIRST("keyCoherenceNoFirst"),
    /** Item 9: mean normalised row entropy in [0, 1] over rows with n_i >= 2. */
    ENTROPY("entropy"),
    /** Item 10: max mean attention received by a key seen by at least half the rows. */
    SINK_MAX("sinkMax"),
    /** Item 10: position of {@code sinkMax} (lowest on ties). */
    SINK_POSITION("sinkPosition", true),
    /** Item 10: {@code alpha_0}, the mean attention on key 0. */
    FIRST_KEY_MASS("firstKeyMass"),
    /** Item 11: relative gap to the large-prompt linear predictor; NaN without V or for CAUSAL. */
    LINEAR_GAP("linearGap"),
    /** Item 12: max energy correlation with another head of the layer; NaN for a single head. */
    MAX_REDUNDANCY("maxRedundancy"),
    /** Item 12: the head attaining {@code maxRedundancy}; NaN for a single head. */
    REDUNDANCY_PARTNER("redundancyPartner", true);

    private final String fieldName;
    private final boolean integer;

    HeadField(String fieldName) {
        this(fieldName, false);
    }

    HeadField(String fieldName, boolean integer) {
        this.fieldName = fieldName;
        this.integer = integer;
    }

    /** Whether the field counts or indexes something: a whole number, aggregated as the most frequent value. */
    public boolean isInteger() {
        return integer;
    }

    /**
     * A value of this field as every output writes it: {@code null} when undefined (NaN), a {@link Long}
     * for an {@link #isInteger() integer} field, else the {@link Double}.
     */
    public Number output(double value) {
        if (Double.isNaN(value)) {
            return null;
        }
        return integer ? (Number) Math.round(value) : (Number) value;
    }

    /** The field's name in every output. */
    public String fieldName() {
        return fieldName;
    }
}
