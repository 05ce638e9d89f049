package dev.headwatch.report;

import dev.headwatch.checkpoint.CheckpointAlert;
import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.checkpoint.CheckpointResult;
import dev.headwatch.checkpoint.HeadPlots;
import dev.headwatch.checkpoint.HeadResult;
import dev.headwatch.checkpoint.LayerResult;
import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.WeightHeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertConfig;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.alert.Severity;
import dev.headwatch.core.sink.AlertJsonlSink;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

/**
 * The HTML report of a hand-made analysis: three checkpoints (steps 10, 20, 30) of a causal layer with a
 * hostile name and a full layer, with alerts that fire, resolve and hold.
 */
class HtmlReportTest {

    static final String CAUSAL_LAYER = "blk<0>&\"x\"";
    static final String FULL_LAYER = "full";
    static final AlertConfig DEFAULTS = AlertConfig.defaults();

    static CheckpointAnalysis analysis;
    static String html;

    @BeforeAll
    static void render() throws IOException {
        List<CheckpointResult> checkpoints = new ArrayList<>();
        for (int c = 1; c <= 3; c++) {
            boolean last = c == 3;
            List<HeadResult> causal = new ArrayList<>();
            List<HeadResult> full = new ArrayList<>();
            for (int h = 0; h < 3; h++) {
                // keyCoherenceNoFirst 1, 2, 3 times the checkpoint number: the layer median is 2c.
                HeadMetrics.Builder m = HeadMetrics.builder().set(HeadField.ENTROPY, 0.5 + 0.1 * h)
                        .set(HeadField.MAX_LOGIT, 4 + c).set(HeadField.KEY_COHERENCE_NO_FIRST, (h + 1) * c)
                        .set(HeadField.EFFECTIVE_RANK, 3).set(HeadField.SINK_POSITION, 0);
                causal.add(new HeadResult(h, 4, 2, Visibility.CAUSAL, new WeightHeadMetrics(1 + c, 2),
                        m.build(), last ? plots() : null));
                full.add(new HeadResult(h, 4, 2, Visibility.FULL, new WeightHeadMetrics(1, 2),
                        m.set(HeadField.RANK_BOUND, 2).build(), last ? plots() : null));
            }
            checkpoints.add(new CheckpointResult("ckpt-" + c, "/run/ckpt-" + c, 10L * c, 0, "SameDiff",
                    List.of(new LayerResult(CAUSAL_LAYER, "DECLARED", causal, null, null, null),
                            new LayerResult(FULL_LAYER, "DECLARED", full, null, null, null)), List.of()));
        }
        List<CheckpointAlert> alerts = List.of(
                alert("ckpt-1", 10, "SINK_SHIFT", AlertState.FIRING, Severity.INFO, CAUSAL_LAYER, 1),
                alert("ckpt-2", 20, "ENTROPY_COLLAPSE", AlertState.FIRING, Severity.WARNING, CAUSAL_LAYER, 0),
                alert("ckpt-2", 20, "LOGIT_GROWTH", AlertState.FIRING, Severity.WARNING, CAUSAL_LAYER, 0),
                alert("ckpt-2", 20, "SINK_SHIFT", AlertState.RESOLVED, Severity.INFO, CAUSAL_LAYER, 1),
                alert("ckpt-3", 30, "REDUNDANT_HEAD", AlertState.FIRING, Severity.INFO, FULL_LAYER, 2));
        analysis = new CheckpointAnalysis(Instant.parse("2026-01-01T00:00:00Z"), "placeholders input[4, 4, 96]",
                checkpoints, List.of(), List.of("ENTROPY_COLLAPSE", "LOGIT_GROWTH", "SINK_SHIFT", "REDUNDANT_HEAD"), alerts,
                List.of("<script>", " ", "a", "b"), null);
        StringWriter out = new StringWriter();
        HtmlReport.write(analysis, out);
        html = out.toString();
    }

    static HeadPlots plots() {
        double[][] a = {{1, 0, 0, 0}, {0.5, 0.5, 0, 0}, {0.2, 0.3, 0.5, 0}, {0.1, 0.2, 0.3, 0.4}};
        double[][] e = {{0, 0, 0, 0}, {0.1, -0.1, 0, 0}, {-0.2, 0.1, 0.1, 0}, {-0.3, -0.1, 0.1, 0.3}};
        return new HeadPlots(a, e, new double[] {1, 0.5, 0.1, 1e-9}, true);
    }

    static CheckpointAlert alert(String checkpoint, long step, String rule, AlertState state, Severity severity,
                                 String layer, int head) {
        return new CheckpointAlert(checkpoint, new AlertEvent(rule, state, severity, step, Instant.EPOCH, layer, head,
                0.05, 0.1, rule + " message"));
    }

