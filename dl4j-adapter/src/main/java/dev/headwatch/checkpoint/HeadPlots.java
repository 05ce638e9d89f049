package dev.headwatch.checkpoint;

/**
 * What the HTML report draws for one head. With probe data: the attention matrix A and the energy
 * field E of the first probe sequence ({@code n x n}) and the singular values of E, whose cliff sits at
 * the head dimension. Weight-only: no fields, and the singular values of {@code M_h = tau Wq_h^T Wk_h}.
 * Arrays are held as given; callers must not change them afterwards.
 *
 * @param attention      A, or null
 * @param energy         E, or null
 * @param singularValues descending singular values
 * @param ofEnergy       whether the singular values are those of E (else of M_h)
 */
public record HeadPlots(double[][] attention, double[][] energy, double[] singularValues, boolean ofEnergy) {
    public HeadPlots {
        if (singularValues == null) {
            throw new IllegalArgumentException("singularValues must not be null");
        }
    }
}
