package dev.headwatch.benchmarks;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.Visibility;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link LayerBenchmark}'s layers (8 heads, float32, d = 64) timed one computation at a time, wall and
 * process CPU time, to run beside the NumPy peers ({@code numpy_careful.py}, {@code numpy_reference.py}),
 * which print the same two figures for the same shapes.
 *
 * <pre>java -cp ... dev.headwatch.benchmarks.LayerTiming full-1024|causal-512 [repeat]</pre>
 */
public final class LayerTiming {

    private LayerTiming() {
    }

    public static void main(String[] args) {
        String shape = args.length > 0 ? args[0] : "full-1024";
        int repeat = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        boolean causal = shape.startsWith("causal");
        int n = Integer.parseInt(shape.substring(shape.indexOf('-') + 1));
        // as LayerBenchmark: heads spread over the cores, ND4J on one thread
        Nd4j.factory().blas().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.getRandom().setSeed(42);
        List<HeadInput> heads = new ArrayList<>();
        for (int h = 0; h < LayerBenchmark.HEADS; h++) {
            int d = LayerBenchmark.HEAD_SIZE;
            heads.add(HeadInput.of(Nd4j.randn(DataType.FLOAT, n, d), Nd4j.randn(DataType.FLOAT, n, d),
                    Nd4j.randn(DataType.FLOAT, n, d), causal ? Visibility.CAUSAL : Visibility.FULL, Double.NaN));
        }
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        for (int i = 0; i < 2; i++) {
            LayerAnalysis.compute(heads);   // warm-up
        }
        long wall = 0;
        long cpu = 0;
        for (int r = 0; r < repeat; r++) {
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            LayerAnalysis.compute(heads);
            wall += System.nanoTime() - t0;
            cpu += os.getProcessCpuTime() - c0;
        }
        System.out.printf("%-11s headwatch every field      %10.1f ms per layer of %d heads (CPU %.1f ms)%n", shape,
                wall / 1e6 / repeat, LayerBenchmark.HEADS, cpu / 1e6 / repeat);
    }
}
