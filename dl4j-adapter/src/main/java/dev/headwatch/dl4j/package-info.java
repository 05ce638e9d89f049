/**
 * The layer-API adapter, for DL4J's {@code MultiLayerNetwork} and {@code ComputationGraph}:
 * {@link dev.headwatch.dl4j.AttentionMonitorListener} (and {@link dev.headwatch.dl4j.AlertTerminationCondition}
 * for early stopping), {@link dev.headwatch.dl4j.AttentionLayers}, which finds the attention layers and copies
 * them into the core's {@link dev.headwatch.core.LayerCapture} (live from a forward pass, or offline on probe
 * data), the per-kind reading of each layer's arrays, and {@link dev.headwatch.dl4j.Counters}. Everything
 * numeric after the copy is the core's.
 */
package dev.headwatch.dl4j;
