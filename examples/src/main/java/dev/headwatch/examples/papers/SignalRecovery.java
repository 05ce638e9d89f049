package dev.headwatch.examples.papers;

import java.nio.file.Path;
import java.util.Arrays;

import dev.headwatch.core.math.Alignment;

/**
 * "Asymptotic Signal Subspace Recovery in Softmax Attention Models" (arXiv:2606.22406).
 *
 * <p>Each sequence holds {@code nuisance} tokens {@code z ~ N(0, I_d)} and {@code informative} tokens
 * {@code z + theta s xi}, with one sign {@code s = +-1} per sequence and a fixed unit signal direction
 * {@code xi}. A query {@code q} on the unit sphere is learned by projected stochastic gradient ascent on
 * {@code f(q) = E|o|^2}, {@code o = sum_l softmax_l(beta <q, x_l>) x_l}, one fresh sequence per step, step
 * sizes {@code eta_t = eta0 / (1 + t / t0)}. The paper proves {@code q -> +-xi}; we report
 * {@code alignment(q, xi)} at the end of each run.
 *
 * <p>By symmetry {@code f} depends on {@code q} only through {@code m = <q, xi>}, and the mean dynamics are
 * the ODE {@code dm/dt = (1 - m^2) f'(m)} in the time {@code t = sum of the effective step sizes} (see
 * {@code ascend}). We estimate its right-hand side by Monte Carlo on a grid of {@code m} (the mean tangential
 * stochastic gradient, which is less noisy than differencing an estimate of f), integrate the ODE from each
 * run's start and compare the average with the runs' mean |m|.
 */
public final class SignalRecovery {

    /**
     * @param dim         token dimension d
     * @param nuisance    nuisance tokens per sequence
     * @param informative informative tokens per sequence
     * @param theta       signal strength
     * @param beta        softmax inverse temperature
     * @param steps       gradient steps per run
     * @param eta0        initial step size
     * @param t0          step-size decay scale
     * @param runs        independent runs (seeds seed, seed+1, ...)
     * @param mcSequences Monte Carlo sequences per grid point for f(m)
     * @param seed        first seed
     */
    public record Config(int dim, int nuisance, int informative, double theta, double beta, int steps, double eta0,
                         double t0, int runs, int mcSequences, long seed) {

        /** The setting of the published summary: 10,000 nuisance tokens, theta = 0.25, 30 runs. */
        public static Config paper() {
            return new Config(16, 10_000, 10_000, 0.25, 1.0, 1_500, 1.0, 100, 30, 200, 1);
        }
    }

    /**
     * @param finalAlignment alignment(q, xi) at the end of each run
     * @param time           ODE time (sum of the effective step sizes, mean over runs) at each recorded step
     * @param trajectory     |m| averaged over the runs at those times
     * @param first          |m| of the first run at those times
     * @param ode            the ODE solution from each run's start, averaged over the runs
     * @param drift          the estimated {@code (1 - m^2) f'(m)} on m = 0, 0.05, ..., 1
     */
    public record Result(Config config, double[] finalAlignment, double[] time, double[] trajectory, double[] first,
                         double[] ode, double[] drift) {

        public double mean() {
            return Arrays.stream(finalAlignment).average().orElse(Double.NaN);
        }

        public double min() {
            return Arrays.stream(finalAlignment).min().orElse(Double.NaN);
        }

        /** Largest gap between the runs' mean |m| and the ODE over the recorded times. */
        public double maxOdeGap() {
            double g = 0;
            for (int i = 0; i < ode.length; i++) {
                g = Math.max(g, Math.abs(trajectory[i] - ode[i]));
            }
            return g;
        }

        public String line() {
            return String.format(java.util.Locale.ROOT,
                    "RESULT signal-recovery runs=%d nuisance=%d informative=%d theta=%.2f d=%d steps=%d "
                            + "meanAlignment=%.4f minAlignment=%.4f maxOdeGap=%.3f",
                    finalAlignment.length, config.nuisance(), config.informative(), config.theta(), config.dim(),
                    config.steps(), mean(), min(), maxOdeGap());
        }
    }

    /** Recorded points of the first run's trajectory. */
    static final int RECORDS = 100;

    private SignalRecovery() {
    }

