package dev.headwatch.core.math;

/**
 * Attention entropy (METRICS.md item 9) and the Jensen-Shannon divergence between two heads' attention
 * rows (item 13). Natural logarithms, {@code 0 ln 0 = 0}.
 *
 * <p>References: "Specialization of softmax attention heads", arXiv:2603.03993 (redundant heads);
 * J. Lin, "Divergence measures based on the Shannon entropy", IEEE Trans. Inf. Theory 37 (1991).
 */
public final class Entropy {

    private static final double LN2 = 0.6931471805599453;
    /** Below the logarithm of the smallest double: where {@code ln p} is lower, p is 0 and its value is moot. */
    private static final double LOG_FLOOR = -746;
    /**
     * {@code R(z) = (atanh(s) / s - 1) / z}, {@code z = s^2 in [0, 1/9]}, as the polynomial interpolating it at
     * ten Chebyshev nodes: {@code 2 s (1 + z R(z))} is {@code ln(1 + r)} for {@code r in [0, 1]},
     * {@code s = r / (2 + r)}, within {@code 4e-18} before rounding (2.3e-16 evaluated in double).
     */
    private static final double R0 = 0.3333333333333333, R1 = 0.20000000000007292, R2 = 0.1428571428355438,
            R3 = 0.11111111358713932, R4 = 0.09090894718066429, R5 = 0.07692785032479312, R6 = 0.06657072104827468,
            R7 = 0.06000536404795356, R8 = 0.04400369243072337, R9 = 0.08082022805971766;

    private Entropy() {
    }

    /** {@code sum p ln p} (the negative entropy) over {@code p[offset .. offset+len-1]}; NaN when an entry is. */
    public static double plogp(double[] p, int offset, int len) {
        double s = 0;
        for (int j = offset; j < offset + len; j++) {
            s += xLogX(p[j]);
        }
        return s;
    }

    private static double xLogX(double x) {
        return x == 0 ? 0 : x * Math.log(x);
    }

    /**
     * Jensen-Shannon divergence in nats, in {@code [0, ln 2]}, between {@code p[po ..]} and
     * {@code q[qo ..]} (len entries each): {@code H(m) - (H(p) + H(q)) / 2} with {@code m = (p + q) / 2}.
     */
    public static double jensenShannon(double[] p, int po, double[] q, int qo, int len) {
        double mLogM = 0;
        for (int j = 0; j < len; j++) {
            mLogM += xLogX(0.5 * (p[po + j] + q[qo + j]));
        }
        return Math.max(0.0, 0.5 * (plogp(p, po, len) + plogp(q, qo, len)) - mLogM);
    }

    /**
     * The logarithms of a row of attention from its energy field (METRICS.md item 3): {@code ln A_ij = E_ij + c_i}
     * with {@code c_i = mean_j S_ij - ln sum_j exp S_ij}, raised to -746 where lower (where {@code A_ij} is 0 in
     * double precision). Writes {@code out[at .. at + len)} from {@code energy[offset ..]}.
     */
    public static void logRow(double[] energy, int offset, double c, int len, double[] out, int at) {
        System.arraycopy(energy, offset, out, at, len);
        for (int j = at; j < at + len; j++) {
            double x = out[j] + c;
            out[j] = 0.5 * (x + LOG_FLOOR + Math.abs(x - LOG_FLOOR)); // max(x, LOG_FLOOR), within rounding
        }
    }

    /**
     * As {@link #jensenShannon(double[], int, double[], int, int)} for rows {@code p[0 .. len)} and
     * {@code q[0 .. len)} whose logarithms ({@code lnP}, {@code lnQ} from {@link #logRow}: finite, also where
     * an entry underflowed to 0) and {@code sum p ln p} are known, as they are from the logits. No logarithm is taken:
     * {@code ln m_j = max(ln p_j, ln q_j) + ln(1 + r_j) - ln 2} with {@code r_j} the smaller of
     * {@code p_j, q_j} over the larger, and {@code ln(1 + r)} is a polynomial in {@code r / (2 + r)}. Every
     * loop indexes its arrays alike from 0 and has a short body, which is what the JIT needs to compile it to
     * vector instructions: about a third of the time of one scalar logarithm per entry. Error: that of the
     * given logarithms, plus {@code eps |ln p_j - ln q_j|} (below {@code 2e-13} with the floor of
     * {@link #logRow}, about {@code 1e-14} for attention spread over a few dozen nats) per unit of mass.
     *
     * @param ratio scratch of at least len doubles
     * @param top   scratch of at least len doubles
     */
    public static double jensenShannon(double[] p, double[] lnP, double pLogP, double[] q, double[] lnQ,
                                       double qLogQ, int len, double[] ratio, double[] top) {
        mixtureTerms(p, lnP, q, lnQ, len, ratio, top);
        return jensenShannon(pLogP, qLogQ, ratio, 0, len);
    }

    /**
     * The terms {@code m_j ln m_j} of the mixture {@code m = (p + q) / 2} of {@code p[0 .. count)} and
     * {@code q[0 .. count)}, into {@code terms[0 .. count)}, as {@link #jensenShannon(double[], double[], double,
     * double[], double[], double, int, double[], double[])} forms them. Each entry stands alone, so several rows
     * may lie end to end: one call over all of them runs the vector loops at length, not a row at a time.
     *
     * @param top scratch of at least count doubles
     */
    public static void mixtureTerms(double[] p, double[] lnP, double[] q, double[] lnQ, int count, double[] terms,
                                    double[] top) {
        for (int j = 0; j < count; j++) {
            // s = min / (2 max + min) = r / (2 + r); MIN_VALUE turns 0 / 0 into 0 where both underflowed
            double sum = p[j] + q[j];
            double gap = Math.abs(p[j] - q[j]);
            terms[j] = (sum - gap) / (3 * sum + gap + Double.MIN_VALUE);
            double a = lnP[j];
            double b = lnQ[j];
            top[j] = 0.5 * (a + b + Math.abs(a - b));
        }
        for (int j = 0; j < count; j++) {
            double s = terms[j];
            double z = s * s;
            double r = R0 + z * (R1 + z * (R2 + z * (R3 + z * (R4 + z * (R5 + z * (R6 + z * (R7 + z * (R8 + z * R9))))))));
            terms[j] = 0.5 * (p[j] + q[j]) * (top[j] + 2 * s * (1 + z * r) - LN2);
        }
    }

    /**
     * The divergence of one row from its mixture terms {@code terms[offset .. offset + len)}
     * ({@link #mixtureTerms}) and the rows' {@code sum p ln p} and {@code sum q ln q}.
     */
    public static double jensenShannon(double pLogP, double qLogQ, double[] terms, int offset, int len) {
        // four partial sums: the additions do not wait on each other
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int j = 0;
        for (; j + 3 < len; j += 4) {
            s0 += terms[offset + j];
            s1 += terms[offset + j + 1];
            s2 += terms[offset + j + 2];
            s3 += terms[offset + j + 3];
        }
        for (; j < len; j++) {
            s0 += terms[offset + j];
        }
        double mLogM = (s0 + s1) + (s2 + s3);
        return Math.max(0.0, 0.5 * (pLogP + qLogQ) - mLogM);
    }
}
