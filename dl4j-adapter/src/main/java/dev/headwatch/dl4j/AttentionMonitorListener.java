package dev.headwatch.dl4j;

import dev.headwatch.core.LayerCapture;
import dev.headwatch.core.Monitor;
import dev.headwatch.core.MonitorSettings;
import dev.headwatch.core.MonitoredListener;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches every attention head of a {@link MultiLayerNetwork} or {@link ComputationGraph} while it trains.
 * <pre>{@code
 * AttentionMonitorListener monitor = AttentionMonitorListener.builder()
 *         .sink(new Slf4jSummarySink())
 *         .sink(JsonLinesSink.open(Path.of("heads.jsonl")))
 *         .build();
 * net.setListeners(monitor);
 * net.fit(trainData, epochs);
 * monitor.close();   // flushes the queue and closes the sinks
 * }</pre>
 * On the first forward pass it finds the attention layers by itself ({@link AttentionLayers}), logs
 * them once, and lists the layers it skips with the reason. At every observed iteration it copies the
 * sampled sequences' rows of the layer inputs, masks and outputs of that same forward pass (no extra forward
 * pass) and the layers' parameters into plain Java arrays ({@link LayerCapture}), and hands them to its
 * {@link Monitor}, which rebuilds Q, K, V per head, measures {@code reconstructionError} against the layer
 * outputs and computes the metrics, on its background thread unless {@code background(false)}. Options and defaults are those of {@link MonitorSettings}. Nothing thrown inside
 * reaches {@code fit()}: a layer that cannot be read is logged once and skipped from then on; a
 * {@link VirtualMachineError} (out of memory, say) stops the monitor and propagates. The one other
 * exception is opt-in: built with {@code stopOn(engine, alerts...)}, the listener throws
 * {@link HeadwatchStopException} from {@code fit()} at the end of the iteration after a chosen alert fired.
 */
public final class AttentionMonitorListener extends BaseTrainingListener implements MonitoredListener {

    private static final Logger LOG = LoggerFactory.getLogger(AttentionMonitorListener.class);

    private final Monitor monitor;
    private final Set<String> failedLayers = ConcurrentHashMap.newKeySet();
    private Model model;
    private AttentionLayers layers;
    private boolean loggedFailure;
    /** The score of the last completed iteration: a step's heads are read before its own loss exists. */
    private volatile double lastLoss = Double.NaN;

    private AttentionMonitorListener(Monitor monitor) {
        this.monitor = monitor;
    }

    /** A builder with the defaults of {@link MonitorSettings}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link AttentionMonitorListener}; every option is described on {@link MonitorSettings}. */
    public static final class Builder extends MonitorSettings<Builder> {
        private Builder() {
        }

        /** The listener (with its monitor, and the background thread when enabled). */
        public AttentionMonitorListener build() {
            return new AttentionMonitorListener(buildMonitor());
        }
    }

    @Override
    public void onForwardPass(Model model, List<INDArray> activations) {
        observe(model, activations, null);
    }

    @Override
    public void onForwardPass(Model model, Map<String, INDArray> activations) {
        observe(model, null, activations);
    }

    private void observe(Model model, List<INDArray> list, Map<String, INDArray> map) {
        try {
            long step = Counters.iteration(model);
            if (!monitor.shouldObserve(step)) {
                return;
            }
            AttentionLayers layers = layers(model);
            if (layers.sites().isEmpty()) {
                return;
            }
            // the minibatch size from the network's (first) input: other activations may fold steps into rows
            INDArray first = list != null ? list.get(0)
                    : map.get(((ComputationGraph) model).getConfiguration().getNetworkInputs().get(0));
            int[] rows = monitor.sample((int) first.size(0));
            // Only copies here; the core reads them with the metrics, off the training thread by default.
            List<LayerCapture> captured = layers.capture(new Forward(list, map), rows,
                    name -> monitor.observesLayer(name) && !failedLayers.contains(name), this::layerFailed);
            if (!captured.isEmpty()) {
                monitor.submit(step, Counters.epoch(model), lastLoss, captured);
            }
        } catch (Throwable t) {
            monitor.propagateIfFatal(t);
            if (!loggedFailure) {
                loggedFailure = true;
                LOG.warn("headwatch: could not observe this iteration; training goes on, later failures are not logged", t);
            }
        }
    }

    private void layerFailed(AttentionLayers.Site site, RuntimeException e) {
        if (failedLayers.add(site.name())) {
            LOG.warn("headwatch: cannot read attention layer {} ({}); skipping it from now on", site.name(),
                    e.toString());
        }
    }

    private AttentionLayers layers(Model model) {
        if (model != this.model) {
            this.model = model;
            this.layers = AttentionLayers.of(model);
            failedLayers.clear();
            lastLoss = Double.NaN;
            List<String> names = layers.sites().stream()
                    .map(s -> s.name() + " (" + s.kind() + ", " + s.nHeads() + " heads)").toList();
            LOG.info("headwatch: watching {} attention layer(s): {}", names.size(), names);
            SpareCore.adviseOnce(LOG);
            for (AttentionLayers.Skipped s : layers.skipped()) {
                LOG.warn("headwatch: skipping layer {}: {}", s.name(), s.reason());
            }
        }
        return layers;
    }

    /** Stops {@code fit()} with {@link HeadwatchStopException} once a {@code stopOn} alert has fired. */
    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        lastLoss = model.score();
        Optional<String> stop = monitor.stopRequest();
        if (stop.isPresent()) {
            throw new HeadwatchStopException(iteration, stop.get());
        }
    }

    @Override
    public Monitor monitor() {
        return monitor;
    }
}
