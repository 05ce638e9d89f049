package dev.headwatch.export;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.MonitorStats;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertConfig;
import dev.headwatch.core.alert.AlertEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

class PrometheusExporterTest {

    private PrometheusExporter exporter;

    @BeforeEach
    void start() throws IOException {
        exporter = PrometheusExporter.builder().port(0).start();
    }

    @AfterEach
    void stop() {
        exporter.close();
    }

    @Test
    void scrape_exposesEveryHeadMetricAsAGaugeWithLayerAndHeadLabels() throws Exception {
        exporter.write(observation(12, new double[] {0.5, 0.1, 0.9}));
        List<Sample> samples = scrape();

        assertThat(value(samples, "headwatch_head_entropy", Map.of("layer", "enc/attn", "head", "1"))).isEqualTo(0.1);
        assertThat(value(samples, "headwatch_head_max_logit", Map.of("layer", "enc/attn", "head", "2"))).isEqualTo(9.0);
        assertThat(value(samples, "headwatch_head_key_coherence_no_first", Map.of("layer", "enc/attn", "head", "0")))
                .isNaN();
        for (HeadField f : HeadField.values()) {
            assertThat(samples).as(f.fieldName())
                    .filteredOn(s -> s.name.equals(MetricNames.head(f))).hasSize(3);
        }
        assertThat(value(samples, "headwatch_step", Map.of())).isEqualTo(12.0);
        assertThat(value(samples, "headwatch_epoch", Map.of())).isEqualTo(1.0);
    }

    @Test
    void scrape_exposesLayerSpreadsWithAStatLabel() throws Exception {
        // entropy 0.5, 0.1, 0.9 -> min 0.1, median 0.5, max 0.9; maxLogit = 10 x entropy
        exporter.write(observation(1, new double[] {0.5, 0.1, 0.9}));
        List<Sample> samples = scrape();

        assertThat(value(samples, "headwatch_layer_entropy", Map.of("layer", "enc/attn", "stat", "min"))).isEqualTo(0.1);
        assertThat(value(samples, "headwatch_layer_entropy", Map.of("layer", "enc/attn", "stat", "median"))).isEqualTo(0.5);
        assertThat(value(samples, "headwatch_layer_entropy", Map.of("layer", "enc/attn", "stat", "max"))).isEqualTo(0.9);
        assertThat(value(samples, "headwatch_layer_max_logit", Map.of("layer", "enc/attn", "stat", "median"))).isEqualTo(5.0);
        assertThat(value(samples, "headwatch_layer_participation", Map.of("layer", "enc/attn", "stat", "max"))).isNaN();
        assertThat(samples).noneMatch(s -> s.name.equals("headwatch_layer_sink_position"));
    }

    @Test
    void scrape_countsObservations_andKeepsTheLatestValues() throws Exception {
        exporter.write(observation(1, new double[] {0.5, 0.1, 0.9}));
        exporter.write(observation(2, new double[] {0.4, 0.2, 0.8}));
        List<Sample> samples = scrape();

        assertThat(value(samples, "headwatch_observations_total", Map.of())).isEqualTo(2.0);
        assertThat(value(samples, "headwatch_head_entropy", Map.of("layer", "enc/attn", "head", "1"))).isEqualTo(0.2);
        assertThat(value(samples, "headwatch_step", Map.of())).isEqualTo(2.0);
    }

    @Test
    void stats_exportThePipelineCounters() throws Exception {
        exporter.write(observation(1, new double[] {0.5}));
        assertThat(scrape()).noneMatch(s -> s.name.equals("headwatch_dropped_observations_total"));

        exporter.stats(() -> new MonitorStats(10, 7, 2, 1, 3, 1, 4));
        List<Sample> samples = scrape();
        assertThat(value(samples, "headwatch_observations_total", Map.of())).isEqualTo(7.0);
        assertThat(value(samples, "headwatch_submitted_steps_total", Map.of())).isEqualTo(10.0);
        assertThat(value(samples, "headwatch_dropped_observations_total", Map.of())).isEqualTo(2.0);
        assertThat(value(samples, "headwatch_analysis_failures_total", Map.of())).isEqualTo(1.0);
        assertThat(value(samples, "headwatch_sink_failures_total", Map.of())).isEqualTo(3.0);
        assertThat(value(samples, "headwatch_non_converged_factorisations_total", Map.of())).isEqualTo(4.0);
        assertThat(value(samples, "headwatch_disabled_sinks", Map.of())).isEqualTo(1.0);
    }

