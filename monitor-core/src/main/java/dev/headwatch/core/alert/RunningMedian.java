package dev.headwatch.core.alert;

import java.util.Arrays;

/** The median of the last {@code capacity} values added (a ring buffer; small windows, sorted on read). */
final class RunningMedian {

    private final double[] values;
    private int size;
    private int next;

    RunningMedian(int capacity) {
        values = new double[capacity];
    }

    void add(double value) {
        values[next] = value;
        next = (next + 1) % values.length;
        size = Math.min(size + 1, values.length);
    }

    int size() {
        return size;
    }

    /** The median (mean of the two middle values for an even count); NaN when empty. */
    double median() {
        if (size == 0) {
            return Double.NaN;
        }
        double[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        return size % 2 == 1 ? sorted[size / 2] : 0.5 * (sorted[size / 2 - 1] + sorted[size / 2]);
    }
}
