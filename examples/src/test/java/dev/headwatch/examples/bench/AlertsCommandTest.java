package dev.headwatch.examples.bench;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.cli.Headwatch;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AlertsCommandTest {

    private static String[] run(String... args) {
        CommandLine cl = Headwatch.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new String[] {String.valueOf(code), out.toString(), err.toString()};
    }

    @Test
    void tinyRun_printsTheRuleTable_andDetectsInjectedNaN() {
        // 12 iterations per run; NaN written into a query weight at iteration 6.
        String[] r = run("bench", "alerts", "--steps", "12", "--seeds", "1", "--models", "marked-token",
                "--failures", "nan", "--demo-steps", "0");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        List<String> lines = Arrays.asList(r[1].split("\\R"));
        assertThat(lines).contains("rule                 severity  firings   per 1000  max/head");
        for (Alert a : Alert.values()) {
            assertThat(lines).anySatisfy(l -> assertThat(l).matches(
                    a.name() + " +" + a.severity() + " +\\d+ +\\d+\\.\\d{3} +\\d+"));
        }
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("WARNING\\+ total +\\d+ +\\d+\\.\\d{3}   \\(target <= 1\\.000\\)"));
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("healthy runs: 1 (marked-token x1), 96 head-observations"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches(
                "marked-token seed 1 \\+ nan +6 NON_FINITE +yes +\\d+ NON_FINITE layer0/0 .*"));
        assertThat(lines.get(lines.size() - 1)).isEqualTo("detected: 1 of 1 induced failures");
    }

    @Test
    void unknownModel_exitsWithTwoNamingIt() {
        String[] r = run("bench", "alerts", "--models", "gpt5");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("unknown model 'gpt5'");
    }
}
