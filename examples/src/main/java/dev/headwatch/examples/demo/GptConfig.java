package dev.headwatch.examples.demo;

/**
 * Shape of the demo transformer.
 *
 * @param layers  number of transformer blocks
 * @param heads   attention heads per block
 * @param dModel  width of the residual stream (a multiple of {@code heads})
 * @param context sequence length the graph is built for
 * @param vocab   number of token ids
 */
public record GptConfig(int layers, int heads, int dModel, int context, int vocab) {

    public GptConfig {
        if (layers < 1) {
            throw new IllegalArgumentException("layers must be >= 1 but was " + layers);
        }
        if (heads < 1) {
            throw new IllegalArgumentException("heads must be >= 1 but was " + heads);
        }
        if (dModel < 1 || dModel % heads != 0) {
            throw new IllegalArgumentException("dModel " + dModel + " must be a positive multiple of heads " + heads);
        }
        if (context < 2) {
            throw new IllegalArgumentException("context must be >= 2 but was " + context);
        }
        if (vocab < 2) {
            throw new IllegalArgumentException("vocab must be >= 2 but was " + vocab);
        }
    }

    /** Per-head dimension. */
    public int headDim() {
        return dModel / heads;
    }

    /** The same model built for another sequence length (the weights do not depend on it). */
    public GptConfig withContext(int newContext) {
        return new GptConfig(layers, heads, dModel, newContext, vocab);
    }
}
