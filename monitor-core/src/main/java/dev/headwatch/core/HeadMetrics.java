package dev.headwatch.core;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The per-head metrics of one head on one sequence (or their aggregate over sequences). Each field's
 * formula, range and degenerate cases are on its {@link HeadField} constant and in METRICS.md.
 * Immutable; built with {@link #builder()}; undefined values are {@code NaN}.
 */
public final class HeadMetrics {

    private static final HeadField[] FIELDS = HeadField.values();

    private final double[] values;
    private final int nonConverged;

    private HeadMetrics(double[] values, int nonConverged) {
        this.values = values;
        this.nonConverged = nonConverged;
    }

    /** A builder with every field NaN. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this instance's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        System.arraycopy(values, 0, b.values, 0, values.length);
        b.nonConverged = nonConverged;
        return b;
    }

    /**
     * How many factorisations (the spectrum, key coherence) did not converge for this head (summed over the
     * sequences of an aggregate), each leaving its fields undefined. Never expected on finite inputs: above 0
     * is a defect to report.
     */
    public int nonConverged() {
        return nonConverged;
    }

    /** The value of one field, NaN when undefined. */
    public double get(HeadField field) {
        return values[field.ordinal()];
    }

    /**
     * Every field by its output name, in {@link HeadField} order, as outputs write it
     * ({@link HeadField#output(double)}: integer fields as {@link Long}, undefined values as {@code null}).
     */
    public Map<String, Number> toMap() {
        Map<String, Number> map = new LinkedHashMap<>();
        for (HeadField f : FIELDS) {
            map.put(f.fieldName(), f.output(values[f.ordinal()]));
        }
        return map;
    }

    public double maxLogit() { return get(HeadField.MAX_LOGIT); }
    public double zeroSumResidual() { return get(HeadField.ZERO_SUM_RESIDUAL); }
    public double reconstructionError() { return get(HeadField.RECONSTRUCTION_ERROR); }
    public double energyRms() { return get(HeadField.ENERGY_RMS); }
    public double effectiveRank() { return get(HeadField.EFFECTIVE_RANK); }
    public double stableRank() { return get(HeadField.STABLE_RANK); }
    public double topEnergy() { return get(HeadField.TOP_ENERGY); }
    public double numericalRank() { return get(HeadField.NUMERICAL_RANK); }
    public double rankBound() { return get(HeadField.RANK_BOUND); }
    public double participation() { return get(HeadField.PARTICIPATION); }
    public double maxKeyShare() { return get(HeadField.MAX_KEY_SHARE); }
    public double keyCoherence() { return get(HeadField.KEY_COHERENCE); }
    public double keyCoherenceNoFirst() { return get(HeadField.KEY_COHERENCE_NO_FIRST); }
    public double entropy() { return get(HeadField.ENTROPY); }
    public double sinkMax() { return get(HeadField.SINK_MAX); }
    public double sinkPosition() { return get(HeadField.SINK_POSITION); }
    public double firstKeyMass() { return get(HeadField.FIRST_KEY_MASS); }
    public double linearGap() { return get(HeadField.LINEAR_GAP); }
    public double maxRedundancy() { return get(HeadField.MAX_REDUNDANCY); }
    public double redundancyPartner() { return get(HeadField.REDUNDANCY_PARTNER); }

    /**
     * Aggregates one head's metrics over several sequences. Each real-valued field is the mean of its
     * defined (non-NaN) values, so one sequence where a figure is undefined (say participation when E = 0)
     * does not hide the others; a field NaN in every input stays NaN. The {@link HeadField#isInteger()
     * integer} fields (ranks, positions, head indices) take their most frequent defined value, the lowest
     * on ties (METRICS.md, "Several sequences in one record").
     *
     * @throws IllegalArgumentException when the list is empty
     */
    public static HeadMetrics aggregate(java.util.List<HeadMetrics> perSequence) {
        if (perSequence == null || perSequence.isEmpty()) {
            throw new IllegalArgumentException("nothing to aggregate: the list of metrics is empty");
        }
        double[] out = new double[FIELDS.length];
        int nonConverged = 0;
        for (HeadMetrics m : perSequence) {
            nonConverged += m.nonConverged;
        }
        double[] x = new double[perSequence.size()];
        for (HeadField f : FIELDS) {
            int i = f.ordinal();
            int defined = 0;
            for (HeadMetrics m : perSequence) {
                double v = m.values[i];
                if (!Double.isNaN(v)) {
                    x[defined++] = v;
                }
            }
            if (defined == 0) {
                out[i] = Double.NaN;
            } else if (f.isInteger()) {
                out[i] = mode(x, defined);
            } else {
                double sum = 0;
                for (int k = 0; k < defined; k++) {
                    sum += x[k];
                }
                out[i] = sum / defined;
            }
        }
        return new HeadMetrics(out, nonConverged);
    }

    /** The most frequent of the first {@code count} values, the lowest on ties. */
    static double mode(double[] x, int count) {
        double[] sorted = Arrays.copyOf(x, count);
        Arrays.sort(sorted);
        double best = sorted[0];
        int bestRun = 0;
        for (int i = 0; i < count; ) {
            int j = i;
            while (j < count && sorted[j] == sorted[i]) {
                j++;
            }
            if (j - i > bestRun) {
                bestRun = j - i;
                best = sorted[i];
            }
            i = j;
        }
        return best;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeadMetrics other && Arrays.equals(values, other.values) && nonConverged == other.nonConverged;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "HeadMetrics" + toMap();
    }

    /** Builds a {@link HeadMetrics}; every field starts as NaN. */
    public static final class Builder {
        private final double[] values = new double[FIELDS.length];
        private int nonConverged;

        private Builder() {
            Arrays.fill(values, Double.NaN);
        }

        public Builder set(HeadField field, double value) {
            values[field.ordinal()] = value;
            return this;
        }

        /** Counts a factorisation of this head that did not converge (its fields stay NaN). */
        Builder countNonConverged() {
            nonConverged++;
            return this;
        }

        public HeadMetrics build() {
            return new HeadMetrics(values.clone(), nonConverged);
        }
    }
}
