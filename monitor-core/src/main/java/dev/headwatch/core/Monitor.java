package dev.headwatch.core;

import dev.headwatch.core.sink.ObservationSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntPredicate;
import java.util.function.Predicate;

/**
 * The framework-independent observation pipeline. A training listener asks {@link #shouldObserve(long)},
 * {@link #observesLayer(String)} and {@link #sample(int)}, copies the sampled sequences of each observed layer
 * into a {@link LayerCapture} (plain Java arrays) and hands them over with {@link #submit(long, int, double, List)}.
 * From there everything is the monitor's, on its own thread: it reads the heads out of each capture (Q, K, V
 * per head and {@code reconstructionError}), keeps the observed heads, measures each layer
 * ({@link LayerObservation}: the {@link LayerAnalyzer} per sequence, then {@link HeadMetrics#aggregate(List)}
 * over sequences), builds an {@link Observation} and hands it to every {@link ObservationSink} in the order
 * they were added. It never calls back into the adapter.
 *
 * <p>Nothing the metrics or the sinks throw escapes {@code submit}: an analysis failure is logged once
 * and counted; a sink that throws is logged once, counted, and disabled after
 * {@code maxSinkFailures} consecutive failures. With {@code background(true)} (the default) the work
 * runs on one daemon thread fed by a bounded queue, which it takes a batch of steps at a time
 * ({@code batch(steps, maxWait)}), on one core at most (the metrics' parallel loops stay on that thread),
 * yielding to other threads between heads while it keeps up ({@link YieldPoint}); a step that finds the queue
 * full is dropped and counted, so training never waits.
 * {@link #stats()} reads the counters. A {@link VirtualMachineError} (out of memory, say) is never
 * swallowed: it stops the monitor and propagates ({@link #propagateIfFatal}).
 *
 * <p>Extension point: an alert engine is a sink added after the metrics sinks it should precede or
 * follow; it may call {@link StopSignal#request(String)} on {@link #stopSignal()}, which listeners check
 * on the training thread.
 */
