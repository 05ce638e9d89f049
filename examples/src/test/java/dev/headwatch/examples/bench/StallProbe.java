package dev.headwatch.examples.bench;

import dev.headwatch.examples.layerapi.ReversalTask;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench overhead}'s model trained without a listener beside a second thread that, like the monitor's
 * background thread, works a set CPU time per step: how that thread's way of working changes ND4J's stalls.
 *
 * <pre>java -cp ... dev.headwatch.examples.bench.StallProbe MODES [ms of CPU per step] [rounds] [steps per round]</pre>
 * MODES is a comma-separated list, run in turn for {@code steps per round} steps each, round after round
 * (rotated each round): {@code none} (no second thread), {@code burn} (the CPU time in one piece after each
 * step), {@code yield<us>} (in pieces of that many microseconds with {@link Thread#yield()} between them, after
 * each step), {@code b<k>y<us>} (k steps' CPU time after every k-th step, in such pieces, as the monitor measures
 * a batch of queued steps per wake). Prints per mode the median and mean step, the share of steps over twice the
 * median of {@code none}, the median of the other steps, and the second thread's wall time per wake (from the
 * step that woke it to the end of its CPU time).
 */
public final class StallProbe {

    private static final Semaphore WORK = new Semaphore(0);
    private static volatile long burnNanos;
    private static volatile long pieceNanos;
    private static final AtomicLong SIDE_WALL = new AtomicLong();
    private static final AtomicLong SIDE_RUNS = new AtomicLong();
    private static volatile double sink;

    private StallProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        String[] modes = args[0].split(",");
        double msPerStep = args.length > 1 ? Double.parseDouble(args[1]) : 0.85;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 12;
        int per = args.length > 3 ? Integer.parseInt(args[3]) : 100;
        Thread side = new Thread(StallProbe::work, "stall-probe");
        side.setDaemon(true);
        side.start();
        ReversalTask data = new ReversalTask(ReversalTask.Shape.DEFAULT, 7);
        MultiLayerNetwork net = StepCpu.trained(data, 1000);
        Map<String, List<Long>> times = new LinkedHashMap<>();
        Map<String, long[]> sideBy = new LinkedHashMap<>();
        long step = 0;
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < modes.length; m++) {
                String mode = modes[(m + r) % modes.length];
                int every;
                long piece;
                if (mode.equals("none") || mode.equals("burn")) {
                    every = mode.equals("none") ? 0 : 1;
                    piece = 0;
                } else if (mode.matches("yield\\d+")) {
                    every = 1;
                    piece = Long.parseLong(mode.substring(5)) * 1000;
                } else if (mode.matches("b\\d+y\\d+")) {
                    every = Integer.parseInt(mode.substring(1, mode.indexOf('y')));
                    piece = Long.parseLong(mode.substring(mode.indexOf('y') + 1)) * 1000;
                } else {
                    throw new IllegalArgumentException("unknown mode " + mode + ": none, burn, yield<us> or b<k>y<us>");
                }
                long wall0 = SIDE_WALL.get();
                long runs0 = SIDE_RUNS.get();
                for (int i = 0; i < per; i++) {
                    DataSet ds = data.next();
                    long t0 = System.nanoTime();
                    net.fit(ds);
                    times.computeIfAbsent(mode, k -> new ArrayList<>()).add(System.nanoTime() - t0);
                    if (every > 0 && ++step % every == 0) {
                        burnNanos = (long) (msPerStep * every * 1e6);
                        pieceNanos = piece;
                        WORK.release();
                    }
                }
                Thread.sleep(50);                       // the last wake's work ends before the next mode
                sideBy.merge(mode, new long[] {SIDE_WALL.get() - wall0, SIDE_RUNS.get() - runs0},
                        (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
            }
        }
        if (!times.containsKey("none")) {
            throw new IllegalArgumentException("MODES needs none, the reference");
        }
        double noneMedian = OverheadBenchmark.median(times.get("none"));
        double noneRest = OverheadBenchmark.median(under(times.get("none"), 2 * noneMedian));
        for (Map.Entry<String, List<Long>> e : times.entrySet()) {
            List<Long> v = e.getValue();
            double median = OverheadBenchmark.median(v);
            List<Long> rest = under(v, 2 * noneMedian);
            long[] s = sideBy.get(e.getKey());
            System.out.printf(Locale.ROOT, "%-9s median %.2f ms (%.3fx), mean %.1f ms, over twice none's median "
                    + "%.1f%%, median of the rest %.2f ms (%+.1f%%)%s%n", e.getKey(), median / 1e6,
                    median / noneMedian, v.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6,
                    100.0 * (v.size() - rest.size()) / v.size(), OverheadBenchmark.median(rest) / 1e6,
                    100 * (OverheadBenchmark.median(rest) / noneRest - 1),
                    s[1] == 0 ? "" : String.format(Locale.ROOT, "; second thread %.2f ms of wall time per wake",
                            s[0] / 1e6 / s[1]));
        }
    }

    private static List<Long> under(List<Long> v, double limit) {
        return v.stream().filter(x -> x <= limit).toList();
    }

    /** The second thread: per release, burnNanos of its own CPU time, yielding after every pieceNanos of it. */
    private static void work() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] buf = new double[256];
        while (true) {
            try {
                WORK.acquire();
            } catch (InterruptedException e) {
                return;
            }
            long wall = System.nanoTime();
            long start = threads.getCurrentThreadCpuTime();
            long goal = burnNanos;
            long piece = pieceNanos;
            long next = piece;
            double s = 0;
            for (long used; (used = threads.getCurrentThreadCpuTime() - start) < goal; ) {
                for (int i = 0; i < buf.length; i++) {
                    buf[i] = Math.log(1 + i + s * 1e-9);
                    s += buf[i];
                }
                if (piece > 0 && used >= next) {
                    Thread.yield();
                    next = used + piece;
                }
            }
            sink = s;
            SIDE_WALL.addAndGet(System.nanoTime() - wall);
            SIDE_RUNS.incrementAndGet();
        }
    }
}
