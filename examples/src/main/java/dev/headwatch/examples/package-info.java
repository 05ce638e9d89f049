/**
 * Runnable examples, added to the {@code ./headwatch} command line by
 * {@link dev.headwatch.examples.ExampleSubcommands}: the demo, the papers' reproductions and the benchmarks.
 */
package dev.headwatch.examples;
