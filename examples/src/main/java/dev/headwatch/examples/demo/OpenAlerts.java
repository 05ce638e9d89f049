package dev.headwatch.examples.demo;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertListener;
import dev.headwatch.core.alert.AlertState;

/**
 * The alerts open now, per head, kept from the engine's events; each event is also shown as one console line.
 * Events arrive on the monitor's thread, the console reads from the training thread: methods are synchronized.
 */
final class OpenAlerts implements AlertListener {

    private final Consumer<String> console;
    private final Map<String, Set<String>> open = new TreeMap<>();

    OpenAlerts(Consumer<String> console) {
        this.console = console;
    }

    @Override
    public synchronized void onAlert(AlertEvent e) {
        String head = key(e.layer(), e.head());
        if (e.state() == AlertState.FIRING) {
            open.computeIfAbsent(head, k -> new TreeSet<>()).add(e.alert());
            console.accept(String.format("step %d  %-8s %s %s head %d: %s", e.step(), e.severity(), e.alert(),
                    e.layer(), e.head(), firstClause(e.message())));
        } else {
            Set<String> alerts = open.get(head);
            if (alerts != null && alerts.remove(e.alert()) && alerts.isEmpty()) {
                open.remove(head);
            }
            console.accept(String.format("step %d  resolved %s %s head %d", e.step(), e.alert(), e.layer(),
                    e.head()));
        }
    }

    /** Heads with at least one open alert. */
    synchronized int heads() {
        return open.size();
    }

    /** The open alerts of every head in alert, by {@code layer/head}. */
    synchronized Map<String, List<String>> snapshot() {
        Map<String, List<String>> copy = new TreeMap<>();
        open.forEach((head, alerts) -> copy.put(head, List.copyOf(alerts)));
        return copy;
    }

    static String key(String layer, int head) {
        return layer + "/" + head;
    }

    /** An event message up to its first ';' (the rest says what usually helps, which the log files keep). */
    private static String firstClause(String message) {
        int cut = message.indexOf(';');
        return cut < 0 ? message : message.substring(0, cut);
    }
}
