package dev.headwatch.examples.layerapi;

import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.dl4j.AttentionMonitorListener;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The false-alert measurement on the examples' layer-API attention model: a whole healthy training run
 * of {@link ReversalTask} at its default sizes (two SelfAttentionLayers of 4 heads, 32 positions),
 * every iteration observed by the default rules, must fire no alert.
 */
class ReversalTaskAlertsTest {

    @Test
    @Tag("slow")
    void healthyRun_firesNoAlert() {
        ReversalTask task = new ReversalTask(ReversalTask.Shape.DEFAULT, 1);
        MultiLayerNetwork net = ReversalTask.network(ReversalTask.Shape.DEFAULT, 1);
        AlertEngine engine = AlertEngine.withDefaults();
        List<AlertEvent> events = new ArrayList<>();
        engine.addListener(events::add);
        AttentionMonitorListener listener = AttentionMonitorListener.builder().background(false).sink(engine).build();
        net.setListeners(listener);
        for (int i = 0; i < 200; i++) {
            net.fit(task.next());
        }
        listener.close();
        assertThat(listener.stats().observations()).isEqualTo(200);
        assertThat(events).isEmpty();
    }
}
