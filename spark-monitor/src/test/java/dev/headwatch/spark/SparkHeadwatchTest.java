package dev.headwatch.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.headwatch.core.HeadField;
import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Observation;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertConfig;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertEvent;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.dl4j.HeadwatchStopException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The driver's side without training: deliveries, ordering, counts, the stop policy and the shipped listener. */
class SparkHeadwatchTest {

    static JavaSparkContext sc;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        sc = LocalSpark.start("local[1]");
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    /** One head whose maxLogit is {@code maxLogit} (the other fields are plausible constants). */
    static WorkerObservation observation(SparkHeadwatch hw, String worker, long step, double maxLogit) {
        HeadMetrics m = HeadMetrics.builder().set(HeadField.MAX_LOGIT, maxLogit).set(HeadField.ENTROPY, 0.5)
                .set(HeadField.RECONSTRUCTION_ERROR, 1e-7).set(HeadField.NUMERICAL_RANK, 3).build();
        Observation o = new Observation(step, 0, Instant.ofEpochMilli(1000 + step), 0.5 * step,
                List.of(new HeadRecord("att", 0, 6, 4, Visibility.padded(5), m, 2.5, false)));
        return WorkerObservation.of(run(hw), worker, o);
    }

    static String run(SparkHeadwatch hw) {
        return ((SparkAttentionListener) hw.listener()).getSessionID();
    }

    @Test
    void workerObservation_roundTrips_throughTheRecordAndItsBytes() throws IOException {
        try (SparkHeadwatch hw = SparkHeadwatch.builder().build(sc)) {
            WorkerObservation w = observation(hw, "exec-1/p3", 7, 4.25);
            Observation back = w.observation();
            assertThat(back.step()).isEqualTo(7);
            assertThat(back.time()).isEqualTo(Instant.ofEpochMilli(1007));
            assertThat(back.loss()).isEqualTo(3.5);
            HeadRecord r = back.heads().get(0);
            assertThat(r.mask()).isEqualTo(Visibility.padded(5));
            assertThat(r.metrics()).isEqualTo(HeadMetrics.builder().set(HeadField.MAX_LOGIT, 4.25)
                    .set(HeadField.ENTROPY, 0.5).set(HeadField.RECONSTRUCTION_ERROR, 1e-7)
                    .set(HeadField.NUMERICAL_RANK, 3).build());
            assertThat(r.qkSpectralNorm()).isEqualTo(2.5);

            WorkerObservation decoded = observation(hw, "other", 0, 0);
            decoded.decode(w.encode());
            assertThat(decoded.getWorkerID()).isEqualTo("exec-1/p3");
            assertThat(decoded.observation()).isEqualTo(back);
            assertThat(w.encodingLengthBytes()).isLessThan(2_000);
        }
    }

