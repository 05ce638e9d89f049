/**
 * The report files of a {@link dev.headwatch.checkpoint.CheckpointAnalysis}: {@code report.json} (METRICS.md
 * field names), {@code metrics.csv} and a self-contained {@code report.html} (verdict first, charts embedded
 * as PNG, no script). {@link dev.headwatch.report.ReportWriter} writes each file under a temporary name and
 * moves it into place, so a crash never leaves a half report.
 */
package dev.headwatch.report;
