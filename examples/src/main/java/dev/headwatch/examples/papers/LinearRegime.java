package dev.headwatch.examples.papers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import dev.headwatch.core.HeadAnalysis;
import dev.headwatch.core.HeadInput;
import dev.headwatch.core.Visibility;

/**
 * "Softmax as Linear Attention in the Large-Prompt Regime" (arXiv:2512.11784).
 *
 * <p>Prompts of L Gaussian tokens {@code x ~ N(0, Sigma)} in {@code d = 4}, one head with fixed random
 * projections {@code q = Wq x, k = Wk x, v = Wv x}. As L grows, softmax attention converges to the linear
 * operator {@code vbar + C tau q} (METRICS.md item 11); the monitor's {@code linearGap} measures the
 * relative squared distance to it. We fit the slope of {@code log linearGap} against {@code log L} for an
 * isotropic, a rotated (condition number 8) and a Toeplitz covariance; an error of order {@code 1/L}
 * gives a slope near -1.
 */
public final class LinearRegime {

    /**
     * @param dim        token dimension
     * @param minLength  shortest prompt (a power of 2)
     * @param maxLength  longest prompt (a power of 2)
     * @param tokens     tokens drawn per prompt length and covariance (split into prompts of length L,
     *                   at least 2 prompts), so every length costs about the same
     * @param queryScale scale of the query projection (the logit spread {@code tau <q, k>} grows with it)
     * @param seed       seed of the projections and the tokens
     */
    public record Config(int dim, int minLength, int maxLength, int tokens, double queryScale, long seed) {

        public static Config paper() {
            return new Config(4, 16, 4096, 16_384, 0.35, 7);
        }
    }

    /**
     * One covariance: per prompt length the geometric mean of the monitor's {@code linearGap} (plug-in
     * moments of the prompt) and of the error to the population limit {@code mu_v + Sigma_vk tau q}
     * ({@code sum_i |o_i - o_inf_i|^2 / sum_i |o_inf_i - mu_v|^2}), each with its fitted log-log slope and R^2.
     */
    public record Series(String covariance, double[] lengths, double[] gap, double slope, double r2,
                         double[] populationError, double populationSlope, double populationR2) {
    }

    public record Result(Config config, List<Series> series) {

        public String line() {
            StringBuilder s = new StringBuilder("RESULT linear-regime d=" + config.dim() + " L=" + config.minLength()
                    + ".." + config.maxLength());
            for (Series x : series) {
                s.append(String.format(Locale.ROOT, " slope_%s=%.3f r2_%s=%.3f popSlope_%s=%.3f popR2_%s=%.3f",
                        x.covariance(), x.slope(), x.covariance(), x.r2(), x.covariance(), x.populationSlope(),
                        x.covariance(), x.populationR2()));
            }
            return s.toString();
        }
    }

    private LinearRegime() {
    }

    public static Result run(Config c) {
        Gaussian g = new Gaussian(c.seed());
        double[][] wq = projection(g, c.dim());
        for (double[] row : wq) {
            for (int j = 0; j < row.length; j++) {
                row[j] *= c.queryScale();
            }
        }
        double[][] wk = projection(g, c.dim());
        double[][] wv = projection(g, c.dim());
        List<Series> out = new ArrayList<>();
        for (String cov : List.of("isotropic", "rotated", "toeplitz")) {
            List<Double> ls = new ArrayList<>();
            List<Double> gaps = new ArrayList<>();
            double[][] sigma = covariance(cov, c.dim(), g);
            double[][] chol = cholesky(sigma);
            // Population cross-covariance of values and keys: Sigma_vk = Wv Sigma Wk^T (tokens have mean 0).
            double[][] svk = times(times(wv, sigma), transpose(wk));
            List<Double> pops = new ArrayList<>();
            for (int len = c.minLength(); len <= c.maxLength(); len *= 2) {
                int prompts = Math.max(2, c.tokens() / len);
                double sumLog = 0;
                double sumLogPop = 0;
                for (int p = 0; p < prompts; p++) {
                    double[][] x = tokens(g, chol, len);
                    HeadInput in = HeadInput.of(project(x, wq), project(x, wk), project(x, wv), Visibility.FULL,
                            Double.NaN);
                    sumLog += Math.log(HeadAnalysis.compute(in).linearGap());
                    sumLogPop += Math.log(populationError(in, svk));
                }
                ls.add((double) len);
                gaps.add(Math.exp(sumLog / prompts));
                pops.add(Math.exp(sumLogPop / prompts));
            }
            double[] lx = ls.stream().mapToDouble(Math::log).toArray();
            double[] fit = Gaussian.fit(lx, gaps.stream().mapToDouble(Math::log).toArray());
            double[] popFit = Gaussian.fit(lx, pops.stream().mapToDouble(Math::log).toArray());
            out.add(new Series(cov, ls.stream().mapToDouble(Double::doubleValue).toArray(),
                    gaps.stream().mapToDouble(Double::doubleValue).toArray(), fit[0], fit[2],
                    pops.stream().mapToDouble(Double::doubleValue).toArray(), popFit[0], popFit[2]));
        }
        return new Result(c, out);
    }

