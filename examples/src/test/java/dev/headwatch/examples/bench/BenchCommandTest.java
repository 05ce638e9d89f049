package dev.headwatch.examples.bench;

import dev.headwatch.examples.HeadwatchMain;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class BenchCommandTest {

    private static String[] run(String... args) {
        CommandLine cl = HeadwatchMain.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new String[]{String.valueOf(code), out.toString(), err.toString()};
    }

    @Test
    void overhead_small_endsWithTheRatioLine() {
        String[] r = run("bench", "overhead", "--warmup", "1", "--rounds", "1", "--steps", "2",
                "--batch", "4", "--length", "8");
        assertThat(r[0]).isEqualTo("0");
        String[] lines = r[1].strip().split("\\R");
        assertThat(lines[lines.length - 1]).matches("overhead: headwatch=\\d+\\.\\d{3}x statslistener=\\d+\\.\\d{3}x");
        assertThat(r[1]).containsPattern("headwatch: [1-9]\\d* observations");
    }

    @Test
    void overhead_badValue_exitsWithTwoNamingIt() {
        String[] r = run("bench", "overhead", "--rounds", "0");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("--rounds must be >= 1 but was 0");
    }
}
