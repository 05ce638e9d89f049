package dev.headwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headwatch.checkpoint.Models;
import dev.headwatch.io.Npy;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class AnalyzeCommandTest {

    @TempDir
    static Path tmp;
    static Path model;
    static Path probe;

    @BeforeAll
    static void writeModel() throws IOException {
        MultiLayerNetwork net = Models.mln();
        net.fit(Models.data(4, 1));
        model = tmp.resolve("model.zip");
        ModelSerializer.writeModel(net, model.toFile(), false);
        probe = tmp.resolve("probe.npy");
        Npy.write(probe, Models.features(2, 5));
    }

    @Test
    void goodModelWithProbe_writesTheReport_andExitsZero() throws IOException {
        Path out = tmp.resolve("good");
        CliRun run = CliRun.of("analyze", model.toString(), "--input", probe.toString(), "--out", out.toString());

        assertThat(run.exitCode()).isZero();
        assertThat(run.err()).isEmpty();
        assertThat(run.outLines()).containsExactly(out.resolve("report.json").toString(),
                out.resolve("metrics.csv").toString(), out.resolve("report.html").toString());
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(json.at("/checkpoints/0/layers/1/heads/3/entropy").isNumber()).isTrue();
    }

    @Test
    void badFileAmongGoodOnes_isOneLineOnStderr_listedInTheReport_andExitsTwo() throws IOException {
        Path bad = tmp.resolve("bad.zip");
        Files.writeString(bad, "PK\u0003\u0004 truncated");
        Path out = tmp.resolve("mixed");

        CliRun run = CliRun.of("analyze", model.toString(), bad.toString(), "--out", out.toString(), "--format", "json");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.errLines()).singleElement().asString().startsWith("headwatch analyze: " + bad + ": ")
                .contains("corrupt or truncated zip");
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(json.get("checkpoints").size()).isEqualTo(1);
        assertThat(json.at("/failed/0/file").asText()).isEqualTo(bad.toString());
        assertThat(out.resolve("report.html")).doesNotExist();
    }

    @Test
    void badOptions_areUsageErrors() {
        assertThat(CliRun.of("analyze", model.toString(), "--format", "pdf").err()).contains("unknown report format 'pdf'");
        CliRun mixed = CliRun.of("analyze", model.toString(), "--input", probe.toString(), "--input", "x=" + probe);
        assertThat(mixed.exitCode()).isEqualTo(2);
        assertThat(mixed.err()).contains("not both");
    }
}
