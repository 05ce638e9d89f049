package dev.headwatch.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.headwatch.core.HeadField;
import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertConfig;
import dev.headwatch.core.alert.Severity;
import dev.headwatch.core.alert.UserRule;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrometheusRulesTest {

    /** The rules of a YAML file by alert name. */
    static Map<String, JsonNode> rules(String yaml) throws Exception {
        JsonNode root = new YAMLMapper().readTree(yaml);
        assertThat(root.get("groups")).hasSize(1);
        JsonNode group = root.get("groups").get(0);
        assertThat(group.get("name").asText()).isEqualTo("headwatch");
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        for (JsonNode rule : group.get("rules")) {
            assertThat(byName.put(rule.get("alert").asText(), rule)).isNull();
        }
        return byName;
    }

    @Test
    void defaults_holdOneRulePerAlert_withTheMetricsTableThresholds() throws Exception {
        Map<String, JsonNode> rules = rules(PrometheusRules.yaml(AlertConfig.defaults(), Duration.ofSeconds(15)));

        assertThat(rules.keySet()).containsExactly(
                java.util.Arrays.stream(Alert.values()).map(Alert::name).toArray(String[]::new));
        // it reads the running median of the training loss, which is the engine's, not a series
        assertThat(expr(rules, "ENTROPY_COLLAPSE")).isEqualTo("headwatch_alert_firing{alert=\"ENTROPY_COLLAPSE\"} == 1");
        assertThat(expr(rules, "LOGIT_GROWTH")).isEqualTo("(headwatch_head_max_logit > 50) or "
                + "(headwatch_head_qk_spectral_norm > 2 * quantile_over_time(0.5, headwatch_head_qk_spectral_norm[10m]))");
        assertThat(expr(rules, "DEAD_HEAD"))
                .isEqualTo("headwatch_head_entropy > 0.99 and headwatch_head_energy_rms < 0.05");
        assertThat(expr(rules, "RANK_COLLAPSE")).startsWith("(headwatch_head_effective_rank < 1.5 and");
        assertThat(expr(rules, "KEY_COHERENCE")).contains("headwatch_head_key_coherence_no_first > ignoring(head) "
                + "group_left 4 * quantile without(head) (0.5, headwatch_head_key_coherence_no_first)")
                .contains("quantile_over_time(0.5, headwatch_head_participation[75s]) < 0.25 unless "
                        + "(headwatch_head_sink_max > 0.3 or headwatch_head_sink_max > 2 / headwatch_head_keys)");
        assertThat(expr(rules, "REDUNDANT_HEAD")).isEqualTo("headwatch_head_max_redundancy > 0.9");
        assertThat(expr(rules, "INVARIANT_VIOLATION")).isEqualTo("(headwatch_head_reconstruction_error > 0.001) or "
                + "(headwatch_head_zero_sum_residual > 0.0001)");
        assertThat(expr(rules, "SINK_SHIFT")).isEqualTo("headwatch_alert_firing{alert=\"SINK_SHIFT\"} == 1");
        assertThat(expr(rules, "NON_FINITE")).isEqualTo("headwatch_alert_firing{alert=\"NON_FINITE\"} == 1");
    }

    @Test
    void forDuration_isPersistTimesInterval_andEngineDecidedRulesWaitNoLonger() throws Exception {
        // persist 3 x 15 s = 45 s; the engine already waited its persist for ENTROPY_COLLAPSE, SINK_SHIFT
        // and NON_FINITE.
        Map<String, JsonNode> rules = rules(PrometheusRules.yaml(AlertConfig.defaults(), Duration.ofSeconds(15)));
        assertThat(rules.get("DEAD_HEAD").get("for").asText()).isEqualTo("45s");
        assertThat(rules.get("SINK_SHIFT").has("for")).isFalse();
        assertThat(rules.get("ENTROPY_COLLAPSE").has("for")).isFalse();

        // persist 4 x 30 s = 2 min
        rules = rules(PrometheusRules.yaml(AlertConfig.builder().persist(4).build(), Duration.ofSeconds(30)));
        assertThat(rules.get("LOGIT_GROWTH").get("for").asText()).isEqualTo("2m");
    }

    @Test
    void rules_carrySeverityAndAdvice() throws Exception {
        JsonNode rule = rules(PrometheusRules.yaml(AlertConfig.defaults(), Duration.ofMinutes(1))).get("NON_FINITE");
        assertThat(rule.get("labels").get("severity").asText()).isEqualTo("critical");
        assertThat(rule.get("annotations").get("summary").asText())
                .isEqualTo("NON_FINITE on {{ $labels.layer }} head {{ $labels.head }}");
        assertThat(rule.get("annotations").get("description").asText()).isEqualTo(Alert.NON_FINITE.advice());
    }

    @Test
    void configuredThresholds_disabledRules_switchedOffParts_andUserRules_areFollowed() throws Exception {
        AlertConfig config = AlertConfig.builder()
                .logitGrowth(30, Double.NaN)
                .invariantViolation(Double.NaN, 0.3)
                .redundantHead(0.7)
                .disable(Alert.DEAD_HEAD, Alert.SINK_SHIFT)
                .rule(new UserRule("LOW_PARTICIPATION", Severity.INFO, HeadField.PARTICIPATION, 0.1,
                        m -> m.participation() < 0.1, ""))
                .build();
        Map<String, JsonNode> rules = rules(PrometheusRules.yaml(config, Duration.ofSeconds(10)));

        assertThat(rules).doesNotContainKeys("DEAD_HEAD", "SINK_SHIFT").containsKey("LOW_PARTICIPATION");
        assertThat(expr(rules, "LOGIT_GROWTH")).isEqualTo("headwatch_head_max_logit > 30");
        assertThat(expr(rules, "INVARIANT_VIOLATION")).isEqualTo("headwatch_head_zero_sum_residual > 0.3");
        assertThat(expr(rules, "REDUNDANT_HEAD")).isEqualTo("headwatch_head_max_redundancy > 0.7");
        assertThat(expr(rules, "LOW_PARTICIPATION"))
                .isEqualTo("headwatch_alert_firing{alert=\"LOW_PARTICIPATION\"} == 1");
        assertThat(rules.get("LOW_PARTICIPATION").get("labels").get("severity").asText()).isEqualTo("info");
        assertThat(rules.get("LOW_PARTICIPATION").get("annotations").has("description")).isFalse();
    }

    @Test
    void numbersAndDurations_useShortPrometheusForms() {
        assertThat(PrometheusRules.number(1 - 0.7)).isEqualTo("0.3");
        assertThat(PrometheusRules.number(1e-4)).isEqualTo("0.0001");
        assertThat(PrometheusRules.number(50)).isEqualTo("50");
        assertThat(PrometheusRules.duration(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(PrometheusRules.duration(Duration.ofMinutes(120))).isEqualTo("2h");
        assertThat(PrometheusRules.duration(Duration.ofMillis(1500))).isEqualTo("1500ms");
    }

    @Test
    void yaml_rejectsANonPositiveInterval() {
        assertThatThrownBy(() -> PrometheusRules.yaml(AlertConfig.defaults(), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT0S");
    }

    private static String expr(Map<String, JsonNode> rules, String alert) {
        return rules.get(alert).get("expr").asText();
    }
}
