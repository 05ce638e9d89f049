package dev.headwatch.benchmarks;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.LayerMetrics;
import dev.headwatch.core.Visibility;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * One attention layer of H = 8 heads, float32: every headwatch metric of the layer
 * ({@link LayerAnalysis#compute}) against ND4J computing the layer's attention itself,
 * {@code softmax(tau Q K^T + mask) V} per head. The ratio of the two scores is what matters.
 *
 * <p>Shapes: {@code full-1024} (FULL, n = 1024, d = 64) and {@code causal-512} (CAUSAL, n = 512, d = 64).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xmx4g"})
public class LayerBenchmark {

    static final int HEADS = 8;
    static final int HEAD_SIZE = 64;

    @Param({"full-1024", "causal-512"})
    public String shape;

    private List<HeadInput> heads;
    private INDArray causalMask;

    @Setup
    public void setUp() {
        // As the offline commands do: headwatch spreads the heads over the cores, so ND4J gets one thread
        // (its BLAS and op threads under parallel heads oversubscribe a small machine). ND4J's attention
        // below runs with the same setting.
        Nd4j.factory().blas().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        boolean causal = shape.startsWith("causal");
        int n = Integer.parseInt(shape.substring(shape.indexOf('-') + 1));
        Nd4j.getRandom().setSeed(42);
        heads = new ArrayList<>();
        for (int h = 0; h < HEADS; h++) {
            heads.add(HeadInput.of(Nd4j.randn(DataType.FLOAT, n, HEAD_SIZE), Nd4j.randn(DataType.FLOAT, n, HEAD_SIZE),
                    Nd4j.randn(DataType.FLOAT, n, HEAD_SIZE), causal ? Visibility.CAUSAL : Visibility.FULL, Double.NaN));
        }
        if (causal) {
            // 0 on and below the diagonal, a large negative number above: masked keys get zero weight
            causalMask = Nd4j.createFromArray(new float[n][n]);
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    causalMask.putScalar(i, j, -1e9f);
                }
            }
        }
    }

    /** Every metric of METRICS.md items 1-13 for the layer. */
    @Benchmark
    public LayerMetrics headwatchLayerMetrics() {
        return LayerAnalysis.compute(heads);
    }

    /** The layer's attention output computed by ND4J: the yardstick. */
    @Benchmark
    public void nd4jAttention(Blackhole sink) {
        for (HeadInput in : heads) {
            INDArray logits = in.q().mmul(in.k().transpose()).muli(in.scale());
            if (causalMask != null) {
                logits.addi(causalMask);
            }
            sink.consume(Transforms.softmax(logits, false).mmul(in.v()));
        }
    }
}
