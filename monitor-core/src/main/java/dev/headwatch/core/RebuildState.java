package dev.headwatch.core;

import java.util.HashMap;
import java.util.Map;

/**
 * What a {@link Monitor} keeps from one observation to the next for {@link LayerRebuild}: per layer, each
 * head's top eigenvector of {@code qkSpectralNorm}'s eigenproblem, the warm start of the next observation's
 * (weights move little per step). Only the thread that processes the monitor's steps touches it, and nothing
 * in it is handed out. A vector that does not fit (another layer of the same name, a new shape) only costs the
 * full solve: every value is proven or solved afresh.
 */
final class RebuildState {

    private final Map<String, double[][]> vectors = new HashMap<>();

    /** The layer's vectors, {@code [heads][hs]}, all zero when the layer is new or changed shape. */
    double[][] eigenvectors(String layer, int heads, int hs) {
        double[][] v = vectors.get(layer);
        if (v == null || v.length != heads || v[0].length != hs) {
            v = new double[heads][hs];
            vectors.put(layer, v);
        }
        return v;
    }
}