    @Test
    void decode_refusesBytesOfAnotherType() throws IOException {
        try (SparkHeadwatch hw = SparkHeadwatch.builder().build(sc)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
                o.writeObject(new java.util.HashMap<>(Map.of("a", 1)));
            }
            assertThatThrownBy(() -> observation(hw, "w", 0, 0).decode(bytes.toByteArray()))
                    .hasMessageContaining("not a headwatch worker observation");
        }
    }

    @Test
    void receive_writesEachWorkersRecords_inStepOrder_andCountsLateObservationsAndSilentWorkers() throws IOException {
        Path metrics = dir.resolve("metrics.jsonl");
        SparkHeadwatch hw = SparkHeadwatch.builder().metrics(metrics).build(sc);
        // delivery 1: both workers, out of order; delivery 2: only w0, one step behind what was published
        hw.receive(List.of(observation(hw, "w1", 1, 1), observation(hw, "w0", 1, 1), observation(hw, "w0", 0, 1)));
        hw.endRound();
        hw.receive(List.of(observation(hw, "w0", 0, 1), observation(hw, "w0", 2, 1)));
        hw.endRound();
        hw.endRound();   // a round that brought nothing counts no silence
        hw.close();

        List<String> lines = Files.readAllLines(metrics);
        assertThat(lines).hasSize(5);
        assertThat(lines.get(0)).startsWith("{\"worker\":\"w0\",\"step\":0,");
        assertThat(lines.get(1)).startsWith("{\"worker\":\"w0\",\"step\":1,");
        assertThat(lines.get(2)).startsWith("{\"worker\":\"w1\",\"step\":1,");
        assertThat(lines.get(3)).startsWith("{\"worker\":\"w0\",\"step\":0,");
        SparkRunStats stats = hw.stats();
        assertThat(stats.observations()).isEqualTo(5);
        assertThat(stats.deliveries()).isEqualTo(2);
        assertThat(stats.workers()).containsExactlyInAnyOrder("w0", "w1");
        assertThat(stats.late()).isEqualTo(1);
        assertThat(stats.silent()).isEqualTo(Map.of("w1", 1L));
    }

    @Test
    void alertState_persistsAcrossDeliveries_firesOnce_andTheRouterStopsBetweenSplits() throws IOException {
        AlertEngine alerts = AlertEngine.of(AlertConfig.defaults(), Clock.systemUTC());
        List<AlertEvent> events = new ArrayList<>();
        alerts.addListener(events::add);
        try (SparkHeadwatch hw = SparkHeadwatch.builder().stopOn(alerts, Alert.LOGIT_GROWTH).build(sc)) {
            var router = hw.router();
            // persist = 3: two observations in the first split, the third in the second fires; another run's
            // record on the same router is not this run's
            router.putUpdate(List.of(observation(hw, "w0", 0, 80), observation(hw, "w1", 0, 80),
                    WorkerObservation.of("another-run", "w9", observation(hw, "w9", 0, 80).observation())));
            assertThat(hw.stats().workers()).containsExactlyInAnyOrder("w0", "w1");
            assertThat(hw.stopRequest()).isEmpty();
            assertThatThrownBy(() -> router.putUpdate(List.of(observation(hw, "w0", 1, 80),
                    observation(hw, "w1", 1, 80)))).isInstanceOf(HeadwatchStopException.class);
            assertThat(hw.stopRequest()).isPresent();
            assertThatThrownBy(() -> router.putUpdate(List.of(observation(hw, "w0", 2, 80))))
                    .isInstanceOf(HeadwatchStopException.class);
            assertThat(events).filteredOn(e -> e.state() == AlertState.FIRING && e.alert().equals("LOGIT_GROWTH"))
                    .hasSize(1);
        }
    }

    @Test
    void outbox_carriesWhatTheJvmPosted_toTheDriver_whenTheTaskEnds_andCountsWhatItCouldNotKeep() throws IOException {
        try (SparkHeadwatch hw = SparkHeadwatch.builder().build(sc)) {
            org.deeplearning4j.optimize.api.TrainingListener listener = hw.listener();
            int extra = 5;
            // the task deserializes the listener (as a training master's task does), then a training thread posts
            sc.parallelize(List.of(1), 1).foreach(x -> {
                assertThat(listener).isNotNull();
                String run = ((SparkAttentionListener) listener).getSessionID();
                Thread replica = new Thread(() -> {
                    for (int i = 0; i < Outbox.MAX_PENDING + extra; i++) {
                        Outbox.post(WorkerObservation.of(run, "replica", new Observation(i, 0, Instant.EPOCH, List.of())));
                    }
                });
                replica.start();
                replica.join();
            });
            SparkRunStats stats = hw.stats();
            assertThat(stats.observations()).isEqualTo(Outbox.MAX_PENDING);
            assertThat(stats.dropped()).isEqualTo(extra);
            assertThat(stats.workers()).containsExactly("replica");
        }
    }

    @Test
    void theShippedListener_carriesSettingsOnly() throws IOException {
        try (SparkHeadwatch hw = SparkHeadwatch.builder().every(5).maxSequences(2).layers("att").heads(0, 1)
                .metrics(dir.resolve("m.jsonl")).build(sc)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
                o.writeObject(hw.listener());
            }
            assertThat(bytes.size()).isLessThan(4_000);
        }
    }

    @Test
    void builder_namesBadValues() {
        assertThatThrownBy(() -> SparkHeadwatch.builder().every(0)).hasMessageContaining("every must be >= 1 but was 0");
        assertThatThrownBy(() -> SparkHeadwatch.builder().stopOn(null, Alert.DEAD_HEAD))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
