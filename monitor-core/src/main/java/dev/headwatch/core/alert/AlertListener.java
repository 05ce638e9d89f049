package dev.headwatch.core.alert;

/**
 * Receives every {@link AlertEvent} of an {@link AlertEngine}, in order, on the thread that feeds the
 * engine. A listener that throws is logged and skipped for that event; the others still run.
 */
@FunctionalInterface
public interface AlertListener {

    /** Called once per event: a rule fired or resolved, or a group of heads changed. */
    void onAlert(AlertEvent event) throws Exception;
}
