package dev.headwatch.core;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Where a factorisation that does not converge ends: the fields it feeds are undefined (null in every
 * output), the case is counted where the caller says ({@link HeadMetrics#nonConverged()}, summed into
 * {@link MonitorStats#nonConverged()}), the first case in the JVM is logged, and the rest of the step stands.
 * Never expected on finite inputs that do not overflow.
 */
final class NonConvergence {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NonConvergence.class);
    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    private NonConvergence() {
    }

    /**
     * The factorisation's result, or null when it throws (its way of reporting non-convergence), after
     * {@code counted} has run.
     */
    static <T> T orNull(Supplier<T> factorisation, String what, Runnable counted) {
        try {
            return factorisation.get();
        } catch (RuntimeException ex) {
            counted.run();
            if (!LOGGED.getAndSet(true)) {
                LOG.warn("headwatch: the {} failed and is left undefined ({}); later cases are counted only", what,
                        ex.toString());
            }
            return null;
        }
    }
}
