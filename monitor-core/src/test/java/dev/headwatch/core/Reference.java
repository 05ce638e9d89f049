package dev.headwatch.core;

import java.util.Arrays;

/**
 * Brute-force reference for the per-head and per-layer metrics: forms the dense n x nk logits, attention
 * and energy field in double precision straight from the definitions in METRICS.md and takes a full dense
 * SVD (cyclic one-sided Jacobi on the whole matrix). Slow and simple on purpose.
 */
final class Reference {

    /** Queries, keys, head dimension, visible keys, existing query rows. */
    final int n, nk, d, m, rows;
    final boolean causal;
    final double[][] s, a, e;
    final double[] sigma;
    final double[][] q, k, v;
    final double tau;
    final double eps;

    Reference(HeadInput in) {
        n = in.n();
        nk = in.nk();
        d = in.d();
        tau = in.scale();
        eps = in.isDouble() ? 0x1p-52 : 0x1p-23;
        causal = in.visibility().kind() == Visibility.Kind.CAUSAL;
        boolean padded = in.visibility().kind() == Visibility.Kind.PADDED;
        m = padded ? in.visibility().length() : nk;
        rows = padded ? in.visibility().length() : n;
        q = in.q().castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleMatrix();
        k = in.k().castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleMatrix();
        v = in.v() == null ? null : in.v().castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleMatrix();
        s = new double[n][nk];
        a = new double[n][nk];
        e = new double[n][nk];
        for (int i = 0; i < n; i++) {
            int len = visible(i);
            double mean = 0, max = Double.NEGATIVE_INFINITY, z = 0;
            for (int j = 0; j < len; j++) {
                double dot = 0;
                for (int c = 0; c < d; c++) {
                    dot += q[i][c] * k[j][c];
                }
                s[i][j] = tau * dot;
                mean += s[i][j] / len;
                max = Math.max(max, s[i][j]);
            }
            for (int j = 0; j < len; j++) {
                e[i][j] = s[i][j] - mean;
                a[i][j] = Math.exp(s[i][j] - max);
                z += a[i][j];
            }
            for (int j = 0; j < len; j++) {
                a[i][j] /= z;
            }
        }
        sigma = svd(e);
    }

    int visible(int i) {
        if (causal) {
            return i + 1;
        }
        return i < rows ? m : 0;
    }

    int seenBy(int j) {
        return causal ? n - j : (j < m ? rows : 0);
    }

