package dev.headwatch.dl4j;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.LayerInput;
import dev.headwatch.core.Monitor;
import dev.headwatch.core.MonitorSettings;
import dev.headwatch.core.MonitoredListener;
import dev.headwatch.dl4j.AttentionExtractor.Capture;
import dev.headwatch.dl4j.AttentionExtractor.LayerExtraction;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
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
 * On the first forward pass it finds the attention layers by itself ({@link AttentionExtractor}), logs
 * them once, and lists the layers it skips with the reason. At every observed iteration it copies the
 * sampled sequences' rows of the layer inputs and outputs of that same forward pass (no extra forward
 * pass) and the layers' parameters, and hands them to its {@link Monitor}, which rebuilds Q, K, V per
 * head, measures {@code reconstructionError} against the layer outputs and computes the metrics, on its
 * background thread unless {@code background(false)}. Options and defaults are those of {@link MonitorSettings}. Nothing thrown inside
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
    private AttentionExtractor extractor;
    private boolean loggedFailure;

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
            long step = iteration(model);
            if (!monitor.shouldObserve(step)) {
                return;
            }
            AttentionExtractor ex = extractor(model);
            if (ex.sites().isEmpty()) {
                return;
            }
            // the minibatch size from the network's (first) input: other activations may fold steps into rows
            INDArray first = list != null ? list.get(0)
                    : map.get(((ComputationGraph) model).getConfiguration().getNetworkInputs().get(0));
            int[] rows = monitor.sample((int) first.size(0));
            AttentionExtractor.Forward f = list != null ? AttentionExtractor.of(list) : AttentionExtractor.of(map);
            // Only copies here; the extraction runs with the metrics, off the training thread by default.
            List<Capture> captured = ex.capture(f, rows,
                    name -> monitor.observesLayer(name) && !failedLayers.contains(name), this::layerFailed);
            if (!captured.isEmpty()) {
                monitor.submit(step, epoch(model), () -> layers(captured));
            }
        } catch (Throwable t) {
            monitor.propagateIfFatal(t);
            if (!loggedFailure) {
                loggedFailure = true;
                LOG.warn("headwatch: could not observe this iteration; training goes on, later failures are not logged", t);
            }
        }
    }

    private List<LayerInput> layers(List<Capture> captured) {
        List<LayerInput> layers = new ArrayList<>();
        for (LayerExtraction e : AttentionExtractor.extract(captured, this::layerFailed)) {
            LayerInput in = observed(e);
            if (in != null) {
                layers.add(in);
            }
        }
        return layers;
    }

    /** The observed heads of one extraction, or null when none is observed or nothing was visible. */
    private LayerInput observed(LayerExtraction e) {
        List<Integer> heads = new ArrayList<>();
        for (int h = 0; h < e.site().nHeads(); h++) {
            if (monitor.observesHead(h)) {
                heads.add(h);
            }
        }
        if (heads.isEmpty() || e.sequences().isEmpty()) {
            return null;
        }
        List<List<HeadInput>> sequences = new ArrayList<>();
        for (List<HeadInput> s : e.sequences()) {
            sequences.add(heads.stream().map(s::get).toList());
        }
        return new LayerInput(e.site().name(), heads, sequences, e.reconstructionError(),
                heads.stream().map(e.qkSpectralNorms()::get).toList());
    }

    private void layerFailed(AttentionExtractor.Site site, RuntimeException e) {
        if (failedLayers.add(site.name())) {
            LOG.warn("headwatch: cannot read attention layer {} ({}); skipping it from now on", site.name(),
                    e.toString());
        }
    }

    private AttentionExtractor extractor(Model model) {
        if (model != this.model) {
            this.model = model;
            this.extractor = AttentionExtractor.of(model);
            failedLayers.clear();
            List<String> names = extractor.sites().stream()
                    .map(s -> s.name() + " (" + s.kind() + ", " + s.nHeads() + " heads)").toList();
            LOG.info("headwatch: watching {} attention layer(s): {}", names.size(), names);
            for (AttentionExtractor.Skipped s : extractor.skipped()) {
                LOG.warn("headwatch: skipping layer {}: {}", s.name(), s.reason());
            }
        }
        return extractor;
    }

    private static long iteration(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            return net.getIterationCount();
        }
        return ((ComputationGraph) model).getIterationCount();
    }

    private static int epoch(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            return net.getEpochCount();
        }
        return ((ComputationGraph) model).getEpochCount();
    }

    /** Stops {@code fit()} with {@link HeadwatchStopException} once a {@code stopOn} alert has fired. */
    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
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
