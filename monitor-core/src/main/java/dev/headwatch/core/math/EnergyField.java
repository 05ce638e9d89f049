package dev.headwatch.core.math;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.Visibility;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Logits, attention and the energy field of one head (METRICS.md items 1-3).
 *
 * <p>Logits {@code S_ij = tau q_i . k_j}; attention {@code A_i = softmax(S_i)} over the visible keys
 * {@code N(i)}; energy {@code E_ij = S_ij - (1/n_i) sum_{l in N(i)} S_il} on {@code N(i)}, 0 elsewhere.
 * Every visibility makes {@code N(i)} a prefix {@code 0 .. n_i - 1} of the keys (see {@link #rowLength}).
 * Rows without visible keys (padding) are all zero in both A and E. With {@code n} queries and {@code nk}
 * keys (cross-attention) S, A and E are {@code n x nk}.
 *
 * <p>References: "On the Invariants of Softmax Attention", arXiv:2605.02907 (the energy field).
 */
public final class EnergyField {

    private EnergyField() {
    }

    /**
     * {@code n_i}, the number of keys row {@code i} sees among {@code nk} keys: {@code nk} (FULL),
     * {@code i + 1} (CAUSAL), {@code len} for {@code i < len} and 0 otherwise (PADDED). The visible keys are
     * {@code 0 .. n_i - 1}.
     */
    public static int rowLength(Visibility visibility, int nk, int i) {
        return switch (visibility.kind()) {
            case FULL -> nk;
            case CAUSAL -> i + 1;
            case PADDED -> i < visibility.length() ? visibility.length() : 0;
        };
    }

    /**
     * Below this many multiply-adds the logits are computed in Java. A native product costs call overhead,
     * and its BLAS threads compete for the cores with the training job that live monitoring runs beside.
     */
    static final long NATIVE_MIN_WORK = 1L << 21;

    /**
     * Every logit {@code S_ij = tau q_i . k_j} (visible or not), row-major {@code n x nk}, computed in the
     * input's data type (float32 inputs carry float32 rounding, as in the model itself) and returned
     * widened to double: by one ND4J matrix product for large heads, in Java for small ones.
     */
    public static double[] logits(HeadInput in) {
        return logits(in, true);
    }

    /**
     * As {@link #logits(HeadInput)}, but a float32 head's logits may come as the dot products gave them, not
     * yet rounded to float32, for a caller that rounds each as it first reads it (one pass over them fewer).
     * Rounding a float32 value again changes nothing, so whichever way they come, rounded they are the same.
     */
    public static double[] logitsToRound(HeadInput in) {
        return logits(in, false);
    }

    private static double[] logits(HeadInput in, boolean round) {
        int n = in.n();
        int d = in.d();
        if ((long) n * in.nk() * d < NATIVE_MIN_WORK) {
            return javaLogits(in.queryRows(), in.keyRows(), n, in.nk(), d, in.scale(), !in.isDouble(), round);
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray q = in.q();
            INDArray scaled = Native.borrow(q.dataType(), n, d, 'c');
            q.mul(in.scale(), scaled);
            // Column-major, the order BLAS writes (a row-major product is written so, then reordered by ND4J).
            INDArray s = Native.borrow(q.dataType(), n, in.nk(), 'f');
            Nd4j.gemm(scaled, in.k(), s, false, true, 1.0, 0.0);
            double[] logits = Native.toDoubles(s);
            Native.giveBack(scaled, s);
            return logits;
        }
    }

    /**
     * As the ND4J path: queries scaled in the input precision, then (when {@code round}) each dot product
     * rounded to it. The queries are scaled four rows at a time, the block of the blocked product, whose logits
     * are written before the next four are scaled: each entry is the same sum as from one product over all rows.
     */
    private static double[] javaLogits(double[] q, double[] k, int n, int nk, int d, double tau, boolean single,
                                       boolean round) {
        float tauSingle = (float) tau;
        double[] s = new double[n * nk];
        // both in the calling thread's scratch: K^T read by rows in every block's product, four rows of tau Q
        double[] kT = Dense.transpose(k, 0, nk, d, Dense.scratch(Dense.LOGIT_KEYS, nk * d));
        double[] scaled = Dense.scratch(Dense.LOGIT_QUERIES, Math.min(n, 4) * d);
        for (int from = 0; from < n; from += 4) {
            int rows = Math.min(4, n - from);
            for (int x = 0, at = from * d; x < rows * d; x++, at++) {
                scaled[x] = single ? (float) (q[at] * tauSingle) : q[at] * tau;
            }
            Dense.multiply(scaled, 0, rows, d, kT, nk, s, from * nk);
        }
        return single && round ? Dense.roundToFloat(s) : s;
    }

    /** The attention matrix {@code A} ({@code n x nk}, zeros off the visible set). */
    public static double[][] attention(HeadInput in) {
        int n = in.n();
        int nk = in.nk();
        double[] s = logits(in);
        double[][] a = new double[n][nk];
        for (int i = 0; i < n; i++) {
            int len = rowLength(in.visibility(), nk, i);
            if (len == 0) {
                continue;
            }
            Softmax.row(s, i * nk, len, null);
            System.arraycopy(s, i * nk, a[i], 0, len);
        }
        return a;
    }

    /** The energy field {@code E} ({@code n x nk}, zeros off the visible set). */
    public static double[][] energy(HeadInput in) {
        int n = in.n();
        int nk = in.nk();
        double[] e = centre(logits(in), in.visibility(), n, nk);
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            out[i] = java.util.Arrays.copyOfRange(e, i * nk, (i + 1) * nk);
        }
        return out;
    }

    /**
     * Row-centres row-major {@code n x nk} logits in place into the energy field (double precision),
     * zeroing the invisible entries; returns its argument.
     */
    static double[] centre(double[] s, Visibility visibility, int n, int nk) {
        for (int i = 0; i < n; i++) {
            int len = rowLength(visibility, nk, i);
            double sum = 0;
            for (int j = 0; j < len; j++) {
                sum += s[i * nk + j];
            }
            double mean = len == 0 ? 0 : sum / len;
            for (int j = 0; j < len; j++) {
                s[i * nk + j] -= mean;
            }
            java.util.Arrays.fill(s, i * nk + len, (i + 1) * nk, 0.0);
        }
        return s;
    }
}
