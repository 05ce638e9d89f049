/**
 * The metrics as pure, static, stateless functions over primitive arrays (and {@link dev.headwatch.core.HeadInput}):
 * {@link dev.headwatch.core.math.EnergyField} (logits, attention, energy), {@link dev.headwatch.core.math.Spectrum},
 * {@link dev.headwatch.core.math.KeyIncoherence}, {@link dev.headwatch.core.math.Entropy},
 * {@link dev.headwatch.core.math.Redundancy}, {@link dev.headwatch.core.math.WeightSpectra} and
 * {@link dev.headwatch.core.math.Alignment}. Each javadoc gives the formula, range, degenerate cases and
 * references; METRICS.md is the contract.
 */
package dev.headwatch.core.math;
