package dev.headwatch.core.alert;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AlertEngineTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /** A clock the test moves by hand. */
    private static final class ManualClock extends Clock {
        Instant now = T0;

        @Override public ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    /** Metrics of an unremarkable head: nothing near any default threshold. */
    static HeadMetrics.Builder healthy() {
        return HeadMetrics.builder()
                .set(HeadField.MAX_LOGIT, 3).set(HeadField.ZERO_SUM_RESIDUAL, 1e-7)
                .set(HeadField.RECONSTRUCTION_ERROR, 1e-6).set(HeadField.ENERGY_RMS, 0.5)
                .set(HeadField.EFFECTIVE_RANK, 3).set(HeadField.STABLE_RANK, 2).set(HeadField.TOP_ENERGY, 0.5)
                .set(HeadField.NUMERICAL_RANK, 4).set(HeadField.RANK_BOUND, 4).set(HeadField.PARTICIPATION, 0.7)
                .set(HeadField.MAX_KEY_SHARE, 0.2).set(HeadField.KEY_COHERENCE, 1.8)
                .set(HeadField.KEY_COHERENCE_NO_FIRST, 1.7).set(HeadField.ENTROPY, 0.8)
                .set(HeadField.SINK_MAX, 0.2).set(HeadField.SINK_POSITION, 0).set(HeadField.FIRST_KEY_MASS, 0.15)
                .set(HeadField.LINEAR_GAP, 0.3).set(HeadField.MAX_REDUNDANCY, 0.4)
                .set(HeadField.REDUNDANCY_PARTNER, 1);
    }

    static HeadRecord head(int head, HeadMetrics m) {
        return new HeadRecord("attn", head, 16, 8, Visibility.FULL, m);
    }

    static Observation obs(long step, HeadRecord... heads) {
        return new Observation(step, 0, T0, List.of(heads));
    }

    private final ManualClock clock = new ManualClock();

    private AlertEngine engine(AlertConfig config) {
        return AlertEngine.of(config, clock);
    }

    /** Feeds one head's metrics per step (steps 1..), returning every event. */
    private static List<AlertEvent> feed(AlertEngine engine, List<HeadMetrics> sequence) {
        List<AlertEvent> events = new ArrayList<>();
        long step = 1;
        for (HeadMetrics m : sequence) {
            events.addAll(engine.evaluate(obs(step++, head(0, m))));
        }
        return events;
    }

    private static List<HeadMetrics> repeat(int times, UnaryOperator<HeadMetrics.Builder> change) {
        List<HeadMetrics> list = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            list.add(change.apply(healthy()).build());
        }
        return list;
    }

    @SafeVarargs
    private static List<HeadMetrics> concat(List<HeadMetrics>... parts) {
        List<HeadMetrics> all = new ArrayList<>();
        for (List<HeadMetrics> p : parts) {
            all.addAll(p);
        }
        return all;
    }

    private static UnaryOperator<HeadMetrics.Builder> set(HeadField field, double value) {
        return b -> b.set(field, value);
    }

    // ---- persistence ---------------------------------------------------------------------------------

    @Test
    void fires_onlyAfterPersistConsecutiveObservations() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<HeadMetrics> bad = repeat(3, set(HeadField.ENTROPY, 0.05));
        assertThat(e.evaluate(obs(1, head(0, bad.get(0))))).isEmpty();
        assertThat(e.evaluate(obs(2, head(0, bad.get(1))))).isEmpty();
        List<AlertEvent> third = e.evaluate(obs(3, head(0, bad.get(2))));
        assertThat(third).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("ENTROPY_COLLAPSE");
            assertThat(ev.state()).isEqualTo(AlertState.FIRING);
            assertThat(ev.severity()).isEqualTo(Severity.WARNING);
            assertThat(ev.step()).isEqualTo(3);
            assertThat(ev.layer()).isEqualTo("attn");
            assertThat(ev.head()).isZero();
            assertThat(ev.value()).isEqualTo(0.05);
            assertThat(ev.threshold()).isEqualTo(0.1);
            assertThat(ev.message()).contains("entropy 0.0500 < 0.100").contains("QK layer norm")
                    .contains("lower learning rate");
        });
    }

    @Test
    void resolves_onlyAfterPersistObservationsWithoutCondition() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<AlertEvent> events = feed(e, concat(repeat(3, set(HeadField.ENTROPY, 0.05)), repeat(2, b -> b)));
        assertThat(events).extracting(AlertEvent::state).containsExactly(AlertState.FIRING);
        assertThat(e.firing()).hasSize(1);
        List<AlertEvent> resolved = e.evaluate(obs(6, head(0, healthy().build())));
        assertThat(resolved).singleElement().satisfies(ev -> {
            assertThat(ev.state()).isEqualTo(AlertState.RESOLVED);
            assertThat(ev.value()).isEqualTo(0.8);
            assertThat(ev.message()).contains("resolved").contains("entropy 0.800");
        });
        assertThat(e.firing()).isEmpty();
    }

    @Test
    void interruptedStreak_doesNotFire() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<AlertEvent> events = feed(e, concat(repeat(2, set(HeadField.ENTROPY, 0.05)), repeat(1, b -> b),
                repeat(2, set(HeadField.ENTROPY, 0.05))));
        assertThat(events).isEmpty();
    }

    @Test
    void undefinedObservation_neitherExtendsNorBreaksStreak() {
        AlertEngine e = engine(AlertConfig.defaults());
        // bad, bad, entropy NaN (n = 1 sequences), bad: the NaN does not count, so the third bad fires.
        List<AlertEvent> events = feed(e, concat(repeat(2, set(HeadField.ENTROPY, 0.05)),
                repeat(1, set(HeadField.ENTROPY, Double.NaN)), repeat(1, set(HeadField.ENTROPY, 0.05))));
        assertThat(events).extracting(AlertEvent::alert, AlertEvent::step)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("ENTROPY_COLLAPSE", 4L));
    }

    @Test
    void persistOne_firesAndResolvesImmediately() {
        AlertEngine e = engine(AlertConfig.builder().persist(1).build());
        List<AlertEvent> events = feed(e, concat(repeat(1, set(HeadField.MAX_REDUNDANCY, 0.95)), repeat(1, b -> b)));
        assertThat(events).extracting(AlertEvent::state).containsExactly(AlertState.FIRING, AlertState.RESOLVED);
    }

    @Test
    void statesAreKeptPerHead() {
        AlertEngine e = engine(AlertConfig.defaults());
        HeadMetrics bad = healthy().set(HeadField.EFFECTIVE_RANK, 1.1).build();
        HeadMetrics good = healthy().build();
        List<AlertEvent> events = new ArrayList<>();
        for (int step = 1; step <= 3; step++) {
            // Head 0 bad throughout; head 1 alternates, so it never holds three in a row.
            events.addAll(e.evaluate(obs(step, head(0, bad), head(1, step == 2 ? good : bad))));
        }
        assertThat(events).extracting(AlertEvent::head).containsExactly(0);
    }

    // ---- running medians -------------------------------------------------------------------------------

    @Test
    void runningMedian_keepsLastWindowValues() {
        RunningMedian m = new RunningMedian(3);
        assertThat(m.median()).isNaN();
        m.add(5);
        assertThat(m.median()).isEqualTo(5);
        m.add(1);
        assertThat(m.median()).isEqualTo(3); // (1 + 5) / 2
        m.add(2);
        m.add(10); // window now 1, 2, 10 (5 dropped)
        assertThat(m.median()).isEqualTo(2);
        assertThat(m.size()).isEqualTo(3);
    }

    @Test
    void entropyHalvingFromRunningMedian_fires() {
        AlertEngine e = engine(AlertConfig.defaults());
        // Baseline 0.8 for 5 observations (the warm-up); 0.35 < 0.5 * 0.8 = 0.4 holds, above the 0.1 floor.
        List<AlertEvent> events = feed(e, concat(repeat(5, b -> b), repeat(3, set(HeadField.ENTROPY, 0.35))));
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("ENTROPY_COLLAPSE");
            assertThat(ev.step()).isEqualTo(8);
            assertThat(ev.threshold()).isEqualTo(0.4);
            assertThat(ev.message()).contains("running median 0.800");
        });
    }

    @Test
    void entropyDropOfLessThanHalf_doesNotFire() {
        AlertEngine e = engine(AlertConfig.defaults());
        assertThat(feed(e, concat(repeat(5, b -> b), repeat(10, set(HeadField.ENTROPY, 0.45))))).isEmpty();
    }

    @Test
    void relativeRule_waitsForWarmup() {
        AlertEngine e = engine(AlertConfig.defaults());
        // Only 2 baseline values (< warm-up 5): the drop is not compared yet.
        assertThat(feed(e, concat(repeat(2, b -> b), repeat(3, set(HeadField.ENTROPY, 0.35))))).isEmpty();
    }

    @Test
    void lastingCollapse_staysFiring_becauseBreachesStayOutOfTheBaseline() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<AlertEvent> events = feed(e, concat(repeat(5, b -> b), repeat(40, set(HeadField.ENTROPY, 0.35))));
        assertThat(events).extracting(AlertEvent::state).containsExactly(AlertState.FIRING);
        assertThat(e.firing()).extracting(FiringAlert::alert).containsExactly("ENTROPY_COLLAPSE");
    }

    @Test
    void slowDrift_followsTheMedianAndDoesNotFire() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<HeadMetrics> drift = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            drift.add(healthy().set(HeadField.ENTROPY, 0.9 * Math.pow(0.98, i)).build()); // 0.9 -> 0.27
        }
        assertThat(feed(e, drift)).isEmpty();
    }

    // ---- each rule -------------------------------------------------------------------------------------

    private List<String> firedAlerts(AlertConfig config, UnaryOperator<HeadMetrics.Builder> change) {
        return feed(engine(config), concat(repeat(5, b -> b), repeat(3, change))).stream()
                .filter(ev -> ev.state() == AlertState.FIRING).map(AlertEvent::alert).toList();
    }

    @Test
    void healthyHead_firesNothing() {
        AlertEngine e = engine(AlertConfig.defaults());
        Random rnd = new Random(7);
        List<HeadMetrics> seq = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            seq.add(healthy().set(HeadField.ENTROPY, 0.8 + 0.1 * rnd.nextGaussian())
                    .set(HeadField.MAX_LOGIT, 3 + rnd.nextGaussian()).build());
        }
        assertThat(feed(e, seq)).isEmpty();
    }

    @Test
    void logitGrowth_maxLogitAboveBound() {
        assertThat(firedAlerts(AlertConfig.defaults(), set(HeadField.MAX_LOGIT, 60))).containsExactly("LOGIT_GROWTH");
    }

    @Test
    void logitGrowth_qkSpectralNormDoubled_whenTheAdapterSuppliesIt() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<AlertEvent> events = new ArrayList<>();
        double[] norms = {1.0, 1.1, 0.9, 1.0, 1.05, 2.5, 2.6, 2.7};
        for (int i = 0; i < norms.length; i++) {
            HeadRecord r = head(0, healthy().build()).withQkSpectralNorm(norms[i]);
            events.addAll(e.evaluate(obs(i + 1, r)));
        }
        // Median of the first five is 1.0; 2.5 > 2 x 1.0 from the sixth on, so it fires at the eighth.
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("LOGIT_GROWTH");
            assertThat(ev.step()).isEqualTo(8);
            assertThat(ev.value()).isEqualTo(2.7);
            assertThat(ev.threshold()).isEqualTo(2.0);
        });
    }

    @Test
    void logitGrowth_withoutWeightMetrics_usesMaxLogitOnly() {
        AlertEngine e = engine(AlertConfig.defaults());
        assertThat(feed(e, repeat(10, b -> b))).isEmpty();
        assertThat(e.firing()).isEmpty();
    }

    @Test
    void deadHead_firesAlone_evenThoughItsRankIsZero() {
        assertThat(firedAlerts(AlertConfig.defaults(), b -> b.set(HeadField.ENTROPY, 0.999)
                .set(HeadField.ENERGY_RMS, 0.0).set(HeadField.EFFECTIVE_RANK, 0).set(HeadField.STABLE_RANK, 0)
                .set(HeadField.TOP_ENERGY, 0).set(HeadField.PARTICIPATION, Double.NaN)
                .set(HeadField.MAX_KEY_SHARE, Double.NaN))).containsExactly("DEAD_HEAD");
    }

    @Test
    void deadHead_needsBothConditions() {
        assertThat(firedAlerts(AlertConfig.defaults(), set(HeadField.ENERGY_RMS, 0.01))).isEmpty();
        assertThat(firedAlerts(AlertConfig.defaults(), set(HeadField.ENTROPY, 0.995))).isEmpty();
    }

    @Test
    void rankCollapse_effectiveRankBelowBound() {
        assertThat(firedAlerts(AlertConfig.defaults(), set(HeadField.EFFECTIVE_RANK, 1.2)))
                .containsExactly("RANK_COLLAPSE");
    }

    @Test
    void rankCollapse_neverFiresWhereTheShapeCannotReachRankTwo() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<AlertEvent> events = new ArrayList<>();
        for (int step = 1; step <= 5; step++) {
            HeadMetrics m = healthy().set(HeadField.EFFECTIVE_RANK, 1.0).build();
            // n = 2 FULL: E has rank <= min(d, n - 1) = 1.
            events.addAll(e.evaluate(obs(step, new HeadRecord("attn", 0, 2, 8, Visibility.FULL, m))));
        }
        assertThat(events).isEmpty();
    }

    @Test
    void keyCoherence_farAboveTheLayerMedian() {
        AlertEngine e = engine(AlertConfig.defaults());
        double[] kc = {1.5, 1.6, 1.4, 8.0};
        List<AlertEvent> events = new ArrayList<>();
        for (int step = 1; step <= 3; step++) {
            List<HeadRecord> heads = new ArrayList<>();
            for (int h = 0; h < kc.length; h++) {
                heads.add(head(h, healthy().set(HeadField.KEY_COHERENCE_NO_FIRST, kc[h]).build()));
            }
            events.addAll(e.evaluate(new Observation(step, 0, T0, heads)));
        }
        // Layer median (1.5 + 1.6) / 2 = 1.55; 8.0 > 4 x 1.55 = 6.2 for head 3 only.
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("KEY_COHERENCE");
            assertThat(ev.head()).isEqualTo(3);
            assertThat(ev.threshold()).isCloseTo(6.2, org.assertj.core.data.Offset.offset(1e-12));
        });
    }

    private List<AlertEvent> lowParticipation(UnaryOperator<HeadMetrics.Builder> change) {
        return feed(engine(AlertConfig.defaults()), concat(repeat(5, b -> b), repeat(5, change)));
    }

    @Test
    void keyCoherence_lowParticipation_onTheMedianOfTheLastFive_unlessASinkExplainsIt() {
        // Participation 0.7 five times, then 0.1: the median of the last five drops below 0.25 at the
        // third low value (step 8) and must stay there for 3 observations, so it fires at step 10.
        // n = 16 keys: a key drawing more than 2/16 = 0.125 of the mass explains the concentration.
        assertThat(lowParticipation(b -> b.set(HeadField.PARTICIPATION, 0.1).set(HeadField.SINK_MAX, 0.1)))
                .extracting(AlertEvent::alert, AlertEvent::step)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("KEY_COHERENCE", 10L));
        assertThat(lowParticipation(b -> b.set(HeadField.PARTICIPATION, 0.1).set(HeadField.SINK_MAX, 0.15)))
                .isEmpty();
        assertThat(lowParticipation(b -> b.set(HeadField.PARTICIPATION, 0.1).set(HeadField.SINK_MAX, 0.5)
                .set(HeadField.SINK_POSITION, 0))).extracting(AlertEvent::alert).doesNotContain("KEY_COHERENCE");
    }

    @Test
    void keyCoherence_isolatedLowParticipation_doesNotFire() {
        List<HeadMetrics> noisy = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            // Two low values in every five: never a majority of the last five.
            noisy.add(healthy().set(HeadField.SINK_MAX, 0.1).set(HeadField.PARTICIPATION, i % 5 < 2 ? 0.1 : 0.6).build());
        }
        assertThat(feed(engine(AlertConfig.defaults()), noisy)).isEmpty();
    }

    @Test
    void sinkShift_streakRestartsWhenTheSinkMoves() {
        AlertEngine e = engine(AlertConfig.defaults());
        double[] positions = {4, 4, 7, 4, 4, 4};
        List<AlertEvent> events = new ArrayList<>();
        events.addAll(e.evaluate(obs(1, head(0, healthy().build()))));
        for (int i = 0; i < positions.length; i++) {
            events.addAll(e.evaluate(obs(i + 2, head(0, healthy().set(HeadField.SINK_MAX, 0.5)
                    .set(HeadField.SINK_POSITION, positions[i]).build()))));
        }
        // Sinks at 4, 4, then 7 (a new streak), then 4, 4, 4: fires on the third 4 in a row, step 7.
        assertThat(events).extracting(AlertEvent::alert, AlertEvent::step)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("SINK_SHIFT", 7L));
    }

    @Test
    void sinkShift_newSinkPosition_fires() {
        // First observation: no sink (sinkMax 0.2). Later a sink of 0.45 at position 5.
        assertThat(firedAlerts(AlertConfig.defaults(), b -> b.set(HeadField.SINK_MAX, 0.45)
                .set(HeadField.SINK_POSITION, 5))).containsExactly("SINK_SHIFT");
    }

    @Test
    void sinkShift_sinkPresentAtFirstObservation_doesNotFire() {
        UnaryOperator<HeadMetrics.Builder> sinkAt0 = b -> b.set(HeadField.SINK_MAX, 0.6).set(HeadField.SINK_POSITION, 0);
        AlertEngine e = engine(AlertConfig.defaults());
        assertThat(feed(e, concat(repeat(1, sinkAt0), repeat(5, b -> b.set(HeadField.SINK_MAX, 0.8)
                .set(HeadField.SINK_POSITION, 0))))).isEmpty();
        // ... but moving to another position does.
        List<AlertEvent> moved = new ArrayList<>();
        for (int step = 10; step < 13; step++) {
            moved.addAll(e.evaluate(obs(step, head(0, healthy().set(HeadField.SINK_MAX, 0.5)
                    .set(HeadField.SINK_POSITION, 3).build()))));
        }
        assertThat(moved).extracting(AlertEvent::alert).containsExactly("SINK_SHIFT");
        assertThat(moved.get(0).message()).contains("position 3").contains("sink at position 0 at the first");
    }

    @Test
    void redundantHead_namesThePartner() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<AlertEvent> events = feed(e, repeat(3, b -> b.set(HeadField.MAX_REDUNDANCY, 0.97)
                .set(HeadField.REDUNDANCY_PARTNER, 2)));
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("REDUNDANT_HEAD");
            assertThat(ev.severity()).isEqualTo(Severity.INFO);
            assertThat(ev.message()).contains("with head 2");
        });
    }

    @Test
    void nonFinite_flagFromTheAdapter() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<AlertEvent> events = new ArrayList<>();
        for (int step = 1; step <= 3; step++) {
            events.addAll(e.evaluate(obs(step, head(0, healthy().build()).withNonFiniteInput(true))));
        }
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("NON_FINITE");
            assertThat(ev.severity()).isEqualTo(Severity.CRITICAL);
            assertThat(ev.message()).contains("Q, K or V");
        });
    }

    @Test
    void nonFinite_nanInAnAlwaysDefinedMetric_orInfinityAnywhere() {
        assertThat(firedAlerts(AlertConfig.defaults(), set(HeadField.MAX_LOGIT, Double.NaN)))
                .containsExactly("NON_FINITE");
        assertThat(firedAlerts(AlertConfig.defaults(), set(HeadField.LINEAR_GAP, Double.POSITIVE_INFINITY)))
                .containsExactly("NON_FINITE");
    }

    @Test
    void nonFinite_ignoresMetricsThatAreUndefinedByDefinition() {
        // linearGap (CAUSAL), reconstructionError (no layer output), maxRedundancy (one head): NaN is normal.
        assertThat(firedAlerts(AlertConfig.defaults(), b -> b.set(HeadField.LINEAR_GAP, Double.NaN)
                .set(HeadField.RECONSTRUCTION_ERROR, Double.NaN).set(HeadField.MAX_REDUNDANCY, Double.NaN)
                .set(HeadField.REDUNDANCY_PARTNER, Double.NaN).set(HeadField.RANK_BOUND, Double.NaN))).isEmpty();
    }

    @Test
    void nanEverywhere_firesOnlyNonFinite() {
        assertThat(firedAlerts(AlertConfig.defaults(), b -> HeadMetrics.builder())).containsExactly("NON_FINITE");
    }

    @Test
    void invariantViolation_reconstructionOrZeroSum() {
        assertThat(firedAlerts(AlertConfig.defaults(), set(HeadField.RECONSTRUCTION_ERROR, 0.02)))
                .containsExactly("INVARIANT_VIOLATION");
        assertThat(firedAlerts(AlertConfig.defaults(), set(HeadField.ZERO_SUM_RESIDUAL, 1e-3)))
                .containsExactly("INVARIANT_VIOLATION");
    }

    // ---- configuration ---------------------------------------------------------------------------------

    @Test
    void disabledRule_neverFires() {
        AlertConfig config = AlertConfig.builder().disable(Alert.ENTROPY_COLLAPSE).build();
        assertThat(firedAlerts(config, set(HeadField.ENTROPY, 0.01))).isEmpty();
        assertThat(config.isEnabled(Alert.ENTROPY_COLLAPSE)).isFalse();
    }

    @Test
    void nanThreshold_switchesOnePartOff() {
        AlertConfig noFloor = AlertConfig.builder().entropyCollapse(Double.NaN, 0.5).build();
        // 0.05 after a 0.8 baseline still fires, through the relative part.
        assertThat(firedAlerts(noFloor, set(HeadField.ENTROPY, 0.05))).containsExactly("ENTROPY_COLLAPSE");
        AlertConfig noDrop = AlertConfig.builder().entropyCollapse(0.1, Double.NaN).build();
        assertThat(firedAlerts(noDrop, set(HeadField.ENTROPY, 0.35))).isEmpty();
    }

    @Test
    void customThreshold_isUsed() {
        AlertConfig config = AlertConfig.builder().redundantHead(0.99).build();
        assertThat(firedAlerts(config, set(HeadField.MAX_REDUNDANCY, 0.95))).isEmpty();
        assertThat(firedAlerts(config, set(HeadField.MAX_REDUNDANCY, 0.995))).containsExactly("REDUNDANT_HEAD");
    }

    @Test
    void invalidSettings_failWithTheValue() {
        assertThatThrownBy(() -> AlertConfig.builder().persist(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("persist").hasMessageContaining("0");
        assertThatThrownBy(() -> AlertConfig.builder().entropyCollapse(1.5, 0.5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1.5");
        assertThatThrownBy(() -> AlertConfig.builder().logitGrowth(50, 0.8))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0.8");
        assertThatThrownBy(() -> AlertConfig.builder().medianWindow(10, 11))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("11");
        assertThatThrownBy(() -> AlertConfig.builder().sinkShift(Double.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NaN");
        assertThatThrownBy(() -> AlertConfig.builder().keyCoherence(Double.NaN, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("disable");
        assertThatThrownBy(() -> UserRule.above("ENTROPY_COLLAPSE", HeadField.ENTROPY, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("built-in");
        assertThatThrownBy(() -> UserRule.above("has space", HeadField.ENTROPY, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has space");
        UserRule r = UserRule.above("X", HeadField.ENTROPY, 1);
        assertThatThrownBy(() -> AlertConfig.builder().rule(r).rule(r))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'X'");
    }

    @Test
    void userRule_firesWithItsNameFieldAndSeverity() {
        AlertConfig config = AlertConfig.builder().enableOnly()
                .rule(new UserRule("LINEAR_REGIME", Severity.INFO, HeadField.LINEAR_GAP, 0.05,
                        m -> m.linearGap() < 0.05, "the head acts as a linear map"))
                .build();
        List<AlertEvent> events = feed(engine(config), repeat(3, set(HeadField.LINEAR_GAP, 0.01)));
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("LINEAR_REGIME");
            assertThat(ev.severity()).isEqualTo(Severity.INFO);
            assertThat(ev.value()).isEqualTo(0.01);
            assertThat(ev.threshold()).isEqualTo(0.05);
            assertThat(ev.message()).contains("linearGap 0.0100").contains("linear map");
        });
    }

    @Test
    void userRuleThatThrows_isContained() {
        AlertConfig config = AlertConfig.builder().rule(new UserRule("BROKEN", Severity.INFO, HeadField.ENTROPY,
                Double.NaN, m -> { throw new IllegalStateException("boom"); }, "")).build();
        assertThat(feed(engine(config), repeat(5, b -> b))).isEmpty();
    }

    // ---- clock, snapshot, listeners, event -------------------------------------------------------------

    @Test
    void eventTimeAndFiringSince_comeFromTheInjectedClock() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<AlertEvent> events = new ArrayList<>();
        for (int step = 1; step <= 3; step++) {
            clock.now = T0.plusSeconds(60L * step);
            events.addAll(e.evaluate(obs(step, head(0, healthy().set(HeadField.MAX_REDUNDANCY, 0.95).build()))));
        }
        assertThat(events.get(0).time()).isEqualTo(T0.plusSeconds(180));
        assertThat(e.firing()).singleElement().satisfies(f -> {
            assertThat(f.since()).isEqualTo(T0.plusSeconds(180));
            assertThat(f.sinceStep()).isEqualTo(3);
            assertThat(f.alert()).isEqualTo("REDUNDANT_HEAD");
            assertThat(f.layer()).isEqualTo("attn");
        });
        assertThat(e.isFiring(Alert.REDUNDANT_HEAD)).isTrue();
        assertThat(e.isFiring(Alert.DEAD_HEAD, Alert.NON_FINITE)).isFalse();
        assertThat(e.isFiring(List.of("REDUNDANT_HEAD"))).isTrue();
    }

    @Test
    void listeners_receiveEveryEvent_andOneThatThrowsDoesNotStopTheOthers() {
        AlertEngine e = engine(AlertConfig.defaults());
        List<AlertEvent> received = new ArrayList<>();
        e.addListener(ev -> { throw new IllegalStateException("listener down"); });
        e.addListener(received::add);
        List<AlertEvent> returned = feed(e, concat(repeat(3, set(HeadField.MAX_REDUNDANCY, 0.95)), repeat(3, b -> b)));
        assertThat(received).isEqualTo(returned).hasSize(2);
        assertThat(e.listenerFailures()).isEqualTo(2);
    }

    @Test
    void engineIsAnObservationSink() throws Exception {
        AlertEngine e = engine(AlertConfig.defaults());
        dev.headwatch.core.sink.ObservationSink sink = e;
        for (int step = 1; step <= 3; step++) {
            sink.write(obs(step, head(0, healthy().set(HeadField.MAX_REDUNDANCY, 0.95).build())));
        }
        assertThat(e.firing()).hasSize(1);
    }

    @Test
    void eventMap_hasTheAlertRecordFieldsInOrder_nanAsNull() {
        AlertEvent ev = new AlertEvent("NON_FINITE", AlertState.FIRING, Severity.CRITICAL, 12, T0, "attn", 1,
                Double.NaN, Double.NaN, "m");
        Map<String, Object> map = ev.toMap();
        assertThat(map.keySet()).containsExactly("type", "alert", "state", "severity", "step", "time", "layer",
                "head", "value", "threshold", "message");
        assertThat(map.get("type")).isEqualTo("alert");
        assertThat(map.get("time")).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(map.get("value")).isNull();
        assertThat(map.get("threshold")).isNull();
        assertThat(map.get("step")).isEqualTo(12L);
    }
}
