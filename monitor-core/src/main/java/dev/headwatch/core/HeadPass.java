package dev.headwatch.core;

import dev.headwatch.core.math.CentredKeys;
import dev.headwatch.core.math.EnergyField;
import dev.headwatch.core.math.KeyIncoherence;
import dev.headwatch.core.math.LinearGap;
import dev.headwatch.core.math.Spectrum;
import java.util.Arrays;

/**
 * One head on one sequence, measured in a single pass over its logits: every per-head field of
 * METRICS.md items 1-11, plus the attention rows (and, on request, the dense energy field) that the
 * layer metrics need. A PADDED head is a FULL head on its first {@code len} positions, so the pass only
 * knows FULL and CAUSAL; {@link #n} is the number of existing query positions and {@link #keys} the number
 * of keys (equal but for cross-attention, which is FULL).
 */
final class HeadPass {

    /** Existing query positions (n, or len for PADDED). */
    final int n;
    /** Keys (nk, or len for PADDED): the row length of {@link #attention} and {@link #energy}. */
    final int keys;
    final boolean causal;
    final HeadMetrics.Builder metrics;
    /** Attention, row-major {@code n x keys}, zeros off the visible set. */
    final double[] attention;
    /** {@code sum_j A_ij ln A_ij} per row. */
    final double[] plogp;
    /** Per row, {@code c_i} with {@code ln A_ij = E_ij + c_i} on the visible keys. */
    final double[] logShift;
    /** Energy field, row-major {@code n x keys}, or null when not kept. */
    final double[] energy;
    /**
     * The attention output {@code A V}, row-major {@code n x dv}, as the linear gap formed it (float32-rounded
     * for a float32 head, see {@link LinearGap.Result#attended}), or null when the pass measured no linear gap.
     */
    final double[] attended;

    private HeadPass(int n, int keys, boolean causal, HeadMetrics.Builder metrics, double[] attention,
                     double[] plogp, double[] logShift, double[] energy, double[] attended) {
        this.n = n;
        this.keys = keys;
        this.causal = causal;
        this.metrics = metrics;
        this.attention = attention;
        this.plogp = plogp;
        this.logShift = logShift;
        this.energy = energy;
        this.attended = attended;
    }

    /** Visible keys of row i in the pass (FULL over {@link #keys} keys, or CAUSAL). */
    int rowLength(int i) {
        return causal ? i + 1 : keys;
    }

