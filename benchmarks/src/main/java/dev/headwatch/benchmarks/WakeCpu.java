package dev.headwatch.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The CPU time a thread is charged for waking from a wait, with no work of its own: what the monitor's
 * background thread pays per wake on top of its observations. A producer thread computes for
 * {@code gapMillis} between signals (as training does between steps); the waiting thread only waits on a
 * condition and counts. Then the same thread sleeping {@code gapMillis} per wake, and sleeping 1 ms.
 *
 * <pre>java -cp ... dev.headwatch.benchmarks.WakeCpu [wakes] [gapMillis]</pre>
 * prints microseconds of CPU per wake for each way.
 */
public final class WakeCpu {

    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    private static volatile double sink;

    private WakeCpu() {
    }

    public static void main(String[] args) throws InterruptedException {
        int wakes = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        long gapMillis = args.length > 1 ? Long.parseLong(args[1]) : 25;
        System.out.printf(Locale.ROOT, "signalled after %d ms of work beside it: %.1f us CPU per wake%n", gapMillis,
                signalled(wakes, gapMillis) / 1e3);
        System.out.printf(Locale.ROOT, "sleeping %d ms: %.1f us CPU per wake%n", gapMillis,
                slept(wakes, gapMillis) / 1e3);
        System.out.printf(Locale.ROOT, "sleeping 1 ms: %.1f us CPU per wake%n", slept(wakes * 10, 1) / 1e3);
    }

    /** CPU nanoseconds per wake of a thread waiting on a condition that another, busy thread signals. */
    private static double signalled(int wakes, long gapMillis) throws InterruptedException {
        ReentrantLock lock = new ReentrantLock();
        Condition ready = lock.newCondition();
        int[] pending = new int[1];
        long[] cpu = new long[1];
        Thread waiter = new Thread(() -> {
            long start = MX.getCurrentThreadCpuTime();
            for (int seen = 0; seen < wakes; ) {
                lock.lock();
                try {
                    while (pending[0] == 0) {
                        ready.awaitUninterruptibly();
                    }
                    seen += pending[0];
                    pending[0] = 0;
                } finally {
                    lock.unlock();
                }
            }
            cpu[0] = MX.getCurrentThreadCpuTime() - start;
        });
        waiter.start();
        for (int i = 0; i < wakes; i++) {
            busy(gapMillis);
            lock.lock();
            try {
                pending[0]++;
                ready.signal();
            } finally {
                lock.unlock();
            }
        }
        waiter.join();
        return cpu[0] / (double) wakes;
    }

    /** CPU nanoseconds per {@code Thread.sleep(millis)}. */
    private static double slept(int wakes, long millis) throws InterruptedException {
        long start = MX.getCurrentThreadCpuTime();
        for (int i = 0; i < wakes; i++) {
            Thread.sleep(millis);
        }
        return (MX.getCurrentThreadCpuTime() - start) / (double) wakes;
    }

    private static void busy(long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        double x = 0;
        while (System.nanoTime() < end) {
            for (int k = 0; k < 1000; k++) {
                x += Math.sqrt(k + x);
            }
        }
        sink = x;
    }
}
