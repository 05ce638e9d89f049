package dev.headwatch.dl4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.LayerAnalyzer;
import dev.headwatch.core.WeightAnalysis;
import dev.headwatch.core.WeightLayerMetrics;
import dev.headwatch.core.Observation;
import dev.headwatch.core.sink.ObservationSink;
import dev.headwatch.core.sink.CsvSink;
import dev.headwatch.core.sink.JsonLinesSink;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class AttentionMonitorListenerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void multiLayerNetwork_fit_writesEveryHeadOfEveryLayer_toJsonLines() throws Exception {
        MultiLayerNetwork net = TestNets.mln();
        Path file = dir.resolve("heads.jsonl");
        AttentionMonitorListener listener = AttentionMonitorListener.builder()
                .maxSequences(2).sink(JsonLinesSink.open(file)).build();
        net.setListeners(listener);
        for (int i = 0; i < 3; i++) {
            net.fit(TestNets.data(4, i, i == 1));
        }
        listener.close();

        List<JsonNode> records = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            records.add(JSON.readTree(line));
        }
        // 3 iterations x (2 + 1 + 2 heads).
        assertThat(records).hasSize(15);
        List<String> expected = new ArrayList<>(List.of("step", "epoch", "layer", "head", "n", "d", "mask", "time"));
        for (HeadField f : HeadField.values()) {
            expected.add(f.fieldName());
        }
        expected.add("qkSpectralNorm");
        for (JsonNode r : records) {
            List<String> names = new ArrayList<>();
            r.fieldNames().forEachRemaining(names::add);
            assertThat(names).containsExactlyElementsOf(expected);
            assertThat(Instant.parse(r.get("time").asText())).isNotNull();
            assertThat(r.get("reconstructionError").asDouble()).isBetween(0.0, 1e-5);
            assertThat(r.get("entropy").asDouble()).isBetween(0.0, 1.0);
        }
        assertThat(records).extracting(r -> r.get("step").asLong()).containsOnly(0L, 1L, 2L);
        assertThat(records).extracting(r -> r.get("layer").asText()).containsOnly("layer0", "layer1", "layer2");
        assertThat(listener.stats().observations()).isEqualTo(3);
    }

    @Test
    void computationGraph_fit_withMasks_observesEveryVertex_andCsvHoldsTheSameColumns() throws Exception {
        ComputationGraph cg = TestNets.graph();
        Path file = dir.resolve("heads.csv");
        List<Observation> seen = Collections.synchronizedList(new ArrayList<>());
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(false)
                .maxSequences(3).every(2).sink(CsvSink.open(file)).sink(seen::add).build();
        cg.setListeners(listener);
        List<Double> scores = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            cg.fit(TestNets.data(3, 10 + i, true));
            scores.add(cg.score());
        }
        listener.close();

        assertThat(seen).extracting(Observation::step).containsExactly(0L, 2L);
        // the loss of the last iteration completed when the heads were read: none yet, then iteration 1's
        assertThat(seen).extracting(Observation::loss).containsExactly(Double.NaN, scores.get(1));
        assertThat(seen.get(0).heads()).extracting(r -> r.layer() + "/" + r.head())
                .containsExactly("self/0", "self/1", "att/0", "att/1", "att/2", "plain/0");
        assertThat(seen.get(0).heads()).allSatisfy(r ->
                assertThat(r.metrics().reconstructionError()).isBetween(0.0, 1e-5));
        try (Reader in = Files.newBufferedReader(file);
             CSVParser csv = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build().parse(in)) {
            List<CSVRecord> rows = csv.getRecords();
            assertThat(rows).hasSize(12);
            assertThat(csv.getHeaderNames()).startsWith("step", "epoch", "layer", "head", "n", "d", "mask", "time")
                    .contains("keyCoherenceNoFirst", "reconstructionError");
            assertThat(rows.get(0).get("layer")).isEqualTo("self");
        }
    }

    @ParameterizedTest(name = "background={0}")
    @ValueSource(booleans = {false, true})
    void fit_reportsQkSpectralNorm_ofTheWeightsEachForwardPassUsed(boolean background) {
        MultiLayerNetwork net = TestNets.mln();
        List<Observation> seen = Collections.synchronizedList(new ArrayList<>());
        // In the background, step 0's metrics wait until every fit is done, so steps 1 and 2 are extracted after
        // the optimizer has moved the weights: the listener must have copied the weights each pass used.
        CountDownLatch trained = new CountDownLatch(background ? 1 : 0);
        LayerAnalyzer standard = LayerAnalyzer.standard();
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(background)
                .queueCapacity(8).analyzer(heads -> {
                    await(trained);
                    return standard.analyze(heads);
                }).sink(seen::add).build();
        net.setListeners(listener);
        List<WeightLayerMetrics> expected = new ArrayList<>();
        List<WeightLayerMetrics> expectedRecurrent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            // One minibatch is one iteration: the forward pass uses the weights as they are before fit.
            expected.add(WeightAnalysis.compute(net.getLayer(0).getParam("Wq"), net.getLayer(0).getParam("Wk"), Double.NaN));
            expectedRecurrent.add(WeightAnalysis.compute(net.getLayer(2).getParam("Wq"), net.getLayer(2).getParam("Wk"),
                    Double.NaN));
            net.fit(TestNets.data(2, i, false));
        }
        trained.countDown();
        listener.close();

        assertThat(seen).hasSize(3);
        for (int i = 0; i < 3; i++) {
            for (HeadRecord r : seen.get(i).heads()) {
                double value = switch (r.layer()) {
                    case "layer0" -> expected.get(i).heads().get(r.head()).qkSpectralNorm();
                    case "layer2" -> expectedRecurrent.get(i).heads().get(r.head()).qkSpectralNorm();
                    default -> Double.NaN;                  // unprojected: no weights
                };
                if (Double.isNaN(value)) {
                    assertThat(r.qkSpectralNorm()).as(r.layer()).isNaN();
                } else {
                    assertThat(r.qkSpectralNorm()).as(r.layer() + "/" + r.head() + " at step " + i)
                            .isCloseTo(value, within(1e-9 * value));
                }
            }
        }
        // The weights move between iterations, and so does the reported value.
        assertThat(expected.get(2).heads().get(0).qkSpectralNorm())
                .isNotEqualTo(expected.get(0).heads().get(0).qkSpectralNorm());
        assertThat(seen.get(0).heads()).filteredOn(r -> r.layer().equals("layer0"))
                .allSatisfy(r -> assertThat(r.qkSpectralNorm()).isPositive());
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void failingSink_doesNotStopTraining() {
        MultiLayerNetwork net = TestNets.mln();
        List<Observation> seen = new ArrayList<>();
        ObservationSink broken = o -> {
            throw new IllegalStateException("sink is broken");
        };
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(false)
                .sink(broken).sink(seen::add).build();
        net.setListeners(listener);
        for (int i = 0; i < 5; i++) {
            net.fit(TestNets.data(2, i, false));
        }
        listener.close();
        assertThat(net.getIterationCount()).isEqualTo(5);
        assertThat(seen).hasSize(5);
        assertThat(listener.stats().sinkFailures()).isEqualTo(3);
        assertThat(listener.stats().disabledSinks()).isEqualTo(1);
    }

    @Test
    void layerAndHeadFilters_restrictTheRecords() {
        MultiLayerNetwork net = TestNets.mln();
        List<Observation> seen = new ArrayList<>();
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(false)
                .layers("layer2").heads(1).sink(seen::add).build();
        net.setListeners(listener);
        net.fit(TestNets.data(2, 1, false));
        listener.close();
        assertThat(seen).singleElement().satisfies(o ->
                assertThat(o.heads()).extracting(r -> r.layer() + "/" + r.head()).containsExactly("layer2/1"));
    }

    @Test
    void builder_rejectsInvalidSettings_namingTheValue() {
        assertThatThrownBy(() -> AttentionMonitorListener.builder().every(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("every must be >= 1 but was 0");
        assertThatThrownBy(() -> AttentionMonitorListener.builder().maxSequences(0))
                .hasMessage("maxSequences must be >= 1 but was 0");
    }
}
