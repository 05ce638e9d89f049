package dev.headwatch.export;

import dev.headwatch.core.HeadField;

import java.util.Locale;

/** The Prometheus names of headwatch's metrics: snake_case, prefixed {@code headwatch_}. */
final class MetricNames {

    static final String HEAD_PREFIX = "headwatch_head_";
    static final String LAYER_PREFIX = "headwatch_layer_";
    static final String ALERT_FIRING = "headwatch_alert_firing";
    static final String QK_SPECTRAL_NORM = HEAD_PREFIX + "qk_spectral_norm";
    static final String KEYS = HEAD_PREFIX + "keys";

    private MetricNames() {
    }

    /** {@code keyCoherenceNoFirst} -> {@code key_coherence_no_first}. */
    static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    /** The per-head gauge of a field, e.g. {@code headwatch_head_max_logit}. */
    static String head(HeadField field) {
        return HEAD_PREFIX + snake(field.fieldName());
    }

    /** The per-layer spread gauge of a field, e.g. {@code headwatch_layer_entropy}. */
    static String layer(HeadField field) {
        return LAYER_PREFIX + snake(field.fieldName());
    }
}
