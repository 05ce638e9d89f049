package dev.headwatch.checkpoint;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadInput;
import dev.headwatch.core.LayerAnalyzer;
import dev.headwatch.core.LayerCapture;
import dev.headwatch.core.LayerObservation;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.LayerAnalysis;
import dev.headwatch.core.WeightAnalysis;
import dev.headwatch.core.WeightLayerMetrics;
import dev.headwatch.dl4j.AttentionLayers;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.listeners.CheckpointListener;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class CheckpointAnalyzerTest {

    @TempDir
    static Path tmp;

    static Path mlnDir;
    static Path graphZip;
    static Path sameDiffFile;
    static SameDiff sameDiff;
    static INDArray probe;

    @BeforeAll
    static void train() throws IOException {
        mlnDir = Models.checkpointSeries(tmp.resolve("mln-checkpoints"));
        graphZip = Models.graphZip(tmp.resolve("graph.zip"));
        sameDiff = Models.sameDiff();
        sameDiffFile = tmp.resolve("model.fb");
        sameDiff.save(sameDiffFile.toFile(), false);
        probe = Models.features(3, 99);
    }

    private static CheckpointResult last(CheckpointAnalysis report) {
        return report.checkpoints().get(report.checkpoints().size() - 1);
    }

    @Test
    void checkpointDirectory_isOrderedByIteration_andWeightMetricsMatchTheSavedWeights() throws IOException {
        CheckpointAnalysis report = CheckpointAnalyzer.builder().build().analyze(List.of(mlnDir));

        assertThat(report.failed()).isEmpty();
        assertThat(report.checkpoints()).hasSize(CheckpointListener.availableCheckpoints(mlnDir.toFile()).size())
                .hasSizeGreaterThanOrEqualTo(3);
        assertThat(report.checkpoints()).extracting(CheckpointResult::iteration).isSorted().doesNotHaveDuplicates();
        CheckpointResult last = last(report);
        assertThat(last.format()).isEqualTo("MultiLayerNetwork");
        assertThat(last.layers()).extracting(LayerResult::layer).containsExactly(Models.HOSTILE_NAME, "second");
        assertThat(last.layers().get(1).heads()).hasSize(4);
        // Reference: DL4J's own restore of the same (trusted) file.
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(Path.of(last.file()).toFile());
        for (int l = 0; l < 2; l++) {
            WeightLayerMetrics expected = WeightAnalysis.compute(restored.getLayer(l).getParam("Wq").dup(),
                    restored.getLayer(l).getParam("Wk").dup(), Double.NaN);
            LayerResult layer = last.layers().get(l);
            for (HeadResult h : layer.heads()) {
                assertThat(h.weights()).isEqualTo(expected.heads().get(h.head()));
                assertThat(h.metrics()).isNull();
                assertThat(h.plots().ofEnergy()).isFalse();
                assertThat(h.plots().singularValues()).containsExactly(expected.singularValues(h.head()));
            }
            assertThat(layer.qkOverlap()).isDeepEqualTo(expected.qkOverlap());
        }
        // Without plots: the same numbers, nothing to draw.
        CheckpointResult bare = last(CheckpointAnalyzer.builder().plots(false).build().analyze(List.of(mlnDir)));
        assertThat(bare.layers()).usingRecursiveComparison().isEqualTo(last.withoutPlots().layers());
        assertThat(bare.layers().get(0).heads().get(0).plots()).isNull();
    }

    @Test
    void probe_metricsEqualTheSharedExtractionOnDl4jsOwnRestore() throws IOException {
        CheckpointAnalysis report = CheckpointAnalyzer.builder().probe(Probe.of(probe)).build().analyze(List.of(mlnDir));

        CheckpointResult last = last(report);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(Path.of(last.file()).toFile());
        List<LayerCapture> reference = AttentionLayers.of(restored)
                .forward(new INDArray[] {probe}, null, new int[] {0, 1, 2});
        for (int l = 0; l < 2; l++) {
            LayerObservation x = LayerObservation.of(reference.get(l), h -> true, LayerAnalyzer.standard()).orElseThrow();
            double reconstructionError = x.records().get(0).metrics().reconstructionError();
            List<List<HeadMetrics>> perHead = new ArrayList<>();
            for (List<HeadInput> seq : x.input().sequences()) {
                perHead.add(LayerAnalysis.compute(seq).heads());
            }
            for (HeadResult h : last.layers().get(l).heads()) {
                List<HeadMetrics> seqs = perHead.stream().map(p -> p.get(h.head())).toList();
                HeadMetrics expected = HeadMetrics.aggregate(seqs).toBuilder()
                        .set(HeadField.RECONSTRUCTION_ERROR, reconstructionError).build();
                assertThat(h.metrics()).isEqualTo(expected);
                assertThat(h.n()).isEqualTo(Models.T);
                assertThat(h.metrics().reconstructionError()).isLessThan(1e-3);
                assertThat(h.plots().attention()).hasNumberOfRows(Models.T);
                assertThat(h.plots().singularValues()).hasSize(Models.T);
            }
        }
        // Plot data is kept for the last checkpoint only.
        assertThat(report.checkpoints().get(0).layers().get(0).heads().get(0).plots()).isNull();
    }

    @Test
    void computationGraphZip_isToldApartFromItsConfiguration_andAnalysedWithProbe() {
        CheckpointAnalysis report = CheckpointAnalyzer.builder().probe(Probe.of(probe)).build().analyze(List.of(graphZip));

        assertThat(report.failed()).isEmpty();
        CheckpointResult c = report.checkpoints().get(0);
        assertThat(c.format()).isEqualTo("ComputationGraph");
        assertThat(c.layers()).extracting(LayerResult::layer).containsExactly("self", "att");
        LayerResult att = c.layers().get(1);
        assertThat(att.heads()).hasSize(3);
        assertThat(att.energyCorrelation()).hasDimensions(3, 3);
        for (HeadResult h : att.heads()) {
            assertThat(h.metrics().entropy()).isBetween(0.0, 1.0);
            assertThat(h.metrics().reconstructionError()).isLessThan(1e-3);
            assertThat(h.weights().qkSpectralNorm()).isPositive();
            // FULL mask, d = 2 < n: the energy field has rank <= d (METRICS.md item 6).
            assertThat(h.metrics().numericalRank()).isLessThanOrEqualTo(2.0);
        }
    }

    @Test
    void probeTokens_reachTheAnalysis_andAWeightOnlyAnalysisHasNone() {
        List<String> tokens = java.util.stream.IntStream.range(0, (int) probe.size(2)).mapToObj(i -> "t" + i).toList();

        CheckpointAnalysis withTokens = CheckpointAnalyzer.builder().probe(Probe.of(probe).withTokens(tokens)).build()
                .analyze(List.of(graphZip));

        assertThat(withTokens.probeTokens()).isEqualTo(tokens);
        assertThat(CheckpointAnalyzer.builder().build().analyze(List.of(graphZip)).probeTokens()).isEmpty();
    }

    @Test
    void sameDiffFile_weightMetricsOfTheFusedAttentionOp() {
        CheckpointAnalysis report = CheckpointAnalyzer.builder().build().analyze(List.of(sameDiffFile));

        assertThat(report.failed()).isEmpty();
        CheckpointResult c = report.checkpoints().get(0);
        assertThat(c.format()).isEqualTo("SameDiff");
        assertThat(c.layers()).hasSize(1);
        WeightLayerMetrics expected = WeightAnalysis.compute(sameDiff.getArrForVarName("Wq").dup(),
                sameDiff.getArrForVarName("Wk").dup(), Double.NaN);
        List<HeadResult> heads = c.layers().get(0).heads();
        assertThat(heads).hasSize(2);
        for (HeadResult h : heads) {
            assertThat(h.weights().qkSpectralNorm())
                    .isCloseTo(expected.heads().get(h.head()).qkSpectralNorm(), within(1e-6));
        }
    }

    @Test
    void singleFiles_reportTheIterationAndEpochTheModelWasSavedWith() throws IOException {
        CheckpointAnalysis listed = CheckpointAnalyzer.builder().build().analyze(List.of(mlnDir));
        List<Path> files = new java.util.ArrayList<>(listed.checkpoints().stream().map(c -> Path.of(c.file())).toList());
        files.add(graphZip);
        files.add(sameDiffFile);

        CheckpointAnalysis report = CheckpointAnalyzer.builder().build().analyze(files);

        // Files named one by one: the counters saved in the model, the same CheckpointListener lists.
        int n = listed.checkpoints().size();
        for (int i = 0; i < n; i++) {
            assertThat(report.checkpoints().get(i).iteration()).isEqualTo(listed.checkpoints().get(i).iteration());
            assertThat(report.checkpoints().get(i).epoch()).isEqualTo(listed.checkpoints().get(i).epoch());
        }
        // The graph and the SameDiff model were each fitted on 3 single minibatches before saving.
        assertThat(report.checkpoints().get(n).iteration()).isEqualTo(3);
        assertThat(report.checkpoints().get(n + 1).iteration()).isEqualTo(3);
        assertThat(report.checkpoints().get(n + 1).epoch()).isEqualTo(sameDiff.getTrainingConfig().getEpochCount());
    }

    @Test
    void truncatedCheckpointInSeries_isListed_andTheOthersAreStillAnalysed() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("with-bad"));
        try (Stream<Path> files = Files.list(mlnDir)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        CheckpointAnalysis good = CheckpointAnalyzer.builder().build().analyze(List.of(dir));
        Path victim = Path.of(good.checkpoints().get(1).file());
        byte[] bytes = Files.readAllBytes(victim);
        Files.write(victim, java.util.Arrays.copyOf(bytes, bytes.length / 2));

        CheckpointAnalysis report = CheckpointAnalyzer.builder().build().analyze(List.of(dir));

        assertThat(report.checkpoints()).hasSize(good.checkpoints().size() - 1);
        assertThat(report.failed()).singleElement().satisfies(f -> {
            assertThat(f.file()).isEqualTo(victim.toString());
            assertThat(f.problem()).contains("corrupt or truncated zip");
        });
    }

    @Test
    void stopWhen_endsBeforeTheNextCheckpoint_andTheAnalysisSaysSo() {
        java.util.concurrent.atomic.AtomicInteger started = new java.util.concurrent.atomic.AtomicInteger();
        CheckpointAnalysis all = CheckpointAnalyzer.builder().build().analyze(List.of(mlnDir));
        CheckpointAnalysis stopped = CheckpointAnalyzer.builder()
                .progress((i, n, ref) -> started.incrementAndGet())
                .stopWhen(() -> started.get() >= 2)
                .build().analyze(List.of(mlnDir));

        assertThat(all.checkpoints()).hasSizeGreaterThan(2);
        assertThat(all.notice()).isNull();
        assertThat(stopped.checkpoints()).hasSize(2);
        assertThat(stopped.notice()).isEqualTo("interrupted after 2 of " + all.checkpoints().size() + " checkpoints");
    }
}
