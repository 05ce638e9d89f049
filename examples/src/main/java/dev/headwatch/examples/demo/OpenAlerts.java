package dev.headwatch.examples.demo;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertListener;
import dev.headwatch.core.alert.OpenFindings;

/**
 * The alerts open now, per head, kept from the engine's events; each event is also shown as one console line.
 * Events arrive on the monitor's thread, the console reads from the training thread: methods are synchronized.
 */
final class OpenAlerts implements AlertListener {

    private final Consumer<String> console;
    private final OpenFindings<AlertEvent> open = OpenFindings.ofEvents();

    OpenAlerts(Consumer<String> console) {
        this.console = console;
    }

    @Override
    public synchronized void onAlert(AlertEvent e) {
        open.add(e);
        String heads = AlertEvent.describeHeads(e.heads());
        console.accept(switch (e.state()) {
            case FIRING -> String.format("step %d  %-8s %s %s %s: %s", e.step(), e.severity(), e.alert(), e.layer(),
                    heads, observed(e));
            case CHANGED -> String.format("step %d  now      %s %s %s", e.step(), e.alert(), e.layer(), heads);
            case RESOLVED -> String.format("step %d  resolved %s %s %s", e.step(), e.alert(), e.layer(), heads);
        });
    }

    /** Heads with at least one open alert. */
    synchronized int heads() {
        return snapshot().size();
    }

    /**
     * The open alerts of every head in alert, by {@code layer/head}; a finding on a group of heads names the
     * group's other heads ("REDUNDANT_HEAD with heads 0 and 3").
     */
    synchronized Map<String, List<String>> snapshot() {
        Map<String, Set<String>> byHead = new TreeMap<>();
        for (OpenFindings.Finding<AlertEvent> f : open.open()) {
            AlertEvent e = f.latest();
            for (int head : e.heads()) {
                List<Integer> others = e.heads().stream().filter(h -> h != head).toList();
                byHead.computeIfAbsent(key(e.layer(), head), k -> new TreeSet<>())
                        .add(others.isEmpty() ? e.alert() : e.alert() + " with " + AlertEvent.describeHeads(others));
            }
        }
        Map<String, List<String>> copy = new TreeMap<>();
        byHead.forEach((head, alerts) -> copy.put(head, List.copyOf(alerts)));
        return copy;
    }

    static String key(String layer, int head) {
        return layer + "/" + head;
    }

    /** What was seen, from the event's message: after "... at step N: ", up to the advice. */
    private static String observed(AlertEvent e) {
        String message = e.message();
        String marker = " at step " + e.step() + ": ";
        int from = message.indexOf(marker);
        from = from < 0 ? 0 : from + marker.length();
        int cut = message.indexOf(';', from);
        return cut < 0 ? message.substring(from) : message.substring(from, cut);
    }
}
