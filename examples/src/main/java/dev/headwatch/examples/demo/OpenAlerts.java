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
        boolean firing = e.state() == AlertState.FIRING;
        // A finding on a pair of heads is open on both, once per pair.
        update(key(e.layer(), e.head()), finding(e.alert(), e.partner()), firing);
        if (e.partner() >= 0) {
            update(key(e.layer(), e.partner()), finding(e.alert(), e.head()), firing);
        }
        String heads = e.partner() < 0 ? "head " + e.head() : "heads " + e.head() + " and " + e.partner();
        console.accept(firing
                ? String.format("step %d  %-8s %s %s %s: %s", e.step(), e.severity(), e.alert(), e.layer(), heads,
                        firstClause(e.message()))
                : String.format("step %d  resolved %s %s %s", e.step(), e.alert(), e.layer(), heads));
    }

    private void update(String head, String finding, boolean firing) {
        if (firing) {
            open.computeIfAbsent(head, k -> new TreeSet<>()).add(finding);
        } else {
            Set<String> findings = open.get(head);
            if (findings != null && findings.remove(finding) && findings.isEmpty()) {
                open.remove(head);
            }
        }
    }

    /** An alert's name, with the other head of a pair finding. */
    private static String finding(String alert, int partner) {
        return partner < 0 ? alert : alert + " with " + partner;
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
