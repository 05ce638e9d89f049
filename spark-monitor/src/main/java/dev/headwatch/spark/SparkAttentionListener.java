package dev.headwatch.spark;

import dev.headwatch.core.Observation;
import dev.headwatch.dl4j.AttentionMonitorListener;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.core.storage.listener.RoutingIterationListener;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.util.List;
import java.util.Map;

/**
 * The listener that Spark ships to the workers ({@link SparkHeadwatch#listener()}). It carries only its
 * settings, the run's id and the accumulator of the run; on each worker it builds, on the first forward pass,
 * an {@link AttentionMonitorListener} that computes the metrics on the training thread (no thread or file
 * is left behind when the task ends) and sends each observation, tagged with this worker, towards the
 * driver: into DL4J's storage router where the training master gave one (parameter averaging), else into
 * the run's {@link Outbox}. It never throws into training and never stops it: the stop policy runs on
 * the driver.
 */
final class SparkAttentionListener extends BaseTrainingListener implements RoutingIterationListener {

    @Serial
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SparkAttentionListener.class);
    /** The monitor of a training thread that is not a Spark task, per run: it lives as long as the thread. */
    private static final ThreadLocal<Map<String, AttentionMonitorListener>> REPLICAS =
            ThreadLocal.withInitial(java.util.HashMap::new);

    private final String run;
    private final WorkerSettings settings;
    private final Outbox outbox;
    private transient StatsStorageRouter router;
    private transient AttentionMonitorListener monitor;
    private transient String worker;
    private transient boolean failed;

    SparkAttentionListener(String run, WorkerSettings settings, Outbox outbox) {
        this.run = run;
        this.settings = settings;
        this.outbox = outbox;
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        // deserialized in a task: that task carries what this JVM's listeners posted to the driver
        outbox.carryOnTaskEnd();
    }

    @Override
    public void onForwardPass(Model model, List<INDArray> activations) {
        AttentionMonitorListener m = monitor();
        if (m != null) {
            m.onForwardPass(model, activations);
        }
    }

    @Override
    public void onForwardPass(Model model, Map<String, INDArray> activations) {
        AttentionMonitorListener m = monitor();
        if (m != null) {
            m.onForwardPass(model, activations);
        }
    }

    /**
     * The monitor of this worker: per listener on a Spark task thread (parameter averaging: one task, one
     * listener); per thread and run on other training threads (shared training's replicas, whose listeners
     * DL4J's ParallelWrapper clones again for each new wrapper), named by the thread.
     */
    private AttentionMonitorListener monitor() {
        if (monitor != null || failed) {
            return monitor;
        }
        try {
            SparkEnv env = SparkEnv.get();
            String executor = env != null ? env.executorId() : "local";
            TaskContext task = TaskContext.get();
            if (task != null) {
                monitor = start(executor + "/p" + task.partitionId());
            } else {
                monitor = REPLICAS.get().computeIfAbsent(run,
                        k -> start(executor + "/" + Thread.currentThread().getName()));
            }
        } catch (RuntimeException e) {
            failed = true;
            LOG.warn("headwatch: cannot start the monitor on this worker; its training goes on unwatched", e);
        }
        return monitor;
    }

    private AttentionMonitorListener start(String worker) {
        this.worker = worker;
        return settings.apply(AttentionMonitorListener.builder()).background(false)
                .sink(o -> send(worker, o)).build();
    }

    private void send(String worker, Observation o) {
        WorkerObservation w = WorkerObservation.of(run, worker, o);
        StatsStorageRouter r = router;
        if (r != null) {
            r.putUpdate(w);
        } else {
            Outbox.post(w);
        }
    }

    @Override
    public void setStorageRouter(StatsStorageRouter router) {
        this.router = router;
    }

    @Override
    public StatsStorageRouter getStorageRouter() {
        return router;
    }

    /** DL4J's worker id is replaced by {@code worker}, which names the executor and the partition. */
    @Override
    public void setWorkerID(String workerID) {
    }

    @Override
    public String getWorkerID() {
        return worker;
    }

    @Override
    public void setSessionID(String sessionID) {
    }

    @Override
    public String getSessionID() {
        return run;
    }

    /** A fresh copy for another model replica (DL4J's ParallelWrapper clones listeners per trainer). */
    @Override
    public SparkAttentionListener clone() {
        return new SparkAttentionListener(run, settings, outbox);
    }
}
