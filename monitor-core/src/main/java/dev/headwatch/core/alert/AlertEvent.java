package dev.headwatch.core.alert;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One alert transition of a finding: a rule started ({@link AlertState#FIRING}), stopped
 * ({@link AlertState#RESOLVED}) holding, or a finding on a group of heads now names other heads
 * ({@link AlertState#CHANGED}). Written to {@code alerts.jsonl} as {@link #toMap()}.
 *
 * @param alert     the rule's name ({@link Alert} name or a user rule's name)
 * @param state     firing, changed or resolved
 * @param severity  the rule's severity
 * @param step      the iteration of the observation that caused the transition
 * @param time      when the engine saw that observation (from its clock)
 * @param layer     the layer or vertex name
 * @param heads     the heads the finding names, ascending: one head, or the heads of a group of redundant
 *                  heads (REDUNDANT_HEAD)
 * @param value     the watched value at this observation (NaN when undefined)
 * @param threshold the bound it was compared with (NaN when the rule has none)
 * @param message   what happened and, when firing, what usually helps
 */
public record AlertEvent(String alert, AlertState state, Severity severity, long step, Instant time,
                         String layer, List<Integer> heads, double value, double threshold, String message) {

    /** The {@code type} of every alert record, telling them apart from metric records. */
    public static final String TYPE = "alert";

    public AlertEvent {
        if (alert == null || state == null || severity == null || time == null || layer == null
                || message == null || heads == null) {
            throw new IllegalArgumentException(
                    "alert, state, severity, time, layer, heads and message must not be null");
        }
        heads = List.copyOf(heads);
        if (heads.isEmpty()) {
            throw new IllegalArgumentException("heads must name at least one head");
        }
        for (int i = 0; i < heads.size(); i++) {
            if (heads.get(i) < 0 || i > 0 && heads.get(i) <= heads.get(i - 1)) {
                throw new IllegalArgumentException("heads must be distinct head indices in ascending order but were "
                        + heads);
            }
        }
    }

    /** An event on one head. */
    public AlertEvent(String alert, AlertState state, Severity severity, long step, Instant time,
                      String layer, int head, double value, double threshold, String message) {
        this(alert, state, severity, step, time, layer, List.of(head), value, threshold, message);
    }

    /** The finding's lowest head (its only one, unless it names a group). */
    public int head() {
        return heads.get(0);
    }

    /** Always {@value #TYPE}. */
    public String type() {
        return TYPE;
    }

    /** "head 1", "heads 0 and 2", "heads 0, 2 and 5": heads as a message names them. */
    public static String describeHeads(List<Integer> heads) {
        if (heads.size() == 1) {
            return "head " + heads.get(0);
        }
        String first = heads.subList(0, heads.size() - 1).stream().map(String::valueOf).collect(Collectors.joining(", "));
        return "heads " + first + " and " + heads.get(heads.size() - 1);
    }

    /**
     * The event as an ordered map: {@code type, alert, state, severity, step, time} (ISO-8601),
     * {@code layer, head} (the lowest head), {@code heads} (every head the finding names),
     * {@code value, threshold, message}; NaN and infinite values map to {@code null} (the message names an
     * infinity), so every record is strict JSON.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("type", TYPE);
        map.put("alert", alert);
        map.put("state", state.name());
        map.put("severity", severity.name());
        map.put("step", step);
        map.put("time", time.toString());
        map.put("layer", layer);
        map.put("head", head());
        map.put("heads", heads);
        map.put("value", finiteOrNull(value));
        map.put("threshold", finiteOrNull(threshold));
        map.put("message", message);
        return map;
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
