package dev.headwatch.spark;

import dev.headwatch.core.MonitorSettings;

import java.io.Serial;
import java.io.Serializable;
import java.util.List;

/**
 * The options of the monitor that each worker builds, as plain serializable values (predicates and sinks
 * do not travel): see {@link MonitorSettings} for their meaning.
 *
 * @param layers the observed layers; empty for all
 * @param heads  the observed head indices; empty for all
 */
record WorkerSettings(int every, int maxSequences, List<String> layers, List<Integer> heads, long seed)
        implements Serializable {

    @Serial
    private static final long serialVersionUID = 1L;

    WorkerSettings {
        layers = List.copyOf(layers);
        heads = List.copyOf(heads);
    }

    static WorkerSettings defaults() {
        return new WorkerSettings(1, MonitorSettings.DEFAULT_MAX_SEQUENCES, List.of(), List.of(), 0);
    }

    /** Sets these options on a worker's builder. */
    <B extends MonitorSettings<B>> B apply(B builder) {
        builder.every(every).maxSequences(maxSequences).seed(seed);
        if (!layers.isEmpty()) {
            builder.layers(layers.toArray(String[]::new));
        }
        if (!heads.isEmpty()) {
            builder.heads(heads.stream().mapToInt(Integer::intValue).toArray());
        }
        return builder;
    }
}
