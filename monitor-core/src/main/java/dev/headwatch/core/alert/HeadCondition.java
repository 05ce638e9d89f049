package dev.headwatch.core.alert;

import dev.headwatch.core.HeadMetrics;

/**
 * A user's condition over one head's metrics at one observation, e.g.
 * {@code m -> m.linearGap() < 0.05}. Comparisons with NaN are false, so an undefined metric does not
 * hold.
 */
@FunctionalInterface
public interface HeadCondition {

    /** Whether the condition holds for this head at this observation. */
    boolean holds(HeadMetrics metrics);
}
