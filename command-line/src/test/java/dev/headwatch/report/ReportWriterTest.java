package dev.headwatch.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.checkpoint.CheckpointAnalyzer;
import dev.headwatch.checkpoint.Models;
import dev.headwatch.checkpoint.Probe;
import dev.headwatch.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The report files written from a checkpoint analysis, and a probe read from a {@code .npy} file. */
class ReportWriterTest {

    @TempDir
    static Path tmp;

    static Path series;
    static Path graphZip;
    static INDArray probe;

    @BeforeAll
    static void train() throws IOException {
        series = Models.checkpointSeries(tmp.resolve("mln-checkpoints"));
        graphZip = Models.graphZip(tmp.resolve("graph.zip"));
        probe = Models.features(3, 99);
    }

    @Test
    void reportFiles_holdMetricNames_escapeModelNames_andLeaveNoTemporaryFiles() throws IOException {
        CheckpointAnalysis report = CheckpointAnalyzer.builder().probe(Probe.of(probe)).build().analyze(List.of(series));
        Path out = tmp.resolve("report-out");

        List<Path> written = ReportWriter.write(report, out);

        assertThat(written).extracting(p -> p.getFileName().toString())
                .containsExactly("report.json", "metrics.csv", "report.html");
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        int count = report.checkpoints().size();
        JsonNode head = json.at("/checkpoints/" + (count - 1) + "/layers/0/heads/0");
        for (String field : CheckpointAnalysis.fieldNames()) {
            assertThat(head.has(field)).as(field).isTrue();
        }
        assertThat(head.get("layer").asText()).isEqualTo(Models.HOSTILE_NAME);
        assertThat(json.at("/alerts/firstFiring").has("ENTROPY_COLLAPSE")).isTrue();
        assertThat(json.get("trends").size()).isPositive();
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertThat(csv.get(0)).startsWith("checkpoint,iteration,epoch,format,layer,head,n,d,mask,qkSpectralNorm");
        assertThat(csv).hasSize(1 + count * (2 + 4));
        String html = Files.readString(out.resolve("report.html"));
        assertThat(html).doesNotContain("<script").contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;")
                .contains("data:image/png;base64,").doesNotContain("http://").doesNotContain("https://");
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(
                    "report.json", "metrics.csv", "report.html");
        }
    }

    @Test
    void probeFile_throughNpy_givesTheSameMetricsAsTheArray() throws IOException {
        Path npy = tmp.resolve("probe.npy");
        Npy.write(npy, probe);
        CheckpointAnalysis fromFile = CheckpointAnalyzer.builder().probe(Probe.of(Npy.read(npy))).build().analyze(List.of(graphZip));
        CheckpointAnalysis fromArray = CheckpointAnalyzer.builder().probe(Probe.of(probe)).build().analyze(List.of(graphZip));

        assertThat(fromFile.checkpoints().get(0).layers().get(0).heads().get(0).metrics())
                .isEqualTo(fromArray.checkpoints().get(0).layers().get(0).heads().get(0).metrics());
    }
}
