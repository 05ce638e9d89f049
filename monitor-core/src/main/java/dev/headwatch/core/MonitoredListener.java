package dev.headwatch.core;

/**
 * A training listener that feeds a {@link Monitor}: what every framework adapter offers its users on top of
 * the framework's own listener interface, written once.
 */
public interface MonitoredListener extends AutoCloseable {

    /** The underlying pipeline. */
    Monitor monitor();

    /** The counters of the underlying monitor (observations, dropped, sink failures). */
    default MonitorStats stats() {
        return monitor().stats();
    }

    /** The stop signal shared with alert rules. */
    default StopSignal stopSignal() {
        return monitor().stopSignal();
    }

    /** Finishes the queued observations and closes the sinks. */
    @Override
    default void close() {
        monitor().close();
    }
}
