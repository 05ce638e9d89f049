package dev.headwatch.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.alert.Severity;
import dev.headwatch.examples.text.ByteCorpus;

/** The demo runs a few steps: every output exists, the loss is finite, the monitor recorded every head. */
class DemoRunTest {

    @TempDir
    static Path dir;

    static DemoRun.Options options;
    static DemoRun.Result run;
    static String console;

    @BeforeAll
    static void trainFewSteps() {
        GptConfig model = new GptConfig(1, 2, 16, 16, ByteCorpus.VOCAB);
        options = new DemoRun.Options(6, dir, model, 3, Induce.DEAD_HEAD, 4, 3e-3, 3);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        run = DemoRun.train(options, new PrintStream(bytes, true, StandardCharsets.UTF_8), false, List.of());
        console = bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void train_writesMetricsAlertsCheckpointsAndModel() {
        assertThat(dir.resolve("metrics.jsonl")).isNotEmptyFile();
        assertThat(dir.resolve("alerts.jsonl")).exists();
        assertThat(dir.resolve("model.fb")).isNotEmptyFile();
        assertThat(dir.resolve("checkpoints/checkpointInfo.txt")).content().contains("iter-2", "iter-5");
    }

    @Test
    void train_lossIsFiniteEveryStep_andProgressIsShown() {
        assertThat(run.losses()).hasSize(6).allSatisfy(l -> assertThat(l).isFinite().isPositive());
        assertThat(console).contains("step 6/6");
    }

    @Test
    void train_monitorRecordsEveryHeadOfEveryLayer() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> records = Files.readAllLines(dir.resolve("metrics.jsonl")).stream().map(l -> {
            try {
                return json.readTree(l);
            } catch (Exception e) {
                throw new AssertionError(l, e);
            }
        }).toList();
        assertThat(records).extracting(r -> r.get("layer").asText()).contains("layer0");
        assertThat(records).extracting(r -> r.get("head").asInt()).contains(0, 1);
        assertThat(records).allSatisfy(r -> {
            assertThat(r.get("mask").asText()).isEqualTo("causal");
            assertThat(r.get("n").asInt()).isEqualTo(16);
            // The monitor rebuilds each head's output from q, k, v: it must match the model's own.
            assertThat(r.get("reconstructionError").asDouble()).isLessThan(1e-4);
        });
    }

    @Test
    void train_deadHeadInduced_holdsHeadZeroQueriesAtZeroFromMidRun() {
        INDArray wq = run.model().getVariable(TinyGpt.var(0, "Wq")).getArr();
        // Head 0 owns columns [0, headDim) of Wq; head 1 is untouched.
        assertThat(wq.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 8)).amaxNumber().doubleValue()).isZero();
        assertThat(wq.get(NDArrayIndex.all(), NDArrayIndex.interval(8, 16)).amaxNumber().doubleValue()).isPositive();
    }

    @Test
    void resultAlerts_areTheEventsOfAlertsJsonl() throws Exception {
        assertThat(run.alerts()).hasSameSizeAs(Files.readAllLines(dir.resolve("alerts.jsonl")));
    }

    @Test
    void report_listsTheAlertsItIsGiven_notARerunOnTheCheckpoints() throws Exception {
        AlertEvent fired = new AlertEvent("NON_FINITE", AlertState.FIRING, Severity.CRITICAL, 4, Instant.EPOCH,
                "layer0", 1, Double.NaN, Double.NaN, "NON_FINITE on layer0 head 1 at step 4");
        String written = DemoRun.report(options, List.of(fired));
        assertThat(written).endsWith("report.html");
        String html = Files.readString(Path.of(written));
        // The first-firing table and the transitions name the run's step; no other transition is listed.
        assertThat(html).contains("step 4").contains("NON_FINITE on layer0 head 1 at step 4");
        assertThat(html.split("<td class=\"l\">FIRING</td>", -1)).hasSize(2);
    }

    @Test
    void headTable_listsEveryHeadOfEveryLayer() {
        assertThat(run.heads()).hasSize(1);
        assertThat(run.heads().get(0)).hasSize(2);
        assertThat(DemoRun.headTable(run.heads())).contains("layer0", "entropy");
    }
}