public final class Monitor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Monitor.class);
    private static final long CLOSE_WAIT_SECONDS = 60;
    /** How long the background thread sleeps with nothing queued, unless woken. */
    private static final long IDLE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** The name of the background thread (for profilers and CPU accounting). */
    public static final String BACKGROUND_THREAD_NAME = "headwatch-monitor";

    private final int every;
    private final int maxSequences;
    private final Predicate<String> layerFilter;
    private final IntPredicate headFilter;
    private final List<SafeSink> sinks = new ArrayList<>();
    private final int maxSinkFailures;
    private final Clock clock;
    private final LayerAnalyzer analyzer;
    private final StopSignal stopSignal;
    private final boolean stopsOnAlerts;
    private final SplittableRandom random;

    /** Steps accepted and not yet taken by the background thread; null without it. Guarded by {@link #lock}. */
    private final ArrayDeque<Step> queue;
    private final int queueCapacity;
    private final int batchSteps;
    private final long batchWaitNanos;
    /** When the oldest queued step was queued ({@link System#nanoTime()}). Guarded by {@link #lock}. */
    private long oldestQueuedNanos;
    private final ForkJoinPool worker;
    private final Future<?> draining;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Layers whose captures could not be read. */
    private final java.util.Set<String> failedLayers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Held while a step is accepted (and, without the background thread, processed), and while the monitor closes. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a batch is queued or the monitor closes. */
    private final Condition batchReady = lock.newCondition();
    /** Set when close() stops waiting (or the JVM is failing): the background thread stops after its step. */
    private volatile boolean abandoned;

    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong observations = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong analysisFailures = new AtomicLong();
    private final AtomicLong sinkFailures = new AtomicLong();
    private final AtomicInteger disabledSinks = new AtomicInteger();
    private final AtomicLong nonConverged = new AtomicLong();
    /** Carried from one step to the next by whichever thread processes the steps (one at a time). */
    private final RebuildState rebuildState = new RebuildState();

    Monitor(MonitorSettings<?> s) {
        this.every = s.every;
        this.maxSequences = s.maxSequences;
        this.layerFilter = s.layerFilter;
        this.headFilter = s.headFilter;
        this.maxSinkFailures = s.maxSinkFailures;
        this.clock = s.clock;
        this.analyzer = s.analyzer != null ? s.analyzer : LayerAnalyzer.standard();
        this.stopSignal = s.stopSignal;
        this.stopsOnAlerts = s.stopEngine != null;
        this.random = new SplittableRandom(s.seed);
        for (ObservationSink sink : s.sinks) {
            sinks.add(new SafeSink(sink));
        }
        this.queueCapacity = s.queueCapacity;
        this.batchSteps = Math.min(s.batchSteps, s.queueCapacity);
        this.batchWaitNanos = s.batchWait.toNanos();
        if (s.background) {
            queue = new ArrayDeque<>(s.queueCapacity);
            // Parallel streams in the metrics run in the pool of the thread that starts them: a pool of one
            // keeps the background work on one core, so it never takes more than one core from training.
            worker = new ForkJoinPool(1, BackgroundThread::new, null, false);
            draining = worker.submit(this::drain);
        } else {
            queue = null;
            worker = null;
            draining = null;
        }
    }

    /** A builder with the documented defaults of {@link MonitorSettings}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Monitor}. */
    public static final class Builder extends MonitorSettings<Builder> {
        private Builder() {
        }

        /** The monitor. */
        public Monitor build() {
            return buildMonitor();
        }
    }

    /** Whether this iteration is observed ({@code step % every == 0}) and the monitor is open. */
    public boolean shouldObserve(long step) {
        return !closed.get() && step % every == 0;
    }

    /** Whether this layer is observed: the layer filter accepts it and it has not failed to be read. */
    public boolean observesLayer(String layer) {
        return layerFilter.test(layer) && !failedLayers.contains(layer);
    }

    /**
     * The minibatch rows to sample: {@code min(batchSize, maxSequences)} distinct indices in increasing
     * order, drawn with the seeded sampler (all rows when the batch is small enough).
     */
    public synchronized int[] sample(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1 but was " + batchSize);
        }
        int s = Math.min(batchSize, maxSequences);
        // Selection sampling (Knuth's algorithm S): ordered, distinct, O(batchSize).
        int[] picked = new int[s];
        int chosen = 0;
        for (int i = 0; i < batchSize && chosen < s; i++) {
            if (random.nextInt(batchSize - i) < s - chosen) {
                picked[chosen++] = i;
            }
        }
        return picked;
    }

    /** The stop signal (shared with alert rules and callbacks). */
    public StopSignal stopSignal() {
        return stopSignal;
    }

    /**
     * Why the run should stop now, when {@code stopOn(...)} was configured and a chosen alert fired;
     * empty otherwise (also when the signal was requested but no stop was asked for).
     */
    public Optional<String> stopRequest() {
        return stopsOnAlerts ? stopSignal.reason() : Optional.empty();
    }

    /** A snapshot of the counters. */
    public MonitorStats stats() {
        return new MonitorStats(submitted.get(), observations.get(), dropped.get(), analysisFailures.get(),
                sinkFailures.get(), disabledSinks.get(), nonConverged.get());
    }

    /**
     * Hands one step's layers to the pipeline: {@link LayerCapture}s as an adapter copied them (the core reads
     * the heads out of them on the background thread) or {@link LayerInput}s. Returns at once with the
     * background thread (dropping the step if the queue is full); computes and writes before returning
     * without it. Throws nothing but a {@link VirtualMachineError} ({@link #propagateIfFatal}). After
     * {@link #close()} the step is counted as dropped. The arrays are the monitor's from now on: nobody
     * modifies them afterwards. {@code loss} is the training loss of the last completed iteration (NaN when
     * unknown); the alert rules compare it with its running median.
     */
    public void submit(long step, int epoch, double loss, List<? extends LayerData> layers) {
        Step item = new Step(step, epoch, clock.instant(), loss, List.copyOf(layers));
        // Accepting and closing exclude each other: a step is either accepted before close() (and then
        // written before the sinks close) or counted as dropped.
        lock.lock();
        try {
            if (closed.get()) {
                dropped.incrementAndGet();
                return;
            }
            submitted.incrementAndGet();
            if (queue == null) {
                process(item);
            } else if (queue.size() >= queueCapacity) {
                dropped.incrementAndGet();
            } else {
                queue.add(item);
                long now = System.nanoTime();
                if (queue.size() == 1) {
                    oldestQueuedNanos = now;
                }
                if (queue.size() == batchSteps || now - oldestQueuedNanos >= batchWaitNanos) {
                    batchReady.signal();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The background thread's loop: it sleeps until a batch of steps is queued, the oldest has waited
     * {@code batchWait} or the monitor closes, then processes every queued step back to back (why: see
     * {@link MonitorSettings#batch}).
     */
    private void drain() {
        BackgroundThread self = (BackgroundThread) Thread.currentThread();
        ArrayDeque<Step> batch = new ArrayDeque<>(queueCapacity);
        boolean last = false;
        try {
            while (!last && !abandoned) {
                last = takeBatch(batch);
                for (Step step; !abandoned && (step = batch.poll()) != null; ) {
                    self.startStep(keepsUp(batch.size()));
                    process(step);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.lock();
            try {
                dropped.addAndGet(queue.size() + batch.size());
                queue.clear();
                batch.clear();
            } finally {
                lock.unlock();
            }
            // the sinks are closed by the thread that writes them, so never while a write is under way
            closeSinks();
        }
    }

    /**
     * Waits for a batch (or the oldest step's {@code batchWait}, or close) and moves every queued step into the
     * empty {@code batch}; true when the monitor is closed, so these are the last steps (every step accepted
     * before close() is queued by then: both hold the lock).
     */
    private boolean takeBatch(ArrayDeque<Step> batch) throws InterruptedException {
        lock.lock();
        try {
            while (queue.size() < batchSteps && !closed.get() && !abandoned) {
                // an idle thread only looks once a second: a step queued meanwhile waits at most that long more
                long wait = queue.isEmpty() ? IDLE_WAIT_NANOS : oldestQueuedNanos + batchWaitNanos - System.nanoTime();
                if (wait <= 0) {
                    break;
                }
                batchReady.awaitNanos(wait);
            }
            batch.addAll(queue);
            queue.clear();
            return closed.get();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether the background thread keeps up: fewer than half the queue's capacity of steps wait behind the one
     * it starts ({@code batched} taken with it, the rest still queued). Only then does it yield between heads
     * ({@link YieldPoint}); behind, it works flat out so that no step finds the queue full.
     */
    private boolean keepsUp(int batched) {
        lock.lock();
        try {
            return batched + queue.size() < queueCapacity / 2;
        } finally {
            lock.unlock();
        }
    }

    /** The background thread; while it keeps up, the metrics yield between their pieces on it ({@link YieldPoint}). */
    static final class BackgroundThread extends ForkJoinWorkerThread {
        /** Whether it yields during this step. Read and written by the thread itself only, as is the next field. */
        boolean yields;
        /** When it started the step or last came back from a yield ({@link System#nanoTime()}). */
        long pieceStarted;

        BackgroundThread(ForkJoinPool pool) {
            super(pool);
            setName(BACKGROUND_THREAD_NAME);
        }

        void startStep(boolean keepsUp) {
            yields = keepsUp;
            pieceStarted = System.nanoTime();
        }
    }

    private void process(Step step) {
        Observation observation;
        try {
            List<HeadRecord> records = new ArrayList<>();
            for (LayerData layer : step.layers) {
                LayerRebuild.Rebuilt in = read(layer);
                if (in != null) {
                    LayerObservation.measure(in, headFilter, analyzer).ifPresent(o -> records.addAll(o.records()));
                }
            }
            for (HeadRecord r : records) {
                nonConverged.addAndGet(r.metrics().nonConverged());
            }
            if (records.isEmpty()) {
                return;
            }
            observation = new Observation(step.step, step.epoch, step.time, step.loss, records);
        } catch (Throwable t) {
            propagateIfFatal(t);
            if (analysisFailures.getAndIncrement() == 0) {
                LOG.warn("headwatch: could not compute the metrics of step {}; later failures are counted only",
                        step.step, t);
            }
            return;
        }
        observations.incrementAndGet();
        for (SafeSink sink : sinks) {
            sink.write(observation);
        }
    }

    /**
     * The heads of one layer, or null when the layer cannot be read: its capture does not fit its layout,
     * which the next steps would repeat, so the layer is logged once, counted and not observed again.
     */
    private LayerRebuild.Rebuilt read(LayerData layer) {
        try {
            return LayerObservation.read(layer, headFilter, analyzer, nonConverged::incrementAndGet, rebuildState);
        } catch (RuntimeException e) {
            analysisFailures.incrementAndGet();
            if (failedLayers.add(layer.layer())) {
                LOG.warn("headwatch: cannot read attention layer {} ({}); skipping it from now on", layer.layer(),
                        e.toString());
            }
            return null;
        }
    }

    /**
     * Rethrows a {@link VirtualMachineError} ({@link OutOfMemoryError}, {@link StackOverflowError}, ...) after
     * stopping this monitor: the JVM is in trouble and the host must hear of it. Anything else returns, for
     * the caller to count and log. Listeners call it from every {@code catch (Throwable)}.
     */
    public void propagateIfFatal(Throwable t) {
        if (t instanceof VirtualMachineError fatal) {
            closed.set(true);
            abandoned = true;
            throw fatal;
        }
    }

    /**
     * Stops accepting steps (a step submitted from now on is counted as dropped), lets the background
     * thread finish every step accepted before (waiting up to a minute; after that it stops after its
     * current step and counts the rest as dropped) and closes every sink, after its last write. Idempotent.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            batchReady.signal();
        } finally {
            lock.unlock();
        }
        if (worker == null) {
            closeSinks();
            return;
        }
        try {
            draining.get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            abandoned = true;
            Thread.currentThread().interrupt();
        } catch (TimeoutException e) {
            abandoned = true;
            LOG.warn("headwatch: the background thread did not finish the queued steps within {} s; it stops after "
                    + "the current one, counts the rest as dropped and then closes the sinks", CLOSE_WAIT_SECONDS);
        } catch (ExecutionException e) {
            LOG.warn("headwatch: the background thread failed", e.getCause());
        }
        worker.shutdown();
    }

    private void closeSinks() {
        for (SafeSink sink : sinks) {
            sink.close();
        }
    }

    private record Step(long step, int epoch, Instant time, double loss, List<LayerData> layers) {
    }

    /** Wraps a sink so that what it throws is logged once, counted, and repeated failures switch it off. */
    private final class SafeSink {
        private final ObservationSink sink;
        private int consecutiveFailures;
        private boolean loggedFailure;
        private boolean disabled;

        SafeSink(ObservationSink sink) {
            this.sink = sink;
        }

        void write(Observation observation) {
            if (disabled) {
                return;
            }
            try {
                sink.write(observation);
                consecutiveFailures = 0;
            } catch (Throwable t) {
                propagateIfFatal(t);
                sinkFailures.incrementAndGet();
                consecutiveFailures++;
                if (!loggedFailure) {
                    loggedFailure = true;
                    LOG.warn("headwatch: sink {} failed at step {}; later failures are counted only",
                            sink.getClass().getName(), observation.step(), t);
                }
                if (consecutiveFailures >= maxSinkFailures) {
                    disabled = true;
                    disabledSinks.incrementAndGet();
                    LOG.warn("headwatch: sink {} disabled after {} consecutive failures",
                            sink.getClass().getName(), consecutiveFailures);
                }
            }
        }

        void close() {
            try {
                sink.close();
            } catch (Throwable t) {
                propagateIfFatal(t);
                LOG.warn("headwatch: sink {} failed to close", sink.getClass().getName(), t);
            }
        }
    }
}
