package dev.headwatch.samediff;

import dev.headwatch.core.Visibility;

/**
 * The SameDiff variables of one hand-written attention layer, for
 * {@link SameDiffAttentionListener.Builder#declare(AttentionVariables)}:
 * <pre>{@code
 * AttentionVariables.of("block0", "q0", "k0", "v0").heads(4).causal().output("att0")
 * }</pre>
 *
 * <p>Accepted layouts of q, k, v (and output), read from each array's rank:
 * <ul>
 *   <li>rank 4: {@code [mb, heads, T, headSize]} (after the usual reshape and permute);</li>
 *   <li>rank 3: {@code [mb, T, heads * headSize]}, head h in columns {@code h*headSize ..}; give
 *       {@link #heads(int)} (default 1).</li>
 * </ul>
 * The optional {@code output} variable is the attention result before the output projection,
 * {@code softmax(tau q k^T) v} per head, in the same layout; with it, {@code reconstructionError} is
 * reported. Values are optional ({@code v} may be null): without them {@code linearGap} and
 * {@code reconstructionError} are NaN. The scale defaults to {@code 1/sqrt(headSize)}.
 *
 * @param layer      the name used in every output
 * @param q          query variable
 * @param k          key variable
 * @param v          value variable, or null
 * @param heads      heads in a rank-3 layout
 * @param visibility which keys each query sees (FULL, CAUSAL, PADDED(len))
 * @param output     attention output variable before the output projection, or null
 * @param scale      logit scale, NaN for {@code 1/sqrt(headSize)}
 */
public record AttentionVariables(String layer, String q, String k, String v, int heads, Visibility visibility,
                                 String output, double scale) {

    public AttentionVariables {
        if (layer == null || q == null || k == null) {
            throw new IllegalArgumentException("layer, q and k must be named but were layer=" + layer
                    + ", q=" + q + ", k=" + k);
        }
        if (heads < 1) {
            throw new IllegalArgumentException("heads must be >= 1 but was " + heads + " (layer " + layer + ")");
        }
        if (visibility == null) {
            throw new IllegalArgumentException("visibility must not be null (layer " + layer + ")");
        }
        if (!(Double.isNaN(scale) || (scale > 0 && Double.isFinite(scale)))) {
            throw new IllegalArgumentException("scale must be positive and finite (or NaN) but was " + scale
                    + " (layer " + layer + ")");
        }
    }

    /** Layer {@code layer} with queries, keys and values (v may be null); one head, FULL, default scale. */
    public static AttentionVariables of(String layer, String q, String k, String v) {
        return new AttentionVariables(layer, q, k, v, 1, Visibility.FULL, null, Double.NaN);
    }

    /** The number of heads packed in a rank-3 {@code [mb, T, heads*headSize]} layout. */
    public AttentionVariables heads(int n) {
        return new AttentionVariables(layer, q, k, v, n, visibility, output, scale);
    }

    /** Which keys each query sees. */
    public AttentionVariables visibility(Visibility vis) {
        return new AttentionVariables(layer, q, k, v, heads, vis, output, scale);
    }

    /** Causal: query i sees keys j &lt;= i. */
    public AttentionVariables causal() {
        return visibility(Visibility.CAUSAL);
    }

    /** The attention output before the output projection, for {@code reconstructionError}. */
    public AttentionVariables output(String variable) {
        return new AttentionVariables(layer, q, k, v, heads, visibility, variable, scale);
    }

    /** The logit scale, when it is not {@code 1/sqrt(headSize)}. */
    public AttentionVariables scale(double tau) {
        return new AttentionVariables(layer, q, k, v, heads, visibility, output, tau);
    }
}
