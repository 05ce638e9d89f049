package dev.headwatch.onnx;

import dev.headwatch.checkpoint.CheckpointAnalysis;
import dev.headwatch.checkpoint.CheckpointAnalyzer;
import dev.headwatch.checkpoint.HeadResult;
import dev.headwatch.checkpoint.LayerResult;
import dev.headwatch.core.HeadField;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * all-MiniLM-L6-v2 as langchain4j ships it (6 layers x 12 heads of 32). Opt-in: it needs the model on the test
 * classpath, which the {@code minilm} profile of this module adds:
 * {@code mvn -B -pl command-line -am verify -Pminilm -DexcludedGroups=none -Dgroups=slow -Dtest=MiniLmTest
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("slow")
class MiniLmTest {

    @TempDir
    Path dir;

    @Test
    void allMiniLm_everyHeadHasWeightAndActivationMetrics_andTheRebuildMatches() throws IOException {
        Path model = extract("all-minilm-l6-v2.onnx");
        extract("all-minilm-l6-v2-tokenizer.json");
        TokenProbe probe = TokenProbe.fromText(model, List.of(
                "The committee adopted the report after a long debate on the protection of consumers.",
                "Attention heads spread their energy over the key positions of a sentence."));
        CheckpointAnalysis report = OnnxModel.read(model).analyze(probe, CheckpointAnalyzer.builder().build());
        List<LayerResult> layers = report.checkpoints().get(0).layers();
        assertThat(layers).hasSize(6).allSatisfy(l -> assertThat(l.heads()).hasSize(12));
        for (LayerResult l : layers) {
            for (HeadResult h : l.heads()) {
                assertThat(h.d()).isEqualTo(32);
                assertThat(h.weights().qkSpectralNorm()).isPositive();
                assertThat(h.metrics().get(HeadField.RECONSTRUCTION_ERROR)).isLessThan(1e-4);
                assertThat(h.metrics().get(HeadField.ENTROPY)).isBetween(0.0, 1.0);
            }
        }
    }

    private Path extract(String resource) throws IOException {
        try (InputStream in = MiniLmTest.class.getResourceAsStream("/" + resource)) {
            Assumptions.assumeTrue(in != null, resource + " is not on the classpath: run with -Pminilm");
            Path f = dir.resolve(resource);
            Files.copy(in, f);
            return f;
        }
    }
}
