package dev.headwatch.core.alert;

import dev.headwatch.core.HeadField;

/**
 * A rule the user writes: a {@link HeadCondition} under a name, with the field its events report.
 * It fires and resolves with the same {@code persist} as the built-in rules.
 *
 * @param name      the alert name in events (letters, digits and '_'; not a built-in name)
 * @param severity  the severity of its events
 * @param field     the field whose value the events report
 * @param threshold the bound reported in events (NaN when the condition has none)
 * @param condition when the rule holds
 * @param advice    what the condition means and what usually helps (may be empty)
 */
public record UserRule(String name, Severity severity, HeadField field, double threshold,
                       HeadCondition condition, String advice) {

    public UserRule {
        if (name == null || !name.matches("[A-Za-z0-9_]+")) {
            throw new IllegalArgumentException("rule name must be letters, digits and '_' but was '" + name + "'");
        }
        for (Alert a : Alert.values()) {
            if (a.name().equals(name)) {
                throw new IllegalArgumentException("rule name '" + name + "' is a built-in alert");
            }
        }
        if (severity == null || field == null || condition == null) {
            throw new IllegalArgumentException("severity, field and condition of rule '" + name
                    + "' must not be null");
        }
        advice = advice == null ? "" : advice;
    }

    /** A WARNING rule that holds while {@code field > threshold}. */
    public static UserRule above(String name, HeadField field, double threshold) {
        return new UserRule(name, Severity.WARNING, field, threshold, m -> m.get(field) > threshold, "");
    }

    /** A WARNING rule that holds while {@code field < threshold}. */
    public static UserRule below(String name, HeadField field, double threshold) {
        return new UserRule(name, Severity.WARNING, field, threshold, m -> m.get(field) < threshold, "");
    }
}
