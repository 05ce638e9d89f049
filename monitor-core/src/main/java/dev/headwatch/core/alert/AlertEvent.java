package dev.headwatch.core.alert;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One alert transition of one head: a rule started ({@link AlertState#FIRING}) or stopped
 * ({@link AlertState#RESOLVED}) holding. Written to {@code alerts.jsonl} as {@link #toMap()}.
 *
 * @param alert     the rule's name ({@link Alert} name or a user rule's name)
 * @param state     firing or resolved
 * @param severity  the rule's severity
 * @param step      the iteration of the observation that caused the transition
 * @param time      when the engine saw that observation (from its clock)
 * @param layer     the layer or vertex name
 * @param head      the head index (of a pair, the lower one)
 * @param value     the watched value at this observation (NaN when undefined)
 * @param threshold the bound it was compared with (NaN when the rule has none)
 * @param message   what happened and, when firing, what usually helps
 * @param partner   the other head of a finding on a pair of heads (REDUNDANT_HEAD), else -1
 */
public record AlertEvent(String alert, AlertState state, Severity severity, long step, Instant time,
                         String layer, int head, double value, double threshold, String message, int partner) {

    /** The {@code type} of every alert record, telling them apart from metric records. */
    public static final String TYPE = "alert";

    public AlertEvent {
        if (alert == null || state == null || severity == null || time == null || layer == null
                || message == null) {
            throw new IllegalArgumentException("alert, state, severity, time, layer and message must not be null");
        }
        if (partner < -1 || partner == head) {
            throw new IllegalArgumentException("partner must be -1 or another head than " + head + " but was " + partner);
        }
    }

    /** An event on one head. */
    public AlertEvent(String alert, AlertState state, Severity severity, long step, Instant time,
                      String layer, int head, double value, double threshold, String message) {
        this(alert, state, severity, step, time, layer, head, value, threshold, message, -1);
    }

    /** Always {@value #TYPE}. */
    public String type() {
        return TYPE;
    }

    /**
     * The event as an ordered map: {@code type, alert, state, severity, step, time} (ISO-8601),
     * {@code layer, head, partner} (null for a finding on one head), {@code value, threshold, message}; NaN and infinite values map to {@code null}
     * (the message names an infinity), so every record is strict JSON.
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
        map.put("head", head);
        map.put("partner", partner < 0 ? null : partner);
        map.put("value", finiteOrNull(value));
        map.put("threshold", finiteOrNull(threshold));
        map.put("message", message);
        return map;
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
