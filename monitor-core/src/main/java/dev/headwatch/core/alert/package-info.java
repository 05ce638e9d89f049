/**
 * Alerts on degenerate heads: the rules of the METRICS.md alert table and user rules
 * ({@link dev.headwatch.core.alert.AlertConfig}), evaluated per head by a stateful
 * {@link dev.headwatch.core.alert.AlertEngine} that emits {@link dev.headwatch.core.alert.AlertEvent}s
 * when a rule starts or stops holding, and exposes what fires now.
 */
package dev.headwatch.core.alert;
