/**
 * Live monitoring of DL4J {@code MultiLayerNetwork} and {@code ComputationGraph} attention layers:
 * {@link dev.headwatch.dl4j.AttentionMonitorListener} and the extraction it shares with offline
 * analysis, {@link dev.headwatch.dl4j.AttentionExtractor}.
 */
package dev.headwatch.dl4j;
