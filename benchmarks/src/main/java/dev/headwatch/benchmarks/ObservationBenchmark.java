package dev.headwatch.benchmarks;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.Visibility;
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
 * {@link ForkJoinPool} of one thread, so the metrics' parallel loops stay on one core.
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

    /** {@code <visibility>-<n>-<d>}. */
    @Param({"full-32-16", "causal-32-16", "full-128-64", "causal-128-64"})
    public String shape;

    private List<List<HeadInput>> layers;
    private double[][][] wq;
    private double[][][] wk;
    private int hs;
    private final int[] widths = {16, 64};
    private ForkJoinPool pool;

    @Setup
    public void setUp() {
        String[] p = shape.split("-");
        Visibility vis = p[0].equals("causal") ? Visibility.CAUSAL : Visibility.FULL;
        int n = Integer.parseInt(p[1]);
        hs = Integer.parseInt(p[2]);
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
        pool = new ForkJoinPool(1);
    }

    @TearDown
    public void tearDown() {
        pool.shutdown();
    }

    static double[] gaussian(Random random, int size) {
        double[] x = new double[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
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

    /** {@code qkSpectralNorm} of every head of both layers, on the calling thread. */
    @Benchmark
    public void qkSpectralNorms(Blackhole sink) {
        for (int l = 0; l < LAYERS; l++) {
            sink.consume(WeightAnalysis.spectralNorms(wq[l], wk[l], hs, widths[l], widths[l], Double.NaN));
        }
    }
}
