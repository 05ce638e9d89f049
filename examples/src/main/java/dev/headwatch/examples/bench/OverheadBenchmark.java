package dev.headwatch.examples.bench;

import dev.headwatch.core.MonitorStats;
import dev.headwatch.dl4j.AttentionMonitorListener;
import dev.headwatch.examples.layerapi.ReversalTask;
import org.deeplearning4j.ui.model.storage.InMemoryStatsStorage;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.nd4j.linalg.dataset.DataSet;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Trains {@link ReversalTask}'s model three ways, interleaved in one run so that machine load hits them
 * alike: without a listener, with headwatch at its defaults, and with DL4J's {@link StatsListener} on an
 * {@link InMemoryStatsStorage}. Each way has its own network built from the same seed and sees the same
 * minibatches. The result is the median step time of each, and their ratios to the unmonitored one.
 */
public final class OverheadBenchmark {

    /** The measured medians (nanoseconds per step) and ratios. */
    public record Result(double plainNanos, double headwatchNanos, double statsNanos, MonitorStats headwatch) {
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

        /** The final line: {@code overhead: headwatch=<x>x statslistener=<y>x}. */
        public String line() {
            return String.format(Locale.ROOT, "overhead: headwatch=%.3fx statslistener=%.3fx",
                    headwatchRatio(), statsRatio());
        }
    }

    private OverheadBenchmark() {
    }

    /**
     * @param shape  model and batch sizes
     * @param warmup untimed steps per way before measuring
     * @param rounds rounds; each runs {@code steps} timed steps of every way, in a rotating order
     * @param steps  timed steps per way and round
     * @param log    progress lines (one per round), or null
     */
    public static Result run(ReversalTask.Shape shape, int warmup, int rounds, int steps, PrintWriter log) {
        MultiLayerNetwork plain = ReversalTask.network(shape, 42);
        MultiLayerNetwork watched = ReversalTask.network(shape, 42);
        MultiLayerNetwork stats = ReversalTask.network(shape, 42);
        AttentionMonitorListener headwatch = AttentionMonitorListener.builder().build();
        watched.setListeners(headwatch);
        stats.setListeners(new StatsListener(new InMemoryStatsStorage()));
        MultiLayerNetwork[] nets = {plain, watched, stats};
        List<List<Long>> times = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        try {
            ReversalTask data = new ReversalTask(shape, 7);
            for (int i = 0; i < warmup; i++) {
                DataSet ds = data.next();
                for (MultiLayerNetwork net : nets) {
                    net.fit(ds);
                }
            }
            for (int r = 0; r < rounds; r++) {
                List<DataSet> batches = new ArrayList<>();
                for (int i = 0; i < steps; i++) {
                    batches.add(data.next());
                }
                for (int j = 0; j < nets.length; j++) {
                    int way = (r + j) % nets.length;
                    for (DataSet ds : batches) {
                        long t0 = System.nanoTime();
                        nets[way].fit(ds);
                        times.get(way).add(System.nanoTime() - t0);
                    }
                }
                if (log != null) {
                    log.printf(Locale.ROOT, "round %d/%d: median ms/step none=%.2f headwatch=%.2f statslistener=%.2f%n",
                            r + 1, rounds, median(times.get(0)) / 1e6, median(times.get(1)) / 1e6,
                            median(times.get(2)) / 1e6);
                    log.flush();
                }
            }
        } finally {
            headwatch.close();
        }
        return new Result(median(times.get(0)), median(times.get(1)), median(times.get(2)), headwatch.stats());
    }

    static double median(List<Long> values) {
        long[] v = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    }
}
