package dev.headwatch.core.alert;

import java.time.Instant;
import java.util.List;

/**
 * A rule firing now, as returned by {@link AlertEngine#firing()}.
 *
 * @param alert     the rule's name
 * @param severity  the rule's severity
 * @param layer     the layer or vertex name
 * @param heads     the heads the finding names, ascending: one head, or a group of redundant heads (REDUNDANT_HEAD)
 * @param sinceStep the step at which it fired
 * @param since     when it fired (engine clock)
 * @param value     the watched value at the latest observation of the head (NaN when undefined); of a group,
 *                  the energy correlation of its most redundant firing pair
 * @param threshold the bound it was compared with at that observation (NaN when none)
 */
public record FiringAlert(String alert, Severity severity, String layer, List<Integer> heads, long sinceStep,
                          Instant since, double value, double threshold) {

    public FiringAlert {
        heads = List.copyOf(heads);
    }

    /** The finding's lowest head (its only one, unless it names a group). */
    public int head() {
        return heads.get(0);
    }
}
