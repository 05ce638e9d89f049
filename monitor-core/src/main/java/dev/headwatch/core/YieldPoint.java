package dev.headwatch.core;

/**
 * Where the monitor's background thread lets other threads run, between the pieces of an observation: each
 * head's rebuild, its {@code qkSpectralNorm}, its metrics, each block of head pairs (tens of microseconds to
 * about a tenth of a millisecond at the bench's shapes). ND4J's CPU backend runs as many threads as there are
 * cores and they spin between operations; one of theirs that the background thread displaced waits for a
 * piece, not for a batch of observations (docs/performance.md, "A background thread that yields while it keeps
 * up"). Yielding slows the background thread down, so it yields only while it keeps up with training (see
 * {@code Monitor.keepsUp}); on any other thread (the training thread with {@code background(false)}, offline
 * analysis) it does nothing.
 */
final class YieldPoint {

    private YieldPoint() {
    }

    static void pass() {
        if (yieldsHere()) {
            Thread.yield();
        }
    }

    /** Whether {@link #pass()} yields on this thread: the monitor's background thread, while it keeps up. */
    static boolean yieldsHere() {
        return Thread.currentThread() instanceof Monitor.BackgroundThread t && t.yields;
    }
}
