package dev.headwatch.cli;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertConfig;
import dev.headwatch.export.PrometheusRules;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code headwatch prometheus-rules}: the alert rules as a Prometheus alerting-rules file on stdout,
 * over the series of the Prometheus exporter.
 */
@Command(name = "prometheus-rules",
        header = "Prints headwatch's alert rules as a Prometheus rules file.",
        sortOptions = false,
        description = {
                "Prints Prometheus alerting rules equivalent to headwatch's alert rules (default thresholds of "
                        + "METRICS.md), for the series served by the Prometheus exporter.",
                "Each rule waits 'for' persist x interval. Save the output as a rules file and list it under "
                        + "rule_files in prometheus.yml."
        })
final class PrometheusRulesCommand implements Callable<Integer> {

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

    @Spec
    CommandSpec spec;

    @Option(names = "--interval", defaultValue = "15s", paramLabel = "DURATION",
            description = "Time between two observations as Prometheus sees them: the larger of the time between "
                    + "the listener's observations and the scrape interval, e.g. 30s, 1m, 500ms "
                    + "(default: ${DEFAULT-VALUE}, Prometheus' default scrape interval).")
    String interval;

    @Option(names = "--persist", paramLabel = "N",
            description = "Consecutive observations a condition must hold (default: the alert engine's, 3).")
    Integer persist;

    @Option(names = "--disable", split = ",", paramLabel = "ALERT",
            description = "Alerts to leave out, comma-separated: ${COMPLETION-CANDIDATES}.")
    List<Alert> disabled = List.of();

    @Override
    public Integer call() {
        AlertConfig.Builder config = AlertConfig.builder();
        try {
            if (persist != null) {
                config.persist(persist);
            }
        } catch (IllegalArgumentException e) {
            throw Headwatch.badInput(spec, e.getMessage());
        }
        config.disable(disabled.toArray(Alert[]::new));
        PrintWriter out = spec.commandLine().getOut();
        out.print(PrometheusRules.yaml(config.build(), parseInterval()));
        out.flush();
        return 0;
    }

    private Duration parseInterval() {
        Matcher m = DURATION.matcher(interval);
        long amount = m.matches() ? Long.parseLong(m.group(1)) : 0;
        if (amount <= 0) {
            throw Headwatch.badInput(spec,
                    "--interval must be a positive duration such as 30s, 1m or 500ms but was '" + interval + "'");
        }
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
    }
}
