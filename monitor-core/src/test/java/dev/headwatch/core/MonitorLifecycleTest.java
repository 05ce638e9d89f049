package dev.headwatch.core;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.sink.ObservationSink;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The monitor's record building and lifecycle: head naming, integer fields, closing, fatal errors, builder. */
class MonitorLifecycleTest {

    private static HeadInput randomHead(long seed) {
        Nd4j.getRandom().setSeed(seed);
        return HeadInput.of(Nd4j.randn(DataType.DOUBLE, 5, 2), Nd4j.randn(DataType.DOUBLE, 5, 2), null,
                Visibility.FULL, Double.NaN);
    }

    @Test
    void redundancyPartner_withHeadFilter_namesTheLayerHead() {
        // Observed heads 1, 3 and 4 of a layer; heads 3 and 4 are the same head, head 1 another.
        HeadInput a = randomHead(1);
        HeadInput b = randomHead(2);
        List<Observation> seen = new ArrayList<>();
        try (Monitor m = Monitor.builder().background(false).sink(seen::add).build()) {
            m.submit(0, 0, Double.NaN, List.of(new LayerInput("att", List.of(1, 3, 4), List.of(List.of(a, b, b)), Double.NaN)));
        }
        List<HeadRecord> heads = seen.get(0).heads();
        assertThat(heads).extracting(HeadRecord::head).containsExactly(1, 3, 4);
        assertThat(heads.get(1).metrics().redundancyPartner()).isEqualTo(4.0);
        assertThat(heads.get(2).metrics().redundancyPartner()).isEqualTo(3.0);
        assertThat(heads.get(1).metrics().maxRedundancy()).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(heads.get(0).metrics().redundancyPartner()).isIn(3.0, 4.0);
    }

    @Test
    void integerFields_overSequences_takeTheMostFrequentValue_lowestOnTies() {
        HeadMetrics r2 = HeadMetrics.builder().set(HeadField.NUMERICAL_RANK, 2).set(HeadField.SINK_POSITION, 4)
                .set(HeadField.ENTROPY, 0.2).build();
        HeadMetrics r3 = HeadMetrics.builder().set(HeadField.NUMERICAL_RANK, 3).set(HeadField.SINK_POSITION, 1)
                .set(HeadField.ENTROPY, 0.5).build();
        HeadMetrics agg = HeadMetrics.aggregate(List.of(r2, r3, r3));
        assertThat(agg.numericalRank()).isEqualTo(3.0);
        assertThat(agg.sinkPosition()).isEqualTo(1.0);
        assertThat(agg.entropy()).isCloseTo(0.4, org.assertj.core.api.Assertions.within(1e-12));
        // a tie: 2 and 3 once each, the lowest wins
        assertThat(HeadMetrics.aggregate(List.of(r3, r2)).numericalRank()).isEqualTo(2.0);
    }

    @Test
    void integerFields_areWrittenAsIntegers() {
        HeadMetrics m = HeadMetrics.builder().set(HeadField.NUMERICAL_RANK, 3).set(HeadField.RANK_BOUND, 4)
                .set(HeadField.ENTROPY, 0.5).build();
        for (HeadField f : HeadField.values()) {
            Object v = m.toMap().get(f.fieldName());
            if (f.isInteger() && v != null) {
                assertThat(v).as(f.fieldName()).isInstanceOf(Long.class);
            } else if (v != null) {
                assertThat(v).as(f.fieldName()).isInstanceOf(Double.class);
            }
        }
        assertThat(m.toMap()).containsEntry("numericalRank", 3L).containsEntry("rankBound", 4L)
                .containsEntry("entropy", 0.5).containsEntry("sinkPosition", null);
        assertThat(HeadField.values()).filteredOn(HeadField::isInteger).containsExactly(HeadField.NUMERICAL_RANK,
                HeadField.RANK_BOUND, HeadField.SINK_POSITION, HeadField.REDUNDANCY_PARTNER);
    }

