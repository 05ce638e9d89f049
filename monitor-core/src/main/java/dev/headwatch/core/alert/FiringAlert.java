package dev.headwatch.core.alert;

import java.time.Instant;

/**
 * A rule firing on a head now, as returned by {@link AlertEngine#firing()}.
 *
 * @param alert     the rule's name
 * @param severity  the rule's severity
 * @param layer     the layer or vertex name
 * @param head      the head index (of a pair, the lower one)
 * @param sinceStep the step at which it fired
 * @param since     when it fired (engine clock)
 * @param value     the watched value at the latest observation of the head (NaN when undefined)
 * @param threshold the bound it was compared with at that observation (NaN when none)
 * @param partner   the other head of a finding on a pair of heads (REDUNDANT_HEAD), else -1
 */
public record FiringAlert(String alert, Severity severity, String layer, int head, long sinceStep,
                          Instant since, double value, double threshold, int partner) {
}
