package dev.headwatch.core.sink;

import dev.headwatch.core.Observation;

/**
 * Where observations go (SLF4J, JSON Lines, CSV, TensorBoard, Prometheus, ...). One method, called once
 * per observation in step order from a single thread. Implementations may throw: the caller logs the
 * failure once, counts it and disables the sink after repeated failures, so nothing a sink throws
 * reaches the training loop.
 */
public interface ObservationSink extends AutoCloseable {

    /** Writes one observation; an implementation that buffers flushes before returning. */
    void write(Observation observation) throws Exception;

    /** Releases the sink's resources; the default does nothing. */
    @Override
    default void close() throws Exception {
    }
}