    static HeadPass run(HeadInput input, boolean keepEnergy) {
        Visibility visibility = input.visibility();
        HeadInput in = visibility.kind() == Visibility.Kind.PADDED ? firstPositions(input, visibility.length()) : input;
        boolean causal = visibility.kind() == Visibility.Kind.CAUSAL;
        int n = in.n();
        int nk = in.nk();
        int d = in.d();
        double tau = in.scale();
        boolean isDouble = in.isDouble();
        double eps = Spectrum.unitRoundoff(isDouble);

        double[] s = EnergyField.logitsToRound(in);  // rounded to the input precision below, as first read
        double[] e = causal || keepEnergy ? new double[n * nk] : null;
        double[] c = new double[nk];
        double[] colA = new double[nk];
        double[] plogp = new double[n];
        double[] logShift = new double[n];
        double[] shifted = new double[nk];
        double maxLogit = Double.NEGATIVE_INFINITY;
        double residual = 0;
        double energy2 = 0;
        double entropySum = 0;
        int entropyRows = 0;
        long visible = 0;
        for (int i = 0; i < n; i++) {
            int len = causal ? i + 1 : nk;
            int base = i * nk;
            visible += len;
            // Four running maxima, so that Math.max (slow, for its NaN and -0.0 rules) does not hold up every
            // entry; the maximum of the four is the row's, whatever the order. The sums keep theirs.
            double max0 = Double.NEGATIVE_INFINITY, max1 = max0, max2 = max0, max3 = max0, sum = 0, sumAbs = 0;
            int at = base;
            for (; at + 3 < base + len; at += 4) {
                double x0 = inPrecision(s[at], isDouble), x1 = inPrecision(s[at + 1], isDouble);
                double x2 = inPrecision(s[at + 2], isDouble), x3 = inPrecision(s[at + 3], isDouble);
                s[at] = x0;
                s[at + 1] = x1;
                s[at + 2] = x2;
                s[at + 3] = x3;
                max0 = Math.max(max0, x0);
                max1 = Math.max(max1, x1);
                max2 = Math.max(max2, x2);
                max3 = Math.max(max3, x3);
                sum += x0;
                sum += x1;
                sum += x2;
                sum += x3;
                sumAbs += Math.abs(x0);
                sumAbs += Math.abs(x1);
                sumAbs += Math.abs(x2);
                sumAbs += Math.abs(x3);
            }
            for (; at < base + len; at++) {
                double x = inPrecision(s[at], isDouble);
                s[at] = x;
                max0 = Math.max(max0, x);
                sum += x;
                sumAbs += Math.abs(x);
            }
            double max = Math.max(Math.max(max0, max1), Math.max(max2, max3));
            maxLogit = Math.max(maxLogit, max);
            double mean = sum / len;
            // The zero-sum residual centres in the input precision: float32 rounding of E shows up here.
            double meanIn = isDouble ? mean : (float) mean;
            double rowSum = 0, z = 0, t = 0;
            for (int j = 0; j < len; j++) {
                double x = s[base + j];
                rowSum += isDouble ? x - meanIn : (float) (x - meanIn);
                double ex = x - mean;
                double ex2 = ex * ex;
                energy2 += ex2;
                c[j] += ex2;
                if (e != null) {
                    e[base + j] = ex;
                }
                shifted[j] = x - max;
            }
            // The exponentials in a loop of their own: Math.exp is a call, and every value live across it
            // would be saved and restored around each one.
            for (int j = 0; j < len; j++) {
                s[base + j] = Math.exp(shifted[j]);
            }
            for (int j = 0; j < len; j++) {
                double w = s[base + j];
                z += w;
                t += w * shifted[j];
            }
            double rowResidual = sumAbs == 0 ? 0 : Math.abs(rowSum) / sumAbs;
            residual = Math.max(residual, rowResidual);
            if (Double.isNaN(rowResidual)) {
                residual = Double.NaN;
            }
            double inv = 1 / z;
            for (int j = 0; j < len; j++) {
                double a = s[base + j] * inv;
                s[base + j] = a;
                colA[j] += a;
            }
            java.util.Arrays.fill(s, base + len, base + nk, 0.0);
            // ln A_ij = S_ij - max - ln z, so sum_j A ln A = sum_j A (S_ij - max) - ln z
            double lnZ = Math.log(z);
            plogp[i] = t * inv - lnZ;
            logShift[i] = mean - max - lnZ;
            if (len >= 2) {
                entropySum += -plogp[i] / Math.log(len);
                entropyRows++;
            }
        }

        HeadMetrics.Builder b = HeadMetrics.builder();
        Runnable counted = b::countNonConverged;
        b.set(HeadField.MAX_LOGIT, maxLogit);
        b.set(HeadField.ZERO_SUM_RESIDUAL, residual);
        b.set(HeadField.ENERGY_RMS, Math.sqrt(energy2 / visible));
        b.set(HeadField.ENTROPY, entropyRows == 0 ? Double.NaN : entropySum / entropyRows);
        delocalisation(b, c, n, causal);
        sinks(b, colA, n, causal);

        double[] q = in.queryRows();
        double[] k = in.keyRows();
        boolean finiteKeys = allFinite(k);
        CentredKeys keys = finiteKeys ? CentredKeys.of(k, 0, nk, d) : null;
        double[] sigma;
        if (!finiteKeys || !allFinite(q)) {
            sigma = null;
        } else if (!causal) {
            sigma = NonConvergence.orNull(() -> Spectrum.lowRank(q, n, keys, tau, !isDouble), "spectrum", counted);
        } else if (allFinite(e)) {
            sigma = NonConvergence.orNull(isDouble ? () -> Spectrum.dense(e, n) : () -> Spectrum.causal(q, k, n, d, tau),
                    "spectrum", counted);
        } else {
            sigma = null;
        }
        if (sigma != null) {
            b.set(HeadField.EFFECTIVE_RANK, Spectrum.effectiveRank(sigma));
            b.set(HeadField.STABLE_RANK, Spectrum.stableRank(sigma));
            b.set(HeadField.TOP_ENERGY, Spectrum.topEnergy(sigma));
            b.set(HeadField.NUMERICAL_RANK, Spectrum.numericalRank(sigma, Math.max(n, nk), d, eps));
        }
        b.set(HeadField.RANK_BOUND, Spectrum.rankBound(visibility, input.n(), input.nk(), d));
        double[] coherence = finiteKeys ? NonConvergence.orNull(
                () -> KeyIncoherence.coherenceWithAndWithoutFirst(keys, eps), "key coherence", counted) : null;
        if (coherence != null) {
            b.set(HeadField.KEY_COHERENCE, coherence[0]);
            b.set(HeadField.KEY_COHERENCE_NO_FIRST, coherence[1]);
        }
        double[] attended = null;
        if (!causal && in.valueRows() != null) {
            LinearGap.Result gap = LinearGap.measure(s, q, n, k, in.valueRows(), nk, d, in.dv(), tau, !isDouble);
            b.set(HeadField.LINEAR_GAP, gap.gap());
            attended = gap.attended();
        }
        return new HeadPass(n, nk, causal, b, s, plogp, logShift, keepEnergy ? e : null, attended);
    }

