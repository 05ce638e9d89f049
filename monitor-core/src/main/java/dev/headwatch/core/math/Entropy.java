package dev.headwatch.core.math;

/**
 * Attention entropy (METRICS.md item 9) and the Jensen-Shannon divergence between two heads' attention
 * rows (item 13). Natural logarithms, {@code 0 ln 0 = 0}.
 *
 * <p>References: "Specialization of softmax attention heads", arXiv:2603.03993 (redundant heads);
 * J. Lin, "Divergence measures based on the Shannon entropy", IEEE Trans. Inf. Theory 37 (1991).
 */
public final class Entropy {

    private Entropy() {
    }

    /**
     * {@code H(p) / ln len} in {@code [0, 1]} for the distribution {@code p[offset .. offset+len-1]};
     * NaN when {@code len < 2} (a single visible key carries no choice).
     */
    public static double normalized(double[] p, int offset, int len) {
        if (len < 2) {
            return Double.NaN;
        }
        return -plogp(p, offset, len) / Math.log(len);
    }

    /** {@code sum p ln p} (the negative entropy) over {@code p[offset .. offset+len-1]}. */
    public static double plogp(double[] p, int offset, int len) {
        double s = 0;
        for (int j = offset; j < offset + len; j++) {
            double x = p[j];
            if (x > 0) {
                s += x * Math.log(x);
            }
        }
        return s;
    }

    /**
     * Jensen-Shannon divergence in nats, in {@code [0, ln 2]}, between {@code p[po ..]} and
     * {@code q[qo ..]} (len entries each): {@code H(m) - (H(p) + H(q)) / 2} with {@code m = (p + q) / 2}.
     */
    public static double jensenShannon(double[] p, int po, double[] q, int qo, int len) {
        return jensenShannon(p, po, plogp(p, po, len), q, qo, plogp(q, qo, len), len);
    }

    /** As {@link #jensenShannon(double[], int, double[], int, int)} with both {@code sum p ln p} given. */
    public static double jensenShannon(double[] p, int po, double pLogP, double[] q, int qo, double qLogQ, int len) {
        // two partial sums: the additions of consecutive entries do not wait on each other
        double even = 0, odd = 0;
        int j = 0;
        for (; j + 1 < len; j += 2) {
            double m0 = 0.5 * (p[po + j] + q[qo + j]);
            double m1 = 0.5 * (p[po + j + 1] + q[qo + j + 1]);
            even += m0 > 0 ? m0 * FastLog.log(m0) : 0;
            odd += m1 > 0 ? m1 * FastLog.log(m1) : 0;
        }
        if (j < len) {
            double m = 0.5 * (p[po + j] + q[qo + j]);
            even += m > 0 ? m * FastLog.log(m) : 0;
        }
        double mLogM = even + odd;
        double jsd = 0.5 * (pLogP + qLogQ) - mLogM;
        return Math.max(0.0, jsd);
    }
}