    @Test
    void firingNow_aGroupFinding_isOpenOnEachHeadItNamesNow_sinceItFired() {
        List<CheckpointAlert> group = List.of(
                group("ckpt-1", 10, AlertState.FIRING, 0, 3),
                group("ckpt-2", 20, AlertState.CHANGED, 0, 2, 3),
                group("ckpt-3", 30, AlertState.CHANGED, 0, 2));
        CheckpointAnalysis a = new CheckpointAnalysis(analysis.created(), analysis.probe(), analysis.checkpoints(),
                List.of(), analysis.rules(), group, analysis.probeTokens(), null);

        Map<CheckpointAnalysis.HeadKey, List<HtmlReport.Firing>> now = HtmlReport.firingNow(a);

        assertThat(now.keySet()).containsExactlyInAnyOrder(new CheckpointAnalysis.HeadKey(FULL_LAYER, 0), new CheckpointAnalysis.HeadKey(FULL_LAYER, 2));
        assertThat(now.get(new CheckpointAnalysis.HeadKey(FULL_LAYER, 0))).singleElement()
                .satisfies(f -> assertThat(f.others()).containsExactly(2))
                .satisfies(f -> assertThat(f.since().checkpoint()).isEqualTo("ckpt-1"));
        assertThat(now.get(new CheckpointAnalysis.HeadKey(FULL_LAYER, 2))).singleElement()
                .satisfies(f -> assertThat(f.others()).containsExactly(0));
        assertThat(a.firingAtEnd()).containsOnlyKeys(new CheckpointAnalysis.HeadKey(FULL_LAYER, 0),
                new CheckpointAnalysis.HeadKey(FULL_LAYER, 2));
    }

