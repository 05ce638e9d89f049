/** Benchmarks run from the command line ({@code ./headwatch bench ...}). */
package dev.headwatch.examples.bench;
