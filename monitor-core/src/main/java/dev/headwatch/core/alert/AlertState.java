package dev.headwatch.core.alert;

/** The transition an {@link AlertEvent} reports. */
public enum AlertState {
    /** The rule's condition has held for {@code persist} consecutive observations. */
    FIRING,
    /** A firing rule's condition has not held for {@code persist} consecutive observations. */
    RESOLVED
}
