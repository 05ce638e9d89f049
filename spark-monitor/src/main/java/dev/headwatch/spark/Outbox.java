package dev.headwatch.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.util.AccumulatorV2;

import java.io.Serial;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * The channel from workers to the driver where DL4J routes no listener updates (shared training). Its
 * listeners run on training threads that are not Spark task threads and outlive the task that started them,
 * so they post into a per-JVM queue for their run; every task that carries the listener drains that queue
 * into its copy of this accumulator when it ends, and Spark merges the copy into the driver's accumulator with
 * the task's result. On the driver, {@link #merge} hands the observations to the run's receiver at once.
 *
 * <p>Each JVM keeps at most {@value #MAX_PENDING} observations per run waiting for a task; more are dropped
 * and the count reaches the driver with the next task ({@link SparkRunStats#dropped()}).
 *
 * <p>Latency: an observation reaches the driver when the next task of its executor that carries the listener
 * ends; with shared training, all tasks of a {@code fit()} end together, so once per {@code fit()} call.
 */
final class Outbox extends AccumulatorV2<List<WorkerObservation>, List<WorkerObservation>> {

    @Serial
    private static final long serialVersionUID = 1L;
    /**
     * Observations a JVM keeps per run until a task carries them: a {@code fit()} that runs for hours must
     * not fill the executor's memory. Beyond it observations are dropped and counted.
     */
    static final int MAX_PENDING = 20_000;
    /** The observations that this JVM's listeners made and no task carried to the driver yet, per run. */
    private static final Map<String, Pending> PENDING = new ConcurrentHashMap<>();

    private final String run;
    private final List<WorkerObservation> carried = new ArrayList<>();
    private long dropped;
    /** Set on the driver's instance only: where merged observations go, with the count dropped on the way. */
    private transient BiConsumer<List<WorkerObservation>, Long> receiver;

    Outbox(String run, BiConsumer<List<WorkerObservation>, Long> receiver) {
        this.run = run;
        this.receiver = receiver;
    }

    private record Pending(BlockingQueue<WorkerObservation> queue, AtomicLong dropped) {
        Pending() {
            this(new LinkedBlockingQueue<>(MAX_PENDING), new AtomicLong());
        }
    }

    /** Called on a worker: queues one observation for the next task of this JVM that ends. */
    static void post(WorkerObservation o) {
        Pending p = PENDING.computeIfAbsent(o.getSessionID(), k -> new Pending());
        if (!p.queue().offer(o)) {
            p.dropped().incrementAndGet();
        }
    }

    /**
     * Called where a task deserializes the listener: when the task ends, this (task-local) copy takes what
     * the JVM's listeners posted, and Spark sends it with the task's result.
     */
    void carryOnTaskEnd() {
        TaskContext task = TaskContext.get();
        if (task != null) {
            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> drainPending());
        }
    }

    private void drainPending() {
        Pending p = PENDING.get(run);
        if (p == null) {
            return;
        }
        List<WorkerObservation> taken = new ArrayList<>();
        p.queue().drainTo(taken);
        long lost = p.dropped().getAndSet(0);
        synchronized (carried) {
            carried.addAll(taken);
            dropped += lost;
        }
    }

    @Override
    public boolean isZero() {
        synchronized (carried) {
            return carried.isEmpty() && dropped == 0;
        }
    }

    @Override
    public Outbox copy() {
        Outbox c = new Outbox(run, null);
        synchronized (carried) {
            c.carried.addAll(carried);
            c.dropped = dropped;
        }
        return c;
    }

    @Override
    public void reset() {
        synchronized (carried) {
            carried.clear();
            dropped = 0;
        }
    }

    @Override
    public void add(List<WorkerObservation> observations) {
        synchronized (carried) {
            carried.addAll(observations);
        }
    }

    /** On the driver: a task's observations arrived; they go to the receiver and are not kept here. */
    @Override
    public void merge(AccumulatorV2<List<WorkerObservation>, List<WorkerObservation>> other) {
        Outbox o = (Outbox) other;
        List<WorkerObservation> arrived = o.value();
        long lost;
        synchronized (o.carried) {
            lost = o.dropped;
        }
        if (receiver != null) {
            receiver.accept(arrived, lost);
        } else {
            synchronized (carried) {
                carried.addAll(arrived);
                dropped += lost;
            }
        }
    }

    @Override
    public List<WorkerObservation> value() {
        synchronized (carried) {
            return List.copyOf(carried);
        }
    }
}
