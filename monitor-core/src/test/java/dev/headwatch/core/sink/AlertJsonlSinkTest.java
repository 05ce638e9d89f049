package dev.headwatch.core.sink;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.alert.Severity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AlertJsonlSinkTest {

    @TempDir
    Path dir;

    @Test
    void writesOneFlushedJsonObjectPerEvent() throws Exception {
        Path file = dir.resolve("run/alerts.jsonl");
        AlertEvent fire = new AlertEvent("ENTROPY_COLLAPSE", AlertState.FIRING, Severity.WARNING, 7,
                Instant.parse("2026-01-01T00:00:07Z"), "attn", 1, 0.04, 0.1, "entropy 0.04 < 0.1");
        AlertEvent nan = new AlertEvent("NON_FINITE", AlertState.RESOLVED, Severity.CRITICAL, 9,
                Instant.parse("2026-01-01T00:00:09Z"), "attn", 0, Double.NaN, Double.POSITIVE_INFINITY, "ok");
        AlertEvent group = new AlertEvent("REDUNDANT_HEAD", AlertState.FIRING, Severity.INFO, 11,
                Instant.parse("2026-01-01T00:00:11Z"), "attn", List.of(0, 2, 5), 0.95, 0.9, "group");
        try (AlertJsonlSink sink = AlertJsonlSink.open(file)) {
            sink.onAlert(fire);
            // Flushed per event: the line is on disk before the next event or close.
            assertThat(Files.readAllLines(file)).hasSize(1);
            sink.onAlert(nan);
            sink.onAlert(group);
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(3);
        ObjectMapper mapper = new ObjectMapper();
        JsonNode first = mapper.readTree(lines.get(0));
        assertThat(first.get("type").asText()).isEqualTo("alert");
        assertThat(first.get("alert").asText()).isEqualTo("ENTROPY_COLLAPSE");
        assertThat(first.get("state").asText()).isEqualTo("FIRING");
        assertThat(first.get("severity").asText()).isEqualTo("WARNING");
        assertThat(first.get("step").asLong()).isEqualTo(7);
        assertThat(first.get("time").asText()).isEqualTo("2026-01-01T00:00:07Z");
        assertThat(first.get("layer").asText()).isEqualTo("attn");
        assertThat(first.get("head").asInt()).isEqualTo(1);
        assertThat(first.get("heads").toString()).isEqualTo("[1]");
        assertThat(first.get("value").asDouble()).isEqualTo(0.04);
        assertThat(first.get("threshold").asDouble()).isEqualTo(0.1);
        assertThat(first.get("message").asText()).isEqualTo("entropy 0.04 < 0.1");
        JsonNode second = mapper.readTree(lines.get(1));
        assertThat(second.get("value").isNull()).isTrue();
        assertThat(second.get("threshold").isNull()).isTrue();
        JsonNode third = mapper.readTree(lines.get(2));
        assertThat(third.get("head").asInt()).isZero();
        assertThat(third.get("heads").toString()).isEqualTo("[0,2,5]");
    }
}
