/**
 * Where observations go, with no library beyond SLF4J and ND4J: the {@link dev.headwatch.core.sink.ObservationSink}
 * interface (one method), a one-line-per-observation SLF4J summary, JSON Lines and CSV files (one record per head
 * per observation, flushed per observation), TensorBoard event files, and {@code alerts.jsonl}, the log of alert
 * events.
 */
package dev.headwatch.core.sink;
