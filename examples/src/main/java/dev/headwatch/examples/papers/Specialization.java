package dev.headwatch.examples.papers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.headwatch.core.math.Alignment;

/**
 * "Specialization of softmax attention heads" (arXiv:2603.03993), after the single-location regression of
 * Marion et al. (2024).
 *
 * <p>A sequence holds L tokens {@code N(0, I_d)}; one of them, at a random position, is the signal token
 * {@code z + mu_f u_f} for a feature f drawn uniformly from F orthonormal directions {@code u_f} with
 * strengths {@code mu_1 > mu_2 > ...}. The target is {@code <x_signal, v*> + noise} with {@code v*} orthogonal
 * to every {@code u_f}. The model has H heads, each with its own key vector {@code k_h} and value vector
 * {@code w_h}: {@code y_hat = sum_h sum_l softmax_l(<k_h, x_l>) <w_h, x_l>}, trained by SGD on the squared
 * error. We track {@code kappa[h][f] = alignment(k_h, u_f)}: heads first stay unspecialised, then align with
 * distinct features one after another, the strongest first; with H > F the extra heads are redundant.
 */
public final class Specialization {

    /**
     * @param dim         token dimension
     * @param length      tokens per sequence
     * @param strengths   {@code mu_f} per feature, descending
     * @param heads       H
     * @param noise       standard deviation of the target noise
     * @param batch       sequences per SGD step (gradients averaged)
     * @param lr          SGD step size
     * @param init        standard deviation of the initial key and value entries
     * @param steps       SGD steps (one sequence each)
     * @param recordEvery steps between two records of kappa
     * @param seed        seed
     */
    public record Config(int dim, int length, double[] strengths, int heads, double noise, int batch, double lr,
                         double init, int steps, int recordEvery, long seed) {

        /**
         * Strengths a factor 2 apart: with closer ones (4, 3, 2) the shared direction of the first phase stays
         * a mixture of the two strongest features and a head splits off toward the second one first.
         */
        public static Config paper() {
            return new Config(16, 16, new double[] {4.0, 2.0, 1.0}, 4, 0.1, 8, 0.05, 0.01, 10_000, 50, 1);
        }
    }

