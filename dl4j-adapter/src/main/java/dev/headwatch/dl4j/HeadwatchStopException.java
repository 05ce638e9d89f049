package dev.headwatch.dl4j;

/**
 * Thrown out of {@code fit()} by an {@link AttentionMonitorListener} built with
 * {@code stopOn(engine, alerts...)} once a chosen alert fires. This is the one exception headwatch lets
 * escape into the training loop, and only when asked to.
 */
public final class HeadwatchStopException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long step;

    public HeadwatchStopException(long step, String reason) {
        super("training stopped at step " + step + ": " + reason);
        this.step = step;
    }

    /** The iteration at whose end training was stopped. */
    public long step() {
        return step;
    }
}
