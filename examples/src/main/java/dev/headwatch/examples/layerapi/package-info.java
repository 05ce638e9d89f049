/**
 * Attention models written with DL4J's layer API ({@code MultiLayerNetwork} and {@code ComputationGraph}):
 * the reversal task of the overhead benchmark and the monitored ComputationGraph example for DL4J users.
 */
package dev.headwatch.examples.layerapi;
