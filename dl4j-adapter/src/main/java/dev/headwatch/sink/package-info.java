/**
 * File sinks for observations: {@link dev.headwatch.sink.JsonLinesSink} (one JSON record per head per
 * observation) and {@link dev.headwatch.sink.CsvSink} (the same columns), both flushed per observation;
 * and {@link dev.headwatch.sink.AlertJsonlSink}, the {@code alerts.jsonl} log of alert events.
 */
package dev.headwatch.sink;
