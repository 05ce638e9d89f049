package dev.headwatch.core.alert;

/** How urgent an alert is. */
public enum Severity {
    /** Worth knowing; often harmless (a redundant head, a new sink). */
    INFO,
    /** The head is degenerate or heading there; training quality may suffer. */
    WARNING,
    /** The numbers themselves are broken (NaN, or headwatch misreads the layer). */
    CRITICAL
}
