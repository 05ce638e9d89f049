package dev.headwatch.core;

/**
 * Every per-head metric of METRICS.md items 1-11 for one head on one sequence.
 *
 * <p>Cost: one {@code n x n x d} logit product (BLAS, in the input precision), one pass over the
 * logits, and for FULL/PADDED heads {@code O(n d^2 + d^3)} for the spectrum and key coherence; a
 * CAUSAL head's spectrum is a dense {@code O(n^3)} SVD (the mask breaks the low-rank structure).
 * {@link HeadField#RECONSTRUCTION_ERROR}, {@link HeadField#MAX_REDUNDANCY} and
 * {@link HeadField#REDUNDANCY_PARTNER} are NaN here (adapters and {@link LayerAnalysis} fill them).
 *
 * <p>A PADDED head is measured as a FULL head on its first {@code len} positions: {@code len} takes
 * the place of n in every formula, including the tolerance {@code max(len, d) eps} of
 * {@code numericalRank}. Logits are formed in the input precision (so float32 rounding shows in
 * {@code zeroSumResidual}); everything after them is computed in float64, with eps the input's unit
 * roundoff.
 */
public final class HeadAnalysis {

    private HeadAnalysis() {
    }

    /**
     * Measures one head. Undefined values are NaN; NaN or infinite inputs give NaN metrics, never an
     * exception. The input arrays are not modified.
     */
    public static HeadMetrics compute(HeadInput input) {
        return HeadPass.run(input, false).metrics.build();
    }

}
