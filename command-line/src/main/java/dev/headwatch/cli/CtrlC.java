package dev.headwatch.cli;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import sun.misc.Signal;

/**
 * Ctrl-C as a request to stop: the first one sets a flag that long commands check between steps (they stop
 * there, flush what they wrote, write their report and exit with {@link #EXIT_CODE}); a second one ends the
 * JVM at once, as Ctrl-C normally does. Where the JVM offers no signal handling, Ctrl-C keeps its usual
 * meaning and the flag stays false.
 */
public final class CtrlC implements BooleanSupplier {

    /** The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
    public static final int EXIT_CODE = 130;

    private final AtomicBoolean requested = new AtomicBoolean();

    private CtrlC() {
    }

    /**
     * Starts listening for Ctrl-C; {@code onFirst} runs (on the signal thread) when it first comes, e.g. to
     * say that the command is stopping.
     */
    public static CtrlC listen(Runnable onFirst) {
        CtrlC c = new CtrlC();
        try {
            Signal interrupt = new Signal("INT");
            Signal.handle(interrupt, s -> {
                if (c.requested.compareAndSet(false, true)) {
                    onFirst.run();
                    Signal.handle(interrupt, sig -> System.exit(EXIT_CODE));
                }
            });
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            // No SIGINT to handle here (or no sun.misc): the default behaviour stays.
        }
        return c;
    }

    /** True once Ctrl-C was pressed. */
    @Override
    public boolean getAsBoolean() {
        return requested.get();
    }
}
