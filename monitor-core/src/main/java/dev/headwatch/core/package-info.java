/**
 * The framework-free pipeline and its values: what an adapter copies out of one attention layer
 * ({@link dev.headwatch.core.LayerCapture}), its reading into the inputs of each head
 * ({@link dev.headwatch.core.HeadInput}, {@link dev.headwatch.core.LayerInput}) with the rebuild check, the
 * per-layer analysis ({@link dev.headwatch.core.LayerObservation}, {@link dev.headwatch.core.LayerAnalysis}),
 * the metrics ({@link dev.headwatch.core.HeadMetrics}, fields named by {@link dev.headwatch.core.HeadField};
 * weight-only ones by {@link dev.headwatch.core.WeightAnalysis}), the {@link dev.headwatch.core.Monitor} that runs
 * it all off the training thread, and what one training step produced ({@link dev.headwatch.core.Observation}).
 */
package dev.headwatch.core;
