package dev.headwatch.examples.bench;

import dev.headwatch.examples.layerapi.ReversalTask;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What a stalled step of {@code bench overhead}'s model does, trained without a listener: each step's wall
 * time, the CPU time of the whole process and of the training thread, and the garbage collections in it.
 *
 * <pre>java -cp ... dev.headwatch.examples.bench.StepCpu [warm-up steps] [timed steps]</pre>
 * prints, for the steps up to twice the median and those over it (stalled, as {@code bench overhead} counts
 * them, from the same median), the mean wall time, the process's CPU per wall time (2.0 means both cores of a
 * 2-core machine were busy throughout), the training thread's share of the wall time, and the collections.
 */
public final class StepCpu {

    private StepCpu() {
    }

    public static void main(String[] args) {
        int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int timed = args.length > 1 ? Integer.parseInt(args[1]) : 1500;
        ReversalTask data = new ReversalTask(ReversalTask.Shape.DEFAULT, 7);
        MultiLayerNetwork net = trained(data, warmup);
        List<DataSet> batches = new ArrayList<>();
        for (int i = 0; i < timed; i++) {
            batches.add(data.next());
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        ThreadMXBean thread = ManagementFactory.getThreadMXBean();
        long[] wall = new long[timed];
        long[] process = new long[timed];
        long[] training = new long[timed];
        long[] collections = new long[timed];
        for (int i = 0; i < timed; i++) {
            long c0 = collections();
            long p0 = os.getProcessCpuTime();
            long t0 = thread.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            net.fit(batches.get(i));
            wall[i] = System.nanoTime() - w0;
            training[i] = thread.getCurrentThreadCpuTime() - t0;
            process[i] = os.getProcessCpuTime() - p0;
            collections[i] = collections() - c0;
        }
        double median = OverheadBenchmark.median(Arrays.stream(wall).boxed().toList());
        System.out.printf(Locale.ROOT, "%d steps after %d untimed, median %.1f ms%n", timed, warmup, median / 1e6);
        for (boolean stalled : new boolean[]{false, true}) {
            long n = 0;
            long w = 0;
            long p = 0;
            long t = 0;
            long c = 0;
            for (int i = 0; i < timed; i++) {
                if ((wall[i] > 2 * median) == stalled) {
                    n++;
                    w += wall[i];
                    p += process[i];
                    t += training[i];
                    c += collections[i];
                }
            }
            System.out.printf(Locale.ROOT, "%s: %d steps (%.1f%%), mean %.1f ms, process CPU %.2f per wall time, "
                    + "training thread on a core %.0f%% of the wall time, %d collections%n",
                    stalled ? "over twice the median" : "the rest", n, 100.0 * n / timed, n == 0 ? 0 : w / 1e6 / n,
                    w == 0 ? 0 : p / (double) w, w == 0 ? 0 : 100.0 * t / w, c);
        }
        if (timed >= 2 * BLOCKS * BLOCK) {
            int draws = 5000;
            double[] r = sameTraining(wall, draws, new SplittableRandom(1));
            double pass = Arrays.stream(r).filter(x -> x <= 1.05).count() / (double) draws;
            System.out.printf(Locale.ROOT, "the same steps as two ways of the bench (two sets of %d blocks of %d "
                    + "steps, %d draws): ratio of their medians %.3f-%.3fx (5th-95th percentile), at or under 1.05x "
                    + "in %.0f%% of draws, in two of three runs with probability %.2f%n", BLOCKS, BLOCK, draws,
                    r[(int) (0.05 * draws)], r[(int) (0.95 * draws) - 1], 100 * pass,
                    pass * pass * (3 - 2 * pass));
        }
    }

    /** The bench's model after {@code steps} untimed steps on {@code data}, so the JIT has compiled the training. */
    static MultiLayerNetwork trained(ReversalTask data, int steps) {
        MultiLayerNetwork net = ReversalTask.network(ReversalTask.Shape.DEFAULT, 42);
        for (int i = 0; i < steps; i++) {
            net.fit(data.next());
        }
        return net;
    }

    /** The bench's defaults: each way's timed steps are {@code --rounds} blocks of {@code --steps} consecutive steps. */
    static final int BLOCK = Integer.parseInt(BenchCommand.Overhead.STEPS);
    static final int BLOCKS = Integer.parseInt(BenchCommand.Overhead.ROUNDS);

    /**
     * The ratios of the medians of two ways that are the same training: {@code draws} times, two disjoint sets
     * of {@link #BLOCKS} blocks of {@link #BLOCK} consecutive steps drawn at random from {@code wall}, sorted.
     */
    static double[] sameTraining(long[] wall, int draws, SplittableRandom random) {
        int blocks = wall.length / BLOCK;
        if (blocks < 2 * BLOCKS) {
            throw new IllegalArgumentException("needs " + 2 * BLOCKS * BLOCK + " timed steps but has " + wall.length);
        }
        int[] order = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            order[i] = i;
        }
        double[] ratios = new double[draws];
        for (int d = 0; d < draws; d++) {
            for (int i = 0; i < 2 * BLOCKS; i++) { // the first 2 x BLOCKS of a Fisher-Yates shuffle
                int j = i + random.nextInt(blocks - i);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            ratios[d] = OverheadBenchmark.median(steps(wall, order, BLOCKS, 2 * BLOCKS))
                    / OverheadBenchmark.median(steps(wall, order, 0, BLOCKS));
        }
        Arrays.sort(ratios);
        return ratios;
    }

    private static List<Long> steps(long[] wall, int[] order, int from, int to) {
        List<Long> out = new ArrayList<>((to - from) * BLOCK);
        for (int b = from; b < to; b++) {
            for (int i = 0; i < BLOCK; i++) {
                out.add(wall[order[b] * BLOCK + i]);
            }
        }
        return out;
    }

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }
}