    /**
     * @param steps          recorded steps
     * @param kappa          kappa[record][h][f]
     * @param specialisedAt  per feature, the first recorded step at which some head's kappa on it reaches
     *                       {@link #STRICT} (-1: never)
     * @param assignment     final feature of each head (-1: unspecialised)
     * @param redundant      final redundancy of each head
     */
    public record Result(Config config, int[] steps, double[][][] kappa, int[] specialisedAt, int[] assignment,
                         boolean[] redundant) {

        public String line() {
            StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "RESULT specialization d=%d L=%d H=%d F=%d",
                    config.dim(), config.length(), config.heads(), config.strengths().length));
            for (int f = 0; f < specialisedAt.length; f++) {
                s.append(String.format(Locale.ROOT, " t_feature%d=%d", f, specialisedAt[f]));
            }
            s.append(" assignment=").append(Arrays.toString(assignment).replace(" ", ""));
            long redundantHeads = 0;
            for (boolean r : redundant) {
                redundantHeads += r ? 1 : 0;
            }
            s.append(" redundantHeads=").append(redundantHeads);
            return s.toString();
        }
    }

    /**
     * kappa from which a head counts as aligned with a feature for the timing. Higher than
     * {@link Alignment#SPECIALISED} because early on every key points along one shared, strength-weighted
     * mixture of the features, whose kappa with the strongest feature is already about {@code mu_1 / |mu|}
     * (0.87 for strengths 4, 2, 1; 0.74 for 4, 3, 2).
     */
    public static final double STRICT = 0.9;

    private Specialization() {
    }

    public static Result run(Config c) {
        Gaussian g = new Gaussian(c.seed());
        int d = c.dim();
        int nf = c.strengths().length;
        double[][] u = LinearRegime.orthogonal(g, d);
        double[][] features = new double[nf][];
        for (int f = 0; f < nf; f++) {
            features[f] = column(u, f);
        }
        double[] vStar = column(u, nf);
        double[][] k = new double[c.heads()][];
        double[][] w = new double[c.heads()][];
        for (int h = 0; h < c.heads(); h++) {
            k[h] = scale(g.vector(d), c.init());
            w[h] = scale(g.vector(d), c.init());
        }
        List<Integer> steps = new ArrayList<>();
        List<double[][]> kappas = new ArrayList<>();
        double[][] x = new double[c.length()][d];
        double[][] a = new double[c.heads()][c.length()];
        double[][] s = new double[c.heads()][c.length()];
        double[] out = new double[c.heads()];
        for (int step = 0; step <= c.steps(); step++) {
            if (step % c.recordEvery() == 0) {
                steps.add(step);
                kappas.add(Alignment.kappa(copy(k), features));
            }
            if (step == c.steps()) {
                break;
            }
            double[][] gk = new double[c.heads()][d];
            double[][] gw = new double[c.heads()][d];
            for (int b = 0; b < c.batch(); b++) {
                accumulate(c, g, features, vStar, k, w, x, a, s, out, gk, gw);
            }
            for (int h = 0; h < c.heads(); h++) {
                for (int i = 0; i < d; i++) {
                    k[h][i] -= c.lr() / c.batch() * gk[h][i];
                    w[h][i] -= c.lr() / c.batch() * gw[h][i];
                }
            }
        }
        double[][] last = kappas.get(kappas.size() - 1);
        int[] assignment = Alignment.specialisation(last, Alignment.SPECIALISED);
        int[] at = new int[nf];
        Arrays.fill(at, -1);
        for (int t = 0; t < kappas.size(); t++) {
            int[] spec = Alignment.specialisation(kappas.get(t), STRICT);
            for (int f2 : spec) {
                if (f2 >= 0 && at[f2] < 0) {
                    at[f2] = steps.get(t);
                }
            }
        }
        return new Result(c, steps.stream().mapToInt(Integer::intValue).toArray(), kappas.toArray(new double[0][][]),
                at, assignment, Alignment.redundant(assignment));
    }

    /** Draws one sequence and adds the squared-error gradients of keys and values to gk and gw. */
    private static void accumulate(Config c, Gaussian g, double[][] features, double[] vStar, double[][] k,
                                   double[][] w, double[][] x, double[][] a, double[][] s, double[] out,
                                   double[][] gk, double[][] gw) {
        int d = c.dim();
        int nf = features.length;
        int f = g.below(nf);
        int pos = g.below(c.length());
        for (int l = 0; l < c.length(); l++) {
            for (int i = 0; i < d; i++) {
                x[l][i] = g.next();
            }
        }
        for (int i = 0; i < d; i++) {
            x[pos][i] += c.strengths()[f] * features[f][i];
        }
        double y = Gaussian.dot(x[pos], vStar) + c.noise() * g.next();
        double pred = 0;
        for (int h = 0; h < c.heads(); h++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int l = 0; l < c.length(); l++) {
                a[h][l] = Gaussian.dot(k[h], x[l]);
                s[h][l] = Gaussian.dot(w[h], x[l]);
                max = Math.max(max, a[h][l]);
            }
            double z = 0;
            for (int l = 0; l < c.length(); l++) {
                a[h][l] = Math.exp(a[h][l] - max);
                z += a[h][l];
            }
            out[h] = 0;
            for (int l = 0; l < c.length(); l++) {
                a[h][l] /= z;
                out[h] += a[h][l] * s[h][l];
            }
            pred += out[h];
        }
        double r = pred - y;
        // d out_h / d w_h = sum_l a_l x_l;  d out_h / d k_h = sum_l a_l (s_l - out_h) x_l.
        for (int h = 0; h < c.heads(); h++) {
            for (int l = 0; l < c.length(); l++) {
                double dw = r * a[h][l];
                double dk = dw * (s[h][l] - out[h]);
                for (int i = 0; i < d; i++) {
                    gw[h][i] += dw * x[l][i];
                    gk[h][i] += dk * x[l][i];
                }
            }
        }
    }

    private static double[] column(double[][] m, int j) {
        double[] v = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            v[i] = m[i][j];
        }
        return v;
    }

    private static double[] scale(double[] v, double s) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= s;
        }
        return v;
    }

    private static double[][] copy(double[][] m) {
        double[][] c = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i].clone();
        }
        return c;
    }

    /** For each head, its best kappa over the features against training step. */
    public static Path plot(Result r, Path png) {
        int nf = r.config().strengths().length;
        Plot p = new Plot("Head specialisation: kappa[h][f] over SGD", "SGD step", "kappa = alignment(k_h, u_f)");
        double[] xs = Arrays.stream(r.steps()).asDoubleStream().toArray();
        for (int h = 0; h < r.config().heads(); h++) {
            for (int f = 0; f < nf; f++) {
                double[] ys = new double[xs.length];
                boolean relevant = false;
                for (int t = 0; t < xs.length; t++) {
                    ys[t] = r.kappa()[t][h][f];
                    relevant |= ys[t] >= Alignment.SPECIALISED;
                }
                if (relevant) {
                    p.line(String.format(Locale.ROOT, "head %d / feature %d (mu=%.1f)", h, f, r.config().strengths()[f]),
                            xs, ys);
                }
            }
        }
        return p.save(png);
    }
}