    @Test
    void alertStates_areOneWhileFiring_andZeroOnceResolved() throws Exception {
        AlertEngine engine = AlertEngine.of(AlertConfig.builder().persist(1).medianWindow(1, 1)
                        .enableOnly(Alert.ENTROPY_COLLAPSE).build(),
                Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC));
        try (PrometheusExporter withAlerts = PrometheusExporter.builder().port(0).alerts(engine).start()) {
            // After a warm-up of one observation, head 1: entropy 0.05 < 0.1 fires at once with persist 1;
            // then 0.6 resolves it.
            engine.write(observation(0, new double[] {0.5, 0.5}));
            engine.write(observation(1, new double[] {0.5, 0.05}));
            Map<String, String> labels = Map.of("alert", "ENTROPY_COLLAPSE", "layer", "enc/attn", "head", "1");
            assertThat(value(scrape(withAlerts), "headwatch_alert_firing", labels)).isEqualTo(1.0);
            assertThat(scrape(withAlerts)).filteredOn(s -> s.name.equals("headwatch_alert_firing")).hasSize(1);

            engine.write(observation(2, new double[] {0.5, 0.6}));
            assertThat(value(scrape(withAlerts), "headwatch_alert_firing", labels)).isEqualTo(0.0);
        }
    }

    @Test
    void aRedundantGroup_firesOnEachOfItsHeads() throws Exception {
        AlertEngine engine = AlertEngine.of(AlertConfig.builder().persist(1).medianWindow(1, 1)
                        .enableOnly(Alert.REDUNDANT_HEAD).build(),
                Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC));
        try (PrometheusExporter withAlerts = PrometheusExporter.builder().port(0).alerts(engine).start()) {
            // Heads 0 and 2 both name head 1 at 0.95: one finding on heads 0, 1 and 2; head 3 stands apart.
            for (long step = 0; step < 2; step++) {
                List<HeadRecord> heads = new ArrayList<>();
                double[] redundancy = {0.95, 0.95, 0.95, 0.3};
                int[] partner = {1, 0, 1, 0};
                for (int h = 0; h < 4; h++) {
                    heads.add(new HeadRecord("enc/attn", h, 8, 4, Visibility.FULL, HeadMetrics.builder()
                            .set(HeadField.MAX_REDUNDANCY, redundancy[h]).set(HeadField.REDUNDANCY_PARTNER, partner[h])
                            .build()));
                }
                engine.write(new Observation(step, 1, Instant.parse("2026-01-02T03:04:05Z"), heads));
            }
            assertThat(engine.firing()).singleElement().satisfies(f -> assertThat(f.heads()).containsExactly(0, 1, 2));
            assertThat(scrape(withAlerts)).filteredOn(s -> s.name.equals("headwatch_alert_firing"))
                    .extracting(s -> s.labels.get("head"), s -> s.value)
                    .containsExactlyInAnyOrder(tuple("0", 1.0), tuple("1", 1.0), tuple("2", 1.0));
        }
    }

    @Test
    void rules_useOnlySeriesTheExporterServes() throws Exception {
        AlertEngine engine = AlertEngine.of(AlertConfig.builder().persist(1).build(),
                Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC));
        try (PrometheusExporter withAlerts = PrometheusExporter.builder().port(0).alerts(engine).start()) {
            Observation obs = observation(1, new double[] {0.5, 0.05});
            obs = new Observation(1, 1, obs.time(), obs.heads().stream().map(r -> new HeadRecord(r.layer(), r.head(), r.n(), r.d(), r.mask(),
                    r.metrics(), 3.0, r.nonFiniteInput())).toList());
            engine.write(obs);
            withAlerts.write(obs);
            java.util.Set<String> served = new java.util.HashSet<>();
            scrape(withAlerts).forEach(s -> served.add(s.name));

            String yaml = PrometheusRules.yaml(AlertConfig.defaults(), java.time.Duration.ofSeconds(15));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("headwatch_[a-z_]+").matcher(yaml);
            int names = 0;
            while (m.find()) {
                assertThat(served).contains(m.group());
                names++;
            }
            assertThat(names).isGreaterThan(9);
        }
    }

    @Test
    void names_followPrometheusConventions() throws Exception {
        exporter.write(observation(1, new double[] {0.5}));
        assertThat(scrape()).allSatisfy(s -> {
            assertThat(s.name).matches("headwatch_[a-z0-9_]+");
            assertThat(s.labels.keySet()).allSatisfy(l -> assertThat(l).matches("[a-z_]+"));
        });
        assertThat(MetricNames.snake("keyCoherenceNoFirst")).isEqualTo("key_coherence_no_first");
        assertThat(MetricNames.snake("energyRms")).isEqualTo("energy_rms");
    }

    @Test
    void builder_rejectsBadPortAndAddress() {
        assertThatThrownBy(() -> PrometheusExporter.builder().port(70000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("70000");
        assertThatThrownBy(() -> PrometheusExporter.builder().address(" "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("address");
    }

    /** Entropy as given, maxLogit = 10 x entropy, every other field NaN; layer "enc/attn", epoch 1. */
    private static Observation observation(long step, double[] entropy) {
        List<HeadRecord> heads = new ArrayList<>();
        for (int h = 0; h < entropy.length; h++) {
            HeadMetrics m = HeadMetrics.builder()
                    .set(HeadField.ENTROPY, entropy[h])
                    .set(HeadField.MAX_LOGIT, 10 * entropy[h])
                    .build();
            heads.add(new HeadRecord("enc/attn", h, 8, 4, Visibility.FULL, m));
        }
        return new Observation(step, 1, Instant.parse("2026-01-02T03:04:05Z"), heads);
    }

    // ---- a scrape over loopback and a parser of the text exposition format ----

    /** One sample line: {@code name{label="value",...} value}. */
    record Sample(String name, Map<String, String> labels, double value) {
    }

    private List<Sample> scrape() throws IOException, InterruptedException {
        return scrape(exporter);
    }

    private static List<Sample> scrape(PrometheusExporter exporter) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + exporter.port() + "/metrics"))
                .header("Accept", "text/plain").GET().build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("text/plain"));
        return parse(response.body());
    }

    static List<Sample> parse(String body) {
        List<Sample> samples = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int i = 0;
            while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
                i++;
            }
            String name = line.substring(0, i);
            Map<String, String> labels = new LinkedHashMap<>();
            if (line.charAt(i) == '{') {
                i++;
                while (line.charAt(i) != '}') {
                    int eq = line.indexOf('=', i);
                    String label = line.substring(i, eq);
                    assertThat(line.charAt(eq + 1)).isEqualTo('"');
                    StringBuilder value = new StringBuilder();
                    int j = eq + 2;
                    for (; line.charAt(j) != '"'; j++) {
                        char c = line.charAt(j);
                        if (c == '\\') {
                            char next = line.charAt(++j);
                            value.append(next == 'n' ? '\n' : next);
                        } else {
                            value.append(c);
                        }
                    }
                    labels.put(label, value.toString());
                    i = j + 1;
                    if (line.charAt(i) == ',') {
                        i++;
                    }
                }
                i++;
            }
            String[] rest = line.substring(i).trim().split(" ");
            samples.add(new Sample(name, labels, parseValue(rest[0])));
        }
        return samples;
    }

    private static double parseValue(String s) {
        return switch (s) {
            case "NaN" -> Double.NaN;
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(s);
        };
    }

    static double value(List<Sample> samples, String name, Map<String, String> labels) {
        List<Sample> matches = samples.stream()
                .filter(s -> s.name.equals(name) && s.labels.equals(labels)).toList();
        assertThat(matches).as("%s%s", name, labels).hasSize(1);
        return matches.get(0).value;
    }
}
