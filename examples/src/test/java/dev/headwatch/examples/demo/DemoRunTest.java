package dev.headwatch.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.alert.Severity;
import dev.headwatch.examples.text.ByteCorpus;
import dev.headwatch.checkpoint.CheckpointResult;
import dev.headwatch.checkpoint.CheckpointAnalysis;

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
        assertThat(console).contains("6/6").contains("loss ").contains("in alert");
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
    void analyze_readsEveryCheckpointOfTheRun_withEveryHeadRebuiltExactly() {
        CheckpointAnalysis report = DemoRun.analyze(options, DemoRun.probe(options));
        assertThat(report.failed()).isEmpty();
        assertThat(report.checkpoints()).extracting(CheckpointResult::iteration).containsExactly(2L, 5L);
        assertThat(report.checkpoints()).allSatisfy(c -> assertThat(c.layers()).singleElement().satisfies(l -> {
            assertThat(l.heads()).hasSize(2);
            assertThat(l.heads()).allSatisfy(h -> assertThat(h.metrics().reconstructionError()).isLessThan(1e-4));
        }));
    }

    @Test
    void train_stopRequested_endsBetweenSteps_andKeepsWhatWasWritten(@TempDir Path other) throws Exception {
        GptConfig model = new GptConfig(1, 2, 16, 16, ByteCorpus.VOCAB);
        // a checkpoint every 10 steps: the run stops before the first, and the report shows the final model
        DemoRun.Options o = new DemoRun.Options(20, other, model, 3, null, 4, 3e-3, 10);
        AtomicBoolean stop = new AtomicBoolean();
        BaseListener afterThird = new BaseListener() {
            @Override
            public boolean isActive(Operation operation) {
                return operation == Operation.TRAINING;
            }

            @Override
            public void iterationDone(SameDiff sd, At at, MultiDataSet batch, Loss loss) {
                stop.set(at.iteration() >= 2);
            }
        };
        DemoRun.Result stopped = DemoRun.train(o, new PrintStream(OutputStream.nullOutputStream()), false,
                List.of(afterThird), List.of(), stop::get);

        assertThat(stopped.losses()).hasSize(3);
        assertThat(Files.readAllLines(other.resolve("metrics.jsonl"))).hasSize(3 * 2);
        assertThat(other.resolve("model.fb")).isNotEmptyFile();
        assertThat(other.resolve("checkpoints").resolve("checkpointInfo.txt")).doesNotExist();
        String report = DemoRun.report(o, stopped.alerts(), "interrupted at step 3 of 20");
        assertThat(report).endsWith("report.html");
        assertThat(Files.readString(Path.of(report))).contains("interrupted at step 3 of 20").contains("model.fb");
        assertThat(other.resolve("probe-input.npy")).isNotEmptyFile();
        assertThat(other.resolve("probe-label.npy")).isNotEmptyFile();
    }

    @Test
    void resultAlerts_areTheEventsOfAlertsJsonl() throws Exception {
        assertThat(run.alerts()).hasSameSizeAs(Files.readAllLines(dir.resolve("alerts.jsonl")));
    }

    @Test
    void report_listsTheAlertsItIsGiven_notARerunOnTheCheckpoints() throws Exception {
        AlertEvent fired = new AlertEvent("NON_FINITE", AlertState.FIRING, Severity.CRITICAL, 4, Instant.EPOCH,
                "layer0", 1, Double.NaN, Double.NaN, "NON_FINITE on layer0 head 1 at step 4");
        String written = DemoRun.report(options, List.of(fired), null);
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
        assertThat(DemoRun.headTable(run.heads(), run.openAlerts())).contains("layer0", "entropy");
    }
}
