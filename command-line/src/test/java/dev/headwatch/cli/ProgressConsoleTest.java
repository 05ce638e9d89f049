package dev.headwatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class ProgressConsoleTest {

    @Test
    void withoutTerminal_printsOneBarLinePerTenth_andEventsAsWholeLines() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ProgressConsole c = ProgressConsole.open("train", 100, new PrintStream(bytes, true, StandardCharsets.UTF_8),
                false)) {
            for (int step = 1; step <= 100; step++) {
                c.step(step, "loss " + step);
                if (step == 42) {
                    c.event("step 42  WARNING ENTROPY_COLLAPSE layer0 head 1");
                }
            }
        }
        List<String> lines = Arrays.asList(bytes.toString(StandardCharsets.UTF_8).split("\n"));
        assertThat(bytes.toString(StandardCharsets.UTF_8)).doesNotContain("\r");
        // one line per tenth, 0 to 10; closing does not repeat the last one
        assertThat(lines).filteredOn(l -> l.startsWith("train")).hasSize(11);
        assertThat(lines).filteredOn(l -> l.contains("100/100")).hasSize(1);
        assertThat(lines).contains("step 42  WARNING ENTROPY_COLLAPSE layer0 head 1");
        assertThat(lines.get(lines.size() - 1)).startsWith("train").contains("100/100").contains("loss 100");
    }

    @Test
    void onTerminal_redrawsInPlace_andAnEventClearsTheBarLineFirst() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ProgressConsole c = ProgressConsole.open("train", 10, new PrintStream(bytes, true, StandardCharsets.UTF_8),
                true)) {
            c.step(3, "loss 2.5");
            c.event("step 3  resolved DEAD_HEAD layer1 head 0");
            c.step(10, "loss 2.0");
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("\rtrain").contains("\r" + " ".repeat(5))
                .contains("\rstep 3  resolved DEAD_HEAD layer1 head 0\n");
        assertThat(out.substring(out.lastIndexOf('\r'))).contains("10/10").contains("loss 2.0").endsWith("\n");
    }
}
