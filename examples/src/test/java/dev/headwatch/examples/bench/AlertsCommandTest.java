package dev.headwatch.examples.bench;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.cli.CliRun;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AlertsCommandTest {

    @Test
    void tinyRun_printsTheRuleTable_andDetectsInjectedNaN() {
        // 12 iterations per run; NaN written into a query weight at iteration 6.
        CliRun r = CliRun.of("bench", "alerts", "--steps", "12", "--seeds", "1", "--models", "marked-token",
                "--failures", "nan", "--demo-steps", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = Arrays.asList(r.out().split("\\R"));
        assertThat(lines).contains("rule                 severity  firings   per 1000  max/head");
        for (Alert a : Alert.values()) {
            assertThat(lines).anySatisfy(l -> assertThat(l).matches(
                    a.name() + " +" + a.severity() + " +\\d+ +\\d+\\.\\d{3} +\\d+"));
        }
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("WARNING\\+ total +\\d+ +\\d+\\.\\d{3}   \\(target <= 1\\.000\\)"));
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("healthy runs: 1 (marked-token x1), 96 head-observations"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches(
                "demo seed 1 \\+ nan +6 NON_FINITE +yes +\\d+ NON_FINITE layer0/0 .*"));
        assertThat(lines.get(lines.size() - 1)).isEqualTo("detected: 1 of 1 induced failures");
    }

    @Test
    void unknownModel_exitsWithTwoNamingIt() {
        CliRun r = CliRun.of("bench", "alerts", "--models", "gpt5");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("unknown model 'gpt5'");
    }
}