    public static Result run(Config c) {
        double[] xi = new double[c.dim()];
        xi[0] = 1;
        int every = Math.max(1, c.steps() / RECORDS);
        int records = c.steps() / every + 1;
        double[][] times = new double[c.runs()][records];
        double[][] trajs = new double[c.runs()][records];
        // Runs are independent (one seed each): run them in parallel, each recording its trajectory.
        double[] alignments = java.util.stream.IntStream.range(0, c.runs()).parallel()
                .mapToDouble(r -> ascend(c, xi, c.seed() + r, times[r], trajs[r], every))
                .toArray();
        double[] h = drift(c, xi);
        // The ODE from each run's own start, then averaged: m(t) is far from linear in m(0) (the escape from
        // small m takes a time of order log(1 / m(0))), so the ODE from the mean start is not the mean.
        double[][] odes = new double[c.runs()][];
        for (int r = 0; r < c.runs(); r++) {
            odes[r] = integrate(h, trajs[r][0], times[r]);
        }
        return new Result(c, alignments, mean(times), mean(trajs), trajs[0], mean(odes), h);
    }

    private static double[] mean(double[][] rows) {
        double[] m = new double[rows[0].length];
        for (double[] row : rows) {
            for (int i = 0; i < m.length; i++) {
                m[i] += row[i] / rows.length;
            }
        }
        return m;
    }

    /**
     * One run of projected SGA from a random start; returns the final alignment and records |m| every few
     * steps against the ODE time. The step {@code q <- (q + eta g) / |q + eta g|} moves q along the sphere by
     * {@code eta g_tangential / |q + eta g|} to first order, so the ODE clock advances by {@code eta / |q + eta g|}
     * per step (about {@code eta / (1 + 2 eta |o|^2)}: the radial part of g is {@code 2|o|^2}).
     */
    private static double ascend(Config c, double[] xi, long seed, double[] time, double[] traj, int every) {
        Gaussian g = new Gaussian(seed);
        double[] q = g.unit(c.dim());
        double[][] x = new double[c.nuisance() + c.informative()][c.dim()];
        double t = 0;
        for (int step = 0; step < c.steps(); step++) {
            if (step % every == 0) {
                time[step / every] = t;
                traj[step / every] = Alignment.alignment(q, xi);
            }
            sequence(c, g, xi, x);
            double[] grad = gradient(x, q, c.beta());
            double eta = c.eta0() / (1 + step / c.t0());
            for (int i = 0; i < q.length; i++) {
                q[i] += eta * grad[i];
            }
            t += eta / Math.sqrt(Gaussian.dot(q, q));
            Gaussian.normalise(q);
        }
        if (c.steps() % every == 0) {
            time[c.steps() / every] = t;
            traj[c.steps() / every] = Alignment.alignment(q, xi);
        }
        return Alignment.alignment(q, xi);
    }

    /** Fills x with one sequence: nuisance tokens first, then informative ones sharing one sign s; returns s. */
    static double sequence(Config c, Gaussian g, double[] xi, double[][] x) {
        double s = g.coin() ? 1 : -1;
        for (int l = 0; l < x.length; l++) {
            for (int i = 0; i < c.dim(); i++) {
                x[l][i] = g.next();
            }
            if (l >= c.nuisance()) {
                for (int i = 0; i < c.dim(); i++) {
                    x[l][i] += c.theta() * s * xi[i];
                }
            }
        }
        return s;
    }

    /** softmax weights a_l = softmax(beta <q, x_l>) and o = sum a_l x_l; returns o, fills a. */
    static double[] attend(double[][] x, double[] q, double beta, double[] a) {
        double max = Double.NEGATIVE_INFINITY;
        for (int l = 0; l < x.length; l++) {
            a[l] = beta * Gaussian.dot(q, x[l]);
            max = Math.max(max, a[l]);
        }
        double z = 0;
        for (int l = 0; l < x.length; l++) {
            a[l] = Math.exp(a[l] - max);
            z += a[l];
        }
        double[] o = new double[q.length];
        for (int l = 0; l < x.length; l++) {
            a[l] /= z;
            for (int i = 0; i < o.length; i++) {
                o[i] += a[l] * x[l][i];
            }
        }
        return o;
    }

    /**
     * Gradient of {@code |o|^2} in q: with {@code J = do/dq = beta sum_l a_l x_l (x_l - o)^T},
     * {@code 2 J^T o = 2 beta sum_l a_l (<x_l, o> - |o|^2) x_l}.
     */
    static double[] gradient(double[][] x, double[] q, double beta) {
        double[] a = new double[x.length];
        double[] o = attend(x, q, beta, a);
        double oo = Gaussian.dot(o, o);
        double[] g = new double[q.length];
        for (int l = 0; l < x.length; l++) {
            double w = 2 * beta * a[l] * (Gaussian.dot(x[l], o) - oo);
            for (int i = 0; i < g.length; i++) {
                g[i] += w * x[l][i];
            }
        }
        return g;
    }

    /** Grid of m on which the drift is estimated. */
    static final int GRID = 21;

