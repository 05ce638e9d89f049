package dev.headwatch.examples.layerapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttentionGraphExampleTest {

    @TempDir
    Path dir;

    @Test
    void run_learnsTheCountingTask_recordsEveryHead_andFiresNoWarning() throws Exception {
        java.io.ByteArrayOutputStream console = new java.io.ByteArrayOutputStream();
        AttentionGraphExample.Result r = AttentionGraphExample.run(150, 7, dir, new PrintStream(console, true));
        // Chance is 0.5.
        assertThat(r.accuracy()).isGreaterThan(0.75);
        // A healthy run, every iteration observed with the default rules: no WARNING or CRITICAL alert.
        assertThat(r.fired()).as(console.toString()).isZero();
        assertThat(r.firing()).isZero();
        assertThat(Files.readAllLines(dir.resolve("heads.jsonl")))
                .anySatisfy(l -> assertThat(l).contains("\"layer\":\"attention\"", "\"head\":3"));
    }
}
