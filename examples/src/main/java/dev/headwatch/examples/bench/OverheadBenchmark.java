package dev.headwatch.examples.bench;

import dev.headwatch.examples.UpstreamNoise;
import dev.headwatch.core.Monitor;
import dev.headwatch.core.MonitorStats;
import dev.headwatch.dl4j.AttentionMonitorListener;
import dev.headwatch.examples.layerapi.ReversalTask;
import org.deeplearning4j.ui.model.storage.InMemoryStatsStorage;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains {@link ReversalTask}'s model three ways, interleaved in one run so that machine load hits them
 * alike: without a listener, with headwatch at its defaults, and with DL4J's {@link StatsListener} on an
 * {@link InMemoryStatsStorage}. Each way has its own network built from the same seed and sees the same
 * minibatches. The result is the median step time of each, and their ratios to the unmonitored one.
 *
 * <p>Each round runs one block per way, in one of the six orders in turn, so no way always follows another.
 * A block starts with one untimed step, so that every timed headwatch step runs beside the background work
 * of the step before it, as in a long run; after the block the benchmark waits, untimed, for the background
 * thread, so that headwatch's work is not charged to the next way.
 */
public final class OverheadBenchmark {

    /**
     * How the warm-up ended, the measured medians (nanoseconds per step), their ratios, 95% bootstrap intervals
     * of the ratios ({@code [low, high]} for headwatch, then for StatsListener), and the CPU time the listeners
     * used per step over the timed rounds: headwatch's on the training thread and on its background thread, and
     * StatsListener's (all on the training thread), and the bytes headwatch allocated per observation on both
     * threads; and the background CPU per observation over the untimed warm-up ({@code warmupObservations},
     * while the JIT compiles the monitor) and over the timed rounds; and every timed step, per way (none,
     * headwatch, StatsListener) in the order run, {@code steps} per round.
     */
    public record Result(Warmup warmup, double plainNanos, double headwatchNanos, double statsNanos, double[] intervals,
                         MonitorStats headwatch, double headwatchTrainingCpu, double headwatchBackgroundCpu,
                         double statsCpu, double headwatchBytesPerObservation, long warmupObservations,
                         double warmupBackgroundCpuPerObservation, double timedBackgroundCpuPerObservation,
                         List<List<Long>> times) {
        public double headwatchRatio() {
            return headwatchNanos / plainNanos;
        }

        public double statsRatio() {
            return statsNanos / plainNanos;
        }

        /** How much headwatch observed and dropped. */
        public String monitorLine() {
            return String.format(Locale.ROOT, "headwatch: %d observations, %d dropped (queue full), %d sink failures",
                    headwatch.observations(), headwatch.dropped(), headwatch.sinkFailures());
        }

        /**
         * The listeners' CPU time per step, figures far steadier than step times on a busy machine, with their
         * shares of the unmonitored median step.
         */
        public String cpuLine() {
            double headwatchCpu = headwatchTrainingCpu + headwatchBackgroundCpu;
            return String.format(Locale.ROOT, "listener CPU per step: headwatch %.2f ms on the training thread + %.2f ms "
                    + "in the background = %.2f ms (%.1f%% of the unmonitored median step); statslistener %.2f ms (%.1f%%)",
                    headwatchTrainingCpu / 1e6, headwatchBackgroundCpu / 1e6, headwatchCpu / 1e6,
                    100 * headwatchCpu / plainNanos, statsCpu / 1e6, 100 * statsCpu / plainNanos);
        }

        /**
         * How long the warm-up ran and how busy the JIT still was in its last block: steps timed while the JIT
         * compiles measure the compiler more than the listeners.
         */
        public String warmupLine() {
            return warmup.line();
        }

        /** The background CPU per observation over the untimed warm-up and over the timed rounds. */
        public String backgroundLine() {
            return String.format(Locale.ROOT, "background CPU per observation: %.2f ms over the %d untimed warm-up "
                    + "observations (while the JIT compiles the monitor), %.2f ms over the timed ones",
                    warmupBackgroundCpuPerObservation / 1e6, warmupObservations, timedBackgroundCpuPerObservation / 1e6);
        }

        /** The bytes headwatch allocated per observation, training and background thread together. */
        public String allocationLine() {
            return String.format(Locale.ROOT, "allocated per observation: headwatch %.0f KB",
                    headwatchBytesPerObservation / 1024);
        }

        /**
         * The share of each way's steps that took more than twice the unmonitored median. Steps of several times
         * the median hit every way alike when ND4J's threads stall each other (docs/performance.md, "ND4J's
         * threads on a small machine"), and then the medians say more about those stalls than about a listener.
         */
        public String slowLine() {
            return slowSteps(sharesOver(times, 2 * plainNanos));
        }

        /** The ratios' 95% bootstrap intervals. */
        public String intervalLine() {
            return String.format(Locale.ROOT, "95%% intervals: headwatch %.3f-%.3fx statslistener %.3f-%.3fx",
                    intervals[0], intervals[1], intervals[2], intervals[3]);
        }

        /**
         * Writes every timed step as CSV: {@code round,position,way,step,nanos}, where {@code position} is the
         * way's place (0-2) in its round's order and {@code step} counts from 1 within the block.
         */
        public void writeTimes(Path file, int steps) throws IOException {
            try (CSVPrinter csv = CSVFormat.DEFAULT.builder().setHeader("round", "position", "way", "step", "nanos")
                    .build().print(file, StandardCharsets.UTF_8)) {
                for (int way = 0; way < WAYS.size(); way++) {
                    List<Long> wayTimes = times.get(way);
                    for (int i = 0; i < wayTimes.size(); i++) {
                        int round = i / steps;
                        int position = Arrays.stream(ORDERS[round % ORDERS.length]).boxed().toList().indexOf(way);
                        csv.printRecord(round + 1, position, WAYS.get(way), i % steps + 1, wayTimes.get(i));
                    }
                }
            }
        }

        /** The final line: {@code overhead: headwatch=<x>x statslistener=<y>x}. */
        public String line() {
            return String.format(Locale.ROOT, "overhead: headwatch=%.3fx statslistener=%.3fx",
                    headwatchRatio(), statsRatio());
        }
    }