    /**
     * The ODE's right-hand side {@code h(m) = (1 - m^2) f'(m)} on m = 0, 0.05, ..., 1, estimated by Monte
     * Carlo as the mean tangential gradient {@code <xi - m q, g>} at {@code q = m xi + sqrt(1 - m^2) e} (e a
     * fixed unit vector orthogonal to xi). Per sequence this term is dominated by {@code +-2 theta w (1 - m^2)}
     * from the sign s, whose mean over s is the drift itself (of order {@code theta^2 m}); so every sequence is
     * used with both signs (antithetic pairs: the same nuisance draws z, s = +1 and s = -1), and the same
     * sequences serve every m (common random numbers), which keeps h smooth in m.
     */
    static double[] drift(Config c, double[] xi) {
        int chunks = Math.max(1, Math.min(c.mcSequences(), 2 * Runtime.getRuntime().availableProcessors()));
        double[][] parts = java.util.stream.IntStream.range(0, chunks).parallel().mapToObj(j -> {
            double[] h = new double[GRID];
            double[][] x = new double[c.nuisance() + c.informative()][c.dim()];
            Gaussian g = new Gaussian((c.seed() ^ 0x5eedL) + 7919L * j);
            int n = c.mcSequences() / chunks + (j < c.mcSequences() % chunks ? 1 : 0);
            for (int r = 0; r < n; r++) {
                double s = sequence(c, g, xi, x);
                for (int pair = 0; pair < 2; pair++) {
                    for (int k = 0; k < GRID; k++) {
                        double m = k / (GRID - 1.0);
                        double[] q = new double[c.dim()];
                        q[0] = m;
                        q[1] = Math.sqrt(1 - m * m);
                        double[] grad = gradient(x, q, c.beta());
                        h[k] += (Gaussian.dot(xi, grad) - m * Gaussian.dot(q, grad)) / (2.0 * c.mcSequences());
                    }
                    flipSign(c, xi, x, s);
                    s = -s;
                }
            }
            return h;
        }).toArray(double[][]::new);
        double[] h = new double[GRID];
        for (double[] part : parts) {
            for (int k = 0; k < GRID; k++) {
                h[k] += part[k];
            }
        }
        return h;
    }

    /** Turns the informative tokens' {@code z + theta s xi} into {@code z - theta s xi}. */
    private static void flipSign(Config c, double[] xi, double[][] x, double s) {
        for (int l = c.nuisance(); l < x.length; l++) {
            for (int i = 0; i < c.dim(); i++) {
                x[l][i] -= 2 * c.theta() * s * xi[i];
            }
        }
    }

    /**
     * RK4 for dm/dt = h(m), h interpolated linearly on the grid, sampled at the given times. Sub-steps are
     * small against the steepest slope of h (stability), and m stays in [0, 1] as |<q, xi>| does.
     */
    static double[] integrate(double[] h, double m0, double[] times) {
        double lipschitz = 0;
        for (int k = 0; k + 1 < h.length; k++) {
            lipschitz = Math.max(lipschitz, Math.abs(h[k + 1] - h[k]) * (h.length - 1));
        }
        double[] out = new double[times.length];
        double m = m0;
        double t = 0;
        out[0] = m;
        for (int i = 1; i < times.length; i++) {
            int sub = (int) Math.max(20, Math.ceil((times[i] - t) * lipschitz * 4));
            double dt = (times[i] - t) / sub;
            for (int s = 0; s < sub; s++) {
                double k1 = interpolate(h, m);
                double k2 = interpolate(h, m + dt / 2 * k1);
                double k3 = interpolate(h, m + dt / 2 * k2);
                double k4 = interpolate(h, m + dt * k3);
                m = Math.max(0, Math.min(1, m + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)));
            }
            t = times[i];
            out[i] = m;
        }
        return out;
    }

    private static double interpolate(double[] h, double m) {
        double pos = Math.max(0, Math.min(1, m)) * (h.length - 1);
        int i = Math.min((int) pos, h.length - 2);
        double frac = pos - i;
        return h[i] * (1 - frac) + h[i + 1] * frac;
    }

    /** Alignment of the first run against the ODE, over the ODE time. */
    public static Path plot(Result r, Path png) {
        return new Plot("Signal recovery: alignment(q, xi) vs the mean-field ODE", "t = sum of step sizes",
                "|<q, xi>|")
                .line("SGA (run 1)", r.time(), r.first())
                .line("SGA (mean of " + r.finalAlignment().length + " runs)", r.time(), r.trajectory())
                .line("ODE dm/dt = (1 - m^2) f'(m)", r.time(), r.ode())
                .save(png);
    }
}
