package dev.headwatch.sparkexample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trains on a real local[2] Spark master with each training master, then reads what the driver wrote. */
class SparkExampleTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path out;
    static List<SparkExample.Result> results;
    static String console;

    @BeforeAll
    static void run() throws IOException {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        results = SparkExample.run(out, 4, new PrintStream(text, true, StandardCharsets.UTF_8));
        console = text.toString(StandardCharsets.UTF_8);
    }

    @Test
    void parameterAveraging() throws IOException {
        check(SparkExample.Master.PARAMETER_AVERAGING);
    }

    @Test
    void sharedTraining() throws IOException {
        check(SparkExample.Master.SHARED_TRAINING);
    }

    private static void check(SparkExample.Master master) throws IOException {
        SparkExample.Result r = results.stream().filter(x -> x.master() == master).findFirst().orElseThrow();
        Path dir = out.resolve(master.dir);
        List<Map<String, Object>> metrics = read(dir.resolve("metrics.jsonl"));
        Set<Object> workers = new TreeSet<>();
        for (Map<String, Object> m : metrics) {
            assertThat(m.get("worker")).isInstanceOf(String.class);
            workers.add(m.get("worker"));
            assertThat(((Number) m.get("reconstructionError")).doubleValue()).isLessThanOrEqualTo(1e-3);
        }
        assertThat(workers).hasSizeGreaterThanOrEqualTo(2);
        assertThat(metrics).hasSize((int) r.stats().records());
        // one head of the two is broken: it fires once, on the driver, and the stop policy ends training early
        List<Map<String, Object>> firing = read(dir.resolve("alerts.jsonl")).stream()
                .filter(a -> a.get("state").equals("FIRING") && a.get("alert").equals("LOGIT_GROWTH")).toList();
        assertThat(firing).hasSize(1);
        assertThat(firing.get(0).get("head")).isEqualTo(0);
        assertThat(r.stopped()).isTrue();
        assertThat(r.epochsCompleted()).isLessThan(r.epochs());
        assertThat(r.failedJobs()).isZero();
        assertThat(r.stats().late()).isZero();
        assertThat(r.stats().dropped()).isZero();
        assertThat(console).contains("RESULT spark master=" + master.dir);
    }

    private static List<Map<String, Object>> read(Path file) throws IOException {
        List<Map<String, Object>> rows = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> row = JSON.readValue(line, Map.class);
            rows.add(row);
        }
        return rows;
    }
}