    /** A share of slow unmonitored steps above which the machine, not a listener, sets the medians. */
    static final double STALLING = 0.05;

    /** The three ways' names, in the order of {@link Result#times()}. */
    static final List<String> WAYS = List.of("none", "headwatch", "statslistener");

    /** The six orders of the three ways (none, headwatch, StatsListener), one per round in turn. */
    static final int[][] ORDERS = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}};

    private OverheadBenchmark() {
    }

    /**
     * @param shape  model and batch sizes
     * @param warmup untimed steps per way before measuring
     * @param rounds rounds; each runs a block of every way, in the next of the six orders
     * @param steps  timed steps per way and round (each block has one untimed step before them)
     * @param every  headwatch observes every N-th iteration (1, its default, for the overhead target)
     * @param log    progress lines (one per round), or null
     */
    public static Result run(ReversalTask.Shape shape, int warmup, int rounds, int steps, int every, PrintWriter log) {
        MultiLayerNetwork plain = ReversalTask.network(shape, 42);
        MultiLayerNetwork watched = ReversalTask.network(shape, 42);
        MultiLayerNetwork stats = ReversalTask.network(shape, 42);
        AttentionMonitorListener headwatch = AttentionMonitorListener.builder().every(every).build();
        CpuTimed headwatchTimed = new CpuTimed(headwatch);
        CpuTimed statsTimed = new CpuTimed(new StatsListener(new InMemoryStatsStorage()));
        watched.setListeners(headwatchTimed);
        stats.setListeners(statsTimed);
        MultiLayerNetwork[] nets = {plain, watched, stats};
        List<List<Long>> times = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        Warmup warm;
        double backgroundCpu;
        double bytesPerObservation;
        long warmupObservations;
        double warmupCpuPerObservation;
        double timedCpuPerObservation;
        long fitsPerWay = (long) rounds * (steps + 1);
        try {
            ReversalTask data = new ReversalTask(shape, 7);
            warm = UpstreamNoise.mutedResult(() -> warmUp(nets, data, warmup));
            awaitBackground(headwatch);
            long cpuStart = backgroundCpuNanos();
            long bytesStart = backgroundAllocatedBytes();
            long observationsStart = headwatch.stats().observations();
            warmupObservations = observationsStart;
            warmupCpuPerObservation = observationsStart == 0 ? Double.NaN : cpuStart / (double) observationsStart;
            headwatchTimed.reset();
            statsTimed.reset();
            for (int r = 0; r < rounds; r++) {
                List<DataSet> batches = new ArrayList<>();
                for (int i = 0; i <= steps; i++) {
                    batches.add(data.next());
                }
                for (int way : ORDERS[r % ORDERS.length]) {
                    nets[way].fit(batches.get(0)); // untimed: the first timed step then has work beside it too
                    for (DataSet ds : batches.subList(1, batches.size())) {
                        long t0 = System.nanoTime();
                        nets[way].fit(ds);
                        times.get(way).add(System.nanoTime() - t0);
                    }
                    if (nets[way] == watched) {
                        awaitBackground(headwatch); // its last observation must not slow the next way's steps
                    }
                }
                if (log != null) {
                    log.printf(Locale.ROOT, "round %d/%d: median ms/step none=%.2f headwatch=%.2f statslistener=%.2f%n",
                            r + 1, rounds, median(times.get(0)) / 1e6, median(times.get(1)) / 1e6,
                            median(times.get(2)) / 1e6);
                    log.flush();
                }
            }
            backgroundCpu = (backgroundCpuNanos() - cpuStart) / (double) fitsPerWay;
            long observed = headwatch.stats().observations() - observationsStart;
            timedCpuPerObservation = observed == 0 ? Double.NaN : (backgroundCpuNanos() - cpuStart) / (double) observed;
            bytesPerObservation = observed == 0 ? Double.NaN
                    : (backgroundAllocatedBytes() - bytesStart + headwatchTimed.bytes) / (double) observed;
        } finally {
            headwatch.close();
        }
        return new Result(warm, median(times.get(0)), median(times.get(1)), median(times.get(2)),
                intervals(times, new SplittableRandom(1)), headwatch.stats(), headwatchTimed.nanos / (double) fitsPerWay,
                backgroundCpu, statsTimed.nanos / (double) fitsPerWay, bytesPerObservation, warmupObservations,
                warmupCpuPerObservation, timedCpuPerObservation, times);
    }

    /** Steps per way of the warm-up's last block, over which the JIT's activity is reported. */
    static final int LAST_BLOCK = 100;

    /** A JIT that compiled for less than this share of the warm-up's last block is done. */
    static final double QUIET_JIT = 0.01;

    /**
     * How a warm-up ended: its untimed steps per way, and its last block's steps, the JIT's compile time in it
     * (NaN when the JVM does not report it; summed over the compiler threads) and its wall time.
     */
    record Warmup(int steps, int lastBlock, double lastCompileNanos, double lastBlockNanos) {
        /** {@code warm-up: <steps> untimed steps per way; the JIT compiled for <x>% of the last <block> (done)}. */
        String line() {
            double share = lastCompileNanos / lastBlockNanos;
            String jit = Double.isNaN(share) ? "the JVM does not report its compile time"
                    : String.format(Locale.ROOT, "the JIT compiled for %.1f%% of the last %d (%s)", 100 * share,
                            lastBlock, share < QUIET_JIT ? "done"
                                    : "still compiling: the timed steps include it; try a longer --warmup");
            return String.format(Locale.ROOT, "warm-up: %d untimed steps per way; %s", steps, jit);
        }
    }

    /**
     * Trains every way, untimed, for {@code steps} steps, and measures how much the JIT compiled over the last
     * {@link #LAST_BLOCK} of them: whether the timed steps that follow time the listeners or the compiler.
     */
    static Warmup warmUp(MultiLayerNetwork[] nets, ReversalTask data, int steps) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        int block = Math.min(LAST_BLOCK, steps);
        long compiled = 0;
        long start = 0;
        for (int i = 0; i < steps; i++) {
            if (i == steps - block) {
                compiled = timed ? jit.getTotalCompilationTime() : 0;
                start = System.nanoTime();
            }
            DataSet ds = data.next();
            for (MultiLayerNetwork net : nets) {
                net.fit(ds);
            }
        }
        double compile = timed ? (jit.getTotalCompilationTime() - compiled) * 1e6 : Double.NaN;
        return new Warmup(steps, block, compile, System.nanoTime() - start);
    }

    /** A listener that adds up the CPU time and the bytes its delegate takes on the calling (training) thread. */
    static final class CpuTimed implements TrainingListener {
        private static final com.sun.management.ThreadMXBean MX =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        private final TrainingListener delegate;
        long nanos;
        long bytes;

        CpuTimed(TrainingListener delegate) {
            this.delegate = delegate;
        }

        void reset() {
            nanos = 0;
            bytes = 0;
        }

        private void time(Runnable call) {
            long t0 = MX.getCurrentThreadCpuTime();
            long b0 = MX.getCurrentThreadAllocatedBytes();
            call.run();
            nanos += MX.getCurrentThreadCpuTime() - t0;
            bytes += MX.getCurrentThreadAllocatedBytes() - b0;
        }

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            time(() -> delegate.iterationDone(model, iteration, epoch));
        }

        @Override
        public void onEpochStart(Model model) {
            time(() -> delegate.onEpochStart(model));
        }

        @Override
        public void onEpochEnd(Model model) {
            time(() -> delegate.onEpochEnd(model));
        }

        @Override
        public void onForwardPass(Model model, List<INDArray> activations) {
            time(() -> delegate.onForwardPass(model, activations));
        }

        @Override
        public void onForwardPass(Model model, Map<String, INDArray> activations) {
            time(() -> delegate.onForwardPass(model, activations));
        }

        @Override
        public void onGradientCalculation(Model model) {
            time(() -> delegate.onGradientCalculation(model));
        }

        @Override
        public void onBackwardPass(Model model) {
            time(() -> delegate.onBackwardPass(model));
        }
    }

    /** CPU time used so far by the monitor's background thread (0 when it cannot be read). */
    private static long backgroundCpuNanos() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(Monitor.BACKGROUND_THREAD_NAME)) {
                sum += Math.max(0, mx.getThreadCpuTime(t.getId()));
            }
        }
        return sum;
    }

    /** Bytes allocated so far by the monitor's background thread (0 when they cannot be read). */
    private static long backgroundAllocatedBytes() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(Monitor.BACKGROUND_THREAD_NAME)) {
                sum += Math.max(0, mx.getThreadAllocatedBytes(t.getId()));
            }
        }
        return sum;
    }

    /** Waits (untimed, at most a few seconds) until the background thread has finished every submitted step. */
    private static void awaitBackground(AttentionMonitorListener listener) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            MonitorStats s = listener.stats();
            if (s.observations() + s.dropped() + s.analysisFailures() >= s.submitted()) {
                return;
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** {@link Result#slowLine()} for these shares (none, headwatch, StatsListener). */
    static String slowSteps(double[] shares) {
        return String.format(Locale.ROOT, "steps over twice the unmonitored median: none %.1f%%, headwatch %.1f%%, "
                + "statslistener %.1f%%", 100 * shares[0], 100 * shares[1], 100 * shares[2])
                + (shares[0] > STALLING ? " (the unmonitored steps stall too: the medians "
                + "measure the machine more than the listeners; see docs/performance.md on ND4J's threads)" : "");
    }

    /** Per way, the share of its steps that took longer than {@code limit} nanoseconds. */
    static double[] sharesOver(List<List<Long>> times, double limit) {
        double[] shares = new double[times.size()];
        for (int way = 0; way < shares.length; way++) {
            shares[way] = times.get(way).stream().filter(t -> t > limit).count() / (double) times.get(way).size();
        }
        return shares;
    }

    /** 95% percentile-bootstrap intervals of the two median ratios: each way's steps resampled 1,000 times. */
    static double[] intervals(List<List<Long>> times, SplittableRandom random) {
        int draws = 1000;
        double[][] ratios = new double[2][draws];
        for (int b = 0; b < draws; b++) {
            double plain = median(resample(times.get(0), random));
            ratios[0][b] = median(resample(times.get(1), random)) / plain;
            ratios[1][b] = median(resample(times.get(2), random)) / plain;
        }
        double[] out = new double[4];
        for (int w = 0; w < 2; w++) {
            Arrays.sort(ratios[w]);
            out[2 * w] = ratios[w][(int) (0.025 * draws)];
            out[2 * w + 1] = ratios[w][(int) (0.975 * draws) - 1];
        }
        return out;
    }

    private static List<Long> resample(List<Long> values, SplittableRandom random) {
        List<Long> out = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            out.add(values.get(random.nextInt(values.size())));
        }
        return out;
    }

    static double median(List<Long> values) {
        long[] v = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    }
}
