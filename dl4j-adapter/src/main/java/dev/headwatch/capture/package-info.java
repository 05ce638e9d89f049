/**
 * The copy that ends an adapter's work: {@link dev.headwatch.capture.ArrayCopies} reads the arrays DL4J and
 * SameDiff hand to listeners (layer inputs, outputs, masks, weights) into the plain Java arrays of the core's
 * {@link dev.headwatch.core.LayerCapture}, on the training thread, without an ND4J op and outside any
 * workspace. Shared by the layer-API and the SameDiff adapters and by checkpoint analysis.
 */
package dev.headwatch.capture;
