/**
 * Monitoring for DL4J's layer API ({@code MultiLayerNetwork}, {@code ComputationGraph}) and stopping a
 * run on alerts.
 */
package dev.headwatch.dl4j;
