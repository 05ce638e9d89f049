package dev.headwatch.dl4j;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.FiringAlert;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Which alerts stop a run: a set of alert names (built-in or user rules) checked against an
 * {@link AlertEngine}'s firing state. Listeners and the early-stopping condition share it.
 */
public final class AlertStop implements Serializable {

    private static final long serialVersionUID = 1L;

    private final Set<String> alerts;

    private AlertStop(Set<String> alerts) {
        this.alerts = alerts;
    }

    /** Stops when any of these built-in alerts fires. */
    public static AlertStop on(Alert... alerts) {
        if (alerts == null || alerts.length == 0) {
            throw new IllegalArgumentException("name at least one alert to stop on, got " + Arrays.toString(alerts));
        }
        return onNames(Arrays.stream(alerts).map(a -> {
            if (a == null) {
                throw new IllegalArgumentException("alerts to stop on must not be null: " + Arrays.toString(alerts));
            }
            return a.name();
        }).toList());
    }

    /** Stops when any alert of these names (built-in or user rules) fires. */
    public static AlertStop onNames(Collection<String> names) {
        if (names == null || names.isEmpty() || names.contains(null)) {
            throw new IllegalArgumentException("name at least one non-null alert to stop on, got " + names);
        }
        return new AlertStop(Set.copyOf(names));
    }

    /** The alert names that stop the run. */
    public Set<String> alerts() {
        return alerts;
    }

    /** The firing alerts among the chosen ones (empty: keep training). */
    public List<FiringAlert> firing(AlertEngine engine) {
        return engine.firing().stream().filter(f -> alerts.contains(f.alert())).toList();
    }

    /** Throws {@link HeadwatchStopException} when a chosen alert fires. */
    public void throwIfFiring(AlertEngine engine, long step) {
        List<FiringAlert> firing = firing(engine);
        if (!firing.isEmpty()) {
            throw new HeadwatchStopException(step, firing);
        }
    }

    @Override
    public String toString() {
        return "AlertStop" + alerts;
    }
}
