package dev.headwatch.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link Monitor} keeps from one observation to the next for {@link LayerRebuild}: per layer, each
 * head's top eigenvector of {@code qkSpectralNorm}'s eigenproblem, the warm start of the next observation's
 * (weights move little per step), and the arrays of the heads it rebuilt, which the next observation fills
 * again (an observation's heads are done with once its metrics are written). Only the thread that processes the
 * monitor's steps touches it. A vector that does not fit (another layer of the same name, a new shape) only
 * costs the full solve: every value is proven or solved afresh.
 */
final class RebuildState {

    private final Map<String, double[][]> vectors = new HashMap<>();
    /** Per layer and sequence, each head's projected queries, keys and values ({@code [heads][3][]}). */
    private final Map<String, List<double[][][]>> projected = new HashMap<>();

    /** The layer's vectors, {@code [heads][hs]}, all zero when the layer is new or changed shape. */
    double[][] eigenvectors(String layer, int heads, int hs) {
        double[][] v = vectors.get(layer);
        if (v == null || v.length != heads || v[0].length != hs) {
            v = new double[heads][hs];
            vectors.put(layer, v);
        }
        return v;
    }

    /**
     * An array of exactly {@code length} entries for projection {@code which} (0 queries, 1 keys, 2 values) of
     * head h on the layer's sequence: the last observation's when it has that length. The heads an observation
     * rebuilds live until its metrics are written, so the next one can reuse their arrays.
     */
    double[] projectedRoom(String layer, int sequence, int heads, int h, int which, int length) {
        List<double[][][]> sequences = projected.computeIfAbsent(layer, name -> new ArrayList<>());
        while (sequences.size() <= sequence) {
            sequences.add(null);
        }
        double[][][] rooms = sequences.get(sequence);
        if (rooms == null || rooms.length != heads) {
            rooms = new double[heads][3][];
            sequences.set(sequence, rooms);
        }
        if (rooms[h][which] == null || rooms[h][which].length != length) {
            rooms[h][which] = new double[length];
        }
        return rooms[h][which];
    }
}
