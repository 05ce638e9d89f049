/** Attention models written with DL4J's layer API ({@code MultiLayerNetwork} and {@code ComputationGraph}). */
package dev.headwatch.examples.layerapi;
