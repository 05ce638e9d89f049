package dev.headwatch.dl4j;

import dev.headwatch.core.alert.FiringAlert;

import java.util.List;

/**
 * Thrown out of {@code fit()} by a listener configured to stop training when chosen alerts fire. This
 * is the one exception headwatch lets escape into the training loop, and only when asked to.
 */
public final class HeadwatchStopException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient List<FiringAlert> firing;

    public HeadwatchStopException(long step, List<FiringAlert> firing) {
        super("training stopped at step " + step + " by alerts: " + describe(firing));
        this.firing = List.copyOf(firing);
    }

    /** The alerts that fired when training was stopped (empty after deserialization). */
    public List<FiringAlert> firing() {
        return firing == null ? List.of() : firing;
    }

    private static String describe(List<FiringAlert> firing) {
        StringBuilder sb = new StringBuilder();
        for (FiringAlert f : firing) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(f.alert()).append(" on ").append(f.layer()).append(" head ").append(f.head());
        }
        return sb.toString();
    }
}
