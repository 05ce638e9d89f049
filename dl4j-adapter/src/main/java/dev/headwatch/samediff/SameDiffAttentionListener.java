package dev.headwatch.samediff;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.LayerInput;
import dev.headwatch.core.Monitor;
import dev.headwatch.core.MonitorSettings;
import dev.headwatch.core.MonitorStats;
import dev.headwatch.core.StopSignal;
import dev.headwatch.dl4j.AttentionExtractor.LayerExtraction;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.ListenerResponse;
import org.nd4j.autodiff.listeners.ListenerVariables;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.records.LossCurve;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Watches the attention heads of a SameDiff model while it trains.
 * <pre>{@code
 * SameDiffAttentionListener monitor = SameDiffAttentionListener.builder()
 *         .declare(AttentionVariables.of("block0", "q0", "k0", "v0").heads(4).causal().output("att0"))
 *         .sink(new Slf4jSummarySink())
 *         .build();
 * sd.setListeners(monitor);
 * sd.fit(iterator, epochs);
 * monitor.close();
 * }</pre>
 * Two sources, combined, both read by {@link SameDiffExtraction} (shared with checkpoint analysis):
 * <ul>
 *   <li>fused {@code multi_head_dot_product_attention} and {@code dot_product_attention} ops are found by
 *       themselves (switch off with {@code autoDetect(false)}); they are named by their output variable, read with
 *       the same code as the DL4J layers (inputs {@code [mb, nIn, T]}, or {@code [mb, heads, d, T]} for
 *       a rank-4 {@code dot_product_attention}), and always report {@code reconstructionError};</li>
 *   <li>hand-written attention declared with {@link AttentionVariables} (layouts documented there).</li>
 * </ul>
 * Options and defaults are those of {@link MonitorSettings}. Only training iterations are observed.
 * Nothing thrown inside reaches {@code fit()}.
 */
