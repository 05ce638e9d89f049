package dev.headwatch.samediff;

import dev.headwatch.core.LayerCapture;
import dev.headwatch.core.Monitor;
import dev.headwatch.core.MonitorSettings;
import dev.headwatch.core.MonitoredListener;
import dev.headwatch.dl4j.SpareCore;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;

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
 * Two sources, combined, both copied by {@link SameDiffCapture} (shared with checkpoint analysis):
 * <ul>
 *   <li>fused {@code multi_head_dot_product_attention} and {@code dot_product_attention} ops are found by
 *       themselves (switch off with {@code autoDetect(false)}); they are named by their output variable, read as
 *       the DL4J layers are (inputs {@code [mb, nIn, T]}, or {@code [mb, heads, d, T]} for a rank-4
 *       {@code dot_product_attention}), and always report {@code reconstructionError};</li>
 *   <li>hand-written attention declared with {@link AttentionVariables} (layouts documented there).</li>
 * </ul>
 * Options and defaults are those of {@link MonitorSettings}. Only training iterations are observed.
 * Nothing thrown inside reaches {@code fit()}, but a {@link VirtualMachineError} (out of memory, say), which
 * stops the monitor and propagates.
 */
public final class SameDiffAttentionListener extends BaseListener implements MonitoredListener {

    private static final Logger LOG = LoggerFactory.getLogger(SameDiffAttentionListener.class);

    private final Monitor monitor;
    /** Declared layers, then those found in the graph (by their shape) when it is first seen. */
    private final List<AttentionVariables> declared;
    private final boolean autoDetect;
    private final DoubleSupplier lossSource;
    private SameDiff inspected;
    private final Set<String> names = new HashSet<>();

    /** Copies gathered during the current iteration. */
    private final Map<String, SameDiffCapture.Variable> captured = new HashMap<>();
    private final Map<String, LayerCapture> fused = new LinkedHashMap<>();
    private int[] rows;
    private long rowsStep = -1;
    /** Keys of what was logged once; written from the training and the background thread. */
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    private SameDiffAttentionListener(Builder b) {
        this.monitor = b.monitor();
        this.declared = new ArrayList<>(b.declared);
        this.autoDetect = b.autoDetect;
        this.lossSource = b.loss;
        declared.forEach(this::watch);
    }

    private void watch(AttentionVariables d) {
        names.add(d.q());
        names.add(d.k());
        if (d.v() != null) {
            names.add(d.v());
        }
        if (d.output() != null) {
            names.add(d.output());
        }
    }

    /**
     * Adds the attention written by hand in {@code sd} ({@link AttentionPatterns}) to the declared layers, once per
     * graph. A declaration of the same layer or the same queries wins; what is found but cannot be read is logged.
     */
    private void inspect(SameDiff sd) {
        if (!autoDetect || inspected == sd) {
            return;
        }
        inspected = sd;
        for (AttentionPatterns.Found f : AttentionPatterns.find(sd)) {
            if (f.problem() != null) {
                if (reported.add("pattern:" + f.layer())) {
                    LOG.warn("headwatch: attention at {} is not watched: {}", f.layer(), f.problem());
                }
                continue;
            }
            AttentionVariables found = f.variables();
            boolean overridden = declared.stream()
                    .anyMatch(d -> d.layer().equals(found.layer()) || d.q().equals(found.q()));
            if (overridden) {
                LOG.info("headwatch: attention found at {} is declared; using the declaration", found.layer());
            } else {
                declared.add(found);
                watch(found);
                LOG.info("headwatch: watching attention found at {} (q {}, k {}, {})", found.layer(), found.q(),
                        found.k(), found.visibility().kind().name().toLowerCase(java.util.Locale.ROOT));
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
        private DoubleSupplier loss = () -> Double.NaN;

        private Builder() {
        }

        /**
         * Where each iteration's training loss comes from, read when the iteration is done (default: unknown,
         * NaN). SameDiff 1.0.0-M2.1 differentiates the loss without evaluating it and hands listeners a
         * {@code Loss} of 0, even when they ask for the loss variable; a model that computes its loss another
         * way (the demo: from its logits) can supply it here, for the alert rules that read the loss.
         */
        public Builder loss(DoubleSupplier source) {
            if (source == null) {
                throw new IllegalArgumentException("loss source must not be null");
            }
            this.loss = source;
            return this;
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
        SpareCore.adviseOnce(LOG);
        try {
            inspect(sd);
        } catch (RuntimeException e) {
            warnOnce("inspect", "could not look for attention in the graph; declared layers are still watched", e);
        }
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
            captured.put(varName, SameDiffCapture.variable(varName, activation, rows(at.iteration(), activation.size(0))));
        } catch (Throwable t) {
            monitor.propagateIfFatal(t);
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
        if (!SameDiffCapture.isFusedAttention(fn) || !observing(at)) {
            return;
        }
        String name = SameDiffCapture.layerName(op);
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
            fused.put(name, SameDiffCapture.fused(name, fn, in, outputs[0], r));
        } catch (Throwable t) {
            monitor.propagateIfFatal(t);
            opFailed(name, t);
        }
    }

    private void opFailed(String name, Throwable t) {
        reported.add("fail:" + name);
        warnOnce("op:" + name, "cannot read attention op " + name + "; skipping it from now on", t);
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
            List<LayerCapture> layers = new ArrayList<>(fused.values());
            for (AttentionVariables d : declared) {
                if (monitor.observesLayer(d.layer()) && delivered(d)) {
                    try {
                        layers.add(SameDiffCapture.declared(d, captured));
                    } catch (RuntimeException e) {
                        warnOnce("declared:" + d.layer(), "cannot read declared layer " + d.layer(), e);
                    }
                }
            }
            if (!layers.isEmpty()) {
                // plain copies: the core reads them and computes the metrics off the training thread
                monitor.submit(at.iteration(), at.epoch(), lossSource.getAsDouble(), layers);
            }
        } catch (Throwable t) {
            monitor.propagateIfFatal(t);
            warnOnce("iteration", "could not observe this iteration; training goes on", t);
        } finally {
            captured.clear();
            fused.clear();
        }
    }

    /** Whether q and k of a declared layer were delivered this iteration; warns once per missing variable. */
    private boolean delivered(AttentionVariables d) {
        boolean ok = true;
        for (String v : new String[]{d.q(), d.k()}) {
            if (!captured.containsKey(v)) {
                ok = false;
                if (reported.add("missing:" + v)) {
                    LOG.warn("headwatch: variable {} of layer {} was not computed in training; check its name",
                            v, d.layer());
                }
            }
        }
        return ok;
    }

    private void warnOnce(String key, String message, Throwable t) {
        if (reported.add(key)) {
            LOG.warn("headwatch: {}", message, t);
        }
    }

    @Override
    public Monitor monitor() {
        return monitor;
    }
}
