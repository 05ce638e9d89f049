/**
 * Runnable examples and the {@code ./headwatch} launcher's main class,
 * {@link dev.headwatch.examples.HeadwatchMain}, which registers this module's subcommands.
 */
package dev.headwatch.examples;