    @Test
    void record_lengthOverSequences_isTheMostFrequentLength() {
        LayerAnalyzer fake = heads -> MonitorTest.layerOf(heads.stream().map(h -> HeadMetrics.builder().build()).toList());
        List<Observation> seen = new ArrayList<>();
        try (Monitor m = Monitor.builder().background(false).analyzer(fake).sink(seen::add).build()) {
            HeadInput five = randomHead(3);
            HeadInput four = HeadInput.of(Nd4j.ones(DataType.DOUBLE, 4, 2), Nd4j.ones(DataType.DOUBLE, 4, 2), null,
                    Visibility.FULL, Double.NaN);
            m.submit(0, 0, Double.NaN, List.of(new LayerInput("att", List.of(0), List.of(List.of(four), List.of(five),
                    List.of(five)), Double.NaN)));
        }
        assertThat(seen.get(0).heads().get(0).n()).isEqualTo(5);
    }

    @Test
    void close_whileStepsArrive_losesNothingAccepted_countsLaterStepsAsDropped_andClosesSinksAfterTheLastWrite()
            throws Exception {
        LayerAnalyzer fake = heads -> MonitorTest.layerOf(heads.stream().map(h -> HeadMetrics.builder().build()).toList());
        HeadInput head = randomHead(4);
        AtomicBoolean sinkClosed = new AtomicBoolean();
        AtomicInteger writesAfterClose = new AtomicInteger();
        AtomicLong written = new AtomicLong();
        ObservationSink sink = new ObservationSink() {
            @Override
            public void write(Observation o) throws InterruptedException {
                if (sinkClosed.get()) {
                    writesAfterClose.incrementAndGet();
                }
                Thread.sleep(1);
                written.incrementAndGet();
            }

            @Override
            public void close() {
                sinkClosed.set(true);
            }
        };
        Monitor m = Monitor.builder().analyzer(fake).queueCapacity(64).sink(sink).build();
        CountDownLatch running = new CountDownLatch(1);
        AtomicLong calls = new AtomicLong();
        Thread trainer = new Thread(() -> {
            for (int step = 0; step < 2000; step++) {
                m.submit(step, 0, Double.NaN, List.of(new LayerInput("att", List.of(0), List.of(List.of(head)), Double.NaN)));
                calls.incrementAndGet();
                if (step == 20) {
                    running.countDown();
                }
            }
        });
        trainer.start();
        running.await();
        m.close();
        trainer.join();
        MonitorStats s = m.stats();
        assertThat(sinkClosed).isTrue();
        assertThat(writesAfterClose).hasValue(0);
        assertThat(s.observations()).isEqualTo(written.get()).isPositive();
        assertThat(s.observations() + s.dropped()).isEqualTo(calls.get());
        assertThat(s.dropped()).isPositive();
    }

    /** One step of a layer with one head, for the batching tests. */
    private static List<LayerInput> oneHead(long seed) {
        return List.of(new LayerInput("att", List.of(0), List.of(List.of(randomHead(seed))), Double.NaN));
    }

    private static final LayerAnalyzer EMPTY_METRICS =
            heads -> MonitorTest.layerOf(heads.stream().map(h -> HeadMetrics.builder().build()).toList());

    @Test
    void background_wakesForAFullBatch_andMeasuresItsStepsInOrder() throws InterruptedException {
        List<Long> seen = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch four = new CountDownLatch(4);
        try (Monitor m = Monitor.builder().analyzer(EMPTY_METRICS).batch(4, Duration.ofHours(1))
                .sink(o -> { seen.add(o.step()); four.countDown(); }).build()) {
            for (int step = 0; step < 3; step++) {
                m.submit(step, 0, Double.NaN, oneHead(step));
            }
            // three of four: the thread waits for the batch (or an hour)
            assertThat(four.await(200, TimeUnit.MILLISECONDS)).isFalse();
            assertThat(seen).isEmpty();
            m.submit(3, 0, Double.NaN, oneHead(3));
            assertThat(four.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(seen).containsExactly(0L, 1L, 2L, 3L);
        }
    }

    @Test
    void background_measuresAShortBatch_afterTheLongestWait() throws InterruptedException {
        CountDownLatch one = new CountDownLatch(1);
        try (Monitor m = Monitor.builder().analyzer(EMPTY_METRICS).batch(4, Duration.ofMillis(20))
                .sink(o -> one.countDown()).build()) {
            m.submit(0, 0, Double.NaN, oneHead(0));
            assertThat(one.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(m.stats().observations()).isEqualTo(1);
        }
    }

    @Test
    void close_measuresAQueuedPartialBatch_withoutWaitingForIt() {
        List<Long> seen = Collections.synchronizedList(new ArrayList<>());
        Monitor m = Monitor.builder().analyzer(EMPTY_METRICS).batch(4, Duration.ofHours(1))
                .sink(o -> seen.add(o.step())).build();
        m.submit(0, 0, Double.NaN, oneHead(0));
        m.submit(1, 0, Double.NaN, oneHead(1));
        // close wakes the thread: it neither waits the hour nor drops the two steps
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), m::close);
        assertThat(seen).containsExactly(0L, 1L);
        assertThat(m.stats().dropped()).isZero();
    }