public final class SameDiffAttentionListener extends BaseListener implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SameDiffAttentionListener.class);

    private final Monitor monitor;
    private final List<AttentionVariables> declared;
    private final boolean autoDetect;
    private final Set<String> names = new HashSet<>();

    /** Arrays and extractions gathered during the current iteration. */
    private final Map<String, List<INDArray>> captured = new HashMap<>();
    private final Map<String, LayerInput> fused = new LinkedHashMap<>();
    private int[] rows;
    private long rowsStep = -1;
    private final Set<String> reported = new HashSet<>();

    private SameDiffAttentionListener(Builder b) {
        this.monitor = b.monitor();
        this.declared = List.copyOf(b.declared);
        this.autoDetect = b.autoDetect;
        for (AttentionVariables d : declared) {
            names.add(d.q());
            names.add(d.k());
            if (d.v() != null) {
                names.add(d.v());
            }
            if (d.output() != null) {
                names.add(d.output());
            }
        }
    }

    /** A builder with the defaults of {@link MonitorSettings}, fused ops auto-detected, nothing declared. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link SameDiffAttentionListener}. */
    public static final class Builder extends MonitorSettings<Builder> {
        private final List<AttentionVariables> declared = new ArrayList<>();
        private boolean autoDetect = true;

        private Builder() {
        }

        /** Declares one hand-written attention layer by its variables. */
        public Builder declare(AttentionVariables layer) {
            if (layer == null) {
                throw new IllegalArgumentException("declared layer must not be null");
            }
            for (AttentionVariables d : declared) {
                if (d.layer().equals(layer.layer())) {
                    throw new IllegalArgumentException("layer " + layer.layer() + " was already declared");
                }
            }
            declared.add(layer);
            return this;
        }

        /** Whether fused attention ops are found automatically (default true). */
        public Builder autoDetect(boolean on) {
            this.autoDetect = on;
            return this;
        }

        Monitor monitor() {
            return buildMonitor();
        }

        /** The listener. */
        public SameDiffAttentionListener build() {
            return new SameDiffAttentionListener(this);
        }
    }

    @Override
    public boolean isActive(Operation operation) {
        return operation == Operation.TRAINING;
    }

    @Override
    public ListenerVariables requiredVariables(SameDiff sd) {
        return names.isEmpty() ? ListenerVariables.empty()
                : ListenerVariables.builder().requireVariables(Operation.TRAINING, names.toArray(String[]::new)).build();
    }

    private boolean observing(At at) {
        return at.operation() == Operation.TRAINING && monitor.shouldObserve(at.iteration());
    }

    private int[] rows(long step, long batch) {
        if (rowsStep != step) {
            rowsStep = step;
            rows = monitor.sample((int) batch);
        }
        return rows;
    }

    @Override
    public void activationAvailable(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, String varName,
                                    INDArray activation) {
        try {
            if (!names.contains(varName) || !observing(at)) {
                return;
            }
            captured.put(varName, SameDiffExtraction.rows(activation, rows(at.iteration(), activation.size(0))));
        } catch (Throwable t) {
            warnOnce("capture:" + varName, "could not capture variable " + varName, t);
        }
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext opContext,
                            INDArray[] outputs) {
        if (!autoDetect) {
            return;
        }
        DifferentialFunction fn = op.getOp();
        if (!SameDiffExtraction.isFusedAttention(fn) || !observing(at)) {
            return;
        }
        String name = SameDiffExtraction.layerName(op);
        if (!monitor.observesLayer(name) || reported.contains("fail:" + name)) {
            return;
        }
        try {
            List<INDArray> in = opContext != null ? opContext.getInputArrays() : null;
            if (in == null || in.isEmpty()) {
                in = new ArrayList<>();
                for (String v : op.getInputsToOp()) {
                    in.add(sd.getArrForVarName(v));
                }
            }
            int[] r = rows(at.iteration(), in.get(0).size(0));
            LayerExtraction e = SameDiffExtraction.fused(name, fn, in, outputs[0], r);
            if (e != null) {
                LayerInput li = observed(name, e);
                if (li != null) {
                    fused.put(name, li);
                }
            }
        } catch (Throwable t) {
            reported.add("fail:" + name);
            warnOnce("op:" + name, "cannot read attention op " + name + "; skipping it from now on", t);
        }
    }

    /**
     * Returns {@link ListenerResponse#STOP} once a {@code stopOn(engine, alerts...)} alert has fired: SameDiff
     * stops training at the end of that epoch (its listeners can stop a run only there).
     */
    @Override
    public ListenerResponse epochEnd(SameDiff sd, At at, LossCurve lossCurve, long epochTimeMillis) {
        Optional<String> stop = monitor.stopRequest();
        if (stop.isPresent()) {
            LOG.warn("headwatch: stopping training at the end of epoch {}: {}", at.epoch(), stop.get());
            return ListenerResponse.STOP;
        }
        return ListenerResponse.CONTINUE;
    }

    @Override
    public void iterationDone(SameDiff sd, At at, MultiDataSet dataSet, Loss loss) {
        try {
            if (!observing(at)) {
                return;
            }
            List<LayerInput> layers = new ArrayList<>(fused.values());
            for (AttentionVariables d : declared) {
                if (!monitor.observesLayer(d.layer())) {
                    continue;
                }
                try {
                    LayerInput li = declaredLayer(d);
                    if (li != null) {
                        layers.add(li);
                    }
                } catch (RuntimeException e) {
                    warnOnce("declared:" + d.layer(), "cannot read declared layer " + d.layer(), e);
                }
            }
            if (!layers.isEmpty()) {
                monitor.submit(at.iteration(), at.epoch(), layers);
            }
        } catch (Throwable t) {
            warnOnce("iteration", "could not observe this iteration; training goes on", t);
        } finally {
            captured.clear();
            fused.clear();
        }
    }

    /** One declared layer from the captured variables, or null when they were not all delivered. */
    private LayerInput declaredLayer(AttentionVariables d) {
        List<INDArray> qs = captured.get(d.q());
        List<INDArray> ks = captured.get(d.k());
        if (qs == null || ks == null) {
            for (String missing : new String[]{qs == null ? d.q() : null, ks == null ? d.k() : null}) {
                if (missing != null && reported.add("missing:" + missing)) {
                    LOG.warn("headwatch: variable {} of layer {} was not computed in training; check its name",
                            missing, d.layer());
                }
            }
            return null;
        }
        LayerExtraction e = SameDiffExtraction.declared(d, captured);
        return observed(d.layer(), e);
    }

    private LayerInput observed(String layer, LayerExtraction e) {
        List<List<HeadInput>> sequences = e.sequences();
        if (sequences.isEmpty()) {
            return null;
        }
        int nHeads = sequences.get(0).size();
        List<Integer> heads = new ArrayList<>();
        for (int h = 0; h < nHeads; h++) {
            if (monitor.observesHead(h)) {
                heads.add(h);
            }
        }
        if (heads.isEmpty()) {
            return null;
        }
        List<List<HeadInput>> kept = new ArrayList<>();
        for (List<HeadInput> s : sequences) {
            kept.add(heads.stream().map(s::get).toList());
        }
        return new LayerInput(layer, heads, kept, e.reconstructionError(),
                heads.stream().map(e.qkSpectralNorms()::get).toList());
    }

    private void warnOnce(String key, String message, Throwable t) {
        if (reported.add(key)) {
            LOG.warn("headwatch: {}", message, t);
        }
    }

    /** The counters of the underlying monitor. */
    public MonitorStats stats() {
        return monitor.stats();
    }

    /** The stop signal shared with alert rules. */
    public StopSignal stopSignal() {
        return monitor.stopSignal();
    }

    /** The underlying pipeline. */
    public Monitor monitor() {
        return monitor;
    }

    /** Finishes the queued observations and closes the sinks. */
    @Override
    public void close() {
        monitor.close();
    }
}
