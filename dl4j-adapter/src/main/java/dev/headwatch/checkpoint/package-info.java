/**
 * Safe loading and offline analysis of saved models: {@code ModelSerializer} zips (MultiLayerNetwork or
 * ComputationGraph), directories written by DL4J's {@code CheckpointListener}, and SameDiff FlatBuffers
 * files. Nothing here deserializes Java objects from a file: the configuration JSON and the coefficient
 * array are read directly, zip entries are checked for paths that escape the archive and inflated under a
 * size bound. {@link dev.headwatch.checkpoint.CheckpointAnalyzer} captures each checkpoint's attention layers on
 * probe data as the live listeners do and measures them with the core's
 * {@link dev.headwatch.core.LayerObservation}, as a live monitor does; it returns a
 * {@link dev.headwatch.checkpoint.CheckpointAnalysis}: plain values that the command line's reports read.
 */
package dev.headwatch.checkpoint;
