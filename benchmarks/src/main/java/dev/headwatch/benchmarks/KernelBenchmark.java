package dev.headwatch.benchmarks;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.HeadAnalysis;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.WeightAnalysis;
import dev.headwatch.core.math.CentredKeys;
import dev.headwatch.core.math.EnergyField;
import dev.headwatch.core.math.KeyIncoherence;
import dev.headwatch.core.math.LinearGap;
import dev.headwatch.core.math.Products;
import dev.headwatch.core.math.Spectrum;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One head's kernels, each on its own, at the bench's shape ({@code 32-16}) and at {@code n = 128, 512, 1024}
 * with d = 64 (float32 data): a Java product, the logits, the FULL and CAUSAL spectra, key coherence with and
 * without key 0 (including the centred keys' QR they share; also on keys of a lower rank), the linear gap,
 * {@code qkSpectralNorm} of a head whose weights are {@code d x n}, and the whole head. ND4J runs on one
 * thread, as in {@code qk} and {@code analyze}. Run with {@code -prof gc} for the bytes allocated per call:
 *
 * <pre>java -cp ... org.openjdk.jmh.Main KernelBenchmark -p shape=1024-64</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {"-Xmx2g"})
public class KernelBenchmark {

    /** {@code <n>-<d>}. */
    @Param({"32-16", "128-64", "512-64", "1024-64"})
    public String shape;

    private int n;
    private int d;
    private double tau;
    private double[] q;
    private double[] k;
    private double[] v;
    /**
     * Keys of a lower rank up to float32 rounding, as the bench's second layer reads them: mixtures of 16 one-hot
     * tokens mapped to d features ({@link ObservationBenchmark#mixtures}), so of rank 15 at most once centred.
     */
    private double[] lowRankKeys;
    private double[] uniform;
    private HeadInput full;
    private HeadInput causal;

    @Setup
    public void setUp() {
        Nd4j.factory().blas().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        String[] p = shape.split("-");
        n = Integer.parseInt(p[0]);
        d = Integer.parseInt(p[1]);
        tau = 1 / Math.sqrt(d);
        Random random = new Random(42);
        q = ObservationBenchmark.gaussian(random, n * d);
        k = ObservationBenchmark.gaussian(random, n * d);
        v = ObservationBenchmark.gaussian(random, n * d);
        lowRankKeys = ObservationBenchmark.mixtures(random, ObservationBenchmark.oneHot(random, n, 16), n, 16, d);
        uniform = new double[n * n];
        Arrays.fill(uniform, 1.0 / n);
        full = HeadInput.of(q, k, v, d, DataType.FLOAT, Visibility.FULL, Double.NaN);
        causal = HeadInput.of(q, k, v, d, DataType.FLOAT, Visibility.CAUSAL, Double.NaN);
    }

    @Benchmark
    public double[] logits() {
        return EnergyField.logits(full);
    }

    /**
     * {@code Q K^T} in Java ({@code n^2 d} multiply-adds): the products' kernel, on the JDK's vector API when
     * the forked JVM has it ({@code -jvmArgsAppend "--add-modules jdk.incubator.vector"}), in plain Java
     * otherwise.
     */
    @Benchmark
    public double[] product() {
        return Products.multiplyByTranspose(q, n, d, k, n);
    }

    @Benchmark
    public double[] spectrumFull() {
        return Spectrum.lowRank(q, n, k, n, d, tau, true);
    }

    @Benchmark
    public double[] spectrumCausal() {
        return Spectrum.causal(q, k, n, d, tau);
    }

    @Benchmark
    public double[] keyCoherence() {
        return KeyIncoherence.coherenceWithAndWithoutFirst(CentredKeys.of(k, 0, n, d), Spectrum.unitRoundoff(false));
    }

    /**
     * As {@link #keyCoherence} on {@link #lowRankKeys}: the route through the leverage basis, and for the keys
     * without key 0 a factorisation of their own.
     */
    @Benchmark
    public double[] keyCoherenceLowRank() {
        return KeyIncoherence.coherenceWithAndWithoutFirst(CentredKeys.of(lowRankKeys, 0, n, d),
                Spectrum.unitRoundoff(false));
    }

    @Benchmark
    public double linearGap() {
        return LinearGap.gap(uniform, q, n, k, v, n, d, d, tau, true);
    }

    @Benchmark
    public double[] qkSpectralNorm() {
        return WeightAnalysis.spectralNorms(new double[][] {q}, new double[][] {k}, d, n, n, Double.NaN);
    }

    @Benchmark
    public Object headFull() {
        return HeadAnalysis.compute(full);
    }

    @Benchmark
    public Object headCausal() {
        return HeadAnalysis.compute(causal);
    }
}
