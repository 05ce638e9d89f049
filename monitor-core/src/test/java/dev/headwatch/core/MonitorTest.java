package dev.headwatch.core;

import dev.headwatch.core.sink.ObservationSink;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MonitorTest {

    private static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");

    /** Entropy = 0.1 * head position + 0.01 * sequence length, so aggregation and order are visible. */
    private static final LayerAnalyzer FAKE = heads -> {
        List<HeadMetrics> out = new ArrayList<>();
        for (int i = 0; i < heads.size(); i++) {
            out.add(HeadMetrics.builder().set(HeadField.ENTROPY, 0.1 * i + 0.01 * heads.get(i).n()).build());
        }
        return layerOf(out);
    };

    /** Layer metrics holding the given heads and NaN between them. */
    static LayerMetrics layerOf(List<HeadMetrics> heads) {
        double[][] nan = new double[heads.size()][heads.size()];
        for (double[] row : nan) {
            java.util.Arrays.fill(row, Double.NaN);
        }
        return new LayerMetrics(heads, nan, nan);
    }

    private static HeadInput head(int n) {
        return HeadInput.of(Nd4j.ones(DataType.FLOAT, n, 2), Nd4j.ones(DataType.FLOAT, n, 2), null, Visibility.FULL, Double.NaN);
    }

    private static LayerInput layer(String name, int n) {
        return new LayerInput(name, List.of(1, 3), List.of(List.of(head(n), head(n))), 2.5e-7);
    }

    @Test
    void submit_synchronous_buildsOneRecordPerHead_withReconstructionErrorClockTimeAndLoss() {
        List<Observation> seen = new ArrayList<>();
        try (Monitor m = Monitor.builder().background(false).analyzer(FAKE).sink(seen::add)
                .clock(Clock.fixed(T0, ZoneOffset.UTC)).build()) {
            m.submit(7, 2, 1.25, List.of(layer("att", 4)));
        }
        assertThat(seen).singleElement().satisfies(o -> {
            assertThat(o.step()).isEqualTo(7);
            assertThat(o.epoch()).isEqualTo(2);
            assertThat(o.time()).isEqualTo(T0);
            assertThat(o.loss()).isEqualTo(1.25);
            assertThat(o.heads()).extracting(HeadRecord::head).containsExactly(1, 3);
            assertThat(o.heads().get(1).metrics().entropy()).isCloseTo(0.14, org.assertj.core.api.Assertions.within(1e-12));
            assertThat(o.heads()).allSatisfy(r -> assertThat(r.metrics().reconstructionError()).isEqualTo(2.5e-7));
        });
    }

    @Test
    void throwingSink_isCountedDisabled_andOtherSinksStillWrite() {
        List<Observation> good = new ArrayList<>();
        ObservationSink bad = o -> {
            throw new IllegalStateException("disk full");
        };
        try (Monitor m = Monitor.builder().background(false).analyzer(FAKE).sink(bad).sink(good::add)
                .maxSinkFailures(3).build()) {
            for (int step = 0; step < 5; step++) {
                m.submit(step, 0, Double.NaN, List.of(layer("att", 3)));
            }
            MonitorStats s = m.stats();
            assertThat(s.sinkFailures()).isEqualTo(3);
            assertThat(s.disabledSinks()).isEqualTo(1);
            assertThat(s.observations()).isEqualTo(5);
        }
        assertThat(good).hasSize(5);
    }

    @Test
    void throwingAnalyzer_isCounted_andNeverEscapes() {
        try (Monitor m = Monitor.builder().background(false).analyzer(h -> {
            throw new ArithmeticException("boom");
        }).build()) {
            m.submit(0, 0, Double.NaN, List.of(layer("att", 3)));
            m.submit(1, 0, Double.NaN, List.of(layer("att", 3)));
            assertThat(m.stats().analysisFailures()).isEqualTo(2);
            assertThat(m.stats().observations()).isZero();
        }
    }

    @Test
    void nonConvergedFactorisations_areCountedInTheStats_andTheStepStands() {
        LayerAnalyzer failing = heads -> {
            List<HeadMetrics> out = new ArrayList<>();
            for (int i = 0; i < heads.size(); i++) {
                out.add(HeadMetrics.builder().set(HeadField.ENTROPY, 0.5).countNonConverged().build());
            }
            return layerOf(out);
        };
        List<Observation> seen = new ArrayList<>();
        try (Monitor m = Monitor.builder().background(false).analyzer(failing).sink(seen::add).build()) {
            m.submit(0, 0, Double.NaN, List.of(layer("att", 3)));
            m.submit(1, 0, Double.NaN, List.of(layer("att", 3)));
            assertThat(m.stats().nonConverged()).isEqualTo(4); // 2 heads x 2 steps
            assertThat(m.stats().observations()).isEqualTo(2);
            assertThat(m.stats().analysisFailures()).isZero();
        }
        assertThat(seen).hasSize(2);
        assertThat(seen.get(1).heads().get(0).metrics().entropy()).isEqualTo(0.5);
    }

    /** Measures as {@link #FAKE} does after running {@code first}, saying it started and waiting for release. */
    private static LayerAnalyzer holding(CountDownLatch started, CountDownLatch release, Runnable first) {
        return heads -> {
            first.run();
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return FAKE.analyze(heads);
        };
    }

    @Test
    void background_fullQueue_dropsAndCounts_withoutBlocking() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        LayerAnalyzer blocking = holding(started, release, () -> { });
        List<Observation> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        Monitor m = Monitor.builder().analyzer(blocking).queueCapacity(2).sink(seen::add).build();
        m.submit(0, 0, Double.NaN, List.of(layer("att", 3)));
        started.await();
        // The worker holds step 0; steps 1 and 2 fill the queue; 3, 4 and 5 are dropped.
        for (int step = 1; step <= 5; step++) {
            m.submit(step, 0, Double.NaN, List.of(layer("att", 3)));
        }
        assertThat(m.stats().dropped()).isEqualTo(3);
        release.countDown();
        m.close();
        assertThat(seen).extracting(Observation::step).containsExactly(0L, 1L, 2L);
        assertThat(m.stats().submitted()).isEqualTo(6);
    }

    @Test
    void background_yieldsOnlyWhileFewerThanHalfTheQueueWaits_neverInline() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        List<Boolean> yields = java.util.Collections.synchronizedList(new ArrayList<>());
        LayerAnalyzer recording = holding(started, release, () -> yields.add(YieldPoint.yieldsHere()));
        Monitor m = Monitor.builder().analyzer(recording).queueCapacity(8).batch(1, java.time.Duration.ofMillis(1)).build();
        m.submit(0, 0, Double.NaN, List.of(layer("att", 3)));
        started.await();
        // Step 0 started with nothing behind it; steps 1-7 queue up meanwhile and are taken as one batch:
        // 6, 5 and 4 steps wait behind steps 1, 2 and 3 (at least half of 8: no yields), 3 to 0 behind 4 to 7.
        for (int step = 1; step <= 7; step++) {
            m.submit(step, 0, Double.NaN, List.of(layer("att", 3)));
        }
        release.countDown();
        m.close();
        assertThat(m.stats().observations()).isEqualTo(8);
        assertThat(yields).containsExactly(true, false, false, false, true, true, true, true);

        yields.clear();
        try (Monitor inline = Monitor.builder().background(false).analyzer(recording).build()) {
            inline.submit(0, 0, Double.NaN, List.of(layer("att", 3)));
        }
        assertThat(yields).containsExactly(false);
    }

    @Test
    void background_yieldsOnceAPieceOfWorkIsDone() {
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        int[] checked = new int[1];
        LayerAnalyzer pieces = heads -> {
            for (int attempt = 0; attempt < 20; attempt++) {
                long start = System.nanoTime();
                while (System.nanoTime() - start < 2 * YieldPoint.PIECE_NANOS) {
                    Thread.onSpinWait();
                }
                long before = System.nanoTime();
                boolean afterAPiece = YieldPoint.pass();
                boolean atOnce = YieldPoint.pass();
                long after = System.nanoTime();
                if (!afterAPiece) {
                    failures.add("no yield after " + 2 * YieldPoint.PIECE_NANOS + " ns of work");
                }
                // the second call came less than a piece after the first one's yield: it must not yield again
                if (after - before < YieldPoint.PIECE_NANOS) {
                    checked[0]++;
                    if (atOnce) {
                        failures.add("a second yield " + (after - before) + " ns after the first");
                    }
                }
            }
            return FAKE.analyze(heads);
        };
        Monitor m = Monitor.builder().analyzer(pieces).build();
        m.submit(0, 0, Double.NaN, List.of(layer("att", 3)));
        m.close();
        assertThat(m.stats().observations()).isEqualTo(1);
        assertThat(failures).isEmpty();
        assertThat(checked[0]).isPositive();
    }

    @Test
    void captures_areReadOnTheBackgroundThread_timeStampedAtSubmit() {
        List<String> threads = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Observation> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        LayerAnalyzer recording = heads -> {
            threads.add(Thread.currentThread().getName());
            return FAKE.analyze(heads);
        };
        Monitor m = Monitor.builder().analyzer(recording).sink(seen::add).clock(Clock.fixed(T0, ZoneOffset.UTC)).build();
        m.submit(3, 0, Double.NaN, List.of(capture("att", 2, 4)));
        m.close();
        assertThat(threads).containsExactly("headwatch-monitor");
        assertThat(seen).singleElement().satisfies(o -> {
            assertThat(o.step()).isEqualTo(3);
            assertThat(o.time()).isEqualTo(T0);
            assertThat(o.heads()).hasSize(2);
            assertThat(o.heads().get(0).n()).isEqualTo(4);
        });
    }

    @Test
    void background_parallelLoopsInTheMetrics_stayOnTheMonitorThread() {
        java.util.Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        LayerAnalyzer parallel = heads -> {
            java.util.stream.IntStream.range(0, 256).parallel().forEach(i -> threads.add(Thread.currentThread().getName()));
            return FAKE.analyze(heads);
        };
        Monitor m = Monitor.builder().analyzer(parallel).build();
        m.submit(0, 0, Double.NaN, List.of(layer("att", 3)));
        m.close();
        assertThat(m.stats().observations()).isEqualTo(1);
        assertThat(threads).containsExactly("headwatch-monitor");
    }

    @Test
    void aCaptureThatDoesNotFitItsLayout_isCountedLoggedOnce_andItsLayerIsNoLongerObserved() {
        List<Observation> seen = new ArrayList<>();
        try (Monitor m = Monitor.builder().background(false).analyzer(FAKE).sink(seen::add).build()) {
            m.submit(0, 0, Double.NaN, List.of());
            // two heads of size 2 need 4 columns; the capture holds 3
            double[] x = new double[3 * 3];
            LayerCapture wrong = new LayerCapture("bad", 2, 2, Double.NaN, false, false, null, null,
                    List.of(new LayerCapture.Sequence(3, x, 3, x, x, null, null, null)));
            m.submit(1, 0, Double.NaN, List.of(wrong, capture("att", 2, 3)));
            assertThat(m.stats().analysisFailures()).isEqualTo(1);
            assertThat(m.observesLayer("bad")).isFalse();
            assertThat(m.observesLayer("att")).isTrue();
            assertThat(m.stats().observations()).isEqualTo(1);
        }
        assertThat(seen).extracting(Observation::step).containsExactly(1L);
        assertThat(seen.get(0).heads()).extracting(HeadRecord::layer).containsOnly("att");
    }

    @Test
    void aQkSpectralNormThatFails_isCountedInTheStats_andTheStepStands() {
        int heads = 2, hs = 2, nIn = 2, n = 3;
        double[] wq = new double[nIn * heads * hs];
        double[] wk = new double[nIn * heads * hs];
        for (int i = 0; i < wq.length; i++) {
            wq[i] = Math.sin(i + 1);
            wk[i] = Math.cos(i + 1) * (i >= hs * nIn ? 1e200 : 1); // head 1: Wk Wk^T overflows to infinity
        }
        double[] x = new double[n * nIn];
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.sin(3 * i);
        }
        LayerCapture c = new LayerCapture("att", heads, hs, Double.NaN, true, false,
                new LayerCapture.Projections(wq, wk, wq, new double[heads * hs * nIn]), null,
                List.of(new LayerCapture.Sequence(n, x, n, x, x, null, null, null)));
        List<Observation> seen = new ArrayList<>();
        try (Monitor m = Monitor.builder().background(false).analyzer(FAKE).sink(seen::add).build()) {
            m.submit(0, 0, Double.NaN, List.of(c));
            assertThat(m.stats().nonConverged()).isEqualTo(1);
            assertThat(m.stats().analysisFailures()).isZero();
        }
        assertThat(seen).singleElement().satisfies(o -> {
            assertThat(o.heads().get(0).qkSpectralNorm()).isFinite();
            assertThat(o.heads().get(1).qkSpectralNorm()).isNaN();
        });
    }

    /** A layer of {@code heads} unprojected heads of size 2 on one sequence of n positions, without output. */
    private static LayerCapture capture(String name, int heads, int n) {
        double[] x = new double[n * heads * 2];
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.sin(i);
        }
        return new LayerCapture(name, heads, 2, Double.NaN, false, false, null, null,
                List.of(new LayerCapture.Sequence(n, x, n, x, x, null, null, null)));
    }

    @Test
    void sample_isSortedDistinctAndBounded() {
        try (Monitor m = Monitor.builder().background(false).maxSequences(3).seed(5).build()) {
            for (int trial = 0; trial < 50; trial++) {
                int[] rows = m.sample(10);
                assertThat(rows).hasSize(3).isSorted().doesNotHaveDuplicates();
                assertThat(rows[0]).isGreaterThanOrEqualTo(0);
                assertThat(rows[2]).isLessThanOrEqualTo(9);
            }
            assertThat(m.sample(2)).containsExactly(0, 1);
        }
    }

    @Test
    void everyAndFilters_selectStepsLayersAndHeads() {
        List<Observation> seen = new ArrayList<>();
        try (Monitor m = Monitor.builder().background(false).every(5).layers("a").heads(0, 2).analyzer(FAKE)
                .sink(seen::add).build()) {
            assertThat(m.shouldObserve(10)).isTrue();
            assertThat(m.shouldObserve(11)).isFalse();
            assertThat(m.observesLayer("a")).isTrue();
            assertThat(m.observesLayer("b")).isFalse();
            m.submit(10, 0, Double.NaN, List.of(capture("a", 3, 4)));
        }
        assertThat(seen.get(0).heads()).extracting(HeadRecord::head).containsExactly(0, 2);
    }

    @Test
    void builder_rejectsInvalidValues_namingThem() {
        assertThatThrownBy(() -> Monitor.builder().every(0)).hasMessageContaining("every").hasMessageContaining("0");
        assertThatThrownBy(() -> Monitor.builder().maxSequences(-2)).hasMessageContaining("maxSequences").hasMessageContaining("-2");
        assertThatThrownBy(() -> Monitor.builder().queueCapacity(0)).hasMessageContaining("queueCapacity");
        assertThatThrownBy(() -> Monitor.builder().heads(1, -1)).hasMessageContaining("-1");
        assertThatThrownBy(() -> Monitor.builder().maxSinkFailures(0)).hasMessageContaining("maxSinkFailures");
    }

    @Test
    void stopSignal_keepsFirstReason() {
        try (Monitor m = Monitor.builder().background(false).build()) {
            assertThat(m.stopSignal().isRequested()).isFalse();
            m.stopSignal().request("entropy collapse");
            m.stopSignal().request("later");
            assertThat(m.stopSignal().reason()).contains("entropy collapse");
        }
    }
}
