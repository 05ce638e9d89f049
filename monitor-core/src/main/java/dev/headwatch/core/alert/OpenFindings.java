package dev.headwatch.core.alert;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The findings open after a sequence of alert events, in the order they began: what a reader of
 * {@code alerts.jsonl} or an {@link AlertListener} keeps to tell what fires now. An event replaces the open
 * findings of its rule and layer that share a head with it (for a group of redundant heads: one that gained
 * or lost heads, or groups that merged), and stays open unless it is a resolution. Not thread-safe.
 *
 * @param <T> what is collected: an {@link AlertEvent}, or something that carries one
 */
public final class OpenFindings<T> {

    /**
     * An open finding.
     *
     * @param began  the firing it began with (of merged groups, the earliest)
     * @param latest its latest event; {@code event(latest).heads()} are the heads it names now
     */
    public record Finding<T>(T began, T latest) {
    }

    private final Function<T, AlertEvent> event;
    private final List<Finding<T>> open = new ArrayList<>();

    /** Findings of items that carry an event. */
    public OpenFindings(Function<T, AlertEvent> event) {
        this.event = event;
    }

    /** Findings of plain events. */
    public static OpenFindings<AlertEvent> ofEvents() {
        return new OpenFindings<>(e -> e);
    }

    /** Counts in the next event. */
    public void add(T item) {
        AlertEvent e = event.apply(item);
        T began = item;
        int at = open.size();
        for (int i = open.size() - 1; i >= 0; i--) {
            AlertEvent o = event.apply(open.get(i).latest());
            if (o.alert().equals(e.alert()) && o.layer().equals(e.layer())
                    && o.heads().stream().anyMatch(e.heads()::contains)) {
                began = open.remove(i).began();
                at = i;
            }
        }
        if (e.state() != AlertState.RESOLVED) {
            open.add(at, new Finding<>(began, item));
        }
    }

    /** The open findings, in the order they began. */
    public List<Finding<T>> open() {
        return List.copyOf(open);
    }
}
