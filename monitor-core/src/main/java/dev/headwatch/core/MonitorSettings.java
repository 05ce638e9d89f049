package dev.headwatch.core;

import dev.headwatch.core.alert.Alert;
import dev.headwatch.core.alert.AlertEngine;
import dev.headwatch.core.alert.AlertState;
import dev.headwatch.core.sink.ObservationSink;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntPredicate;
import java.util.function.Predicate;

/**
 * The options shared by {@link Monitor} and every training listener built on it. Each setter validates
 * its value at once and names it when it is wrong; {@link #buildMonitor()} checks the combination.
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@link #every(int)}</td><td>1</td><td>observe every N-th iteration</td></tr>
 *   <tr><td>{@link #maxSequences(int)}</td><td>{@value #DEFAULT_MAX_SEQUENCES}</td>
 *       <td>sequences of the minibatch sampled per observation</td></tr>
 *   <tr><td>{@link #layers(String...)}</td><td>all</td><td>layers (or vertices) to observe</td></tr>
 *   <tr><td>{@link #heads(int...)}</td><td>all</td><td>head indices to observe in every layer</td></tr>
 *   <tr><td>{@link #sink(ObservationSink)}</td><td>none</td><td>where observations go, called in the order added</td></tr>
 *   <tr><td>{@link #background(boolean)}</td><td>true</td><td>compute metrics on a background thread</td></tr>
 *   <tr><td>{@link #queueCapacity(int)}</td><td>{@value #DEFAULT_QUEUE_CAPACITY}</td>
 *       <td>steps waiting for the background thread; a step arriving at a full queue is dropped and counted</td></tr>
 *   <tr><td>{@link #batch(int, Duration)}</td><td>{@value #DEFAULT_BATCH_STEPS} steps, 200 ms</td>
 *       <td>the background thread wakes for this many queued steps, or when the oldest has waited this long</td></tr>
 *   <tr><td>{@link #maxSinkFailures(int)}</td><td>{@value #DEFAULT_MAX_SINK_FAILURES}</td>
 *       <td>consecutive failures after which a sink is switched off</td></tr>
 *   <tr><td>{@link #seed(long)}</td><td>0</td><td>seed of the sequence sampler</td></tr>
 *   <tr><td>{@link #clock(Clock)}</td><td>UTC system clock</td><td>time stamp of observations</td></tr>
 *   <tr><td>{@link #analyzer(LayerAnalyzer)}</td><td>{@link LayerAnalyzer#standard()}</td><td>the metrics</td></tr>
 *   <tr><td>{@link #stopOn(AlertEngine, Alert...)}</td><td>off</td><td>stop training when chosen alerts fire</td></tr>
 * </table>
 *
 * <p>The defaults (every iteration, one sampled sequence, background thread) keep the training-thread
 * cost to copying a few small arrays per layer into a {@link LayerCapture} (the sampled rows and the
 * attention weights); reading the heads out of it and the metrics run on the background thread, on one core.
 *
 * @param <B> the concrete builder
 */
public abstract class MonitorSettings<B extends MonitorSettings<B>> {

    /**
     * Default number of sequences sampled per observation: one keeps the cost of observing every iteration
     * within the overhead budget. Per-layer figures such as the energy correlation vary from one sequence to
     * the next; where alerts matter, sample more ({@link #maxSequences(int)}, e.g. 4) so they do not flap
     * around a threshold on healthy runs.
     */
    public static final int DEFAULT_MAX_SEQUENCES = 1;
    /** Default capacity of the background queue, in steps. */
    public static final int DEFAULT_QUEUE_CAPACITY = 8;
    /** Default number of queued steps for which the background thread wakes. */
    public static final int DEFAULT_BATCH_STEPS = 4;
    /** Default longest wait of the background thread while fewer steps are queued. */
    public static final Duration DEFAULT_BATCH_WAIT = Duration.ofMillis(200);
    /** Default number of consecutive failures after which a sink is disabled. */
    public static final int DEFAULT_MAX_SINK_FAILURES = 3;

