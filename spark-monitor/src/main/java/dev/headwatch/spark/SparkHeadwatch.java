package dev.headwatch.spark;

import dev.headwatch.core.HeadRecord;
import dev.headwatch.core.Monitor;
import dev.headwatch.core.Observation;
import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.sink.HeadColumns;
import dev.headwatch.core.sink.ObservationSink;
import dev.headwatch.dl4j.HeadwatchStopException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.deeplearning4j.core.storage.Persistable;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.core.storage.StorageMetaData;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.SparkListenable;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Watches the attention heads of a DL4J network that trains on Spark, with either training master.
 * <pre>{@code
 * AlertEngine alerts = AlertEngine.withDefaults();
 * alerts.addListener(AlertJsonlSink.open(dir.resolve("alerts.jsonl")));
 * try (SparkHeadwatch headwatch = SparkHeadwatch.builder()
 *         .metrics(dir.resolve("metrics.jsonl"))
 *         .sink(TensorBoardSink.create(dir.resolve("tensorboard")))
 *         .stopOn(alerts, Alert.ENTROPY_COLLAPSE)
 *         .build(sc)) {
 *     headwatch.attach(sparkNet);
 *     headwatch.fit(sparkNet, trainingData, epochs);
 * }
 * }</pre>
 * The workers compute the metrics (the data is there) with a listener that carries only its settings, and
 * send each observation, a few hundred bytes per head tagged with its {@code worker} and iteration, to the
 * driver: with {@link ParameterAveragingTrainingMaster} through DL4J's storage router, at the end of each
 * split; with the shared training master (which routes no listener updates) through a Spark accumulator that
 * each task fills when it ends, so once per {@code fit()} call (see {@link Outbox}). On the driver, one set of
 * sinks and one alert engine see every worker's observations, in iteration order within each delivery;
 * their state lasts across splits and {@code fit()} calls until {@link #close()}.
 *
 * <p>The stop policy runs on the driver: after a {@code stopOn} alert fires, parameter averaging stops at the
 * end of the split that reported it ({@code fit()} throws {@link HeadwatchStopException} on the driver, after
 * the split's parameters were applied; no Spark job fails), and {@link #fit} stops before its next
 * {@code fit()} call, with either master. Workers never throw into Spark.
 *
 * <p>Workers are known from their first observation. A known worker that sends nothing in a round (a split,
 * or a Spark job), an observation that arrives after the driver published a later iteration, and
 * observations that a worker could not keep until a task carried them, are counted ({@link #stats()}) and
 * logged at close.
 */
public final class SparkHeadwatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SparkHeadwatch.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_SINK_FAILURES = 3;

    private final String run = UUID.randomUUID().toString();
    private final WorkerSettings settings;
    private final OutputStream metrics;
    private final List<Guarded> sinks = new ArrayList<>();
    private final List<AutoCloseable> closeables;
    private final Outbox outbox;
    private final Router router = new Router();
    private volatile String stopReason;
    private boolean closed;
    private boolean loggedMetricsFailure;

    private long observations;
    private long records;
    private long late;
    private long dropped;
    private long deliveries;
    private long lastStep = Long.MIN_VALUE;
    private final Set<String> workers = new TreeSet<>();
    private final Set<String> reporting = new TreeSet<>();
    private final Map<String, Long> silent = new TreeMap<>();

    private SparkHeadwatch(Builder b, JavaSparkContext sc) throws IOException {
        this.settings = new WorkerSettings(b.every, b.maxSequences, b.layers, b.heads, b.seed);
        this.metrics = b.metrics == null ? null : open(b.metrics);
        for (ObservationSink s : b.sinks) {
            sinks.add(new Guarded(s));
        }
        this.closeables = List.copyOf(b.sinks);
        if (b.stopEngine != null) {
            Set<String> chosen = Set.copyOf(b.stopAlerts);
            b.stopEngine.addListener(e -> {
                if (e.state() == AlertState.FIRING && chosen.contains(e.alert()) && stopReason == null) {
                    stopReason = e.message();
                }
            });
        }
        this.outbox = new Outbox(run, this::receive);
        sc.sc().register(outbox, "headwatch-" + run);
        sc.sc().addSparkListener(new SparkListener() {
            @Override
            public void onJobEnd(SparkListenerJobEnd jobEnd) {
                endRound();
            }
        });
    }

    private static OutputStream open(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return Files.newOutputStream(file);
    }

    /** A builder: the workers' options, then the driver's sinks, alerts and stop policy. */
    public static Builder builder() {
        return new Builder();
    }

    /** The listener to ship to the workers; {@link #attach} sets it for you. */
    public TrainingListener listener() {
        return new SparkAttentionListener(run, settings, outbox);
    }

    /**
     * Sets this run's listener (and {@code others}) on the network, with the path to the driver that suits
     * its training master: DL4J's storage router for parameter averaging, the accumulator otherwise. It
     * replaces the listeners set before.
     */
    public void attach(SparkDl4jMultiLayer net, TrainingListener... others) {
        attach(net, net.getTrainingMaster(), others);
    }

    /** As {@link #attach(SparkDl4jMultiLayer, TrainingListener...)}, for a ComputationGraph. */
    public void attach(SparkComputationGraph net, TrainingListener... others) {
        attach(net, net.getTrainingMaster(), others);
    }

    private void attach(SparkListenable net, TrainingMaster<?, ?> master, TrainingListener... others) {
        List<TrainingListener> listeners = new ArrayList<>(Arrays.asList(others));
        listeners.add(listener());
        if (master instanceof ParameterAveragingTrainingMaster) {
            net.setListeners(router, listeners);
        } else {
            net.setListeners(listeners);
        }
    }

    /**
     * Calls {@code net.fit(data)} up to {@code epochs} times, and stops early, between splits, when the stop
     * policy asks. Returns the number of {@code fit()} calls that ran to their end.
     */
    public int fit(SparkDl4jMultiLayer net, JavaRDD<DataSet> data, int epochs) {
        return fit(() -> net.fit(data), epochs);
    }

    /** As {@link #fit(SparkDl4jMultiLayer, JavaRDD, int)}, for a ComputationGraph. */
    public int fit(SparkComputationGraph net, JavaRDD<DataSet> data, int epochs) {
        return fit(() -> net.fit(data), epochs);
    }

    private int fit(Runnable epoch, int epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1 but was " + epochs);
        }
        for (int e = 0; e < epochs; e++) {
            if (stopReason != null) {
                LOG.info("headwatch: training stopped before epoch {} of {}: {}", e + 1, epochs, stopReason);
                return e;
            }
            try {
                epoch.run();
            } catch (HeadwatchStopException stop) {
                LOG.info("headwatch: training stopped during epoch {} of {}, between splits: {}", e + 1, epochs,
                        stop.getMessage());
                return e;
            }
        }
        return epochs;
    }

    /** The router that parameter averaging calls on the driver. */
    StatsStorageRouter router() {
        return router;
    }

    /** Why training should stop, once a {@code stopOn} alert fired on the driver; empty otherwise. */
    public Optional<String> stopRequest() {
        return Optional.ofNullable(stopReason);
    }

    /** The counts so far. */
    public synchronized SparkRunStats stats() {
        Set<String> all = new TreeSet<>(workers);
        all.addAll(reporting);
        return new SparkRunStats(observations, records, deliveries, all, late, silent, dropped);
    }

    /** Receives one delivery of workers' observations (one split, or one task's accumulator). */
    synchronized void receive(Collection<WorkerObservation> arrived) {
        receive(arrived, 0);
    }

    /** As {@link #receive(Collection)}, with the count of observations that workers dropped on the way. */
    synchronized void receive(Collection<WorkerObservation> arrived, long droppedOnWorkers) {
        dropped += droppedOnWorkers;
        if (closed || arrived.isEmpty()) {
            return;
        }
        deliveries++;
        List<WorkerObservation> ordered = new ArrayList<>(arrived);
        ordered.sort(Comparator.comparingLong(WorkerObservation::step).thenComparing(WorkerObservation::worker));
        for (WorkerObservation w : ordered) {
            Observation o;
            try {
                o = w.observation();
            } catch (RuntimeException e) {
                LOG.warn("headwatch: dropped an observation of worker {} that cannot be read: {}", w.worker(), e.toString());
                continue;
            }
            reporting.add(w.worker());
            if (w.step() < lastStep) {
                late++;
            }
            lastStep = Math.max(lastStep, w.step());
            observations++;
            records += o.heads().size();
            writeMetrics(w.worker(), o);
            for (Guarded s : sinks) {
                s.write(o);
            }
        }
    }

    /**
     * Ends a round: a split with parameter averaging, a Spark job otherwise (all tasks of a shared
     * training {@code fit()}). A known worker that sent nothing in a round that brought records is silent.
     */
    synchronized void endRound() {
        if (reporting.isEmpty()) {
            return;
        }
        for (String known : workers) {
            if (!reporting.contains(known)) {
                silent.merge(known, 1L, Long::sum);
            }
        }
        workers.addAll(reporting);
        reporting.clear();
    }

    private void writeMetrics(String worker, Observation o) {
        if (metrics == null) {
            return;
        }
        try {
            StringBuilder block = new StringBuilder();
            for (HeadRecord r : o.heads()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("worker", worker);
                row.putAll(HeadColumns.row(o, r));
                block.append(JSON.writeValueAsString(row)).append('\n');
            }
            metrics.write(block.toString().getBytes(StandardCharsets.UTF_8));
            metrics.flush();
        } catch (IOException e) {
            if (!loggedMetricsFailure) {
                loggedMetricsFailure = true;
                LOG.warn("headwatch: cannot write the metrics file; later failures are not logged", e);
            }
        }
    }

    /** Closes the metrics file and the sinks and logs the counts. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        endRound();
        closed = true;
        LOG.info("headwatch: {}", stats());
        List<AutoCloseable> all = new ArrayList<>(closeables);
        if (metrics != null) {
            all.add(metrics);
        }
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("headwatch: {} failed to close", c, e);
            }
        }
    }

    /** The driver's end of DL4J's listener routing (parameter averaging): called between splits. */
    private final class Router implements StatsStorageRouter {

        @Override
        public void putUpdate(Persistable update) {
            putUpdate(List.of(update));
        }

        @Override
        public void putUpdate(Collection<? extends Persistable> updates) {
            List<WorkerObservation> ours = new ArrayList<>();
            for (Persistable p : updates) {
                if (p instanceof WorkerObservation w && run.equals(w.getSessionID())) {
                    ours.add(w);
                }
            }
            receive(ours);
            endRound();
            String reason = stopReason;
            if (reason != null) {
                long step = ours.stream().mapToLong(WorkerObservation::step).max().orElse(-1);
                throw new HeadwatchStopException(step, reason);
            }
        }

        @Override
        public void putStorageMetaData(StorageMetaData storageMetaData) {
        }

        @Override
        public void putStorageMetaData(Collection<? extends StorageMetaData> storageMetaData) {
        }

        @Override
        public void putStaticInfo(Persistable staticInfo) {
        }

        @Override
        public void putStaticInfo(Collection<? extends Persistable> staticInfo) {
        }
    }

    /** A driver sink: what it throws is logged once and counted; repeated failures switch it off. */
    private static final class Guarded {
        private final ObservationSink sink;
        private int failures;

        Guarded(ObservationSink sink) {
            this.sink = sink;
        }

        void write(Observation o) {
            if (failures >= MAX_SINK_FAILURES) {
                return;
            }
            try {
                sink.write(o);
                failures = 0;
            } catch (Exception e) {
                if (++failures == 1) {
                    LOG.warn("headwatch: sink {} failed at step {}", sink, o.step(), e);
                } else if (failures == MAX_SINK_FAILURES) {
                    LOG.warn("headwatch: sink {} disabled after {} consecutive failures", sink, failures);
                }
            }
        }
    }

    /** Builds a {@link SparkHeadwatch}; the worker options mean what they mean on {@code MonitorSettings}. */
    public static final class Builder {
        private int every = 1;
        private int maxSequences = WorkerSettings.defaults().maxSequences();
        private List<String> layers = List.of();
        private List<Integer> heads = List.of();
        private long seed;
        private Path metrics;
        private final List<ObservationSink> sinks = new ArrayList<>();
        private AlertEngine stopEngine;
        private List<String> stopAlerts = List.of();

        private Builder() {
        }

        /** Observe every {@code n}-th iteration on each worker; {@code n >= 1}. */
        public Builder every(int n) {
            Monitor.builder().every(n);
            this.every = n;
            return this;
        }

        /** Sequences sampled per observation on each worker; {@code >= 1}. */
        public Builder maxSequences(int s) {
            Monitor.builder().maxSequences(s);
            this.maxSequences = s;
            return this;
        }

        /** Observe only these layers (names or indices as text). */
        public Builder layers(String... names) {
            Monitor.builder().layers(names);
            this.layers = List.of(names);
            return this;
        }

        /** Observe only these head indices. */
        public Builder heads(int... indices) {
            Monitor.builder().heads(indices);
            this.heads = Arrays.stream(indices).boxed().toList();
            return this;
        }

        /** Seed of each worker's sequence sampler. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * The driver's JSON Lines file (created or truncated): one record per head per worker per observed
         * iteration, the columns of {@code JsonLinesSink} preceded by {@code worker}.
         */
        public Builder metrics(Path file) {
            if (file == null) {
                throw new IllegalArgumentException("metrics file must not be null");
            }
            this.metrics = file;
            return this;
        }

        /** A driver sink (TensorBoard, Prometheus, ...), called in the order added, closed by {@link #close()}. */
        public Builder sink(ObservationSink sink) {
            if (sink == null) {
                throw new IllegalArgumentException("sink must not be null");
            }
            sinks.add(sink);
            return this;
        }

        /** Stops training when any of these alerts fires in the engine (added as the last sink if not yet one). */
        public Builder stopOn(AlertEngine engine, Alert... alerts) {
            if (engine == null || alerts == null || alerts.length == 0 || Arrays.asList(alerts).contains(null)) {
                throw new IllegalArgumentException("stopOn needs an alert engine and at least one alert but got "
                        + engine + " and " + Arrays.toString(alerts));
            }
            if (stopEngine != null) {
                throw new IllegalStateException("stopOn was already set to " + stopAlerts + "; name every alert in one call");
            }
            if (!sinks.contains(engine)) {
                sinks.add(engine);
            }
            this.stopEngine = engine;
            this.stopAlerts = Arrays.stream(alerts).map(Alert::name).toList();
            return this;
        }

        /** The driver's monitor, with its accumulator registered in {@code sc}. */
        public SparkHeadwatch build(JavaSparkContext sc) throws IOException {
            if (sc == null) {
                throw new IllegalArgumentException("the Spark context must not be null");
            }
            return new SparkHeadwatch(this, sc);
        }
    }
}
