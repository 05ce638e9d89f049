package dev.headwatch.core;

/**
 * Where the monitor's background thread may let other threads run, between the pieces of an observation: before
 * each head's rebuild, its {@code qkSpectralNorm}, its metrics, each block of head pairs. It yields at such a
 * point once it has worked {@link #PIECE_NANOS} since the step started or it last yielded. ND4J's CPU backend
 * runs as many threads as there are cores and they spin between operations; one of theirs that the background
 * thread displaced waits for a piece, not for a batch of observations, and training stalls less often
 * (docs/performance.md, "A background thread that yields while it keeps up"). Yielding slows the background
 * thread down, so it yields only while it keeps up with training ({@code Monitor.keepsUp}); on any other thread
 * (the training thread with {@code background(false)}, offline analysis) it does nothing.
 */
final class YieldPoint {

    /**
     * The least work between two yields, so that the number of yields follows the work, not the number of heads
     * (each head's rebuild and {@code qkSpectralNorm} take about 10 us at the bench's shapes). Pieces of 50 us
     * took most of ND4J's stalls away in {@code StallProbe} and kept the bench's step ratio near or under 1.0x;
     * pieces of 100 us cost no less CPU in the bench (docs/performance.md).
     */
    static final long PIECE_NANOS = 50_000;

    private YieldPoint() {
    }

    /**
     * Yields when this is the monitor's background thread, it keeps up, and it has worked a piece since the step
     * started or it last yielded; says whether it did.
     */
    static boolean pass() {
        Monitor.BackgroundThread t = yielding();
        if (t != null && System.nanoTime() - t.pieceStarted >= PIECE_NANOS) {
            Thread.yield();
            t.pieceStarted = System.nanoTime();
            return true;
        }
        return false;
    }

    /** Whether {@link #pass()} may yield on this thread: the monitor's background thread, while it keeps up. */
    static boolean yieldsHere() {
        return yielding() != null;
    }

    /** This thread when it is the monitor's background thread and keeps up, else null. */
    private static Monitor.BackgroundThread yielding() {
        return Thread.currentThread() instanceof Monitor.BackgroundThread t && t.yields ? t : null;
    }
}
