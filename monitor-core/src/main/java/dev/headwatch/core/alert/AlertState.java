package dev.headwatch.core.alert;

/** The transition an {@link AlertEvent} reports. */
public enum AlertState {
    /** The rule's condition has held for {@code persist} consecutive observations. */
    FIRING,
    /**
     * A firing finding on a group of heads (REDUNDANT_HEAD) now names other heads: one joined or left, or
     * groups merged. Not a new firing: the finding goes on, with the heads the event names.
     */
    CHANGED,
    /** A firing rule's condition has not held for {@code persist} consecutive observations. */
    RESOLVED
}
