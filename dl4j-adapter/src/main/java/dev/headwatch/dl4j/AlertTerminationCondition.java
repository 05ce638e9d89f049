package dev.headwatch.dl4j;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.FiringAlert;
import org.deeplearning4j.earlystopping.termination.IterationTerminationCondition;

import java.util.Arrays;
import java.util.Collection;
import java.util.Set;

/**
 * An {@link IterationTerminationCondition} for DL4J's early-stopping trainers: terminates as soon as one
 * of the chosen alerts fires in the engine that the model's {@link AttentionMonitorListener} feeds.
 *
 * <pre>{@code
 * AlertEngine alerts = AlertEngine.withDefaults();
 * net.setListeners(AttentionMonitorListener.builder().sink(alerts).build());
 * EarlyStoppingConfiguration<MultiLayerNetwork> es = new EarlyStoppingConfiguration.Builder<MultiLayerNetwork>()
 *         .iterationTerminationConditions(
 *                 new AlertTerminationCondition(alerts, Alert.NON_FINITE, Alert.ENTROPY_COLLAPSE))
 *         ...
 * }</pre>
 *
 * The engine is not serialized with the condition: a deserialized copy never terminates.
 */
public final class AlertTerminationCondition implements IterationTerminationCondition {

    private static final long serialVersionUID = 1L;

    private final transient AlertEngine engine;
    private final Set<String> alerts;

    /** Terminates when any of these built-in alerts fires. */
    public AlertTerminationCondition(AlertEngine engine, Alert... alerts) {
        this(engine, alerts == null ? null : Arrays.stream(alerts).map(a -> a == null ? null : a.name()).toList());
    }

    /** Terminates when any alert of these names (built-in or user rules) fires. */
    public AlertTerminationCondition(AlertEngine engine, Collection<String> alertNames) {
        if (engine == null) {
            throw new IllegalArgumentException("alert engine must not be null");
        }
        if (alertNames == null || alertNames.isEmpty() || alertNames.contains(null)) {
            throw new IllegalArgumentException("name at least one non-null alert to terminate on, got " + alertNames);
        }
        this.engine = engine;
        this.alerts = Set.copyOf(alertNames);
    }

    @Override
    public void initialize() {
        // The engine holds the state.
    }

    @Override
    public boolean terminate(double lastMiniBatchScore) {
        return engine != null && engine.isFiring(alerts);
    }

    @Override
    public String toString() {
        if (engine == null) {
            return "AlertTerminationCondition(" + alerts + ")";
        }
        return "AlertTerminationCondition(" + alerts + ", firing: " + engine.firing().stream()
                .filter(f -> alerts.contains(f.alert())).map(AlertTerminationCondition::describe).toList() + ")";
    }

    private static String describe(FiringAlert f) {
        return f.alert() + " on " + f.layer() + " " + AlertEvent.describeHeads(f.heads()) + " since step " + f.sinceStep();
    }
}