    @Test
    void verdict_namesTheHeadsOfTheGroupAsAlertsJsonlLastGivesThem(@TempDir Path dir) throws Exception {
        // Heads 0, 1 and 2 of the full layer as a run's engine sees them: all three redundant (heads 0 and 2
        // name head 1), then head 1 drifts away; the events go to alerts.jsonl and to the report, as in the demo.
        AlertEngine engine = AlertEngine.of(AlertConfig.builder().persist(1).medianWindow(1, 1)
                .enableOnly(Alert.REDUNDANT_HEAD).build(), Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));
        List<AlertEvent> events = new ArrayList<>();
        Path file = dir.resolve("alerts.jsonl");
        try (AlertJsonlSink sink = AlertJsonlSink.open(file)) {
            engine.addListener(sink).addListener(events::add);
            double[][] redundancy = {{0.95, 0.95, 0.95}, {0.95, 0.95, 0.95}, {0.95, 0.95, 0.95}, {0.95, 0.3, 0.95}};
            int[][] partner = {{1, 0, 1}, {1, 0, 1}, {1, 0, 1}, {2, 0, 0}};
            for (int step = 0; step < redundancy.length; step++) {
                List<HeadRecord> heads = new ArrayList<>();
                for (int h = 0; h < 3; h++) {
                    heads.add(new HeadRecord(FULL_LAYER, h, 4, 2, Visibility.FULL, HeadMetrics.builder()
                            .set(HeadField.MAX_REDUNDANCY, redundancy[step][h])
                            .set(HeadField.REDUNDANCY_PARTNER, partner[step][h]).build()));
                }
                engine.evaluate(new Observation(10L * step, 0, Instant.EPOCH, heads));
            }
        }
        ObjectMapper mapper = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            lines.add(mapper.readTree(line));
        }
        assertThat(lines).extracting(l -> l.get("state").asText(), l -> l.get("heads").toString())
                .containsExactly(tuple("FIRING", "[0,1,2]"), tuple("CHANGED", "[0,2]"));

        CheckpointAnalysis a = new CheckpointAnalysis(analysis.created(), analysis.probe(), analysis.checkpoints(),
                List.of(), analysis.rules(), events.stream().map(e -> new CheckpointAlert("step " + e.step(), e)).toList(),
                analysis.probeTokens(), null);
        StringWriter out = new StringWriter();
        HtmlReport.write(a, out);
        String verdict = out.toString();
        verdict = verdict.substring(verdict.indexOf("<section id=\"verdict\">"));
        verdict = verdict.substring(0, verdict.indexOf("</section>"));
        String since = " since step " + lines.get(0).get("step").asLong();
        String badge = "<span class=\"badge info\" title=\"INFO\">REDUNDANT_HEAD</span>";
        assertThat(verdict).contains("2 of 6 heads in alert")
                .contains("<b>head 0</b> " + badge + " with head 2" + since)
                .contains("<b>head 2</b> " + badge + " with head 0" + since)
                .doesNotContain("<b>head 1</b>").contains("resolved earlier: head 1 REDUNDANT_HEAD");
    }

    static CheckpointAlert group(String checkpoint, long step, AlertState state, Integer... heads) {
        return new CheckpointAlert(checkpoint, new AlertEvent("REDUNDANT_HEAD", state, Severity.INFO, step, Instant.EPOCH,
                FULL_LAYER, List.of(heads), 0.95, 0.9, "group"));
    }

    static String section(String id) {
        int start = html.indexOf("<section id=\"" + id + "\">");
        assertThat(start).as(id).isNotNegative();
        return html.substring(start, html.indexOf("</section>", start));
    }

    @Test
    void verdict_comesBeforeAnyChart_andNamesEachHeadInAlertWithTheCheckpointItBeganAt() {
        String verdict = section("verdict");

        assertThat(html.indexOf("<section id=\"verdict\">")).isLessThan(html.indexOf("<img"));
        assertThat(verdict).contains("Verdict at ckpt-3 (step 30)").contains("2 of 6 heads in alert")
                .contains("(1 warning or critical, 1 information only), 4 healthy")
                // Alerts that began at the same checkpoint share a line.
                .contains("<b>head 0</b> <span class=\"badge\" title=\"WARNING\">ENTROPY_COLLAPSE</span> <span class="
                        + "\"badge\" title=\"WARNING\">LOGIT_GROWTH</span> since ckpt-2 (step 20)")
                .contains("<b>head 2</b> <span class=\"badge info\" title=\"INFO\">REDUNDANT_HEAD</span> since ckpt-3 (step 30)");
        String[] rows = verdict.split("<tr>");
        assertThat(rows).hasSize(4);
        // The causal layer: head 0 in alert; heads 1 and 2 healthy, head 1's resolved sink shift noted.
        assertThat(rows[2]).startsWith("<td class=\"l\">" + HtmlReport.esc(CAUSAL_LAYER) + "</td>")
                .contains("heads 1, 2").contains("resolved earlier: head 1 SINK_SHIFT").doesNotContain("head 2</b>");
        assertThat(rows[3]).contains("heads 0, 1").contains("REDUNDANT_HEAD").doesNotContain("resolved");
    }

    @Test
    void layersAtAGlance_giveEachLayersMedianOverItsHeads_atTheLastCheckpoint() {
        int at = html.indexOf("<h2>Layers at a glance</h2>");
        assertThat(at).isPositive().isLessThan(html.indexOf("<img"));
        String section = html.substring(at, html.indexOf("</table>", at));
        // entropy 0.5, 0.6, 0.7 and keyCoherenceNoFirst 3, 6, 9 over the three heads at ckpt-3
        String causalRow = section.substring(section.indexOf(HtmlReport.esc(CAUSAL_LAYER)));
        causalRow = causalRow.substring(0, causalRow.indexOf("</tr>"));
        assertThat(causalRow).contains("<td>3</td>").contains("<td>" + Num.format(0.6) + "</td>")
                .contains("<td>" + Num.format(6) + "</td>");
        // Only fields some head has a value for: here no participation was measured.
        assertThat(section).contains("#g-keyCoherenceNoFirst").contains("#g-entropy").doesNotContain("#g-participation");
    }

    @Test
    void everyColumnHeader_hasADefinitionAndHealthyRangeTooltip_andAGlossaryEntry() {
        Matcher th = Pattern.compile("<th title=\"([^\"]*)\"><a href=\"#g-(\\w+)\">([\\w<>]+)</a></th>").matcher(html);
        Set<String> headers = new LinkedHashSet<>();
        while (th.find()) {
            // Long names may break before a capital.
            assertThat(th.group(3).replace("<wbr>", "")).isEqualTo(th.group(2));
            assertThat(th.group(1)).as(th.group(2)).startsWith(HtmlReport.esc(Glossary.of(th.group(2)).definition()))
                    .contains("Healthy: ");
            headers.add(th.group(2));
        }

        // Every field with a value has a column, and every column a glossary entry.
        assertThat(headers).containsExactlyInAnyOrder("qkSpectralNorm", "qkStableRank", "maxLogit", "effectiveRank",
                "rankBound", "keyCoherenceNoFirst", "entropy", "sinkPosition");
        for (String f : headers) {
            assertThat(html).contains("<dt id=\"g-" + f + "\">" + f + "</dt><dd>" + HtmlReport.esc(Glossary.of(f).definition()));
        }
        assertThat(html).contains("title=\"" + HtmlReport.esc(Glossary.of("entropy").definition()) + ". Healthy: not falling below "
                + Num.format(DEFAULTS.entropyFloor()));
    }

    @Test
    void glossary_coversEveryField_withRangesFromTheDefaultRules() {
        for (String f : CheckpointAnalysis.fieldNames()) {
            assertThat(Glossary.of(f).definition()).as(f).isNotBlank();
            assertThat(Glossary.of(f).healthy()).as(f).isNotBlank();
        }
        assertThat(Glossary.of("maxLogit").healthy()).isEqualTo("<= " + Num.format(DEFAULTS.maxLogit())
                + " (LOGIT_GROWTH above)");
        assertThat(Glossary.of("maxRedundancy").lines()).extracting(Glossary.Line::value)
                .containsExactly(DEFAULTS.maxRedundancy());
    }

    @Test
    void trendCharts_drawTheDefaultAlertThresholds() {
        List<HtmlReport.Trend> trends = HtmlReport.trendCharts(analysis);

        HtmlReport.Trend entropy = trend(trends, CAUSAL_LAYER, "entropy");
        assertThat(entropy.x()).containsExactly(10, 20, 30);
        assertThat(entropy.heads()).hasSize(3);
        assertThat(entropy.thresholds()).extracting(s -> s.y()[0])
                .containsExactly(DEFAULTS.entropyFloor(), DEFAULTS.deadEntropy());
        assertThat(trend(trends, FULL_LAYER, "maxLogit").thresholds().get(0).y()).containsOnly(DEFAULTS.maxLogit());
        // keyCoherenceNoFirst of the heads at checkpoint c: c, 2c, 3c; the rule's bound is factor x median 2c.
        double[] kc = trend(trends, CAUSAL_LAYER, "keyCoherenceNoFirst").thresholds().get(0).y();
        for (int c = 1; c <= 3; c++) {
            assertThat(kc[c - 1]).isCloseTo(DEFAULTS.keyCoherenceFactor() * 2 * c, within(1e-12));
        }
        // qkSpectralNorm's bound is relative to each head's own history: no single line to draw.
        assertThat(trend(trends, CAUSAL_LAYER, "qkSpectralNorm").thresholds()).isEmpty();
    }

    static HtmlReport.Trend trend(List<HtmlReport.Trend> trends, String layer, String field) {
        return trends.stream().filter(t -> t.layer().equals(layer) && t.field().equals(field)).findFirst().orElseThrow();
    }

    @Test
    void spectrumBound_isLeftOffCausalHeads() {
        LayerResult[] layers = analysis.checkpoints().get(2).layers().toArray(LayerResult[]::new);

        assertThat(HtmlReport.rankBound(layers[0].heads().get(0))).isEmpty();
        assertThat(HtmlReport.rankBound(layers[1].heads().get(0))).hasValue(2);
        HeadResult weightOnly = new HeadResult(0, 0, 16, Visibility.FULL, new WeightHeadMetrics(1, 2), null,
                new HeadPlots(null, null, new double[] {2, 1}, false));
        assertThat(HtmlReport.rankBound(weightOnly)).hasValue(16);
    }

    @Test
    void headPicker_isOneRadioGroupPerLayer_openingOnAHeadInAlert() {
        assertThat(html).contains("<input type=\"radio\" name=\"pick-0\" id=\"pick-0-0\" checked>"
                + "<label for=\"pick-0-0\" class=\"flag\">head 0</label>");
        assertThat(html).contains("<input type=\"radio\" name=\"pick-1\" id=\"pick-1-2\" checked>");
        assertThat(html.split("type=\"radio\"", -1)).hasSize(7);
        assertThat(html.split(" checked>", -1)).hasSize(3);
        assertThat(html.split("<div class=\"panel\">", -1)).hasSize(7);
        assertThat(html).contains(".picker>input:nth-of-type(3):checked~.panel:nth-of-type(3)");
    }

    @Test
    void modelText_isEscaped_andThePageHasNoScriptAndNoExternalReference() {
        assertThat(html).doesNotContain(CAUSAL_LAYER).contains("blk&lt;0&gt;&amp;&quot;x&quot;")
                .doesNotContainIgnoringCase("<script").doesNotContain("http://").doesNotContain("https://")
                .doesNotContain(" src=\"/").doesNotContain("url(");
    }

    @Test
    void numbers_haveOneFormat() {
        assertThat(Num.format(Double.NaN)).isEmpty();
        assertThat(Num.format(50)).isEqualTo("50");
        assertThat(Num.format(-0.0)).isEqualTo("0");
        assertThat(Num.format(0.123456)).isEqualTo("0.1235");
        assertThat(Num.format(1234.5678)).isEqualTo("1235");
        assertThat(Num.format(1e-4)).isEqualTo("1e-4");
        assertThat(Num.format(-1.23456e-7)).isEqualTo("-1.235e-7");
        assertThat(Num.format(2.5e7)).isEqualTo("2.5e7");
        assertThat(Num.format(2.5e12)).isEqualTo("2.5e12");
    }
}
