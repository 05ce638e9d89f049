package dev.headwatch.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.headwatch.core.HeadField;
import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertConfig;
import dev.headwatch.core.alert.Severity;
import dev.headwatch.core.alert.UserRule;

import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Prometheus alerting rules equivalent to an {@link AlertConfig}, over the series of
 * {@link PrometheusExporter}: one rule per enabled alert, with the configured thresholds and
 * {@code for: persist x interval}, where the interval is the time between two observations Prometheus
 * sees (the larger of the observation interval and the scrape interval).
 *
 * <p>Stateless conditions become PromQL over the per-head gauges: running medians become
 * {@code quantile_over_time(0.5, ...[medianWindow x interval])} (for {@code KEY_COHERENCE}'s
 * participation, {@code [participationWindow x interval]}) and the layer median of {@code KEY_COHERENCE} a
 * {@code quantile} over the layer's heads. Conditions whose state PromQL
 * cannot see ({@code ENTROPY_COLLAPSE}'s running median of the training loss, which is not exported,
 * {@code SINK_SHIFT}'s baseline at the first observation, {@code NON_FINITE}'s check of Q, K and V, user
 * rules written in Java) alert on the engine's own decision,
 * {@code headwatch_alert_firing == 1}, which already waited {@code persist} observations; they need the
 * exporter built with {@link PrometheusExporter.Builder#alerts}. Known differences from the engine:
 * the running medians have no warm-up and include the observations where the rule held,
 * {@code RANK_COLLAPSE} ignores only heads whose {@code rankBound} is below 2, and {@code LOGIT_GROWTH}
 * waits its {@code for} even for a maxLogit past {@code maxLogitAtOnce}.
 */
public final class PrometheusRules {

    private static final String HEAD = "{{ $labels.layer }} head {{ $labels.head }}";

    private PrometheusRules() {
    }

    /**
     * The rules file (one group, {@code headwatch}) as YAML.
     *
     * @param config   the alert rules and thresholds
     * @param interval the time between two observations as Prometheus sees them; positive
     */
    public static String yaml(AlertConfig config, Duration interval) {
        if (config == null) {
            throw new IllegalArgumentException("alert config must not be null");
        }
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive but was " + interval);
        }
        List<Map<String, Object>> rules = new ArrayList<>();
        Duration persist = interval.multipliedBy(config.persist());
        String window = duration(interval.multipliedBy(config.medianWindow()));
        for (Alert alert : config.enabled()) {
            String expr = expression(alert, config, interval, window);
            if (expr == null) {
                rules.add(rule(alert.name(), firing(alert.name()), null, alert.severity(), alert.advice(), false));
            } else {
                rules.add(rule(alert.name(), expr, duration(persist), alert.severity(), alert.advice(), true));
            }
        }
        for (UserRule user : config.userRules()) {
            rules.add(rule(user.name(), firing(user.name()), null, user.severity(), user.advice(), false));
        }
        Map<String, Object> group = new LinkedHashMap<>();
        group.put("name", "headwatch");
        group.put("rules", rules);
        Map<String, Object> file = new LinkedHashMap<>();
        file.put("groups", List.of(group));
        String header = "# Prometheus alerting rules for headwatch (persist " + config.persist()
                + " observations, observation interval " + duration(interval) + ").\n";
        try {
            return header + YAMLMapper.builder()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
                    .disable(YAMLGenerator.Feature.SPLIT_LINES)
                    .build()
                    .writeValueAsString(file);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write rules as YAML", e);
        }
    }

    /** The PromQL condition of a built-in rule, or null when only the engine can decide it. */
    private static String expression(Alert alert, AlertConfig c, Duration interval, String window) {
        return switch (alert) {
            case LOGIT_GROWTH -> any(
                    above(head(HeadField.MAX_LOGIT), c.maxLogit()),
                    Double.isNaN(c.qkNormGrowth()) ? null : MetricNames.QK_SPECTRAL_NORM + " > "
                            + number(c.qkNormGrowth()) + " * " + median(MetricNames.QK_SPECTRAL_NORM, window));
            case DEAD_HEAD -> above(head(HeadField.ENTROPY), c.deadEntropy()) + " and "
                    + below(head(HeadField.ENERGY_RMS), c.deadEnergyRms());
            // A near-zero field is DEAD_HEAD's; a field that cannot reach rank 2 cannot collapse.
            case RANK_COLLAPSE -> "(" + below(head(HeadField.EFFECTIVE_RANK), c.minEffectiveRank())
                    + " and " + head(HeadField.ENERGY_RMS) + " >= " + number(c.deadEnergyRms())
                    + ") unless " + head(HeadField.RANK_BOUND) + " < 2";
            case KEY_COHERENCE -> any(
                    Double.isNaN(c.keyCoherenceFactor()) ? null : head(HeadField.KEY_COHERENCE_NO_FIRST)
                            + " > ignoring(head) group_left " + number(c.keyCoherenceFactor())
                            + " * quantile without(head) (0.5, " + head(HeadField.KEY_COHERENCE_NO_FIRST) + ")",
                    // The head's recent median participation; energy on a key that also draws the attention
                    // mass (sinkMax above min(sink threshold, 2 / keys)) is a sink, SINK_SHIFT's.
                    Double.isNaN(c.minParticipation()) ? null
                            : median(head(HeadField.PARTICIPATION), duration(interval.multipliedBy(c.participationWindow())))
                            + " < " + number(c.minParticipation()) + " unless (" + above(head(HeadField.SINK_MAX),
                            c.minSinkMax()) + " or " + head(HeadField.SINK_MAX) + " > 2 / " + MetricNames.KEYS + ")");
            case REDUNDANT_HEAD -> above(head(HeadField.MAX_REDUNDANCY), c.maxRedundancy());
            case INVARIANT_VIOLATION -> any(
                    above(head(HeadField.RECONSTRUCTION_ERROR), c.maxReconstructionError()),
                    above(head(HeadField.ZERO_SUM_RESIDUAL), c.maxZeroSumResidual()));
            case ENTROPY_COLLAPSE, SINK_SHIFT, NON_FINITE -> null;
        };
    }

    private static Map<String, Object> rule(String name, String expr, String forDuration, Severity severity,
                                            String advice, boolean hasValue) {
        Map<String, Object> rule = new LinkedHashMap<>();
        rule.put("alert", name);
        rule.put("expr", expr);
        if (forDuration != null) {
            rule.put("for", forDuration);
        }
        rule.put("labels", Map.of("severity", severity.name().toLowerCase(Locale.ROOT)));
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put("summary", name + " on " + HEAD + (hasValue ? " (value {{ $value }})" : ""));
        if (!advice.isEmpty()) {
            annotations.put("description", advice);
        }
        rule.put("annotations", annotations);
        return rule;
    }

    private static String firing(String alert) {
        return MetricNames.ALERT_FIRING + "{alert=\"" + alert + "\"} == 1";
    }

    private static String head(HeadField field) {
        return MetricNames.head(field);
    }

    private static String median(String series, String window) {
        return "quantile_over_time(0.5, " + series + "[" + window + "])";
    }

    private static String above(String series, double bound) {
        return Double.isNaN(bound) ? null : series + " > " + number(bound);
    }

    private static String below(String series, double bound) {
        return Double.isNaN(bound) ? null : series + " < " + number(bound);
    }

    /** The parts that are switched on, joined by {@code or} (each in parentheses when there are two). */
    private static String any(String... parts) {
        List<String> on = new ArrayList<>();
        for (String p : parts) {
            if (p != null) {
                on.add(p);
            }
        }
        if (on.size() == 1) {
            return on.get(0);
        }
        StringJoiner joined = new StringJoiner(" or ");
        on.forEach(p -> joined.add("(" + p + ")"));
        return joined.toString();
    }

    /** Shortest plain decimal to 12 significant digits: 0.1, 50, 0.0001, 0.3 (not 0.30000000000000004). */
    static String number(double v) {
        return new BigDecimal(v, new MathContext(12)).stripTrailingZeros().toPlainString();
    }

    /** A Prometheus duration: 45s, 5m, 2h, 1500ms. */
    static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
