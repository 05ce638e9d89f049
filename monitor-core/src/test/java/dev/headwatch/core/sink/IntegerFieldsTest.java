package dev.headwatch.core.sink;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class IntegerFieldsTest {

    private static Observation observation() {
        HeadMetrics m = HeadMetrics.builder().set(HeadField.NUMERICAL_RANK, 3).set(HeadField.SINK_POSITION, 2)
                .set(HeadField.RANK_BOUND, 4).set(HeadField.REDUNDANCY_PARTNER, 1).set(HeadField.ENTROPY, 0.5).build();
        return new Observation(7, 0, Instant.parse("2024-05-01T12:00:00Z"),
                List.of(new HeadRecord("att", 0, 6, 4, Visibility.FULL, m)));
    }

    @Test
    void jsonLines_writesIntegerFieldsAsIntegers() throws Exception {
        Path file = dir.resolve("heads.jsonl");
        try (JsonLinesSink sink = JsonLinesSink.open(file)) {
            sink.write(observation());
        }
        String line = Files.readString(file);
        assertThat(line).contains("\"numericalRank\":3,", "\"sinkPosition\":2,", "\"rankBound\":4,",
                "\"redundancyPartner\":1", "\"entropy\":0.5");
        assertThat(line).doesNotContain("3.0", "2.0", "4.0", "1.0");
    }

    @Test
    void csv_writesIntegerFieldsAsIntegers() throws Exception {
        Path file = dir.resolve("heads.csv");
        try (CsvSink sink = CsvSink.open(file)) {
            sink.write(observation());
        }
        List<String> lines = Files.readAllLines(file);
        List<String> header = List.of(lines.get(0).split(","));
        String[] row = lines.get(1).split(",", -1);
        assertThat(row[header.indexOf("numericalRank")]).isEqualTo("3");
        assertThat(row[header.indexOf("sinkPosition")]).isEqualTo("2");
        assertThat(row[header.indexOf("redundancyPartner")]).isEqualTo("1");
        assertThat(row[header.indexOf("entropy")]).isEqualTo("0.5");
    }

    @TempDir
    Path dir;
}
