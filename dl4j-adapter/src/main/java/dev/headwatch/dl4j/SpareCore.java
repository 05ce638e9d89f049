package dev.headwatch.dl4j;

import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;

import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether ND4J's CPU backend leaves a core beside its own threads, said once per JVM when a listener first
 * sees training. Where ND4J's threads take every core they spin between operations, and any other thread that
 * wakes, the monitor's among them, stalls training (docs/listeners.md, "Speed: leave the monitor a core").
 */
public final class SpareCore {

    private static final AtomicBoolean ADVISED = new AtomicBoolean();

    private SpareCore() {
    }

    /** Logs {@link #advice} once per JVM, at INFO; says nothing when ND4J cannot be asked. */
    public static void adviseOnce(Logger log) {
        if (ADVISED.getAndSet(true)) {
            return;
        }
        try {
            Environment env = Nd4j.getEnvironment();
            advice(env.isCPU(), env.maxThreads(), Runtime.getRuntime().availableProcessors()).ifPresent(log::info);
        } catch (RuntimeException | LinkageError e) {
            // no backend to ask: nothing to advise
        }
    }

    /**
     * The advice for ND4J's backend ({@code cpu}) running {@code threads} threads on {@code cores} cores: empty
     * when it leaves a core free, on a GPU backend, or on a single core, where there is no thread to spare.
     */
    static Optional<String> advice(boolean cpu, int threads, int cores) {
        if (!cpu || cores < 2 || threads < cores) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "headwatch: ND4J trains with %d threads on %d cores; they spin "
                + "between operations, so any other thread that wakes (the monitor's, the JIT's, the garbage "
                + "collector's) can stall training. OMP_NUM_THREADS=%d leaves a core free (docs/listeners.md)",
                threads, cores, cores - 1));
    }
}
