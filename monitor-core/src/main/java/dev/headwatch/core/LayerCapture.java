package dev.headwatch.core;

import java.util.List;

/**
 * One attention layer at one step as an adapter copied it out of its framework: per sampled sequence the
 * layer's input, masks and own output, and the layer's weights and layout, all plain Java arrays. It is
 * what crosses from the training thread to the monitor's: it holds no framework object, so the adapter's
 * job ends with the copy. Everything after is the core's ({@link LayerObservation}): the projections to
 * Q, K, V per head, the rebuild of the layer's output that checks the reading ({@code reconstructionError},
 * METRICS.md item 4), the metrics, the alerts and the sinks.
 *
 * <p>The layer computes, per head h and sequence, {@code softmax(tau Q_h K_h^T) V_h} over the visible keys,
 * with {@code Q_h = X_q Wq_h^T}, {@code K_h = X_k Wk_h^T}, {@code V_h = X_v Wv_h^T}, the heads side by side
 * and then multiplied by {@code Wo}. Without {@link Projections} the inputs are the heads themselves, head h
 * in columns {@code h*headSize ..} (one head on the raw input, or per-head Q, K, V computed elsewhere) and
 * the output is the heads side by side. With a {@link Recurrence} the layer is a recurrent attention layer.
 * Which keys a query sees: the visible keys ({@code keyVisible}); with {@code causal}, key j only by queries
 * {@code i >= j}.
 *
 * <p>Arrays are row-major; a sequence's arrays are one row per position. Arrays are referenced, not
 * copied: the adapter hands over its own copies and nobody modifies them afterwards. As a transfer value it
 * compares by the identity of its arrays.
 *
 * @param layer           the layer name used in every output
 * @param heads           number of heads H
 * @param headSize        head dimension
 * @param scale           logit scale tau, NaN for {@code 1/sqrt(headSize)}
 * @param doublePrecision whether the layer computes in float64 (else float32, and the heads are rounded so)
 * @param causal          whether query i sees only keys {@code j <= i}
 * @param projections     the projection weights, or null when the inputs are the heads
 * @param recurrence      the recurrent part, or null
 * @param sequences       the sampled sequences
 */
