/**
 * The report of an analysis over one or more checkpoints ({@link dev.headwatch.report.Report}) and its
 * writers: {@code report.json} (METRICS.md field names), {@code metrics.csv} and a self-contained
 * {@code report.html} with charts embedded as PNG. {@link dev.headwatch.report.ReportWriter} writes each
 * file under a temporary name and moves it into place, so a crash never leaves a half report.
 */
package dev.headwatch.report;
