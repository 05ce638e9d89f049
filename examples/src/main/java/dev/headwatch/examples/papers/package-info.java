/**
 * The four papers behind the metrics, each reproduced at small scale with the monitor-core metrics:
 * {@code ./headwatch example <name>} writes a PNG plot and ends with a {@code RESULT <name> key=value ...} line.
 */
package dev.headwatch.examples.papers;
