package dev.headwatch.core;

/**
 * Where the monitor's background thread lets other threads run, between the pieces of an observation: each
 * head's rebuild, its {@code qkSpectralNorm}, its metrics, each block of head pairs (tens of microseconds to
 * about a tenth of a millisecond at the bench's shapes). ND4J's CPU backend runs as many threads as there are
 * cores and they spin between operations; one of theirs that the background thread displaced waits for a
 * piece, not for a batch of observations. On the 2-core machine it also took away about a quarter of ND4J's own
 * stalls (docs/performance.md, "The background thread yields between heads"). On any other thread (the
 * training thread with {@code background(false)}, offline analysis) it does nothing.
 */
final class YieldPoint {

    private YieldPoint() {
    }

    static void pass() {
        if (Thread.currentThread() instanceof Monitor.BackgroundThread) {
            Thread.yield();
        }
    }
}