    double maxLogit() {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < visible(i); j++) {
                max = Math.max(max, s[i][j]);
            }
        }
        return max;
    }

    double energyRms() {
        double sum = 0, count = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < visible(i); j++) {
                sum += e[i][j] * e[i][j];
            }
            count += visible(i);
        }
        return Math.sqrt(sum / count);
    }

    double effectiveRank() {
        double total = Arrays.stream(sigma).sum();
        if (total == 0) {
            return 0;
        }
        double h = 0;
        for (double x : sigma) {
            if (x > 0) {
                h -= x / total * Math.log(x / total);
            }
        }
        return Math.exp(h);
    }

    double stableRank() {
        return sigma[0] == 0 ? 0 : Arrays.stream(sigma).map(x -> x * x).sum() / (sigma[0] * sigma[0]);
    }

    double topEnergy() {
        return sigma[0] == 0 ? 0 : sigma[0] * sigma[0] / Arrays.stream(sigma).map(x -> x * x).sum();
    }

    double rankThreshold() {
        return sigma[0] * Math.max(Math.max(rows, m), d) * eps;
    }

    /** The numerical rank, or -1 when a singular value lies so close to the threshold that rounding decides. */
    int numericalRankOrAmbiguous() {
        double t = rankThreshold();
        int r = 0;
        for (double x : sigma) {
            if (x > t && x < 100 * t && x > 0 || (x <= t && x > t / 100)) {
                return -1;
            }
            if (x > t) {
                r++;
            }
        }
        return r;
    }

    double[] keyShares() {
        double[] c = new double[m];
        double total = 0;
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < n; i++) {
                c[j] += e[i][j] * e[i][j];
            }
            c[j] /= seenBy(j);
            total += c[j];
        }
        for (int j = 0; j < m; j++) {
            c[j] /= total;
        }
        return c;
    }

    double participation() {
        double sq = 0;
        for (double x : keyShares()) {
            sq += x * x;
        }
        return 1 / sq / m;
    }

    double maxKeyShare() {
        return Arrays.stream(keyShares()).max().orElse(Double.NaN);
    }

    /** Leverages of keys from..from+count-1, centred over those keys, plus the rank in the last slot. */
    double[] leverages(int from, int count) {
        double[][] kc = new double[count][d];
        for (int c = 0; c < d; c++) {
            double mean = 0;
            for (int j = 0; j < count; j++) {
                mean += k[from + j][c] / count;
            }
            for (int j = 0; j < count; j++) {
                kc[j][c] = k[from + j][c] - mean;
            }
        }
        // Kc V = U Sigma by Jacobi on the columns of Kc; l_j = sum_{t < r} (U_jt)^2.
        double[][] u = new double[count][];
        for (int j = 0; j < count; j++) {
            u[j] = kc[j].clone();
        }
        double[] sv = jacobiColumns(u, count, d);
        double max = Arrays.stream(sv).max().orElse(0);
        double tol = max * Math.max(count, d) * eps;
        double[] lev = new double[count + 1];
        int r = 0;
        for (int t = 0; t < d; t++) {
            if (sv[t] > tol) {
                r++;
                for (int j = 0; j < count; j++) {
                    lev[j] += (u[j][t] / sv[t]) * (u[j][t] / sv[t]);
                }
            }
        }
        lev[count] = r;
        return lev;
    }

    double keyCoherence(int from, int count) {
        if (count < 1) {
            return Double.NaN;
        }
        double[] lev = leverages(from, count);
        double r = lev[count];
        if (r == 0) {
            return Double.NaN;
        }
        double max = 0;
        for (int j = 0; j < count; j++) {
            max = Math.max(max, lev[j]);
        }
        return count / r * max;
    }

    double entropy() {
        double sum = 0;
        int rows = 0;
        for (int i = 0; i < n; i++) {
            int len = visible(i);
            if (len >= 2) {
                double h = 0;
                for (int j = 0; j < len; j++) {
                    if (a[i][j] > 0) {
                        h -= a[i][j] * Math.log(a[i][j]);
                    }
                }
                sum += h / Math.log(len);
                rows++;
            }
        }
        return rows == 0 ? Double.NaN : sum / rows;
    }

    /** {sinkMax, sinkPosition, firstKeyMass}. */
    double[] sinks() {
        double best = Double.NEGATIVE_INFINITY;
        int pos = -1;
        double first = 0;
        for (int j = 0; j < m; j++) {
            int w = seenBy(j);
            double alpha = 0;
            for (int i = 0; i < n; i++) {
                alpha += a[i][j];
            }
            alpha /= w;
            if (j == 0) {
                first = alpha;
            }
            if (w >= (causal ? n : rows) / 2.0 && alpha > best) {
                best = alpha;
                pos = j;
            }
        }
        return new double[] {best, pos, first};
    }

    double linearGap() {
        if (v == null || causal) {
            return Double.NaN;
        }
        int dv = v[0].length;
        double[] vbar = new double[dv], kbar = new double[d];
        for (int j = 0; j < m; j++) {
            for (int r = 0; r < dv; r++) {
                vbar[r] += v[j][r] / m;
            }
            for (int c = 0; c < d; c++) {
                kbar[c] += k[j][c] / m;
            }
        }
        double[][] cm = new double[dv][d];
        for (int j = 0; j < m; j++) {
            for (int r = 0; r < dv; r++) {
                for (int c = 0; c < d; c++) {
                    cm[r][c] += (v[j][r] - vbar[r]) * (k[j][c] - kbar[c]) / m;
                }
            }
        }
        double num = 0, den = 0;
        for (int i = 0; i < rows; i++) {
            for (int r = 0; r < dv; r++) {
                double o = 0, lin = vbar[r];
                for (int j = 0; j < m; j++) {
                    o += a[i][j] * v[j][r];
                }
                for (int c = 0; c < d; c++) {
                    lin += cm[r][c] * tau * q[i][c];
                }
                num += (o - lin) * (o - lin);
                den += (o - vbar[r]) * (o - vbar[r]);
            }
        }
        return num / den;
    }

    static double correlation(Reference x, Reference y) {
        double xy = 0, xx = 0, yy = 0;
        for (int i = 0; i < x.n; i++) {
            for (int j = 0; j < x.nk; j++) {
                xy += x.e[i][j] * y.e[i][j];
                xx += x.e[i][j] * x.e[i][j];
                yy += y.e[i][j] * y.e[i][j];
            }
        }
        return xy / Math.sqrt(xx * yy);
    }

    static double jsd(Reference x, Reference y) {
        double sum = 0;
        int rows = 0;
        for (int i = 0; i < x.n; i++) {
            int len = x.visible(i);
            if (len < 2) {
                continue;
            }
            double div = 0;
            for (int j = 0; j < len; j++) {
                double p = x.a[i][j], r = y.a[i][j], mid = (p + r) / 2;
                if (p > 0) {
                    div += 0.5 * p * Math.log(p / mid);
                }
                if (r > 0) {
                    div += 0.5 * r * Math.log(r / mid);
                }
            }
            sum += div;
            rows++;
        }
        return sum / rows;
    }

    /** All singular values of a dense matrix, descending (one-sided Jacobi on a copy). */
    static double[] svd(double[][] matrix) {
        int rows = matrix.length, cols = rows == 0 ? 0 : matrix[0].length;
        double[][] w = new double[rows][];
        for (int i = 0; i < rows; i++) {
            w[i] = matrix[i].clone();
        }
        double[] sv = jacobiColumns(w, rows, cols);
        Arrays.sort(sv);
        for (int i = 0, j = sv.length - 1; i < j; i++, j--) {
            double t = sv[i];
            sv[i] = sv[j];
            sv[j] = t;
        }
        return sv;
    }

    /** Orthogonalises the columns of w (rows x cols) in place; returns the column norms. */
    static double[] jacobiColumns(double[][] w, int rows, int cols) {
        for (int sweep = 0; sweep < 100; sweep++) {
            boolean changed = false;
            for (int p = 0; p < cols; p++) {
                for (int r = p + 1; r < cols; r++) {
                    double al = 0, be = 0, ga = 0;
                    for (int i = 0; i < rows; i++) {
                        al += w[i][p] * w[i][p];
                        be += w[i][r] * w[i][r];
                        ga += w[i][p] * w[i][r];
                    }
                    if (Math.abs(ga) <= 1e-15 * Math.sqrt(al * be)) {
                        continue;
                    }
                    changed = true;
                    double zeta = (be - al) / (2 * ga);
                    double t = Math.signum(zeta == 0 ? 1 : zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    double c = 1 / Math.sqrt(1 + t * t), sn = c * t;
                    for (int i = 0; i < rows; i++) {
                        double x = w[i][p], y = w[i][r];
                        w[i][p] = c * x - sn * y;
                        w[i][r] = sn * x + c * y;
                    }
                }
            }
            if (!changed) {
                break;
            }
        }
        double[] sv = new double[cols];
        for (int j = 0; j < cols; j++) {
            double ss = 0;
            for (int i = 0; i < rows; i++) {
                ss += w[i][j] * w[i][j];
            }
            sv[j] = Math.sqrt(ss);
        }
        return sv;
    }
}
