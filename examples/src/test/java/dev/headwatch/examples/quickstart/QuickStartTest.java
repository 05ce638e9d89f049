package dev.headwatch.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The README's quick start is this class, word for word, and it writes a record per head per step. */
class QuickStartTest {

    private static final Path SOURCE = Path.of("src/main/java/dev/headwatch/examples/quickstart/QuickStart.java");
    private static final Path OUTPUT = Path.of("headwatch-out/heads.jsonl");

    @Test
    void readme_showsTheQuickStartClassAsCompiled() throws Exception {
        String source = Files.readString(SOURCE);
        String shown = source.substring(source.indexOf("import "));
        assertThat(Files.readString(Path.of("../README.md"))).contains(shown);
    }

    @Test
    void main_recordsEveryHeadAtEveryStep() throws Exception {
        Files.deleteIfExists(OUTPUT);
        try {
            QuickStart.main(new String[0]);
            List<String> lines = Files.readAllLines(OUTPUT);
            assertThat(lines).hasSize(20 * 4).allSatisfy(l -> assertThat(l).contains("\"layer\":\"layer0\""));
        } finally {
            Files.deleteIfExists(OUTPUT);
            Files.deleteIfExists(OUTPUT.getParent());
        }
    }
}