public record LayerCapture(String layer, int heads, int headSize, double scale, boolean doublePrecision,
                           boolean causal, Projections projections, Recurrence recurrence, List<Sequence> sequences)
        implements LayerData {

    public LayerCapture {
        if (layer == null || sequences == null) {
            throw new IllegalArgumentException("layer and sequences must not be null");
        }
        if (heads < 1 || headSize < 1) {
            throw new IllegalArgumentException("layer " + layer + ": heads (" + heads + ") and headSize (" + headSize
                    + ") must be >= 1");
        }
        if (!(Double.isNaN(scale) || (scale > 0 && Double.isFinite(scale)))) {
            throw new IllegalArgumentException("layer " + layer + ": scale must be positive and finite (or NaN) but was "
                    + scale);
        }
        if (projections != null) {
            projections.check(layer, heads * headSize);
        }
        sequences = List.copyOf(sequences);
    }

    /**
     * The projection weights, row-major: {@code wq [H*headSize, nInQ]} (row {@code h*headSize + r} is row r
     * of head h, DL4J's {@code [H, headSize, nIn]} in C order), {@code wk [H*headSize, nInK]},
     * {@code wv [H*headSize, nInV]} and {@code wo [H*headSize, nOut]}.
     */
    public record Projections(double[] wq, double[] wk, double[] wv, double[] wo) {
        public Projections {
            if (wq == null || wk == null || wv == null || wo == null) {
                throw new IllegalArgumentException("Wq, Wk, Wv and Wo must all be given");
            }
        }

        void check(String layer, int rows) {
            for (double[] w : new double[][] {wq, wk, wv, wo}) {
                if (w.length == 0 || w.length % rows != 0) {
                    throw new IllegalArgumentException("layer " + layer + ": a projection of " + w.length
                            + " values is not [heads * headSize = " + rows + ", *]");
                }
            }
        }
    }

    /**
     * The recurrent part of a recurrent attention layer (DL4J's {@code RecurrentAttentionLayer}): the query
     * at step t is the layer's output at {@code t-1}, and the output is
     * {@code act(x_t W + b + attn_{t-1} R)}, where {@code attn_{t-1}} is the attention output (after
     * {@code Wo}) of query {@code t-1} over the whole input. The first query (row 0 of the output) is
     * the query of step 1, and so on; the last is the query of the step after the sequence.
     *
     * @param inputWeights     {@code W [nIn, nOut]}
     * @param recurrentWeights {@code R [attention width, nOut]}
     * @param bias             {@code b [nOut]}, or null
     * @param activation       the element-wise activation, or null when it is not one the core rebuilds (then
     *                         the layer's heads are measured but {@code reconstructionError} is NaN)
     * @param alpha            the activation's parameter ({@link Nonlinearity#LEAKY_RELU}, {@link Nonlinearity#ELU})
     */
    public record Recurrence(double[] inputWeights, double[] recurrentWeights, double[] bias, Nonlinearity activation,
                             double alpha) {
        public Recurrence {
            if (inputWeights == null || recurrentWeights == null) {
                throw new IllegalArgumentException("a recurrence needs its input and recurrent weights");
            }
        }
    }

    /** The element-wise activations the core applies when it rebuilds a recurrent layer's output. */
    public enum Nonlinearity {
        IDENTITY, TANH, SIGMOID, RELU, LEAKY_RELU, ELU, SOFTSIGN, SOFTPLUS, CUBE, HARDTANH;

        /** The activation of x. */
        public double apply(double x, double alpha) {
            return switch (this) {
                case IDENTITY -> x;
                case TANH -> Math.tanh(x);
                case SIGMOID -> 1 / (1 + Math.exp(-x));
                case RELU -> Math.max(0, x);
                case LEAKY_RELU -> x > 0 ? x : alpha * x;
                case ELU -> x > 0 ? x : alpha * Math.expm1(x);
                case SOFTSIGN -> x / (1 + Math.abs(x));
                case SOFTPLUS -> Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
                case CUBE -> x * x * x;
                case HARDTANH -> Math.max(-1, Math.min(1, x));
            };
        }
    }

    /**
     * One sampled sequence, one row per position: {@code queries [Tq, nInQ]}, {@code keys [Tk, nInK]},
     * {@code values [Tk, nInV]} (the same array may serve twice: self-attention passes one input) and the
     * layer's own {@code output [Tq, nOut]}. A recurrent layer reads its input from {@code queries} (and
     * keys, values) and its queries from {@code output}.
     *
     * @param queryPositions Tq
     * @param queries        the query input
     * @param keyPositions   Tk
     * @param keys           the key input
     * @param values         the value input, or null (no values: no {@code linearGap}, no rebuild)
     * @param output         the layer's output, or null (no rebuild)
     * @param queryVisible   which query positions exist (the others are padding), or null for all
     * @param keyVisible     which key positions are visible, or null for all
     */
    public record Sequence(int queryPositions, double[] queries, int keyPositions, double[] keys, double[] values,
                           double[] output, boolean[] queryVisible, boolean[] keyVisible) {
        public Sequence {
            if (queries == null || keys == null) {
                throw new IllegalArgumentException("queries and keys must not be null");
            }
            if (queryPositions < 1 || keyPositions < 1 || queries.length % queryPositions != 0
                    || keys.length % keyPositions != 0 || (values != null && values.length % keyPositions != 0)
                    || (output != null && output.length % queryPositions != 0)) {
                throw new IllegalArgumentException("a sequence of " + queryPositions + " queries and " + keyPositions
                        + " keys cannot hold " + queries.length + " query, " + keys.length + " key, "
                        + (values == null ? 0 : values.length) + " value and " + (output == null ? 0 : output.length)
                        + " output values");
            }
            if ((queryVisible != null && queryVisible.length != queryPositions)
                    || (keyVisible != null && keyVisible.length != keyPositions)) {
                throw new IllegalArgumentException("masks of " + (queryVisible == null ? "-" : queryVisible.length)
                        + " queries and " + (keyVisible == null ? "-" : keyVisible.length) + " keys for a sequence of "
                        + queryPositions + " queries and " + keyPositions + " keys");
            }
        }
    }
}
