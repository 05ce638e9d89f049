package dev.headwatch.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.concurrent.ForkJoinPool;

/**
 * {@link ObservationBenchmark#observation} measured in CPU time and bytes allocated on the pool's thread,
 * figures that stay steady on a machine shared with other work, where wall-clock scores do not.
 *
 * <pre>java -cp ... dev.headwatch.benchmarks.ObservationCpu [shape] [observations] [rounds] [captured] [pause] [batch]</pre>
 * prints per round the CPU microseconds and the bytes allocated per observation, after as many untimed
 * observations for warm-up; with {@code captured}, of {@link ObservationBenchmark#captured} (the whole
 * background work, from the copied layers) instead of {@link ObservationBenchmark#observation}. With
 * {@code pause} (milliseconds, 0 by default), the timed rounds sleep that long before each observation, as
 * the monitor's thread waits for the next training step: the CPU a step costs on a core that idled before it.
 * With {@code batch} (1 by default), they sleep before every {@code batch}-th observation instead, as the
 * monitor's thread measures a batch of queued steps per wake.
 */
public final class ObservationCpu {

    private ObservationCpu() {
    }

    public static void main(String[] args) {
        ObservationBenchmark bench = new ObservationBenchmark();
        bench.shape = args.length > 0 ? args[0] : "full-32-16";
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        boolean captured = args.length > 3 && args[3].equals("captured");
        long pause = args.length > 4 ? Long.parseLong(args[4]) : 0;
        int batch = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        bench.setUp();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ForkJoinPool pool = new ForkJoinPool(1);
        try {
            pool.submit(() -> run(bench, count, captured, 0, 1)).join();   // warm-up
            for (int r = 0; r < rounds; r++) {
                long[] used = pool.submit(() -> {
                    long cpu = threads.getCurrentThreadCpuTime();
                    long bytes = threads.getCurrentThreadAllocatedBytes();
                    run(bench, count, captured, pause, batch);
                    return new long[] {threads.getCurrentThreadCpuTime() - cpu,
                            threads.getCurrentThreadAllocatedBytes() - bytes};
                }).join();
                String paused = pause == 0 ? "" : " pause " + pause + " ms" + (batch > 1 ? " per " + batch : "");
                System.out.printf("%s%s%s cpu %.1f us/observation, allocated %d bytes/observation%n", bench.shape,
                        captured ? " captured" : "", paused, used[0] / 1e3 / count, used[1] / count);
            }
        } finally {
            pool.shutdown();
            bench.tearDown();
        }
    }

    private static void run(ObservationBenchmark bench, int count, boolean captured, long pause, int batch) {
        for (int i = 0; i < count; i++) {
            if (pause > 0 && i % batch == 0) {
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (captured) {
                bench.fromCaptures();
            } else {
                bench.work();
            }
        }
    }
}
