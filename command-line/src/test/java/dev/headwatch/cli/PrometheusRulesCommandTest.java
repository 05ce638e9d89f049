package dev.headwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class PrometheusRulesCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = new CommandLine(new PrometheusRulesCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void printsParseableRules_withForFromPersistAndInterval() throws Exception {
        // ENTROPY_COLLAPSE follows the engine's decision, which waited its persist already: no 'for'
        assertThat(run("--interval", "1m", "--persist", "5", "--disable", "ENTROPY_COLLAPSE,SINK_SHIFT,NON_FINITE"))
                .isZero();

        JsonNode rules = new YAMLMapper().readTree(out.toString()).get("groups").get(0).get("rules");
        assertThat(rules).hasSize(6);
        for (JsonNode rule : rules) {
            assertThat(rule.get("for").asText()).as(rule.get("alert").asText()).isEqualTo("5m");
        }
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void isASubcommandOfHeadwatch() {
        CommandLine cl = Headwatch.commandLine();
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("prometheus-rules", "--persist", "2")).isZero();
        assertThat(out.toString()).contains("alert: LOGIT_GROWTH").contains("for: 30s");
    }

    @Test
    void defaults_waitThreeTimesFifteenSeconds() throws Exception {
        assertThat(run()).isZero();
        JsonNode rules = new YAMLMapper().readTree(out.toString()).get("groups").get(0).get("rules");
        assertThat(rules).hasSize(9);
        assertThat(rules.get(1).get("alert").asText()).isEqualTo("LOGIT_GROWTH");
        assertThat(rules.get(1).get("for").asText()).isEqualTo("45s");
    }

    @Test
    void badInterval_orPersist_isBadInput() {
        assertThat(run("--interval", "soon")).isEqualTo(2);
        assertThat(err.toString()).contains("--interval").contains("soon");
        assertThat(run("--persist", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("persist must be >= 1 but was 0");
        assertThat(out.toString()).isEmpty();
    }
}