    /** A logit of a float32 head rounded to float32 (which leaves a rounded one as it is); of a float64 head, itself. */
    private static double inPrecision(double x, boolean isDouble) {
        return isDouble ? x : (float) x;
    }

    private static HeadInput firstPositions(HeadInput in, int len) {
        double[] v = in.valueRows();
        return HeadInput.of(Arrays.copyOf(in.queryRows(), len * in.d()), Arrays.copyOf(in.keyRows(), len * in.d()),
                v == null ? null : Arrays.copyOf(v, len * in.dv()), in.d(), in.dataType(), Visibility.FULL, in.scale(),
                true);                                  // fresh copies, of values already in the input's precision
    }

    /**
     * Item 7: {@code c_j = (1/w_j) sum_i E_ij^2}, {@code s_j = c_j / sum c}, over the {@code c.length} keys;
     * {@code w_j} of n rows is {@code n - j} (CAUSAL) or n.
     */
    private static void delocalisation(HeadMetrics.Builder b, double[] c, int n, boolean causal) {
        int m = c.length;
        double total = 0;
        for (int j = 0; j < m; j++) {
            c[j] /= causal ? n - j : n;
            total += c[j];
        }
        if (!(total > 0)) {
            return;
        }
        double sumSq = 0, max = 0;
        for (int j = 0; j < m; j++) {
            double share = c[j] / total;
            sumSq += share * share;
            max = Math.max(max, share);
        }
        b.set(HeadField.PARTICIPATION, 1 / sumSq / m);
        b.set(HeadField.MAX_KEY_SHARE, max);
    }

    /** Item 10: mean attention received by the keys ({@code colA.length}) seen by at least half of the n rows. */
    private static void sinks(HeadMetrics.Builder b, double[] colA, int n, boolean causal) {
        double best = Double.NaN;
        int position = -1;
        for (int j = 0; j < colA.length; j++) {
            int w = causal ? n - j : n;
            if (w < n / 2.0) {
                continue;
            }
            double alpha = colA[j] / w;
            if (position < 0 || alpha > best || (Double.isNaN(alpha) && !Double.isNaN(best))) {
                best = alpha;
                position = j;
            }
        }
        b.set(HeadField.SINK_MAX, best);
        b.set(HeadField.SINK_POSITION, Double.isNaN(best) ? Double.NaN : position);
        b.set(HeadField.FIRST_KEY_MASS, colA[0] / n);
    }

    static boolean allFinite(double[] x) {
        for (double v : x) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
