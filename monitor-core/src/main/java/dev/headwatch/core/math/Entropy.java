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
        // four partial sums: the entries do not wait on each other's additions
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int j = 0;
        for (; j + 3 < len; j += 4) {
            s0 += FastLog.xLogX(0.5 * (p[po + j] + q[qo + j]));
            s1 += FastLog.xLogX(0.5 * (p[po + j + 1] + q[qo + j + 1]));
            s2 += FastLog.xLogX(0.5 * (p[po + j + 2] + q[qo + j + 2]));
            s3 += FastLog.xLogX(0.5 * (p[po + j + 3] + q[qo + j + 3]));
        }
        for (; j < len; j++) {
            s0 += FastLog.xLogX(0.5 * (p[po + j] + q[qo + j]));
        }
        double mLogM = (s0 + s1) + (s2 + s3);
        double jsd = 0.5 * (pLogP + qLogQ) - mLogM;
        return Math.max(0.0, jsd);
    }
}