    /**
     * {@code sum_i |o_i - Sigma_vk tau q_i|^2 / sum_i |Sigma_vk tau q_i|^2}: the distance of the softmax output
     * {@code o_i = sum_j A_ij v_j} (attention from monitor-core) to its infinite-prompt limit (mu_v = 0).
     */
    static double populationError(HeadInput in, double[][] svk) {
        double[][] a = dev.headwatch.core.math.EnergyField.attention(in);
        double[][] q = in.q().toDoubleMatrix();
        double[][] v = in.v().toDoubleMatrix();
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            double[] o = new double[v[0].length];
            for (int j = 0; j < a.length; j++) {
                for (int k = 0; k < o.length; k++) {
                    o[k] += a[i][j] * v[j][k];
                }
            }
            for (int k = 0; k < o.length; k++) {
                double lin = in.scale() * Gaussian.dot(svk[k], q[i]);
                num += (o[k] - lin) * (o[k] - lin);
                den += lin * lin;
            }
        }
        return num / den;
    }

    private static double[][] times(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < b.length; k++) {
                for (int j = 0; j < b[0].length; j++) {
                    c[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return c;
    }

    private static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }

    /**
     * Sigma for a named covariance, each with trace d: identity; {@code R diag(lambda) R^T} with lambda
     * geometric from 1 to 8 (condition number 8), rescaled to mean 1; Toeplitz {@code 0.5^|i-j|}.
     */
    static double[][] covariance(String name, int d, Gaussian g) {
        double[][] s = new double[d][d];
        switch (name) {
            case "isotropic" -> {
                for (int i = 0; i < d; i++) {
                    s[i][i] = 1;
                }
            }
            case "rotated" -> {
                double[][] r = orthogonal(g, d);
                double[] eig = new double[d];
                double mean = 0;
                for (int k = 0; k < d; k++) {
                    eig[k] = Math.pow(8, d == 1 ? 0 : (double) k / (d - 1));
                    mean += eig[k] / d;
                }
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < d; j++) {
                        for (int k = 0; k < d; k++) {
                            s[i][j] += r[i][k] * eig[k] / mean * r[j][k];
                        }
                    }
                }
            }
            case "toeplitz" -> {
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < d; j++) {
                        s[i][j] = Math.pow(0.5, Math.abs(i - j));
                    }
                }
            }
            default -> throw new IllegalArgumentException("unknown covariance " + name);
        }
        return s;
    }

    /** A random orthogonal matrix (Gram-Schmidt on Gaussian columns). */
    static double[][] orthogonal(Gaussian g, int d) {
        double[][] cols = new double[d][];
        for (int k = 0; k < d; k++) {
            double[] v = g.vector(d);
            for (int j = 0; j < k; j++) {
                double p = Gaussian.dot(v, cols[j]);
                for (int i = 0; i < d; i++) {
                    v[i] -= p * cols[j][i];
                }
            }
            cols[k] = Gaussian.normalise(v);
        }
        double[][] r = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int k = 0; k < d; k++) {
                r[i][k] = cols[k][i];
            }
        }
        return r;
    }

    static double[][] cholesky(double[][] a) {
        int n = a.length;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) {
                    s -= l[i][k] * l[j][k];
                }
                l[i][j] = i == j ? Math.sqrt(s) : s / l[j][j];
            }
        }
        return l;
    }

    private static double[][] tokens(Gaussian g, double[][] chol, int len) {
        int d = chol.length;
        double[][] x = new double[len][d];
        for (int t = 0; t < len; t++) {
            double[] z = g.vector(d);
            for (int i = 0; i < d; i++) {
                for (int k = 0; k <= i; k++) {
                    x[t][i] += chol[i][k] * z[k];
                }
            }
        }
        return x;
    }

    private static double[][] projection(Gaussian g, int d) {
        double[][] w = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                w[i][j] = g.next() / Math.sqrt(d);
            }
        }
        return w;
    }

    /** Rows x_t W^T as a double [L, d] array. */
    private static INDArray project(double[][] x, double[][] w) {
        double[][] y = new double[x.length][w.length];
        for (int t = 0; t < x.length; t++) {
            for (int i = 0; i < w.length; i++) {
                y[t][i] = Gaussian.dot(w[i], x[t]);
            }
        }
        return Nd4j.create(y).castTo(DataType.DOUBLE);
    }

    /** linearGap against L on log-log axes, one series per covariance. */
    public static Path plot(Result r, Path png) {
        Plot p = new Plot("Softmax -> linear attention: error vs prompt length", "prompt length L",
                "relative squared error (geometric mean)").logLog();
        for (Series s : r.series()) {
            p.line(String.format(Locale.ROOT, "%s: to limit (slope %.2f)", s.covariance(), s.populationSlope()),
                    s.lengths(), s.populationError());
            p.line(String.format(Locale.ROOT, "%s: linearGap (slope %.2f)", s.covariance(), s.slope()), s.lengths(),
                    s.gap());
        }
        return p.save(png);
    }
}
