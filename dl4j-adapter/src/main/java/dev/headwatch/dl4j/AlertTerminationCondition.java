package dev.headwatch.dl4j;

import dev.headwatch.core.alert.AlertEngine;
import org.deeplearning4j.earlystopping.termination.IterationTerminationCondition;

/**
 * An {@link IterationTerminationCondition} for DL4J's early-stopping trainers: terminates as soon as
 * one of the chosen alerts fires in the engine that the model's monitoring listener feeds.
 *
 * <pre>{@code
 * AlertEngine alerts = AlertEngine.withDefaults();
 * EarlyStoppingConfiguration<MultiLayerNetwork> es = new EarlyStoppingConfiguration.Builder<MultiLayerNetwork>()
 *         .iterationTerminationConditions(new AlertTerminationCondition(alerts,
 *                 AlertStop.on(Alert.NON_FINITE, Alert.ENTROPY_COLLAPSE)))
 *         ...
 * }</pre>
 *
 * The engine is not serialized with the condition; a deserialized copy never terminates.
 */
public final class AlertTerminationCondition implements IterationTerminationCondition {

    private static final long serialVersionUID = 1L;

    private final transient AlertEngine engine;
    private final AlertStop stop;

    public AlertTerminationCondition(AlertEngine engine, AlertStop stop) {
        if (engine == null || stop == null) {
            throw new IllegalArgumentException("engine and alerts must not be null but were " + engine + " and " + stop);
        }
        this.engine = engine;
        this.stop = stop;
    }

    @Override
    public void initialize() {
        // Stateless: the engine holds the state.
    }

    @Override
    public boolean terminate(double lastMiniBatchScore) {
        return engine != null && !stop.firing(engine).isEmpty();
    }

    @Override
    public String toString() {
        return "AlertTerminationCondition(" + stop.alerts() + ")";
    }
}
