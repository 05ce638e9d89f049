/**
 * File sinks for observations: {@link dev.headwatch.sink.JsonLinesSink} (one JSON record per head per
 * observation) and {@link dev.headwatch.sink.CsvSink} (the same columns), both flushed per observation.
 */
package dev.headwatch.sink;