    int every = 1;
    int maxSequences = DEFAULT_MAX_SEQUENCES;
    Predicate<String> layerFilter = layer -> true;
    IntPredicate headFilter = head -> true;
    final List<ObservationSink> sinks = new ArrayList<>();
    boolean background = true;
    int queueCapacity = DEFAULT_QUEUE_CAPACITY;
    int batchSteps = DEFAULT_BATCH_STEPS;
    Duration batchWait = DEFAULT_BATCH_WAIT;
    int maxSinkFailures = DEFAULT_MAX_SINK_FAILURES;
    long seed = 0;
    Clock clock = Clock.systemUTC();
    LayerAnalyzer analyzer;
    StopSignal stopSignal = new StopSignal();
    AlertEngine stopEngine;
    Set<String> stopAlerts = Set.of();
    private boolean built;

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** Observe every {@code n}-th iteration (iterations 0, n, 2n, ...); {@code n >= 1}. */
    public B every(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("every must be >= 1 but was " + n);
        }
        this.every = n;
        return self();
    }

    /** Sample at most {@code s} sequences of each minibatch per observation; {@code s >= 1}. */
    public B maxSequences(int s) {
        if (s < 1) {
            throw new IllegalArgumentException("maxSequences must be >= 1 but was " + s);
        }
        this.maxSequences = s;
        return self();
    }

    /** Observe only these layers (DL4J layer or vertex names, or indices as text). */
    public B layers(String... names) {
        if (names == null || names.length == 0) {
            throw new IllegalArgumentException("layers needs at least one name but got " + Arrays.toString(names));
        }
        Set<String> set = Set.of(names);
        return layerFilter(set::contains);
    }

    /** Observe only the layers this predicate accepts. */
    public B layerFilter(Predicate<String> filter) {
        if (filter == null) {
            throw new IllegalArgumentException("layerFilter must not be null");
        }
        this.layerFilter = filter;
        return self();
    }

    /** Observe only these head indices in every layer. */
    public B heads(int... indices) {
        if (indices == null || indices.length == 0) {
            throw new IllegalArgumentException("heads needs at least one index but got " + Arrays.toString(indices));
        }
        Set<Integer> set = new TreeSet<>();
        for (int h : indices) {
            if (h < 0) {
                throw new IllegalArgumentException("head indices must be >= 0 but got " + h);
            }
            set.add(h);
        }
        return headFilter(set::contains);
    }

    /** Observe only the head indices this predicate accepts. */
    public B headFilter(IntPredicate filter) {
        if (filter == null) {
            throw new IllegalArgumentException("headFilter must not be null");
        }
        this.headFilter = filter;
        return self();
    }

    /** Adds a sink; sinks are called in the order added, on one thread. */
    public B sink(ObservationSink sink) {
        if (sink == null) {
            throw new IllegalArgumentException("sink must not be null");
        }
        sinks.add(sink);
        return self();
    }

    /**
     * Whether reading the captures and the metrics run on a background thread (true) or on the thread that
     * submits the step, the training thread (false; a layer's heads are then measured in parallel on the JVM's
     * common fork-join pool, which {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=0} keeps on
     * the training thread).
     */
    public B background(boolean on) {
        this.background = on;
        return self();
    }

    /**
     * Capacity of the background queue, in steps; {@code >= 1}. The monitor holds at most twice this many steps'
     * captures (queued, and the batch being measured). While fewer than half this many steps wait behind the one
     * it measures, the background thread yields to other threads between heads, once per 50 us of work (ND4J's
     * spinning threads then stall training less often); behind, it works without yielding until it catches up.
     */
    public B queueCapacity(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("queueCapacity must be >= 1 but was " + capacity);
        }
        this.queueCapacity = capacity;
        return self();
    }

    /**
     * When the background thread wakes: once {@code steps} steps are queued (at most the queue's capacity), or
     * the oldest queued step has waited {@code maxWait} (up to a second more for the first step after a pause:
     * an idle thread looks once a second), or at close; it then measures every queued step back to back.
     * Every observed step is still measured; results reach the sinks up to that many steps (or that long)
     * later. Waking a waiting thread is what costs: 70-100 us of CPU per wake on an idle core of a virtual
     * machine ({@code WakeCpu} in benchmarks/), and the caches it lost while idle, so the default wakes once
     * per four steps. {@code batch(1, ...)} wakes for every step.
     */
    public B batch(int steps, Duration maxWait) {
        if (steps < 1) {
            throw new IllegalArgumentException("batch steps must be >= 1 but was " + steps);
        }
        if (maxWait == null || maxWait.isNegative() || maxWait.isZero()) {
            throw new IllegalArgumentException("batch maxWait must be positive but was " + maxWait);
        }
        this.batchSteps = steps;
        this.batchWait = maxWait;
        return self();
    }

    /** Consecutive failures after which a sink is disabled; {@code >= 1}. */
    public B maxSinkFailures(int failures) {
        if (failures < 1) {
            throw new IllegalArgumentException("maxSinkFailures must be >= 1 but was " + failures);
        }
        this.maxSinkFailures = failures;
        return self();
    }

    /** Seed of the sequence sampler. */
    public B seed(long seed) {
        this.seed = seed;
        return self();
    }

    /** The clock that time-stamps observations. */
    public B clock(Clock clock) {
        if (clock == null) {
            throw new IllegalArgumentException("clock must not be null");
        }
        this.clock = clock;
        return self();
    }

    /** The metrics computation (default {@link LayerAnalyzer#standard()}). */
    public B analyzer(LayerAnalyzer analyzer) {
        if (analyzer == null) {
            throw new IllegalArgumentException("analyzer must not be null");
        }
        this.analyzer = analyzer;
        return self();
    }

    /** A stop signal shared with other components (an alert engine, a user callback). */
    public B stopSignal(StopSignal signal) {
        if (signal == null) {
            throw new IllegalArgumentException("stopSignal must not be null");
        }
        this.stopSignal = signal;
        return self();
    }

    /**
     * Stops training when any of these alerts fires in the engine (which is added as a sink if it is not
     * one yet): the firing event requests the {@link StopSignal} and the listener stops the run at the
     * end of that iteration (DL4J {@code fit()} throws {@code HeadwatchStopException}; SameDiff returns
     * {@code ListenerResponse.STOP}). Off by default.
     */
    public B stopOn(AlertEngine engine, Alert... alerts) {
        if (alerts == null || Arrays.asList(alerts).contains(null)) {
            throw new IllegalArgumentException("alerts to stop on must not be null but were " + Arrays.toString(alerts));
        }
        return stopOn(engine, Arrays.stream(alerts).map(Alert::name).toList());
    }

    /** As {@link #stopOn(AlertEngine, Alert...)}, by alert name (built-in or user rules). */
    public B stopOn(AlertEngine engine, Collection<String> alertNames) {
        if (engine == null) {
            throw new IllegalArgumentException("stopOn needs an alert engine but got null");
        }
        if (alertNames == null || alertNames.isEmpty() || alertNames.contains(null)) {
            throw new IllegalArgumentException("stopOn needs at least one alert name but got " + alertNames);
        }
        if (stopEngine != null) {
            throw new IllegalStateException("stopOn was already set to alerts " + new TreeSet<>(stopAlerts)
                    + "; name every alert to stop on in one call");
        }
        if (!sinks.contains(engine)) {
            sinks.add(engine);
        }
        this.stopEngine = engine;
        this.stopAlerts = Set.copyOf(alertNames);
        return self();
    }

    /**
     * Builds the monitor these settings describe, once: a second monitor would share the first one's sinks.
     *
     * @throws IllegalStateException when this builder already built one
     */
    protected Monitor buildMonitor() {
        if (built) {
            throw new IllegalStateException("this builder already built a monitor; use a new builder for another");
        }
        built = true;
        Monitor monitor = new Monitor(this);
        if (stopEngine != null) {
            Set<String> chosen = stopAlerts;
            StopSignal signal = stopSignal;
            stopEngine.addListener(e -> {
                if (e.state() == AlertState.FIRING && chosen.contains(e.alert())) {
                    signal.request(e.message());
                }
            });
        }
        return monitor;
    }
}
