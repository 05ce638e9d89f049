package dev.headwatch.core.math;

import java.util.Arrays;

/**
 * The softmax of one row of logits, for the attention drawn in reports and the rebuild check. The metrics
 * compute theirs inside {@code HeadPass}'s single pass over a row, fused with the entropy and sink sums.
 */
public final class Softmax {

    private Softmax() {
    }

    /**
     * Replaces {@code s[from, from + length)} by its softmax over the visible entries (entry {@code j} is
     * visible when {@code visible} is null or {@code visible[j]}); the other entries become 0. A row with no
     * visible entry has no softmax: it becomes NaN.
     */
    public static void row(double[] s, int from, int length, boolean[] visible) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < length; j++) {
            if (visible == null || visible[j]) {
                max = Math.max(max, s[from + j]);
            }
        }
        if (max == Double.NEGATIVE_INFINITY) {
            Arrays.fill(s, from, from + length, Double.NaN);
            return;
        }
        double sum = 0;
        for (int j = 0; j < length; j++) {
            double e = visible == null || visible[j] ? Math.exp(s[from + j] - max) : 0;
            s[from + j] = e;
            sum += e;
        }
        double inv = 1 / sum;
        for (int j = 0; j < length; j++) {
            s[from + j] *= inv;
        }
    }
}
