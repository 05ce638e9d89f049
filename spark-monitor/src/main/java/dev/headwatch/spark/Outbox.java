package dev.headwatch.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.util.AccumulatorV2;

import java.io.Serial;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * The channel from workers to the driver where DL4J routes no listener updates (shared training). Its
 * listeners run on training threads that are not Spark task threads and outlive the task that started them,
 * so they post into a per-JVM queue for their run; every task that carries the listener drains that queue
 * into its copy of this accumulator when it ends, and Spark merges the copy into the driver's accumulator with
 * the task's result. On the driver, {@link #merge} hands the observations to the run's receiver at once.
 *
 * <p>Latency: an observation reaches the driver when the next task of its executor that carries the listener
 * ends; with shared training, all tasks of a {@code fit()} end together, so once per {@code fit()} call.
 */
final class Outbox extends AccumulatorV2<List<WorkerObservation>, List<WorkerObservation>> {

    @Serial
    private static final long serialVersionUID = 1L;
    /** The observations that this JVM's listeners made and no task carried to the driver yet, per run. */
    private static final Map<String, Queue<WorkerObservation>> PENDING = new ConcurrentHashMap<>();

    private final String run;
    private final List<WorkerObservation> carried = new ArrayList<>();
    /** Set on the driver's instance only: where merged observations go. */
    private transient Consumer<List<WorkerObservation>> receiver;

    Outbox(String run, Consumer<List<WorkerObservation>> receiver) {
        this.run = run;
        this.receiver = receiver;
    }

    /** Called on a worker: queues one observation for the next task of this JVM that ends. */
    static void post(WorkerObservation o) {
        PENDING.computeIfAbsent(o.getSessionID(), k -> new ConcurrentLinkedQueue<>()).add(o);
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
        Queue<WorkerObservation> queue = PENDING.get(run);
        List<WorkerObservation> taken = new ArrayList<>();
        for (WorkerObservation o = queue == null ? null : queue.poll(); o != null; o = queue.poll()) {
            taken.add(o);
        }
        synchronized (carried) {
            carried.addAll(taken);
        }
    }

    @Override
    public boolean isZero() {
        synchronized (carried) {
            return carried.isEmpty();
        }
    }

    @Override
    public Outbox copy() {
        Outbox c = new Outbox(run, null);
        synchronized (carried) {
            c.carried.addAll(carried);
        }
        return c;
    }

    @Override
    public void reset() {
        synchronized (carried) {
            carried.clear();
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
        List<WorkerObservation> arrived = other.value();
        if (receiver != null) {
            receiver.accept(arrived);
        } else {
            add(arrived);
        }
    }

    @Override
    public List<WorkerObservation> value() {
        synchronized (carried) {
            return List.copyOf(carried);
        }
    }
}
