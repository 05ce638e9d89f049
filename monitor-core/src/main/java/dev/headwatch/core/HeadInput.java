package dev.headwatch.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One head on one sequence: projected queries {@code Q [n, d]}, keys {@code K [n, d]}, optional values
 * {@code V [n, dv]}, the visibility and the logit scale {@code tau}. Validated on creation; shape
 * errors name both shapes. The arrays are referenced, not copied: callers that hand in workspace
 * arrays must {@code dup()} or {@code detach()} them first.
 */
public final class HeadInput {

    private final INDArray q;
    private final INDArray k;
    private final INDArray v;
    private final Visibility visibility;
    private final double scale;

    private HeadInput(INDArray q, INDArray k, INDArray v, Visibility visibility, double scale) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.visibility = visibility;
        this.scale = scale;
    }

    /**
     * @param q          queries {@code [n, d]}, float32 or float64
     * @param k          keys {@code [n, d]}, same data type as q
     * @param v          values {@code [n, dv]} or {@code null}
     * @param visibility which keys each row sees
     * @param scale      logit scale tau, or NaN for the default {@code 1/sqrt(d)}
     */
    public static HeadInput of(INDArray q, INDArray k, INDArray v, Visibility visibility, double scale) {
        if (q == null || k == null) {
            throw new IllegalArgumentException("queries and keys must not be null");
        }
        if (visibility == null) {
            throw new IllegalArgumentException("visibility must not be null");
        }
        if (q.rank() != 2 || k.rank() != 2) {
            throw new IllegalArgumentException("Q and K must be [n, d] but were "
                    + shape(q) + " and " + shape(k));
        }
        if (q.size(0) != k.size(0) || q.size(1) != k.size(1)) {
            throw new IllegalArgumentException("Q and K shapes differ: Q " + shape(q) + ", K " + shape(k));
        }
        if (q.size(0) < 1 || q.size(1) < 1) {
            throw new IllegalArgumentException("Q must have n >= 1 and d >= 1 but was " + shape(q));
        }
        if (!isFloating(q) || q.dataType() != k.dataType()) {
            throw new IllegalArgumentException("Q and K must both be FLOAT or DOUBLE but were "
                    + q.dataType() + " and " + k.dataType());
        }
        if (v != null) {
            if (v.rank() != 2 || v.size(0) != q.size(0) || v.size(1) < 1) {
                throw new IllegalArgumentException("V must be [n, dv] with n = " + q.size(0)
                        + " but was " + shape(v) + " (Q " + shape(q) + ")");
            }
            if (v.dataType() != q.dataType()) {
                throw new IllegalArgumentException("V data type " + v.dataType()
                        + " differs from Q data type " + q.dataType());
            }
        }
        if (visibility.kind() == Visibility.Kind.PADDED && visibility.length() > q.size(0)) {
            throw new IllegalArgumentException("padded length " + visibility.length()
                    + " exceeds sequence length n = " + q.size(0) + " (Q " + shape(q) + ")");
        }
        if (!(Double.isNaN(scale) || (scale > 0 && Double.isFinite(scale)))) {
            throw new IllegalArgumentException("scale must be positive and finite (or NaN for 1/sqrt(d)) but was " + scale);
        }
        double tau = Double.isNaN(scale) ? 1.0 / Math.sqrt(q.size(1)) : scale;
        return new HeadInput(q, k, v, visibility, tau);
    }

    private static boolean isFloating(INDArray a) {
        return a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE;
    }

    static String shape(INDArray a) {
        return java.util.Arrays.toString(a.shape());
    }

    public INDArray q() { return q; }
    public INDArray k() { return k; }
    /** The values, or {@code null} when not given. */
    public INDArray v() { return v; }
    public Visibility visibility() { return visibility; }
    /** The logit scale tau actually used (the default already applied). */
    public double scale() { return scale; }
    /** Sequence length n (rows of Q). */
    public int n() { return (int) q.size(0); }
    /** Head dimension d (columns of Q). */
    public int d() { return (int) q.size(1); }
    /** Whether the input is float64 (else float32). */
    public boolean isDouble() { return q.dataType() == DataType.DOUBLE; }
}
