package dev.headwatch.samediff;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.LayerInput;
import dev.headwatch.core.Monitor;
import dev.headwatch.core.MonitorSettings;
import dev.headwatch.core.MonitorStats;
import dev.headwatch.core.StopSignal;
import dev.headwatch.core.Visibility;
import dev.headwatch.dl4j.AttentionExtractor;
import dev.headwatch.dl4j.AttentionExtractor.Kind;
import dev.headwatch.dl4j.AttentionExtractor.LayerExtraction;
import dev.headwatch.dl4j.AttentionExtractor.Site;
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
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.impl.transforms.custom.DotProductAttention;
import org.nd4j.linalg.api.ops.impl.transforms.custom.MultiHeadDotProductAttention;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
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
 * Two sources, combined:
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
            int[] r = rows(at.iteration(), activation.size(0));
            List<INDArray> kept = new ArrayList<>();
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                for (int b : r) {
                    kept.add(activation.slice(b).dup('c'));
                }
            }
            captured.put(varName, kept);
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
        boolean mhdpa = fn.getClass() == MultiHeadDotProductAttention.class;
        boolean dpa = fn.getClass() == DotProductAttention.class;
        if (!(mhdpa || dpa) || !observing(at)) {
            return;
        }
        // The output variable carries the name the user gave (sd.nn.multiHeadDotProductAttention("name", ...)).
        String name = op.getOutputsOfOp() != null && !op.getOutputsOfOp().isEmpty()
                ? op.getOutputsOfOp().get(0) : op.getName();
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
            long[] iArgs = fn instanceof org.nd4j.linalg.api.ops.DynamicCustomOp c ? c.iArgs() : new long[0];
            boolean scaled = iArgs.length == 0 || iArgs[0] == 1;
            int[] r = rows(at.iteration(), in.get(0).size(0));
            LayerExtraction e = mhdpa ? fusedMulti(name, in, outputs[0], scaled, r)
                    : fusedPlain(name, in, outputs[0], scaled, r);
            if (e != null) {
                LayerInput li = observed(name, e.sequences(), e.reconstructionError());
                if (li != null) {
                    fused.put(name, li);
                }
            }
        } catch (Throwable t) {
            reported.add("fail:" + name);
            warnOnce("op:" + name, "cannot read attention op " + name + "; skipping it from now on", t);
        }
    }

    private LayerExtraction fusedMulti(String name, List<INDArray> in, INDArray out, boolean scaled, int[] r) {
        INDArray wq = in.get(3);
        Site site = new Site(name, Kind.SAMEDIFF_OP, (int) wq.size(0), (int) wq.size(1), true);
        Map<String, INDArray> w = Map.of("Wq", in.get(3), "Wk", in.get(4), "Wv", in.get(5), "Wo", in.get(6));
        INDArray mask = in.size() > 7 ? in.get(7) : null;
        double scale = scaled ? Double.NaN : 1.0;
        return AttentionExtractor.extractArrays(site, in.get(0), in.get(1), in.get(2), out, mask, w, scale, r);
    }

    private LayerExtraction fusedPlain(String name, List<INDArray> in, INDArray out, boolean scaled, int[] r) {
        INDArray q = in.get(0);
        INDArray k = in.get(1);
        INDArray v = in.get(2);
        INDArray mask = in.size() > 3 ? in.get(3) : null;
        if (q.rank() == 3) {
            Site site = new Site(name, Kind.SAMEDIFF_OP, 1, (int) q.size(1), false);
            return AttentionExtractor.extractArrays(site, q, k, v, out, mask, Map.of(), scaled ? Double.NaN : 1.0, r);
        }
        // [mb, H, d, T]: heads stacked along the feature axis with identity projections (exact in float).
        int h = (int) q.size(1);
        int d = (int) q.size(2);
        if (v.size(2) != d) {
            throw new IllegalArgumentException("rank-4 dot_product_attention with value size " + v.size(2)
                    + " != query size " + d + " is not supported");
        }
        INDArray eye = Nd4j.eye(h * d).castTo(q.dataType());
        Map<String, INDArray> w = Map.of("Wq", eye.reshape(h, d, h * d), "Wk", eye.reshape(h, d, h * d),
                "Wv", eye.reshape(h, d, h * d), "Wo", eye);
        Site site = new Site(name, Kind.SAMEDIFF_OP, h, d, true);
        return AttentionExtractor.extractArrays(site, stack(q), stack(k), stack(v), stack(out), mask, w,
                scaled ? Double.NaN : 1.0, r);
    }

    private static INDArray stack(INDArray a) {
        return a.reshape('c', a.size(0), a.size(1) * a.size(2), a.size(3));
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
        List<INDArray> vs = d.v() == null ? null : captured.get(d.v());
        List<INDArray> os = d.output() == null ? null : captured.get(d.output());
        if (qs == null || ks == null) {
            for (String missing : new String[]{qs == null ? d.q() : null, ks == null ? d.k() : null}) {
                if (missing != null && reported.add("missing:" + missing)) {
                    LOG.warn("headwatch: variable {} of layer {} was not computed in training; check its name",
                            missing, d.layer());
                }
            }
            return null;
        }
        List<List<HeadInput>> sequences = new ArrayList<>();
        double err2 = 0;
        double norm2 = 0;
        for (int s = 0; s < qs.size(); s++) {
            List<INDArray> q = heads(qs.get(s), d);
            List<INDArray> k = heads(ks.get(s), d);
            List<INDArray> v = vs == null ? null : heads(vs.get(s), d);
            List<INDArray> o = os == null ? null : heads(os.get(s), d);
            List<HeadInput> inputs = new ArrayList<>();
            for (int h = 0; h < q.size(); h++) {
                HeadInput hi = HeadInput.of(q.get(h), k.get(h), v == null ? null : v.get(h), d.visibility(), d.scale());
                inputs.add(hi);
                if (v != null && o != null) {
                    INDArray rebuilt = AttentionExtractor.attend(hi.q(), hi.k(), hi.v(), hi.scale(), visible(hi));
                    long rowsSeen = d.visibility().kind() == Visibility.Kind.PADDED ? d.visibility().length() : hi.n();
                    INDArray actual = o.get(h).get(NDArrayIndex.interval(0, rowsSeen), NDArrayIndex.all());
                    INDArray mine = rebuilt.get(NDArrayIndex.interval(0, rowsSeen), NDArrayIndex.all());
                    err2 += Math.pow(actual.sub(mine).norm2Number().doubleValue(), 2);
                    norm2 += Math.pow(actual.norm2Number().doubleValue(), 2);
                }
            }
            sequences.add(inputs);
        }
        double err = norm2 > 0 ? Math.sqrt(err2 / norm2) : Double.NaN;
        return observed(d.layer(), sequences, err);
    }

    /** Per-head {@code [T, headSize]} arrays of one sequence in a declared layout. */
    private static List<INDArray> heads(INDArray a, AttentionVariables d) {
        List<INDArray> out = new ArrayList<>();
        if (a.rank() == 3) {                                    // [heads, T, hs]
            for (int h = 0; h < a.size(0); h++) {
                out.add(a.slice(h).dup('c'));
            }
        } else if (a.rank() == 2) {                             // [T, heads*hs]
            long c = a.size(1);
            if (c % d.heads() != 0) {
                throw new IllegalArgumentException("layer " + d.layer() + ": " + c + " columns do not split into "
                        + d.heads() + " heads");
            }
            long hs = c / d.heads();
            for (int h = 0; h < d.heads(); h++) {
                out.add(a.get(NDArrayIndex.all(), NDArrayIndex.interval(h * hs, (h + 1) * hs)).dup('c'));
            }
        } else {
            throw new IllegalArgumentException("layer " + d.layer() + ": expected [mb, heads, T, headSize] or "
                    + "[mb, T, heads*headSize] but a sequence had shape " + java.util.Arrays.toString(a.shape()));
        }
        return out;
    }

    /** Which keys each row of a head sees. */
    private static boolean[][] visible(HeadInput h) {
        int n = h.n();
        boolean[][] v = new boolean[n][n];
        Visibility vis = h.visibility();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                v[i][j] = switch (vis.kind()) {
                    case FULL -> true;
                    case CAUSAL -> j <= i;
                    case PADDED -> j < vis.length();
                };
            }
        }
        return v;
    }

    private LayerInput observed(String layer, List<List<HeadInput>> sequences, double reconstructionError) {
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
        return new LayerInput(layer, heads, kept, reconstructionError);
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
