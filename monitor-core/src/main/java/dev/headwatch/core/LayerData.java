package dev.headwatch.core;

/**
 * What a {@link Monitor} accepts for one layer at one step: a {@link LayerCapture} as an adapter copied it
 * (the core rebuilds the heads), or a {@link LayerInput} whose heads were computed elsewhere.
 */
public sealed interface LayerData permits LayerCapture, LayerInput {

    /** The layer name. */
    String layer();
}
