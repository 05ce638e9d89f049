/** The starting point for DL4J users: a ComputationGraph with a SelfAttentionLayer, monitored per head. */
package dev.headwatch.examples.layerapi;
