package dev.headwatch.core.alert;

/** How urgent an alert is; the promise of each is METRICS.md's ("Degenerate heads: default alert rules"). */
public enum Severity {
    /** A structural fact worth knowing (a redundant pair, an unused head, a new sink); never a reason to stop. */
    INFO,
    /** The run is likely in trouble (attention collapsing under growing logits, logits growing without bound). */
    WARNING,
    /** The numbers themselves are broken (NaN, or an invariant that cannot fail on sound numbers). */
    CRITICAL
}
