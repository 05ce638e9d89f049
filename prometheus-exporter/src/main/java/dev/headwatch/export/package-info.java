/**
 * Exporters to the monitoring stacks teams already run: a Prometheus {@code /metrics} endpoint
 * ({@link dev.headwatch.export.PrometheusExporter}) and Prometheus alerting rules equivalent to the
 * alert engine's configuration. The TensorBoard event-file sink needs only ND4J and lives in
 * {@code dev.headwatch.core.sink}.
 */
package dev.headwatch.export;
