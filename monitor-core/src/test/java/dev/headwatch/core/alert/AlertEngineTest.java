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

    /** The warm-up of the tests' configurations, shorter than the default so that sequences stay short. */
    static final int WARMUP = 5;

    /** The defaults with a warm-up of {@value #WARMUP} observations and a running median of 20. */
    static AlertConfig.Builder builder() {
        return AlertConfig.builder().medianWindow(20, WARMUP);
    }

    private static HeadRecord withWeights(HeadRecord r, double qkSpectralNorm) {
        return new HeadRecord(r.layer(), r.head(), r.n(), r.d(), r.mask(), r.metrics(), qkSpectralNorm, r.nonFiniteInput());
    }

    private static HeadRecord nonFinite(HeadRecord r) {
        return new HeadRecord(r.layer(), r.head(), r.n(), r.d(), r.mask(), r.metrics(), r.qkSpectralNorm(), true);
    }

    static AlertConfig defaults() {
        return builder().build();
    }

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
        AlertEngine e = engine(defaults());
        List<HeadMetrics> bad = repeat(3, set(HeadField.MAX_LOGIT, 60));
        assertThat(e.evaluate(obs(1, head(0, bad.get(0))))).isEmpty();
        assertThat(e.evaluate(obs(2, head(0, bad.get(1))))).isEmpty();
        List<AlertEvent> third = e.evaluate(obs(3, head(0, bad.get(2))));
        assertThat(third).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("LOGIT_GROWTH");
            assertThat(ev.state()).isEqualTo(AlertState.FIRING);
            assertThat(ev.severity()).isEqualTo(Severity.WARNING);
            assertThat(ev.step()).isEqualTo(3);
            assertThat(ev.layer()).isEqualTo("attn");
            assertThat(ev.head()).isZero();
            assertThat(ev.heads()).containsExactly(0);
            assertThat(ev.value()).isEqualTo(60);
            assertThat(ev.threshold()).isEqualTo(50);
            assertThat(ev.message()).contains("LOGIT_GROWTH on attn head 0 at step 3: maxLogit 60.0 > 50.0")
                    .contains("QK layer norm").contains("lower learning rate");
        });
    }

    @Test
    void resolves_onlyAfterPersistObservationsWithoutCondition() {
        AlertEngine e = engine(defaults());
        List<AlertEvent> events = feed(e, concat(repeat(3, set(HeadField.MAX_LOGIT, 60)), repeat(2, b -> b)));
        assertThat(events).extracting(AlertEvent::state).containsExactly(AlertState.FIRING);
        assertThat(e.firing()).hasSize(1);
        List<AlertEvent> resolved = e.evaluate(obs(6, head(0, healthy().build())));
        assertThat(resolved).singleElement().satisfies(ev -> {
            assertThat(ev.state()).isEqualTo(AlertState.RESOLVED);
            assertThat(ev.value()).isEqualTo(3);
            assertThat(ev.message()).contains("resolved").contains("maxLogit 3.00");
        });
        assertThat(e.firing()).isEmpty();
    }

    @Test
    void interruptedStreak_doesNotFire() {
        AlertEngine e = engine(defaults());
        List<AlertEvent> events = feed(e, concat(repeat(2, set(HeadField.MAX_LOGIT, 60)), repeat(1, b -> b),
                repeat(2, set(HeadField.MAX_LOGIT, 60))));
        assertThat(events).isEmpty();
    }

    @Test
    void undefinedObservation_neitherExtendsNorBreaksStreak() {
        AlertEngine e = engine(defaults());
        // After the warm-up: bad, bad, entropy NaN (n = 1 sequences), bad: the NaN does not count, so the
        // third bad (step 9) fires.
        List<AlertEvent> events = feed(e, concat(repeat(WARMUP, b -> b), repeat(2, set(HeadField.ENTROPY, 0.05)),
                repeat(1, set(HeadField.ENTROPY, Double.NaN)), repeat(1, set(HeadField.ENTROPY, 0.05))));
        assertThat(events).extracting(AlertEvent::alert, AlertEvent::step)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("ENTROPY_COLLAPSE", 9L));
    }

    @Test
    void persistOne_firesAndResolvesImmediately() {
        AlertEngine e = engine(builder().persist(1).build());
        List<AlertEvent> events = feed(e, concat(repeat(1, set(HeadField.MAX_LOGIT, 60)), repeat(1, b -> b)));
        assertThat(events).extracting(AlertEvent::state).containsExactly(AlertState.FIRING, AlertState.RESOLVED);
    }

    @Test
    void statesAreKeptPerHead() {
        AlertEngine e = engine(defaults());
        HeadMetrics bad = healthy().set(HeadField.MAX_LOGIT, 60).build();
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
        AlertEngine e = engine(defaults());
        // Baseline 0.8 for 5 observations (the warm-up); 0.35 < 0.5 * 0.8 = 0.4 holds, above the 0.1 floor.
        List<AlertEvent> events = feed(e, concat(repeat(5, b -> b), repeat(3, set(HeadField.ENTROPY, 0.35))));
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("ENTROPY_COLLAPSE");
            assertThat(ev.step()).isEqualTo(8);
            assertThat(ev.threshold()).isEqualTo(0.4);
            assertThat(ev.message()).contains("running median 0.800");
        });
    }

    /** Feeds one head's entropies with the training loss of each step (steps 1..), returning every event. */
    private static List<AlertEvent> feedWithLoss(AlertEngine engine, double[] entropies, double[] losses) {
        List<AlertEvent> events = new ArrayList<>();
        for (int i = 0; i < entropies.length; i++) {
            HeadRecord r = head(0, healthy().set(HeadField.ENTROPY, entropies[i]).build());
            events.addAll(engine.evaluate(new Observation(i + 1, 0, T0, losses[i], List.of(r))));
        }
        return events;
    }

    /** {@code times} copies of {@code value} after {@code values}. */
    private static double[] then(double[] values, int times, double value) {
        double[] all = java.util.Arrays.copyOf(values, values.length + times);
        java.util.Arrays.fill(all, values.length, all.length, value);
        return all;
    }

    @Test
    void entropyCollapse_whileTheLossFalls_isLearning_andTheNewEntropyBecomesTheHeadsNormal() {
        // Entropy 0.9 then 0.05 (both parts hold against the median 0.9); the loss falls from 4 to 2 as it
        // drops (50% below its median, past the 25% of learningLossFall) and then stays at 2.
        double[] entropy = then(then(new double[0], 10, 0.9), 40, 0.05);
        double[] falling = then(then(new double[0], 10, 4), 40, 2);
        assertThat(feedWithLoss(engine(defaults()), entropy, falling)).isEmpty();

        // The same heads with a flat loss, or one the listener did not know: the collapse fires.
        double[] flat = then(new double[0], 50, 4);
        double[] unknown = then(new double[0], 50, Double.NaN);
        for (double[] losses : List.of(flat, unknown)) {
            assertThat(feedWithLoss(engine(defaults()), entropy, losses)).singleElement().satisfies(ev -> {
                assertThat(ev.alert()).isEqualTo("ENTROPY_COLLAPSE");
                assertThat(ev.step()).isEqualTo(13);
            });
        }
        // learningLossFall NaN: never held back.
        assertThat(feedWithLoss(engine(builder().learningLossFall(Double.NaN).build()), entropy, falling))
                .extracting(AlertEvent::alert).containsExactly("ENTROPY_COLLAPSE");
    }

    @Test
    void entropyCollapse_learningTest_comparesTheLossWithItsRunningMedian() {
        // Loss 4 for the warm-up, then 3.2 (20% below: not learning fast enough) and 2.8 (30% below).
        double[] entropy = then(then(new double[0], 10, 0.9), 3, 0.05);
        assertThat(feedWithLoss(engine(defaults()), entropy, then(then(new double[0], 10, 4), 3, 3.2)))
                .extracting(AlertEvent::alert).containsExactly("ENTROPY_COLLAPSE");
        assertThat(feedWithLoss(engine(defaults()), entropy, then(then(new double[0], 10, 4), 3, 2.8))).isEmpty();
        assertThat(feedWithLoss(engine(builder().learningLossFall(0.1).build()), entropy,
                then(then(new double[0], 10, 4), 3, 3.2))).isEmpty();
    }

    @Test
    void entropyCollapse_headSettledOnOneKey_neverFires() {
        // A head at entropy 0.02 from its first observation looks at one key by design (an INFO fact, not
        // trouble), and halving 0.02 to 0.005 is no collapse: its running median is below the clear floor 0.15.
        List<AlertEvent> events = feed(engine(defaults()), concat(repeat(20, set(HeadField.ENTROPY, 0.02)),
                repeat(20, set(HeadField.ENTROPY, 0.005))));
        assertThat(events).extracting(AlertEvent::alert).doesNotContain("ENTROPY_COLLAPSE");
    }

    @Test
    void learningLossFall_outsideZeroToOne_isRefusedNamingTheValue() {
        assertThatThrownBy(() -> AlertConfig.builder().learningLossFall(1.5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("learning loss fall")
                .hasMessageContaining("1.5");
        assertThat(AlertConfig.defaults().learningLossFall()).isEqualTo(0.25);
    }

    @Test
    void maxLogitFarPastItsBound_firesOnItsFirstObservation_otherwiseAfterPersist() {
        // 60 > 50 waits for persist (3 observations); 250 > 200 fires at once, even in the warm-up.
        List<AlertEvent> slow = feed(engine(defaults()), repeat(3, set(HeadField.MAX_LOGIT, 60)));
        assertThat(slow).singleElement().satisfies(ev -> {
            assertThat(ev.step()).isEqualTo(3);
            assertThat(ev.message()).contains("maxLogit 60.0 > 50.0 for 3 observations");
        });
        List<AlertEvent> fast = feed(engine(defaults()), List.of(healthy().set(HeadField.MAX_LOGIT, 250).build()));
        assertThat(fast).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("LOGIT_GROWTH");
            assertThat(ev.step()).isEqualTo(1);
            assertThat(ev.threshold()).isEqualTo(50);
            assertThat(ev.message()).contains("maxLogit 250 > 200 for 1 observation;");
        });
        // it clears as any firing does: maxLogit <= 40 for 3 observations
        List<AlertEvent> cleared = feed(engine(defaults()), concat(List.of(healthy().set(HeadField.MAX_LOGIT, 250).build()),
                repeat(3, set(HeadField.MAX_LOGIT, 30))));
        assertThat(cleared).extracting(AlertEvent::state).containsExactly(AlertState.FIRING, AlertState.RESOLVED);
        assertThat(feed(engine(builder().maxLogitAtOnce(Double.NaN).build()),
                List.of(healthy().set(HeadField.MAX_LOGIT, 250).build()))).isEmpty();
        assertThatThrownBy(() -> builder().maxLogitAtOnce(40).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("40").hasMessageContaining("50");
    }

    @Test
    void entropyDropOfLessThanHalf_doesNotFire() {
        AlertEngine e = engine(defaults());
        assertThat(feed(e, concat(repeat(5, b -> b), repeat(10, set(HeadField.ENTROPY, 0.45))))).isEmpty();
    }

    @Test
    void relativeRule_waitsForWarmup() {
        AlertEngine e = engine(defaults());
        // Only 2 baseline values (< warm-up 5): the drop is not compared yet.
        assertThat(feed(e, concat(repeat(2, b -> b), repeat(3, set(HeadField.ENTROPY, 0.35))))).isEmpty();
    }

    @Test
    void lastingCollapse_staysFiring_becauseBreachesStayOutOfTheBaseline() {
        AlertEngine e = engine(defaults());
        List<AlertEvent> events = feed(e, concat(repeat(5, b -> b), repeat(40, set(HeadField.ENTROPY, 0.35))));
        assertThat(events).extracting(AlertEvent::state).containsExactly(AlertState.FIRING);
        assertThat(e.firing()).extracting(FiringAlert::alert).containsExactly("ENTROPY_COLLAPSE");
    }

    @Test
    void slowDrift_followsTheMedianAndDoesNotFire() {
        AlertEngine e = engine(defaults());
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
        AlertEngine e = engine(defaults());
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
        assertThat(firedAlerts(defaults(), set(HeadField.MAX_LOGIT, 60))).containsExactly("LOGIT_GROWTH");
    }

    @Test
    void logitGrowth_qkSpectralNormDoubled_whenTheAdapterSuppliesIt() {
        AlertEngine e = engine(defaults());
        List<AlertEvent> events = new ArrayList<>();
        // Warm-up (weights growing tenfold as training starts), then a trained head, then growth.
        double[] norms = {0.1, 0.1, 0.1, 0.1, 0.1, 1.0, 1.1, 0.9, 1.0, 1.05, 2.5, 2.6, 2.7};
        for (int i = 0; i < norms.length; i++) {
            HeadRecord r = withWeights(head(0, healthy().build()), norms[i]);
            events.addAll(e.evaluate(obs(i + 1, r)));
        }
        // The baseline leaves out the warm-up (with it, the median 0.5 would flag the healthy 1.1 at step 7):
        // median of steps 6-10 is 1.0; 2.5 > 2 x 1.0 from step 11 on, so it fires at step 13.
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("LOGIT_GROWTH");
            assertThat(ev.step()).isEqualTo(13);
            assertThat(ev.value()).isEqualTo(2.7);
            assertThat(ev.threshold()).isEqualTo(2.0);
        });
    }

    @Test
    void logitGrowth_withoutWeightMetrics_usesMaxLogitOnly() {
        AlertEngine e = engine(defaults());
        assertThat(feed(e, repeat(10, b -> b))).isEmpty();
        assertThat(e.firing()).isEmpty();
    }

    @Test
    void deadHead_firesAlone_evenThoughItsRankIsZero() {
        assertThat(firedAlerts(defaults(), b -> b.set(HeadField.ENTROPY, 0.999)
                .set(HeadField.ENERGY_RMS, 0.0).set(HeadField.EFFECTIVE_RANK, 0).set(HeadField.STABLE_RANK, 0)
                .set(HeadField.TOP_ENERGY, 0).set(HeadField.PARTICIPATION, Double.NaN)
                .set(HeadField.MAX_KEY_SHARE, Double.NaN))).containsExactly("DEAD_HEAD");
    }

    @Test
    void deadHead_needsBothConditions() {
        assertThat(firedAlerts(defaults(), set(HeadField.ENERGY_RMS, 0.01))).isEmpty();
        assertThat(firedAlerts(defaults(), set(HeadField.ENTROPY, 0.995))).isEmpty();
    }

    @Test
    void rankCollapse_effectiveRankBelowBound() {
        assertThat(firedAlerts(defaults(), set(HeadField.EFFECTIVE_RANK, 1.2)))
                .containsExactly("RANK_COLLAPSE");
    }

    @Test
    void rankCollapse_neverFiresWhereTheShapeCannotReachRankTwo() {
        AlertEngine e = engine(defaults());
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
        AlertEngine e = engine(defaults());
        double[] kc = {1.5, 1.6, 1.4, 8.0};
        List<AlertEvent> events = new ArrayList<>();
        for (int step = 1; step <= WARMUP + 3; step++) {
            List<HeadRecord> heads = new ArrayList<>();
            for (int h = 0; h < kc.length; h++) {
                heads.add(head(h, healthy().set(HeadField.KEY_COHERENCE_NO_FIRST, kc[h]).build()));
            }
            events.addAll(e.evaluate(new Observation(step, 0, T0, heads)));
        }
        // Layer median (1.5 + 1.6) / 2 = 1.55; 8.0 > 4 x 1.55 = 6.2 for head 3 only, judged after the warm-up.
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.step()).isEqualTo(WARMUP + 3);
            assertThat(ev.alert()).isEqualTo("KEY_COHERENCE");
            assertThat(ev.head()).isEqualTo(3);
            assertThat(ev.threshold()).isCloseTo(6.2, org.assertj.core.data.Offset.offset(1e-12));
        });
    }

    private List<AlertEvent> lowParticipation(UnaryOperator<HeadMetrics.Builder> change) {
        return feed(engine(defaults()), concat(repeat(5, b -> b), repeat(5, change)));
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
        assertThat(feed(engine(defaults()), noisy)).isEmpty();
    }

    @Test
    void sinkShift_streakRestartsWhenTheSinkMoves() {
        AlertEngine e = engine(defaults());
        double[] positions = {4, 4, 7, 4, 4, 4};
        List<AlertEvent> events = feed(e, repeat(WARMUP, b -> b));
        for (int i = 0; i < positions.length; i++) {
            events.addAll(e.evaluate(obs(WARMUP + 1 + i, head(0, healthy().set(HeadField.SINK_MAX, 0.5)
                    .set(HeadField.SINK_POSITION, positions[i]).build()))));
        }
        // Sinks at 4, 4, then 7 (a new streak), then 4, 4, 4: fires on the third 4 in a row.
        assertThat(events).extracting(AlertEvent::alert, AlertEvent::step)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("SINK_SHIFT", WARMUP + 6L));
    }

    @Test
    void sinkShift_newSinkPosition_fires() {
        // First observation: no sink (sinkMax 0.2). Later a sink of 0.45 at position 5.
        assertThat(firedAlerts(defaults(), b -> b.set(HeadField.SINK_MAX, 0.45)
                .set(HeadField.SINK_POSITION, 5))).containsExactly("SINK_SHIFT");
    }

    @Test
    void sinkShift_sinkPresentAtFirstObservation_doesNotFire() {
        UnaryOperator<HeadMetrics.Builder> sinkAt0 = b -> b.set(HeadField.SINK_MAX, 0.6).set(HeadField.SINK_POSITION, 0);
        AlertEngine e = engine(defaults());
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

    /** Feeds heads 0..2 per step from step 1; head 0 and 1 redundant with each other at {@code corr[i]}. */
    private List<AlertEvent> pairSequence(AlertEngine e, double... corr) {
        List<AlertEvent> events = new ArrayList<>();
        for (int i = 0; i < corr.length; i++) {
            double c = corr[i];
            events.addAll(e.evaluate(obs(i + 1,
                    head(0, healthy().set(HeadField.MAX_REDUNDANCY, c).set(HeadField.REDUNDANCY_PARTNER, 1).build()),
                    head(1, healthy().set(HeadField.MAX_REDUNDANCY, c).set(HeadField.REDUNDANCY_PARTNER, 0).build()),
                    head(2, healthy().set(HeadField.MAX_REDUNDANCY, 0.5).set(HeadField.REDUNDANCY_PARTNER, 0).build()))));
        }
        return events;
    }

    @Test
    void redundantPair_isOneFindingNamingBothHeads() {
        AlertEngine e = engine(defaults());
        double[] corr = new double[WARMUP + 3];
        java.util.Arrays.fill(corr, 0.97);
        List<AlertEvent> events = pairSequence(e, corr);
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("REDUNDANT_HEAD");
            assertThat(ev.severity()).isEqualTo(Severity.INFO);
            assertThat(ev.step()).isEqualTo(WARMUP + 3);
            assertThat(ev.head()).isZero();
            assertThat(ev.heads()).containsExactly(0, 1);
            assertThat(ev.toMap().get("heads")).isEqualTo(List.of(0, 1));
            assertThat(ev.message()).contains("attn heads 0 and 1").contains("energy correlation 0.970")
                    .doesNotContain("strongest");
        });
        assertThat(e.firing()).singleElement().satisfies(f -> {
            assertThat(f.head()).isZero();
            assertThat(f.heads()).containsExactly(0, 1);
            assertThat(f.sinceStep()).isEqualTo(WARMUP + 3);
        });
    }

    @Test
    void redundantPair_hoveringAtTheThreshold_firesOnce_andClearsOnlyBelowTheBand() {
        AlertEngine e = engine(defaults());
        List<Double> corr = new ArrayList<>(java.util.Collections.nCopies(WARMUP, 0.5));
        for (int i = 0; i < 60; i++) {
            corr.add(i % 4 == 3 ? 0.88 : 0.91); // around 0.9, never at or below the clear bound 0.85
        }
        corr.addAll(List.of(0.8, 0.8, 0.8));
        List<AlertEvent> events = pairSequence(e, corr.stream().mapToDouble(Double::doubleValue).toArray());
        // Three above 0.9 in a row (the first at WARMUP + 1) fire; 0.88 is inside the band and 0.91 breaks
        // every clear streak; three at 0.8 resolve.
        assertThat(events).extracting(AlertEvent::state, AlertEvent::step).containsExactly(
                org.assertj.core.groups.Tuple.tuple(AlertState.FIRING, WARMUP + 3L),
                org.assertj.core.groups.Tuple.tuple(AlertState.RESOLVED, WARMUP + 63L));
    }

    @Test
    void redundantPair_clearsWhenNeitherNamesTheOther_andBothAreBelowTheBand() {
        AlertEngine e = engine(defaults());
        double[] corr = new double[WARMUP + 3];
        java.util.Arrays.fill(corr, 0.97);
        assertThat(pairSequence(e, corr)).hasSize(1);
        List<AlertEvent> events = new ArrayList<>();
        for (int step = WARMUP + 4; step < WARMUP + 7; step++) {
            // Both now name head 2, at 0.8: their own correlation is at most 0.8.
            events.addAll(e.evaluate(obs(step,
                    head(0, healthy().set(HeadField.MAX_REDUNDANCY, 0.8).set(HeadField.REDUNDANCY_PARTNER, 2).build()),
                    head(1, healthy().set(HeadField.MAX_REDUNDANCY, 0.8).set(HeadField.REDUNDANCY_PARTNER, 2).build()),
                    head(2, healthy().set(HeadField.MAX_REDUNDANCY, 0.8).set(HeadField.REDUNDANCY_PARTNER, 0).build()))));
        }
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.state()).isEqualTo(AlertState.RESOLVED);
            assertThat(ev.message()).contains("heads 0 and 1").contains("at most 0.800");
        });
        assertThat(e.firing()).isEmpty();
    }

    /**
     * One observation of heads 0..n-1 of {@code attn}: head h most redundant with {@code partner[h]} at
     * {@code redundancy[h]}.
     */
    private static Observation redundancy(long step, double[] redundancy, int[] partner) {
        HeadRecord[] heads = new HeadRecord[redundancy.length];
        for (int h = 0; h < heads.length; h++) {
            heads[h] = head(h, healthy().set(HeadField.MAX_REDUNDANCY, redundancy[h])
                    .set(HeadField.REDUNDANCY_PARTNER, partner[h]).build());
        }
        return new Observation(step, 0, T0, List.of(heads));
    }

    /** Feeds the same redundancies at steps {@code from..to}, returning every event. */
    private static List<AlertEvent> redundancy(AlertEngine e, long from, long to, double[] redundancy, int[] partner) {
        List<AlertEvent> events = new ArrayList<>();
        for (long step = from; step <= to; step++) {
            events.addAll(e.evaluate(redundancy(step, redundancy, partner)));
        }
        return events;
    }

    // Head 2 is the hub: heads 0, 3 and 4 each name it at 0.97, it names head 0; head 1 stands apart.
    private static final double[] HUB = {0.97, 0.4, 0.97, 0.97, 0.97};
    private static final int[] HUB_PARTNERS = {2, 0, 0, 2, 2};

    @Test
    void redundantGroup_aHubRedundantWithThreeHeads_isOneFindingNamingAllFour() {
        AlertEngine e = engine(defaults());
        List<AlertEvent> events = redundancy(e, 1, WARMUP + 20, HUB, HUB_PARTNERS);
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("REDUNDANT_HEAD");
            assertThat(ev.state()).isEqualTo(AlertState.FIRING);
            assertThat(ev.step()).isEqualTo(WARMUP + 3);
            assertThat(ev.head()).isZero();
            assertThat(ev.heads()).containsExactly(0, 2, 3, 4);
            assertThat(ev.value()).isEqualTo(0.97);
            assertThat(ev.message()).startsWith("REDUNDANT_HEAD on attn heads 0, 2, 3 and 4 at step " + (WARMUP + 3) + ":")
                    .contains("the strongest of 3 pairs");
        });
        assertThat(e.firing()).singleElement().satisfies(f -> assertThat(f.heads()).containsExactly(0, 2, 3, 4));
    }

    @Test
    void redundantGroup_thatLosesAHead_keepsFiringForTheRest_withoutANewFiring() {
        AlertEngine e = engine(defaults());
        assertThat(redundancy(e, 1, WARMUP + 3, HUB, HUB_PARTNERS)).hasSize(1);
        // Head 4 drifts away: at 0.8 toward head 1, which does not name it either; after persist observations
        // its pair with the hub resolves, and head 4 leaves the group.
        double[] drifted = {0.97, 0.4, 0.97, 0.97, 0.8};
        int[] partners = {2, 0, 0, 2, 1};
        List<AlertEvent> events = redundancy(e, WARMUP + 4, WARMUP + 20, drifted, partners);
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.state()).isEqualTo(AlertState.CHANGED);
            assertThat(ev.step()).isEqualTo(WARMUP + 6);
            assertThat(ev.heads()).containsExactly(0, 2, 3);
            assertThat(ev.message()).isEqualTo("REDUNDANT_HEAD on attn now heads 0, 2 and 3 at step " + (WARMUP + 6)
                    + ": head 4 left (firing since step " + (WARMUP + 3) + ")");
            assertThat(AlertEngine.logLevel(ev)).isEqualTo(org.slf4j.event.Level.INFO);
        });
        assertThat(e.firing()).singleElement().satisfies(f -> {
            assertThat(f.heads()).containsExactly(0, 2, 3);
            assertThat(f.sinceStep()).isEqualTo(WARMUP + 3);
        });
        // Head 4 comes back: it joins the group, still no new firing.
        List<AlertEvent> back = redundancy(e, WARMUP + 21, WARMUP + 30, HUB, HUB_PARTNERS);
        assertThat(back).singleElement().satisfies(ev -> {
            assertThat(ev.state()).isEqualTo(AlertState.CHANGED);
            assertThat(ev.heads()).containsExactly(0, 2, 3, 4);
            assertThat(ev.message()).contains("head 4 joined");
        });
        // The whole group clears: one resolution naming every head.
        double[] clear = {0.5, 0.4, 0.5, 0.5, 0.5};
        assertThat(redundancy(e, WARMUP + 31, WARMUP + 40, clear, HUB_PARTNERS)).singleElement().satisfies(ev -> {
            assertThat(ev.state()).isEqualTo(AlertState.RESOLVED);
            assertThat(ev.heads()).containsExactly(0, 2, 3, 4);
            assertThat(ev.message()).startsWith("REDUNDANT_HEAD resolved on attn heads 0, 2, 3 and 4");
        });
        assertThat(e.firing()).isEmpty();
    }

    @Test
    void redundantGroups_thatALinkJoins_goOnAsTheOlderOne() {
        AlertEngine e = engine(defaults());
        // Pairs (0, 1) and (2, 3), two findings.
        assertThat(redundancy(e, 1, WARMUP + 3, new double[] {0.95, 0.95, 0.95, 0.95}, new int[] {1, 0, 3, 2}))
                .extracting(AlertEvent::heads).containsExactly(List.of(0, 1), List.of(2, 3));
        // Head 2 now names head 1: the pair (1, 2) fires and links them; one change, no new firing.
        List<AlertEvent> events = redundancy(e, WARMUP + 4, WARMUP + 12, new double[] {0.95, 0.95, 0.95, 0.95},
                new int[] {1, 0, 1, 2});
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.state()).isEqualTo(AlertState.CHANGED);
            assertThat(ev.heads()).containsExactly(0, 1, 2, 3);
        });
        assertThat(e.firing()).singleElement().satisfies(f -> {
            assertThat(f.heads()).containsExactly(0, 1, 2, 3);
            assertThat(f.sinceStep()).isEqualTo(WARMUP + 3);
        });
    }

    @Test
    void redundantGroup_aMemberHoveringAtTheThreshold_neitherLeavesNorRejoins() {
        AlertEngine e = engine(defaults());
        assertThat(redundancy(e, 1, WARMUP + 3, HUB, HUB_PARTNERS)).hasSize(1);
        List<AlertEvent> events = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            double c = i % 4 == 3 ? 0.88 : 0.91; // head 4 around 0.9, never at or below the clear bound 0.85
            events.addAll(e.evaluate(redundancy(WARMUP + 4 + i, new double[] {0.97, 0.4, 0.97, 0.97, c},
                    HUB_PARTNERS)));
        }
        assertThat(events).isEmpty();
        assertThat(e.firing()).singleElement().satisfies(f -> assertThat(f.heads()).containsExactly(0, 2, 3, 4));
    }

    @Test
    void openFindings_followAGroupThroughItsChanges() {
        AlertEngine e = engine(defaults());
        OpenFindings<AlertEvent> open = OpenFindings.ofEvents();
        e.addListener(open::add);
        redundancy(e, 1, WARMUP + 3, new double[] {0.95, 0.95, 0.95, 0.95}, new int[] {1, 0, 3, 2});
        redundancy(e, WARMUP + 4, WARMUP + 12, new double[] {0.95, 0.95, 0.95, 0.95}, new int[] {1, 0, 1, 2});
        // Heads 0 and 3 drift off; the pair (1, 2) goes on.
        redundancy(e, WARMUP + 13, WARMUP + 20, new double[] {0.5, 0.95, 0.95, 0.5}, new int[] {1, 2, 1, 2});
        assertThat(open.open()).singleElement().satisfies(f -> {
            assertThat(f.latest().heads()).containsExactly(1, 2);
            assertThat(f.latest().state()).isEqualTo(AlertState.CHANGED);
            assertThat(f.began().state()).isEqualTo(AlertState.FIRING);
            assertThat(f.began().step()).isEqualTo(WARMUP + 3);
        });
        assertThat(e.firing()).singleElement()
                .satisfies(f -> assertThat(f.heads()).isEqualTo(open.open().get(0).latest().heads()));
    }

    // ---- warm-up, bands, log levels ---------------------------------------------------------------------

    @Test
    void defaults_judgeAHeadsShapeOnlyAfterThirtyObservations_butNaNAndLogitsAtOnce() {
        AlertEngine e = engine(AlertConfig.defaults());
        assertThat(AlertConfig.defaults().medianWarmup()).isEqualTo(30);
        // A head at initialisation: uniform attention, no energy (what a dead head looks like), and a
        // maxLogit breach at steps 1-3 that LOGIT_GROWTH reports without waiting.
        List<AlertEvent> events = new ArrayList<>();
        for (int step = 1; step <= 40; step++) {
            HeadMetrics.Builder m = healthy().set(HeadField.ENTROPY, 0.999).set(HeadField.ENERGY_RMS, 0.01);
            events.addAll(e.evaluate(obs(step, head(0, (step <= 3 ? m.set(HeadField.MAX_LOGIT, 60) : m).build()))));
        }
        assertThat(events).extracting(AlertEvent::alert, AlertEvent::state, AlertEvent::step).containsExactly(
                org.assertj.core.groups.Tuple.tuple("LOGIT_GROWTH", AlertState.FIRING, 3L),
                org.assertj.core.groups.Tuple.tuple("LOGIT_GROWTH", AlertState.RESOLVED, 6L),
                org.assertj.core.groups.Tuple.tuple("DEAD_HEAD", AlertState.FIRING, 33L));
    }

    @Test
    void deadHead_thatComesAliveDuringTheWarmup_neverFires() {
        List<HeadMetrics> waking = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            double rms = Math.min(0.5, 0.005 * (i + 1)); // uniform at first, energy from step 10 on
            waking.add(healthy().set(HeadField.ENTROPY, rms < 0.05 ? 0.999 : 0.9).set(HeadField.ENERGY_RMS, rms).build());
        }
        assertThat(feed(engine(builder().medianWindow(20, 10).build()), waking)).isEmpty();
    }

    @Test
    void band_valueInsideIt_neitherFiresNorClears() {
        AlertEngine e = engine(defaults());
        // effectiveRank 1.2 fires (< 1.5); 1.8 is inside the band [1.5, 2): the alert stays; 2.1 clears.
        List<AlertEvent> events = feed(e, concat(repeat(WARMUP, b -> b), repeat(3, set(HeadField.EFFECTIVE_RANK, 1.2)),
                repeat(10, set(HeadField.EFFECTIVE_RANK, 1.8))));
        assertThat(events).extracting(AlertEvent::state).containsExactly(AlertState.FIRING);
        assertThat(e.isFiring(Alert.RANK_COLLAPSE)).isTrue();
        for (int step = WARMUP + 14; step < WARMUP + 17; step++) {
            events.addAll(e.evaluate(obs(step, head(0, healthy().set(HeadField.EFFECTIVE_RANK, 2.1).build()))));
        }
        assertThat(events).extracting(AlertEvent::state).containsExactly(AlertState.FIRING, AlertState.RESOLVED);
        // ... and a value inside the band never starts a firing streak.
        assertThat(feed(engine(defaults()), concat(repeat(WARMUP, b -> b), repeat(20, set(HeadField.EFFECTIVE_RANK, 1.8)))))
                .isEmpty();
    }

    @Test
    void entropy_judgedAgainstItsOwnRunningMedian_clearsAtSixTenthsOfIt() {
        AlertEngine e = engine(defaults());
        // Median 0.8: 0.35 < 0.4 fires; 0.45 is inside the band (< 0.6 x 0.8 = 0.48) and, the alert
        // firing, stays out of the median; 0.5 clears.
        List<AlertEvent> events = feed(e, concat(repeat(WARMUP, b -> b), repeat(3, set(HeadField.ENTROPY, 0.35)),
                repeat(30, set(HeadField.ENTROPY, 0.45)), repeat(3, set(HeadField.ENTROPY, 0.5))));
        assertThat(events).extracting(AlertEvent::state, AlertEvent::step).containsExactly(
                org.assertj.core.groups.Tuple.tuple(AlertState.FIRING, WARMUP + 3L),
                org.assertj.core.groups.Tuple.tuple(AlertState.RESOLVED, WARMUP + 36L));
        assertThat(events.get(1).message()).contains("entropy 0.500");
    }

    @Test
    void bandOnTheWrongSideOfItsThreshold_failsNamingBoth() {
        assertThatThrownBy(() -> AlertConfig.builder().redundantHead(0.8).redundantHeadClears(0.85).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("REDUNDANT_HEAD")
                .hasMessageContaining("0.85").hasMessageContaining("0.8");
        assertThat(AlertConfig.builder().redundantHead(0.8).redundantHeadClears(0.75).build().maxRedundancyClear())
                .isEqualTo(0.75);
    }

    @Test
    void movedThreshold_keepsItsBandsRatio_onTheHealthySide() {
        AlertConfig moved = AlertConfig.builder().redundantHead(0.8).entropyCollapse(0.8, 0.5).build();
        assertThat(moved.maxRedundancyClear()).isCloseTo(0.8 * 0.85 / 0.9, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(moved.entropyFloorClear()).isEqualTo(1.0); // 0.8 x 1.5, capped at 1
        AlertConfig d = AlertConfig.defaults();
        assertThat(new double[] {d.entropyFloorClear(), d.entropyFractionClear(), d.maxLogitClear(),
                d.qkNormGrowthClear(), d.deadEntropyClear(), d.deadEnergyRmsClear(), d.minEffectiveRankClear(),
                d.keyCoherenceFactorClear(), d.minParticipationClear(), d.minSinkMaxClear(), d.maxRedundancyClear(),
                d.maxReconstructionErrorClear(), d.maxZeroSumResidualClear()})
                .containsExactly(new double[] {0.15, 0.6, 40, 1.8, 0.98, 0.07, 2, 3.5, 0.3, 0.25, 0.85, 1e-4, 1e-5},
                        org.assertj.core.data.Offset.offset(1e-12));
    }

    @Test
    void logLevel_warnForWarningAndCriticalFirings_infoForInfoFiringsAndEveryResolution() {
        for (Severity severity : Severity.values()) {
            AlertEvent fire = new AlertEvent("X", AlertState.FIRING, severity, 1, T0, "attn", 0, 0, 0, "m");
            AlertEvent resolve = new AlertEvent("X", AlertState.RESOLVED, severity, 2, T0, "attn", 0, 0, 0, "m");
            assertThat(AlertEngine.logLevel(fire)).as("%s firing", severity)
                    .isEqualTo(severity == Severity.INFO ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.WARN);
            assertThat(AlertEngine.logLevel(resolve)).as("%s resolved", severity).isEqualTo(org.slf4j.event.Level.INFO);
        }
    }

    @Test
    void severities_keepTheirPromise_onlyTroubleIsWarningOrCritical() {
        assertThat(java.util.Arrays.stream(Alert.values()).filter(a -> a.severity() != Severity.INFO))
                .containsExactlyInAnyOrder(Alert.ENTROPY_COLLAPSE, Alert.LOGIT_GROWTH, Alert.NON_FINITE,
                        Alert.INVARIANT_VIOLATION);
    }

    @Test
    void nonFinite_flagFromTheAdapter() {
        AlertEngine e = engine(defaults());
        List<AlertEvent> events = new ArrayList<>();
        for (int step = 1; step <= 3; step++) {
            events.addAll(e.evaluate(obs(step, nonFinite(head(0, healthy().build())))));
        }
        assertThat(events).singleElement().satisfies(ev -> {
            assertThat(ev.alert()).isEqualTo("NON_FINITE");
            assertThat(ev.severity()).isEqualTo(Severity.CRITICAL);
            assertThat(ev.message()).contains("Q, K or V");
        });
    }

    @Test
    void nonFinite_nanInAnAlwaysDefinedMetric_orInfinityAnywhere() {
        assertThat(firedAlerts(defaults(), set(HeadField.MAX_LOGIT, Double.NaN)))
                .containsExactly("NON_FINITE");
        assertThat(firedAlerts(defaults(), set(HeadField.LINEAR_GAP, Double.POSITIVE_INFINITY)))
                .containsExactly("NON_FINITE");
    }

    @Test
    void nonFinite_ignoresMetricsThatAreUndefinedByDefinition() {
        // linearGap (CAUSAL), reconstructionError (no layer output), maxRedundancy (one head): NaN is normal.
        assertThat(firedAlerts(defaults(), b -> b.set(HeadField.LINEAR_GAP, Double.NaN)
                .set(HeadField.RECONSTRUCTION_ERROR, Double.NaN).set(HeadField.MAX_REDUNDANCY, Double.NaN)
                .set(HeadField.REDUNDANCY_PARTNER, Double.NaN).set(HeadField.RANK_BOUND, Double.NaN))).isEmpty();
    }

    @Test
    void nanEverywhere_firesOnlyNonFinite() {
        assertThat(firedAlerts(defaults(), b -> HeadMetrics.builder())).containsExactly("NON_FINITE");
    }

    @Test
    void invariantViolation_reconstructionOrZeroSum() {
        assertThat(firedAlerts(defaults(), set(HeadField.RECONSTRUCTION_ERROR, 0.02)))
                .containsExactly("INVARIANT_VIOLATION");
        assertThat(firedAlerts(defaults(), set(HeadField.ZERO_SUM_RESIDUAL, 1e-3)))
                .containsExactly("INVARIANT_VIOLATION");
    }

    // ---- configuration ---------------------------------------------------------------------------------

    @Test
    void disabledRule_neverFires() {
        AlertConfig config = builder().disable(Alert.ENTROPY_COLLAPSE).build();
        assertThat(firedAlerts(config, set(HeadField.ENTROPY, 0.01))).isEmpty();
        assertThat(config.isEnabled(Alert.ENTROPY_COLLAPSE)).isFalse();
    }

    @Test
    void nanThreshold_switchesOnePartOff() {
        AlertConfig noFloor = builder().entropyCollapse(Double.NaN, 0.5).build();
        // 0.05 after a 0.8 baseline still fires, through the relative part.
        assertThat(firedAlerts(noFloor, set(HeadField.ENTROPY, 0.05))).containsExactly("ENTROPY_COLLAPSE");
        AlertConfig noDrop = builder().entropyCollapse(0.1, Double.NaN).build();
        assertThat(firedAlerts(noDrop, set(HeadField.ENTROPY, 0.35))).isEmpty();
    }

    @Test
    void customThreshold_isUsed() {
        AlertConfig config = builder().rankCollapse(1.0).build();
        assertThat(firedAlerts(config, set(HeadField.EFFECTIVE_RANK, 1.2))).isEmpty();
        assertThat(firedAlerts(config, set(HeadField.EFFECTIVE_RANK, 0.9))).containsExactly("RANK_COLLAPSE");
    }

    @Test
    void invalidSettings_failWithTheValue() {
        assertThatThrownBy(() -> builder().persist(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("persist").hasMessageContaining("0");
        assertThatThrownBy(() -> builder().entropyCollapse(1.5, 0.5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1.5");
        assertThatThrownBy(() -> builder().logitGrowth(50, 0.8))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0.8");
        assertThatThrownBy(() -> builder().medianWindow(10, 11))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("11");
        assertThatThrownBy(() -> builder().sinkShift(Double.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NaN");
        assertThatThrownBy(() -> builder().keyCoherence(Double.NaN, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("disable");
        assertThatThrownBy(() -> UserRule.above("ENTROPY_COLLAPSE", HeadField.ENTROPY, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("built-in");
        assertThatThrownBy(() -> UserRule.above("has space", HeadField.ENTROPY, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has space");
        UserRule r = UserRule.above("X", HeadField.ENTROPY, 1);
        assertThatThrownBy(() -> builder().rule(r).rule(r))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'X'");
    }

    @Test
    void userRule_firesWithItsNameFieldAndSeverity() {
        AlertConfig config = builder().enableOnly()
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
        AlertConfig config = builder().rule(new UserRule("BROKEN", Severity.INFO, HeadField.ENTROPY,
                Double.NaN, m -> { throw new IllegalStateException("boom"); }, "")).build();
        assertThat(feed(engine(config), repeat(5, b -> b))).isEmpty();
    }

    // ---- clock, snapshot, listeners, event -------------------------------------------------------------

    @Test
    void eventTimeAndFiringSince_comeFromTheInjectedClock() {
        AlertEngine e = engine(defaults());
        List<AlertEvent> events = new ArrayList<>();
        for (int step = 1; step <= 3; step++) {
            clock.now = T0.plusSeconds(60L * step);
            events.addAll(e.evaluate(obs(step, head(0, healthy().set(HeadField.MAX_LOGIT, 60).build()))));
        }
        assertThat(events.get(0).time()).isEqualTo(T0.plusSeconds(180));
        assertThat(e.firing()).singleElement().satisfies(f -> {
            assertThat(f.since()).isEqualTo(T0.plusSeconds(180));
            assertThat(f.sinceStep()).isEqualTo(3);
            assertThat(f.alert()).isEqualTo("LOGIT_GROWTH");
            assertThat(f.layer()).isEqualTo("attn");
        });
        assertThat(e.isFiring(Alert.LOGIT_GROWTH)).isTrue();
        assertThat(e.isFiring(Alert.DEAD_HEAD, Alert.NON_FINITE)).isFalse();
        assertThat(e.isFiring(List.of("LOGIT_GROWTH"))).isTrue();
    }

    @Test
    void listeners_receiveEveryEvent_andOneThatThrowsDoesNotStopTheOthers() {
        AlertEngine e = engine(defaults());
        List<AlertEvent> received = new ArrayList<>();
        e.addListener(ev -> { throw new IllegalStateException("listener down"); });
        e.addListener(received::add);
        List<AlertEvent> returned = feed(e, concat(repeat(3, set(HeadField.MAX_LOGIT, 60)), repeat(3, b -> b)));
        assertThat(received).isEqualTo(returned).hasSize(2);
        assertThat(e.listenerFailures()).isEqualTo(2);
    }

    @Test
    void engineIsAnObservationSink() throws Exception {
        AlertEngine e = engine(defaults());
        dev.headwatch.core.sink.ObservationSink sink = e;
        for (int step = 1; step <= 3; step++) {
            sink.write(obs(step, head(0, healthy().set(HeadField.MAX_LOGIT, 60).build())));
        }
        assertThat(e.firing()).hasSize(1);
    }

    @Test
    void eventMap_hasTheAlertRecordFieldsInOrder_nanAsNull() {
        AlertEvent ev = new AlertEvent("NON_FINITE", AlertState.FIRING, Severity.CRITICAL, 12, T0, "attn", 1,
                Double.NaN, Double.NaN, "m");
        Map<String, Object> map = ev.toMap();
        assertThat(map.keySet()).containsExactly("type", "alert", "state", "severity", "step", "time", "layer",
                "head", "heads", "value", "threshold", "message");
        assertThat(map.get("head")).isEqualTo(1);
        assertThat(map.get("heads")).isEqualTo(List.of(1));
        assertThat(map.get("type")).isEqualTo("alert");
        assertThat(map.get("time")).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(map.get("value")).isNull();
        assertThat(map.get("threshold")).isNull();
        assertThat(map.get("step")).isEqualTo(12L);
    }
}
