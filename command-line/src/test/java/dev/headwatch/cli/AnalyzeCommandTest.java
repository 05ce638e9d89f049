package dev.headwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headwatch.checkpoint.Models;
import dev.headwatch.checkpoint.Tripwire;
import dev.headwatch.io.Npy;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

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
    void benchmark_loadsWithoutDeserializingJavaObjects() throws IOException {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(payload)) {
            out.writeObject(new Tripwire());
        }
        Path hostile = tmp.resolve("with-preprocessor.zip");
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(model));
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(hostile))) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                out.putNextEntry(new ZipEntry(e.getName()));
                in.transferTo(out);
            }
            // DL4J's ModelSerializer reads preprocessor.bin with Java deserialization.
            out.putNextEntry(new ZipEntry("preprocessor.bin"));
            out.write(payload.toByteArray());
        }
        Tripwire.TRIPPED.set(false);

        CliRun run = CliRun.of("analyze", "--benchmark", "1", hostile.toString());

        assertThat(run.exitCode()).isZero();
        assertThat(run.outLines()).last().asString().startsWith("load-vs-analysis: 1 files");
        assertThat(Tripwire.TRIPPED).isFalse();
    }

    @Test
    void modelWithoutAttention_isOneLineNamingWhatItHolds_andExitsTwo() throws IOException {
        org.nd4j.autodiff.samediff.SameDiff sd = org.nd4j.autodiff.samediff.SameDiff.create();
        org.nd4j.autodiff.samediff.SDVariable x = sd.placeHolder("x", org.nd4j.linalg.api.buffer.DataType.FLOAT, -1, 4);
        sd.nn.tanh("h", sd.mmul(x, sd.var("W", org.nd4j.linalg.factory.Nd4j.ones(4, 4))));
        Path file = tmp.resolve("mlp.fb");
        sd.save(file.toFile(), false);

        CliRun run = CliRun.of("analyze", file.toString(), "--out", tmp.resolve("mlp-report").toString());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().strip()).doesNotContain("\n").contains("no attention headwatch can read")
                .contains("matmul").contains("tanh");
    }

    @Test
    void handWrittenSameDiffAttention_isAnalysedWithoutDeclarations() throws IOException {
        Path file = tmp.resolve("hand.fb");
        Models.handWritten().save(file.toFile(), false);
        Path out = tmp.resolve("hand-report");

        CliRun run = CliRun.of("analyze", file.toString(), "--out", out.toString());

        assertThat(run.exitCode()).isZero();
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(json.at("/checkpoints/0/layers").size()).isEqualTo(1);
        assertThat(json.at("/checkpoints/0/layers/0/heads").size()).isEqualTo(Models.HAND_HEADS);
        assertThat(json.at("/checkpoints/0/layers/0/heads/0/qkSpectralNorm").isNumber()).isTrue();
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
        for (String integer : new String[] {"numericalRank", "rankBound", "sinkPosition", "redundancyPartner"}) {
            assertThat(json.at("/checkpoints/0/layers/1/heads/3/" + integer).isIntegralNumber()).as(integer).isTrue();
        }
        java.util.List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        java.util.List<String> header = java.util.List.of(csv.get(0).split(","));
        assertThat(csv.get(1).split(",", -1)[header.indexOf("numericalRank")]).matches("[0-9]+");
    }

    @Test
    void tokensFile_labelsTheHeatMaps_andNeedsAProbe() throws IOException {
        Path tokens = tmp.resolve("tokens.txt");
        long length = Npy.readShape(probe)[2];
        Files.write(tokens, java.util.stream.LongStream.range(0, length).mapToObj(i -> "##p" + i).toList());
        Path out = tmp.resolve("tokens");

        CliRun run = CliRun.of("analyze", model.toString(), "--input", probe.toString(), "--tokens", tokens.toString(),
                "--out", out.toString(), "--format", "html");
        CliRun noProbe = CliRun.of("analyze", model.toString(), "--tokens", tokens.toString(), "--out", out.toString());

        assertThat(run.err()).isEmpty();
        assertThat(run.exitCode()).isZero();
        assertThat(Files.readString(out.resolve("report.html"))).contains("labelled with its tokens");
        assertThat(noProbe.exitCode()).isEqualTo(2);
        assertThat(noProbe.err()).contains("--tokens needs --input");
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
    void sameDiffWithDeclaredLayerFromAFile_andPlaceholderInputs_givesDataAndWeightMetrics() throws IOException {
        Path hand = tmp.resolve("hand.fb");
        Models.handWritten().save(hand.toFile(), false);
        Path x = tmp.resolve("x.npy");
        Npy.write(x, Models.sequences(3, 7));
        Path spec = tmp.resolve("attention.txt");
        Files.writeString(spec, "# the hand-written block\nblock=q:k:v:out,causal,wq=Wq,wk=Wk  # x W, heads in columns\n");
        Path out = tmp.resolve("samediff");

        CliRun run = CliRun.of("analyze", hand.toString(), "--attention-file", spec.toString(), "--heads",
                String.valueOf(Models.HAND_HEADS), "--input", "x=" + x, "--out", out.toString(), "--format", "json");

        assertThat(run.err().strip()).doesNotContain("\n").contains("reading the 1 declared layer of SameDiff models");
        assertThat(run.exitCode()).isZero();
        JsonNode head = new ObjectMapper().readTree(out.resolve("report.json").toFile()).at("/checkpoints/0/layers/0/heads/1");
        assertThat(head.at("/entropy").isNumber()).isTrue();
        assertThat(head.at("/qkSpectralNorm").isNumber()).isTrue();
        assertThat(head.at("/mask").asText()).isEqualTo("causal");
        CliRun bad = CliRun.of("analyze", hand.toString(), "--attention", "block=q:k,sideways");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("unknown option 'sideways'");
    }

    @Test
    void badOptions_areUsageErrors() {
        assertThat(CliRun.of("analyze", model.toString(), "--format", "pdf").err()).contains("unknown report format 'pdf'");
        CliRun mixed = CliRun.of("analyze", model.toString(), "--input", probe.toString(), "--input", "x=" + probe);
        assertThat(mixed.exitCode()).isEqualTo(2);
        assertThat(mixed.err()).contains("not both");
    }

    @Test
    void benchmark_onAZipThatHoldsNoModel_namesWhy() throws IOException {
        Path notAModel = tmp.resolve("not-a-model.zip");
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(notAModel))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("readme.txt"));
            zip.write("no model here".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        CliRun run = CliRun.of("analyze", notAModel.toString(), "--benchmark", "1");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().strip()).doesNotContain("\n").contains("not a DL4J model");
    }
}
