/**
 * Live monitoring of SameDiff models: {@link dev.headwatch.samediff.SameDiffAttentionListener} finds fused
 * attention ops by itself and reads hand-written attention declared with
 * {@link dev.headwatch.samediff.AttentionVariables}.
 */
package dev.headwatch.samediff;
