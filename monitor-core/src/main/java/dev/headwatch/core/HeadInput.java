package dev.headwatch.core;

import dev.headwatch.core.math.RowMajor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One head on one sequence: projected queries {@code Q [n, d]}, keys {@code K [nk, d]}, optional values
 * {@code V [nk, dv]}, the visibility and the logit scale {@code tau}. Self-attention has {@code nk = n};
 * cross-attention (queries and keys of different lengths, METRICS.md "Cross-attention") has
 * {@link Visibility#FULL} visibility, since CAUSAL and PADDED are defined on shared positions. Validated on
 * creation; shape errors name both shapes. Given as ND4J arrays or as row-major Java arrays; the metrics read the Java
 * form, so each form is derived from the other once, when first asked for. The arrays are referenced,
 * not copied: callers that hand in workspace arrays must {@code dup()} or {@code detach()} them first,
 * and no caller may modify an array afterwards.
 */
public final class HeadInput {

    private final int n;
    private final int nk;
    private final int d;
    private final int dv;
    private final DataType type;
    private final Visibility visibility;
    private final double scale;
    private INDArray q;
    private INDArray k;
    private INDArray v;
    private double[] qRows;
    private double[] kRows;
    private double[] vRows;

    private HeadInput(int n, int nk, int d, int dv, DataType type, Visibility visibility, double scale) {
        this.n = n;
        this.nk = nk;
        this.d = d;
        this.dv = dv;
        this.type = type;
        this.visibility = visibility;
        this.scale = scale;
    }

    /**
     * @param q          queries {@code [n, d]}, float32 or float64
     * @param k          keys {@code [nk, d]}, same data type as q
     * @param v          values {@code [nk, dv]} or {@code null}
     * @param visibility which keys each row sees
     * @param scale      logit scale tau, or NaN for the default {@code 1/sqrt(d)}
     */
    public static HeadInput of(INDArray q, INDArray k, INDArray v, Visibility visibility, double scale) {
        if (q == null || k == null) {
            throw new IllegalArgumentException("queries and keys must not be null");
        }
        if (q.rank() != 2 || k.rank() != 2) {
            throw new IllegalArgumentException("Q and K must be [n, d] but were "
                    + shape(q) + " and " + shape(k));
        }
        if (q.size(1) != k.size(1)) {
            throw new IllegalArgumentException("Q and K differ in head dimension: Q " + shape(q) + ", K " + shape(k));
        }
        if (!isFloating(q.dataType()) || q.dataType() != k.dataType()) {
            throw new IllegalArgumentException("Q and K must both be FLOAT or DOUBLE but were "
                    + q.dataType() + " and " + k.dataType());
        }
        if (v != null) {
            if (v.rank() != 2 || v.size(0) != k.size(0) || v.size(1) < 1) {
                throw new IllegalArgumentException("V must be [nk, dv] with nk = " + k.size(0)
                        + " but was " + shape(v) + " (K " + shape(k) + ")");
            }
            if (v.dataType() != q.dataType()) {
                throw new IllegalArgumentException("V data type " + v.dataType()
                        + " differs from Q data type " + q.dataType());
            }
        }
        HeadInput in = create(q.size(0), k.size(0), q.size(1), v == null ? 0 : v.size(1), q.dataType(), visibility, scale);
        in.q = q;
        in.k = k;
        in.v = v;
        return in;
    }

    /**
     * As {@link #of(INDArray, INDArray, INDArray, Visibility, double)}, from row-major Java arrays: queries
     * of {@code n * d} values, keys of {@code nk * d}, values of {@code nk * dv} or {@code null}. For FLOAT every value is
     * rounded to float32 (into a copy), so the metrics see exactly what a FLOAT array would hold.
     *
     * @param d    head dimension (n is {@code q.length / d}, nk is {@code k.length / d})
     * @param type FLOAT or DOUBLE, the precision the head computes in
     */
    public static HeadInput of(double[] q, double[] k, double[] v, int d, DataType type, Visibility visibility,
                               double scale) {
        return of(q, k, v, d, type, visibility, scale, false);
    }

    /** As above; {@code owned} arrays (fresh, nobody else's) are rounded to float32 in place, not into copies. */
    static HeadInput of(double[] q, double[] k, double[] v, int d, DataType type, Visibility visibility, double scale,
                        boolean owned) {
        if (q == null || k == null) {
            throw new IllegalArgumentException("queries and keys must not be null");
        }
        if (d < 1 || q.length % d != 0) {
            throw new IllegalArgumentException("Q of " + q.length + " values is not [n, d] with d = " + d);
        }
        int n = q.length / d;
        if (k.length % d != 0) {
            throw new IllegalArgumentException("K of " + k.length + " values is not [nk, d] with d = " + d
                    + " (Q [" + n + ", " + d + "])");
        }
        int nk = k.length / d;
        if (v != null && (nk == 0 || v.length == 0 || v.length % nk != 0)) {
            throw new IllegalArgumentException("V must be [nk, dv] with nk = " + nk + " but held " + v.length
                    + " values (K [" + nk + ", " + d + "])");
        }
        if (!isFloating(type)) {
            throw new IllegalArgumentException("the data type must be FLOAT or DOUBLE but was " + type);
        }
        HeadInput in = create(n, nk, d, v == null ? 0 : v.length / nk, type, visibility, scale);
        boolean single = type == DataType.FLOAT;
        in.qRows = single ? toFloat(q, owned) : q;
        in.kRows = single ? toFloat(k, owned) : k;
        in.vRows = v == null ? null : single ? toFloat(v, owned) : v;
        return in;
    }

    /** The checks both forms share, on the sizes. */
    private static HeadInput create(long n, long nk, long d, long dv, DataType type, Visibility visibility,
                                    double scale) {
        if (visibility == null) {
            throw new IllegalArgumentException("visibility must not be null");
        }
        if (n < 1 || d < 1) {
            throw new IllegalArgumentException("Q must have n >= 1 and d >= 1 but was [" + n + ", " + d + "]");
        }
        if (nk < 1) {
            throw new IllegalArgumentException("K must have at least one row but was [" + nk + ", " + d + "]");
        }
        if (n * nk > Integer.MAX_VALUE || nk * Math.max(d, dv) > Integer.MAX_VALUE || n * d > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Q [" + n + ", " + d + "] and K [" + nk + ", " + d
                    + "] are too large for Java arrays");
        }
        if (n != nk && visibility.kind() != Visibility.Kind.FULL) {
            throw new IllegalArgumentException(visibility.label() + " visibility needs queries and keys of one length"
                    + " but Q is [" + n + ", " + d + "] and K [" + nk + ", " + d + "]; cross-attention is FULL over"
                    + " the visible keys");
        }
        if (visibility.kind() == Visibility.Kind.PADDED && visibility.length() > n) {
            throw new IllegalArgumentException("padded length " + visibility.length()
                    + " exceeds sequence length n = " + n + " (Q [" + n + ", " + d + "])");
        }
        if (!(Double.isNaN(scale) || (scale > 0 && Double.isFinite(scale)))) {
            throw new IllegalArgumentException("scale must be positive and finite (or NaN for 1/sqrt(d)) but was " + scale);
        }
        double tau = Double.isNaN(scale) ? 1.0 / Math.sqrt(d) : scale;
        return new HeadInput((int) n, (int) nk, (int) d, (int) dv, type, visibility, tau);
    }

    private static double[] toFloat(double[] a, boolean inPlace) {
        double[] out = inPlace ? a : new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (float) a[i];
        }
        return out;
    }

    private static boolean isFloating(DataType type) {
        return type == DataType.FLOAT || type == DataType.DOUBLE;
    }

    static String shape(INDArray a) {
        return java.util.Arrays.toString(a.shape());
    }

    public synchronized INDArray q() {
        if (q == null) {
            q = array(qRows, n, d);
        }
        return q;
    }

    public synchronized INDArray k() {
        if (k == null) {
            k = array(kRows, nk, d);
        }
        return k;
    }

    /** The values, or {@code null} when not given. */
    public synchronized INDArray v() {
        if (v == null && vRows != null) {
            v = array(vRows, nk, dv);
        }
        return v;
    }

    /** Q row-major, widened to double: shared, not a copy, so it must not be modified. */
    public synchronized double[] queryRows() {
        if (qRows == null) {
            qRows = RowMajor.of(q);
        }
        return qRows;
    }

    /** K row-major, widened to double: shared, not a copy, so it must not be modified. */
    public synchronized double[] keyRows() {
        if (kRows == null) {
            kRows = RowMajor.of(k);
        }
        return kRows;
    }

    /** V row-major, widened to double, or {@code null}: shared, not a copy, so it must not be modified. */
    public synchronized double[] valueRows() {
        if (vRows == null && v != null) {
            vRows = RowMajor.of(v);
        }
        return vRows;
    }

    private INDArray array(double[] values, int rows, int cols) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            if (type == DataType.DOUBLE) {
                return Nd4j.create(values, new long[] {rows, cols}, 'c');
            }
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) values[i];
            }
            return Nd4j.create(f, new long[] {rows, cols}, 'c');
        }
    }

    public Visibility visibility() { return visibility; }
    /** The logit scale tau actually used (the default already applied). */
    public double scale() { return scale; }
    /** Sequence length n (rows of Q: the queries). */
    public int n() { return n; }
    /** Number of keys nk (rows of K and V): n for self-attention. */
    public int nk() { return nk; }
    /** Head dimension d (columns of Q). */
    public int d() { return d; }
    /** Value dimension dv (columns of V), 0 when there are no values. */
    public int dv() { return dv; }
    /** FLOAT or DOUBLE. */
    public DataType dataType() { return type; }
    /** Whether the input is float64 (else float32). */
    public boolean isDouble() { return type == DataType.DOUBLE; }
}