    @Test
    void batch_largerThanTheQueue_wakesForAFullQueue() throws InterruptedException {
        CountDownLatch two = new CountDownLatch(2);
        try (Monitor m = Monitor.builder().analyzer(EMPTY_METRICS).queueCapacity(2)
                .batch(16, Duration.ofHours(1)).sink(o -> two.countDown()).build()) {
            m.submit(0, 0, Double.NaN, oneHead(0));
            m.submit(1, 0, Double.NaN, oneHead(1));
            assertThat(two.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(m.stats().dropped()).isZero();
        }
    }

    @Test
    void batch_rejectsNonPositiveValues_namingThem() {
        Monitor.Builder b = Monitor.builder();
        assertThatThrownBy(() -> b.batch(0, Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch steps");
        assertThatThrownBy(() -> b.batch(1, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch maxWait");
        assertThatThrownBy(() -> b.batch(1, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch maxWait");
    }

    @Test
    void outOfMemoryInTheMetrics_stopsTheMonitor_andPropagates() {
        LayerAnalyzer failing = heads -> {
            throw new OutOfMemoryError("Java heap space (test)");
        };
        List<Observation> seen = Collections.synchronizedList(new ArrayList<>());
        Monitor m = Monitor.builder().background(false).analyzer(failing).sink(seen::add).build();
        LayerInput layer = new LayerInput("att", List.of(0), List.of(List.of(randomHead(5))), Double.NaN);
        assertThatThrownBy(() -> m.submit(0, 0, Double.NaN, List.of(layer))).isInstanceOf(OutOfMemoryError.class);
        assertThat(m.shouldObserve(0)).isFalse();
        m.submit(1, 0, Double.NaN, List.of(layer));
        assertThat(m.stats().dropped()).isEqualTo(1);
        assertThat(m.stats().analysisFailures()).isZero();
        m.close();
        assertThat(seen).isEmpty();
    }

    @Test
    void outOfMemoryInASink_onTheBackgroundThread_stopsTheMonitor_andCloseReturns() {
        ObservationSink failing = o -> {
            throw new OutOfMemoryError("Java heap space (test)");
        };
        Monitor m = Monitor.builder().analyzer(EMPTY_METRICS).sink(failing).build();
        m.submit(0, 0, Double.NaN, oneHead(6));
        m.close();
        assertThat(m.stats().sinkFailures()).isZero();
        assertThat(m.shouldObserve(0)).isFalse();
    }

    @Test
    void stopOn_twice_failsNamingTheFirstChoice() {
        AlertEngine engine = AlertEngine.withDefaults();
        Monitor.Builder b = Monitor.builder().stopOn(engine, Alert.NON_FINITE);
        assertThatThrownBy(() -> b.stopOn(engine, Alert.ENTROPY_COLLAPSE))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("stopOn").hasMessageContaining("NON_FINITE");
    }

    @Test
    void build_twice_fails() {
        Monitor.Builder b = Monitor.builder().background(false);
        b.build().close();
        assertThatThrownBy(b::build).isInstanceOf(IllegalStateException.class).hasMessageContaining("already built");
    }
}
