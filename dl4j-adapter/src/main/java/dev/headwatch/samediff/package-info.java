/**
 * The SameDiff adapter: {@link dev.headwatch.samediff.SameDiffAttentionListener} finds fused attention ops by
 * itself, and hand-written attention by its shape ({@link dev.headwatch.samediff.AttentionPatterns}) or declared
 * with {@link dev.headwatch.samediff.AttentionVariables}; {@link dev.headwatch.samediff.SameDiffCapture} copies
 * them into the core's {@link dev.headwatch.core.LayerCapture}, live and for checkpoint analysis.
 */
package dev.headwatch.samediff;
