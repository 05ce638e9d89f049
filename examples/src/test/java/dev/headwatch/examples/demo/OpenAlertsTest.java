package dev.headwatch.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.alert.Severity;

class OpenAlertsTest {

    private static AlertEvent event(String alert, AlertState state, String layer, int head, long step) {
        return new AlertEvent(alert, state, Severity.WARNING, step, Instant.EPOCH, layer, head, 0.05, 0.1,
                alert + " on " + layer + " head " + head + " at step " + step + ": entropy 0.05 < 0.1 for 3 observations"
                        + "; usually helps: something");
    }

    @Test
    void firingAndResolving_keepTheOpenAlertsPerHead_andPrintOneLineEach() {
        List<String> lines = new ArrayList<>();
        OpenAlerts open = new OpenAlerts(lines::add);
        open.onAlert(event("ENTROPY_COLLAPSE", AlertState.FIRING, "layer0", 2, 40));
        open.onAlert(event("LOGIT_GROWTH", AlertState.FIRING, "layer0", 2, 41));
        open.onAlert(event("DEAD_HEAD", AlertState.FIRING, "layer1", 0, 42));
        assertThat(open.heads()).isEqualTo(2);
        open.onAlert(event("DEAD_HEAD", AlertState.RESOLVED, "layer1", 0, 60));

        assertThat(open.heads()).isEqualTo(1);
        assertThat(open.snapshot()).isEqualTo(Map.of("layer0/2", List.of("ENTROPY_COLLAPSE", "LOGIT_GROWTH")));
        assertThat(lines).containsExactly(
                "step 40  WARNING  ENTROPY_COLLAPSE layer0 head 2: entropy 0.05 < 0.1 for 3 observations",
                "step 41  WARNING  LOGIT_GROWTH layer0 head 2: entropy 0.05 < 0.1 for 3 observations",
                "step 42  WARNING  DEAD_HEAD layer1 head 0: entropy 0.05 < 0.1 for 3 observations",
                "step 60  resolved DEAD_HEAD layer1 head 0");
    }

    @Test
    void aGroupFinding_isOpenOnEachOfItsHeads_andFollowsItsChanges() {
        List<String> lines = new ArrayList<>();
        OpenAlerts open = new OpenAlerts(lines::add);
        open.onAlert(group(AlertState.FIRING, 463, 0, 3));
        open.onAlert(event("DEAD_HEAD", AlertState.FIRING, "layer1", 5, 500));
        open.onAlert(group(AlertState.CHANGED, 662, 0, 2, 3));
        assertThat(open.heads()).isEqualTo(4);
        open.onAlert(group(AlertState.CHANGED, 700, 0, 2));

        assertThat(open.snapshot()).isEqualTo(Map.of(
                "layer1/0", List.of("REDUNDANT_HEAD with head 2"),
                "layer1/2", List.of("REDUNDANT_HEAD with head 0"),
                "layer1/5", List.of("DEAD_HEAD")));
        open.onAlert(group(AlertState.RESOLVED, 800, 0, 2));
        assertThat(open.snapshot()).containsOnlyKeys("layer1/5");
        assertThat(lines).containsExactly(
                "step 463  INFO     REDUNDANT_HEAD layer1 heads 0 and 3: group",
                "step 500  WARNING  DEAD_HEAD layer1 head 5: entropy 0.05 < 0.1 for 3 observations",
                "step 662  now      REDUNDANT_HEAD layer1 heads 0, 2 and 3",
                "step 700  now      REDUNDANT_HEAD layer1 heads 0 and 2",
                "step 800  resolved REDUNDANT_HEAD layer1 heads 0 and 2");
    }

    private static AlertEvent group(AlertState state, long step, Integer... heads) {
        return new AlertEvent("REDUNDANT_HEAD", state, Severity.INFO, step, Instant.EPOCH, "layer1", List.of(heads),
                0.95, 0.9, "group");
    }
}
