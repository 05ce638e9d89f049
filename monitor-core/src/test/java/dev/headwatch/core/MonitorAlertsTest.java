package dev.headwatch.core;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.FiringAlert;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The monitor feeding an alert engine with the real metrics, and stopping on alerts. */
class MonitorAlertsTest {

    /** Two heads on one random sequence (n = 8, d = 4); head 1's queries scaled by {@code qScale1}. */
    private static LayerInput layer(long seed, double qScale1, boolean nanInHead0) {
        return layer(seed, qScale1, nanInHead0, false);
    }

    private static LayerInput layer(long seed, double qScale1, boolean nanInHead0, boolean infInValues0) {
        Nd4j.getRandom().setSeed(seed);
        List<HeadInput> heads = new ArrayList<>();
        for (int h = 0; h < 2; h++) {
            INDArray q = Nd4j.randn(DataType.FLOAT, 8, 4);
            INDArray k = Nd4j.randn(DataType.FLOAT, 8, 4);
            INDArray v = Nd4j.randn(DataType.FLOAT, 8, 4);
            if (h == 1) {
                q.muli(qScale1);
            }
            if (h == 0 && nanInHead0) {
                q.putScalar(3, 1, Float.NaN);
            }
            if (h == 0 && infInValues0) {
                v.putScalar(2, 0, Float.POSITIVE_INFINITY);
            }
            heads.add(HeadInput.of(q, k, v, Visibility.FULL, Double.NaN));
        }
        return new LayerInput("att", List.of(0, 1), List.of(heads), Double.NaN);
    }

    @Test
    void nanInQueries_firesNonFiniteOnThatHeadOnly() {
        AlertEngine engine = AlertEngine.withDefaults();
        List<AlertEvent> events = new ArrayList<>();
        engine.addListener(events::add);
        try (Monitor m = Monitor.builder().background(false).sink(engine).build()) {
            for (int step = 0; step < 3; step++) {
                m.submit(step, 0, Double.NaN, List.of(layer(step, 1, true)));
            }
        }
        assertThat(events).extracting(AlertEvent::alert, AlertEvent::head)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("NON_FINITE", 0));
    }

    @Test
    void infinityInValuesOnly_isFlaggedByTheMonitor_andFiresNonFinite() {
        AlertEngine engine = AlertEngine.withDefaults();
        List<Observation> seen = new ArrayList<>();
        try (Monitor m = Monitor.builder().background(false).sink(seen::add).sink(engine).build()) {
            for (int step = 0; step < 3; step++) {
                m.submit(step, 0, Double.NaN, List.of(layer(step, 1, false, true)));
            }
        }
        assertThat(seen.get(0).heads()).extracting(HeadRecord::nonFiniteInput).containsExactly(true, false);
        assertThat(engine.firing()).extracting(FiringAlert::alert, FiringAlert::head)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("NON_FINITE", 0));
    }

    @Test
    void stopOn_requestsTheStopWhenAChosenAlertFires() {
        AlertEngine engine = AlertEngine.withDefaults();
        try (Monitor m = Monitor.builder().background(false).stopOn(engine, Alert.LOGIT_GROWTH).build()) {
            m.submit(0, 0, Double.NaN, List.of(layer(0, 1, false)));
            assertThat(m.stopRequest()).isEmpty();
            // Head 1's queries x 200: logits x 200, past LOGIT_GROWTH's bound for firing at once (200).
            m.submit(1, 0, Double.NaN, List.of(layer(1, 200, false)));
            assertThat(engine.firing()).extracting(FiringAlert::alert, FiringAlert::head)
                    .contains(org.assertj.core.groups.Tuple.tuple("LOGIT_GROWTH", 1));
            assertThat(m.stopRequest()).hasValueSatisfying(r -> assertThat(r).contains("LOGIT_GROWTH"));
        }
    }

    @Test
    void signalWithoutStopOn_isNotAStopRequest() {
        try (Monitor m = Monitor.builder().background(false).build()) {
            m.stopSignal().request("user");
            assertThat(m.stopRequest()).isEmpty();
        }
    }

    @Test
    void stopOn_validatesItsArguments() {
        assertThatThrownBy(() -> Monitor.builder().stopOn(null, Alert.NON_FINITE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
        assertThatThrownBy(() -> Monitor.builder().stopOn(AlertEngine.withDefaults(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[]");
    }
}
