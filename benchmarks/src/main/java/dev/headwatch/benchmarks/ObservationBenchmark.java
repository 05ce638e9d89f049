package dev.headwatch.benchmarks;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.LayerCapture;
import dev.headwatch.core.Monitor;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.math.Products;
import dev.headwatch.core.WeightAnalysis;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What the background thread computes at one observation of {@code bench overhead}'s model (two
 * {@code SelfAttentionLayer}s of 4 heads, head size 16, widths 16 and 64, one sampled sequence of 32
 * positions, float32): every metric of both layers ({@link #layers}) and each head's
 * {@code qkSpectralNorm} ({@link #qkSpectralNorms}). Run with {@code -prof gc} for the bytes allocated
 * per observation (the pool's worker allocates nothing else). As in the monitor, the work runs on a
 * {@link ForkJoinPool} of one thread, so the metrics' parallel loops stay on one core. {@link #captured}
 * is the whole of the background thread's work per observation instead, through a {@link Monitor}: from
 * the layers as the listener copies them ({@link LayerCapture}: the input, one-hot tokens in the first
 * layer and mixtures of them in the second, the output and the four projections, which change a little from
 * one observation to the next), the rebuild of Q, K, V and of the output, {@code qkSpectralNorm} and the
 * metrics.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgs = {"-Xmx2g"})
public class ObservationBenchmark {

    static final int LAYERS = 2;
    static final int HEADS = 4;
    /** Steps of the weights' walk for {@link #captured}. */
    static final int WALK = 32;

    /** {@code <visibility>-<n>-<d>}. */
    @Param({"full-32-16", "causal-32-16", "full-128-64", "causal-128-64"})
    public String shape;

    private List<List<HeadInput>> layers;
    private double[][][] wq;
    private double[][][] wk;
    private int hs;
    private final int[] widths = {16, 64};
    /** Per training step of a short walk, both layers' captures. */
    private final List<List<LayerCapture>> steps = new ArrayList<>();
    private Monitor monitor;
    private long step;
    private ForkJoinPool pool;

    @Setup
    public void setUp() {
        String[] parts = shape.split("-");
        Visibility vis = parts[0].equals("causal") ? Visibility.CAUSAL : Visibility.FULL;
        int n = Integer.parseInt(parts[1]);
        hs = Integer.parseInt(parts[2]);
        Random random = new Random(42);
        layers = new ArrayList<>();
        wq = new double[LAYERS][HEADS][];
        wk = new double[LAYERS][HEADS][];
        for (int l = 0; l < LAYERS; l++) {
            List<HeadInput> heads = new ArrayList<>();
            for (int h = 0; h < HEADS; h++) {
                heads.add(HeadInput.of(gaussian(random, n * hs), gaussian(random, n * hs), gaussian(random, n * hs),
                        hs, DataType.FLOAT, vis, Double.NaN));
                wq[l][h] = gaussian(random, hs * widths[l]);
                wk[l][h] = gaussian(random, hs * widths[l]);
            }
            layers.add(heads);
        }
        // Each step of the walk moves every weight by 1% of its scale, as an optimizer step does.
        int width = HEADS * hs;
        double[][] x = new double[LAYERS][];
        double[][][] w = new double[LAYERS][][];
        for (int l = 0; l < LAYERS; l++) {
            int nIn = widths[l];
            // As in bench overhead's model, the first layer reads one-hot tokens and the second mixtures of them
            // (rows of an attention-like stochastic matrix times the tokens, mapped to its width): both layers'
            // centred keys are rank-deficient, the second's up to float32 rounding.
            x[l] = l == 0 ? oneHot(random, n, nIn) : mixtures(random, x[0], n, widths[0], nIn);
            w[l] = new double[][] {gaussian(random, width * nIn), gaussian(random, width * nIn),
                    gaussian(random, width * nIn), gaussian(random, width * width)};
        }
        for (int t = 0; t < WALK; t++) {
            List<LayerCapture> captures = new ArrayList<>();
            for (int l = 0; l < LAYERS; l++) {
                for (double[] weights : w[l]) {
                    for (int i = 0; i < weights.length; i++) {
                        weights[i] = (float) (weights[i] + 0.01 * random.nextGaussian());
                    }
                }
                LayerCapture.Projections p = new LayerCapture.Projections(w[l][0].clone(), w[l][1].clone(),
                        w[l][2].clone(), w[l][3].clone());
                LayerCapture.Sequence s = new LayerCapture.Sequence(n, x[l], n, x[l], x[l],
                        gaussian(random, n * width), null, null);
                captures.add(new LayerCapture("layer" + l, HEADS, hs, Double.NaN, false, vis == Visibility.CAUSAL, p,
                        null, List.of(s)));
            }
            steps.add(captures);
        }
        monitor = Monitor.builder().background(false).build();
        pool = new ForkJoinPool(1);
    }

    @TearDown
    public void tearDown() {
        pool.shutdown();
        monitor.close();
    }

    static double[] gaussian(Random random, int size) {
        double[] x = new double[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    static double[] oneHot(Random random, int rows, int cols) {
        double[] x = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            x[i * cols + random.nextInt(cols)] = 1;
        }
        return x;
    }

    /** {@code A X M}, float32: A a random row-stochastic {@code n x n}, X {@code n x tokens}, M Gaussian. */
    static double[] mixtures(Random random, double[] x, int n, int tokens, int width) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < n; j++) {
                a[i * n + j] = Math.exp(random.nextGaussian());
                sum += a[i * n + j];
            }
            for (int j = 0; j < n; j++) {
                a[i * n + j] /= sum;
            }
        }
        double[] mixed = Products.multiply(Products.multiply(a, n, n, x, tokens), n, tokens,
                gaussian(random, tokens * width), width);
        for (int i = 0; i < mixed.length; i++) {
            mixed[i] = (float) mixed[i];
        }
        return mixed;
    }

    /** Every metric of METRICS.md items 1-13 for both layers, and each head's {@code qkSpectralNorm}. */
    @Benchmark
    public Object observation() {
        return pool.submit(this::work).join();
    }

    /** The work of {@link #observation}, on the calling thread. */
    Object[] work() {
        Object[] out = new Object[2 * LAYERS];
        for (int l = 0; l < LAYERS; l++) {
            out[l] = LayerAnalysis.compute(layers.get(l));
            out[LAYERS + l] = WeightAnalysis.spectralNorms(wq[l], wk[l], hs, widths[l], widths[l], Double.NaN);
        }
        return out;
    }

    /** The background thread's work per observation, from the captured layers. */
    @Benchmark
    public Object captured() {
        return pool.submit(this::fromCaptures).join();
    }

    /**
     * The work of {@link #captured}, on the calling thread: the next step of the walk (back and forth along
     * it), through a monitor without a background thread and without sinks.
     */
    Object fromCaptures() {
        long t = step++ % (2 * WALK);
        monitor.submit(t, 0, Double.NaN, steps.get((int) (t < WALK ? t : 2 * WALK - 1 - t)));
        return monitor;
    }

    /** {@code qkSpectralNorm} of every head of both layers, on the calling thread. */
    @Benchmark
    public void qkSpectralNorms(Blackhole sink) {
        for (int l = 0; l < LAYERS; l++) {
            sink.consume(WeightAnalysis.spectralNorms(wq[l], wk[l], hs, widths[l], widths[l], Double.NaN));
        }
    }
}
