package dev.headwatch.examples.papers;

import java.util.SplittableRandom;

/** Seeded Gaussian draws and the small vector helpers the reproductions share. */
final class Gaussian {

    private final SplittableRandom random;
    private double spare = Double.NaN;

    Gaussian(long seed) {
        random = new SplittableRandom(seed);
    }

    double next() {
        // Box-Muller, both values of each pair used: SplittableRandom has no nextGaussian on Java 17.
        if (!Double.isNaN(spare)) {
            double s = spare;
            spare = Double.NaN;
            return s;
        }
        double r = Math.sqrt(-2 * Math.log(1.0 - random.nextDouble()));
        double angle = 2 * Math.PI * random.nextDouble();
        spare = r * Math.sin(angle);
        return r * Math.cos(angle);
    }

    double[] vector(int d) {
        double[] v = new double[d];
        for (int i = 0; i < d; i++) {
            v[i] = next();
        }
        return v;
    }

    /** A uniformly random unit vector. */
    double[] unit(int d) {
        return normalise(vector(d));
    }

    boolean coin() {
        return random.nextBoolean();
    }

    int below(int n) {
        return random.nextInt(n);
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double[] normalise(double[] v) {
        double n = Math.sqrt(dot(v, v));
        for (int i = 0; i < v.length; i++) {
            v[i] /= n;
        }
        return v;
    }

    /** Least-squares line through (x, y): {slope, intercept, R^2}. */
    static double[] fit(double[] x, double[] y) {
        int n = x.length;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i] / n;
            my += y[i] / n;
        }
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        double slope = sxy / sxx;
        return new double[] {slope, my - slope * mx, sxy * sxy / (sxx * syy)};
    }
}
