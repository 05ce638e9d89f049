package dev.headwatch.dl4j;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.WeightAnalysis;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.AttentionVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.layers.LearnedSelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.RecurrentAttentionLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.TimeDistributed;
import org.deeplearning4j.nn.conf.layers.util.MaskZeroLayer;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.samediff.SameDiffGraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.SimpleRnnParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Reads every attention layer of a {@link MultiLayerNetwork} or {@link ComputationGraph}: from a layer's
 * input (as DL4J's forward pass delivers it) and its parameters it rebuilds Q, K and V per head exactly as
 * DL4J computes them (scale {@code 1/sqrt(headSize)}, or {@code 1/sqrt(nIn)} without input projection;
 * masked keys excluded), and rebuilds the layer's output from the attention weights, V and {@code Wo} to
 * measure {@code reconstructionError} against the layer's actual output.
 *
 * <p>Supported: {@link SelfAttentionLayer} (with and without {@code projectInput}, also behind an input
 * preprocessor), {@link AttentionVertex} (also with queries and keys of different widths or lengths) and
 * {@link RecurrentAttentionLayer}, also inside the wrappers that pass input and output through
 * ({@link FrozenLayer}, {@link FrozenLayerWithBackprop}, {@link MaskZeroLayer}). {@link LearnedSelfAttentionLayer},
 * attention inside other wrappers ({@code Bidirectional}, {@code LastTimeStep}, {@code TimeDistributed}) and
 * other layers it cannot read are listed in {@link #skipped()} with the reason; a layer that fails while
 * being read (say its masks cannot be read) fails loudly, never with numbers measured without its mask.
 *
 * <p>Used live by {@link AttentionMonitorListener} (from the activations of {@code onForwardPass}) and
 * offline (checkpoints, probe inputs) through {@link #forward(INDArray[], INDArray[], int[])}, which runs
 * the network itself: one extraction code path for both. It works in two parts: a {@link Capture} copies
 * the sampled rows of a layer's inputs, output and masks and its parameters (cheap, on the training
 * thread), and {@link Capture#extract()} does the arithmetic (live, on the monitor's background thread).
 * Everything returned is detached from DL4J's workspaces.
 *
 * <p>Key masks: a sequence whose mask is all ones is {@link Visibility#FULL}; a mask of ones followed by
 * zeros is {@link Visibility#padded(int)}; any other mask keeps only the unmasked positions (FULL over
 * them). Cross-attention (queries and keys of different lengths) keeps the unmasked queries over the
 * unmasked keys, FULL. A {@link RecurrentAttentionLayer}'s query for step {@code t} is its output at {@code t-1}:
 * row {@code i} of Q is the query formed from output {@code i} (the last row is the query of the step
 * after the sequence, kept so that Q and K have the same length).
 */
public final class AttentionExtractor {

    /** The attention layer kinds this extractor reads. */
    public enum Kind {
        SELF_ATTENTION, ATTENTION_VERTEX, RECURRENT_ATTENTION,
        /** A fused SameDiff {@code multi_head_dot_product_attention} / {@code dot_product_attention} op. */
        SAMEDIFF_OP;

        /** Whether queries come separately from keys and values (and carry their own mask). */
        boolean separateQueries() {
            return this == ATTENTION_VERTEX || this == SAMEDIFF_OP;
        }
    }

    /**
     * One readable attention layer.
     *
     * @param name         the layer or vertex name (a MultiLayerNetwork layer without a name: its index)
     * @param kind         the layer kind
     * @param nHeads       heads
     * @param headSize     head dimension
     * @param projectInput whether the layer projects its input (false: one head on the raw input)
     */
    public record Site(String name, Kind kind, int nHeads, int headSize, boolean projectInput) {
    }

    /**
     * A layer that looks like attention but cannot be read.
     *
     * @param name   the layer or vertex name
     * @param reason why it is skipped
     */
    public record Skipped(String name, String reason) {
    }

    /**
     * One layer's extraction on the sampled sequences.
     *
     * @param site                the layer
     * @param sequences           per sampled sequence (that has at least one unmasked key), the
     *                            {@link HeadInput} of every head in head order
     * @param output              the layer's actual output rows for the sampled sequences, detached,
     *                            in DL4J's layout {@code [s, nOut, T]}
     * @param reconstructionError {@code |y - y_hat|_F / |y|_F} over the unmasked query positions of the
     *                            sampled sequences (METRICS.md item 4); NaN when nothing was visible
     * @param qkSpectralNorms     per head, the weight-only {@code qkSpectralNorm} of the weights this
     *                            forward pass used ({@link WeightAnalysis}); NaN without projection weights
     */
    public record LayerExtraction(Site site, List<List<HeadInput>> sequences, INDArray output,
                                  double reconstructionError, List<Double> qkSpectralNorms) {
        public LayerExtraction {
            qkSpectralNorms = qkSpectralNorms == null
                    ? Collections.nCopies(site.nHeads(), Double.NaN) : List.copyOf(qkSpectralNorms);
        }

        /** An extraction without weight metrics. */
        public LayerExtraction(Site site, List<List<HeadInput>> sequences, INDArray output, double reconstructionError) {
            this(site, sequences, output, reconstructionError, null);
        }
    }

    static final String LEARNED_REASON = "LearnedSelfAttentionLayer fails inside DL4J 1.0.0-M2.1 itself "
            + "(scatter_update error in inference and training); not supported";

    private final Model model;
    private final List<Binding> bindings;
    private final List<Skipped> skipped;

    private AttentionExtractor(Model model, List<Binding> bindings, List<Skipped> skipped) {
        this.model = model;
        this.bindings = bindings;
        this.skipped = skipped;
    }

    /** Finds the attention layers of a {@link MultiLayerNetwork} or {@link ComputationGraph}. */
    public static AttentionExtractor of(Model model) {
        return of(model, VERTEX_MASKS);
    }

    /** As {@link #of(Model)}, reading {@link SameDiffGraphVertex} masks through {@code vertexMasks} (null: unreadable). */
    static AttentionExtractor of(Model model, Field vertexMasks) {
        List<Binding> bindings = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        if (model instanceof MultiLayerNetwork net) {
            for (int i = 0; i < net.getnLayers(); i++) {
                Layer layer = inside(net.getLayer(i));
                org.deeplearning4j.nn.conf.layers.Layer outer = net.getLayerWiseConfigurations().getConf(i).getLayer();
                String name = outer.getLayerName() != null ? outer.getLayerName() : String.valueOf(i);
                int index = i;
                InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
                classify(name, outer, skipped, (site, conf) -> bindings.add(new Binding(site, conf,
                        f -> preprocess(pre, f.mln.get(index), f.mln.get(index + 1)),
                        f -> null, f -> null,
                        f -> f.mln.get(index + 1),
                        f -> layer.getMaskArray(), f -> layer.getMaskArray(),
                        layer::getParam)));
            }
        } else if (model instanceof ComputationGraph cg) {
            Map<String, List<String>> inputs = cg.getConfiguration().getVertexInputs();
            for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : cg.getVertices()) {
                String name = v.getVertexName();
                List<String> in = inputs.get(name);
                if (v instanceof LayerVertex lv) {
                    Layer layer = inside(lv.getLayer());
                    classify(name, lv.getLayer().conf().getLayer(), skipped, (site, conf) -> {
                        if (in == null || in.size() != 1) {
                            skipped.add(new Skipped(name, "layer vertex with " + (in == null ? 0 : in.size())
                                    + " inputs; expected exactly one"));
                            return;
                        }
                        InputPreProcessor pre = lv.getLayerPreProcessor();
                        bindings.add(new Binding(site, conf,
                                f -> preprocess(pre, f.cg.get(in.get(0)), f.cg.get(name)), f -> null, f -> null,
                                f -> f.cg.get(name),
                                f -> layer.getMaskArray(), f -> layer.getMaskArray(),
                                layer::getParam));
                    });
                } else if (v instanceof SameDiffGraphVertex sdv) {
                    GraphVertex conf = cg.getConfiguration().getVertices().get(name);
                    if (conf instanceof AttentionVertex && vertexMasks == null) {
                        skipped.add(new Skipped(name, "the masks of a SameDiffGraphVertex cannot be read in this DL4J "
                                + "version (no field 'maskArrays'); its heads would be measured without them"));
                    } else if (conf instanceof AttentionVertex av) {
                        Site site = new Site(name, Kind.ATTENTION_VERTEX, av.getNHeads(),
                                (int) (av.isProjectInput() ? av.getHeadSize() : av.getNInQueries()),
                                av.isProjectInput());
                        Map<String, INDArray> params = sdv.paramTable(false);
                        bindings.add(new Binding(site, null,
                                f -> f.cg.get(in.get(0)), f -> f.cg.get(in.get(1)), f -> f.cg.get(in.get(2)),
                                f -> f.cg.get(name),
                                f -> keyMask(vertexMasks, sdv), f -> mask(vertexMasks, sdv, 0),
                                params::get));
                    } else if (conf != null && conf.getClass().getSimpleName().contains("Attention")) {
                        skipped.add(new Skipped(name, "unknown attention vertex " + conf.getClass().getName()));
                    }
                }
            }
        } else {
            throw new IllegalArgumentException("model must be a MultiLayerNetwork or ComputationGraph but was "
                    + (model == null ? "null" : model.getClass().getName()));
        }
        return new AttentionExtractor(model, List.copyOf(bindings), List.copyOf(skipped));
    }

    /** The readable attention layers, in network order. */
    public List<Site> sites() {
        return bindings.stream().map(b -> b.site).toList();
    }

    /** The attention-like layers that are skipped, with the reason. */
    public List<Skipped> skipped() {
        return skipped;
    }

    /**
     * Extracts from the activations a {@link MultiLayerNetwork} delivers to
     * {@code TrainingListener.onForwardPass} (index 0 the input, {@code i+1} the output of layer i),
     * reading the masks the layers hold during that pass.
     *
     * @param rows   the minibatch rows to read
     * @param layers which layers to read
     */
    public List<LayerExtraction> extract(List<INDArray> activations, int[] rows, Predicate<String> layers) {
        return run(new Forward(activations, null), rows, layers);
    }

    /**
     * Extracts from the activations a {@link ComputationGraph} delivers to
     * {@code TrainingListener.onForwardPass} (vertex name to output), reading the masks the vertices hold
     * during that pass.
     */
    public List<LayerExtraction> extract(Map<String, INDArray> activations, int[] rows, Predicate<String> layers) {
        return run(new Forward(null, activations), rows, layers);
    }

    /**
     * Runs the network forward in inference mode on {@code inputs} (one array for a MultiLayerNetwork) with
     * optional feature {@code masks} (may be null) and extracts every attention layer on the given rows.
     * For offline analysis of checkpoints and probe inputs.
     */
    public List<LayerExtraction> forward(INDArray[] inputs, INDArray[] masks, int[] rows) {
        if (inputs == null || inputs.length == 0) {
            throw new IllegalArgumentException("inputs must hold at least one array");
        }
        // The network's own input, labels and masks are put back afterwards: analysis leaves the model as it was.
        if (model instanceof MultiLayerNetwork net) {
            if (inputs.length != 1) {
                throw new IllegalArgumentException("a MultiLayerNetwork takes 1 input but got " + inputs.length);
            }
            INDArray input = net.getInput();
            INDArray labels = net.getLabels();
            INDArray mask = net.getMask();
            try {
                net.clearLayerMaskArrays();
                net.setInput(inputs[0]);
                net.setMask(masks == null ? null : masks[0]);
                List<INDArray> acts = net.feedForward(false, false);
                return run(new Forward(acts, null), rows, n -> true);
            } finally {
                net.clearLayerMaskArrays();
                net.clear();
                net.setInput(input);
                net.setLabels(labels);
                net.setMask(mask);
            }
        }
        ComputationGraph cg = (ComputationGraph) model;
        INDArray[] input = cg.getInputs();
        INDArray[] inputMasks = cg.getInputMaskArrays();
        INDArray[] labelMasks = cg.getLabelMaskArrays();
        try {
            // explicit null masks too: clearLayerMaskArrays() leaves a SameDiffGraphVertex's masks in place
            cg.setLayerMaskArrays(masks != null ? masks : new INDArray[cg.getNumInputArrays()], null);
            Map<String, INDArray> acts = cg.feedForward(inputs, false, false);
            return run(new Forward(null, acts), rows, n -> true);
        } finally {
            // not cg.clear(), which drops the labels too
            cg.clearLayerMaskArrays();
            for (Layer layer : cg.getLayers()) {
                layer.clear();
            }
            if (input != null) {
                cg.setInputs(input);
            }
            cg.setLayerMaskArrays(inputMasks != null ? inputMasks : new INDArray[cg.getNumInputArrays()], labelMasks);
        }
    }

    private List<LayerExtraction> run(Forward f, int[] rows, Predicate<String> layers) {
        return extract(capture(f, rows, layers, null), null);
    }

    /**
     * Copies out what the extraction of each accepted layer reads: the given rows of its inputs, output and
     * masks, and its parameters. A layer that fails goes to {@code onError}, or ends the call when it is null.
     */
    List<Capture> capture(Forward f, int[] rows, Predicate<String> layers, BiConsumer<Site, RuntimeException> onError) {
        List<Capture> out = new ArrayList<>();
        // In a MultiLayerNetwork one layer's output is the next one's input: copy each array once.
        Map<INDArray, INDArray> copies = new IdentityHashMap<>();
        try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            for (Binding b : bindings) {
                if (!layers.test(b.site.name)) {
                    continue;
                }
                try {
                    out.add(b.capture(f, rows, copies));
                } catch (RuntimeException e) {
                    if (onError == null) {
                        throw e;
                    }
                    onError.accept(b.site, e);
                }
            }
        }
        return out;
    }

    /** Extracts every capture; a layer that fails goes to {@code onError}, or ends the call when it is null. */
    static List<LayerExtraction> extract(List<Capture> captures, BiConsumer<Site, RuntimeException> onError) {
        List<LayerExtraction> out = new ArrayList<>();
        for (Capture c : captures) {
            try {
                out.add(c.extract());
            } catch (RuntimeException e) {
                if (onError == null) {
                    throw e;
                }
                onError.accept(c.site, e);
            }
        }
        return out;
    }

    static Forward of(List<INDArray> activations) {
        return new Forward(activations, null);
    }

    static Forward of(Map<String, INDArray> activations) {
        return new Forward(null, activations);
    }

    // ----------------------------------------------------------------------------------------------
    // discovery

    /**
     * The layer inside DL4J's transparent wrappers ({@link FrozenLayer}, {@link FrozenLayerWithBackprop},
     * {@link MaskZeroLayer}), which pass the layer's input and output through unchanged: the layer whose
     * parameters and mask (for MaskZeroLayer, the mask it derives from the input) the forward pass used.
     */
    private static Layer inside(Layer layer) {
        while (true) {
            if (layer instanceof org.deeplearning4j.nn.layers.FrozenLayer f) {
                layer = f.getInsideLayer();
            } else if (layer instanceof org.deeplearning4j.nn.layers.wrapper.BaseWrapperLayer w
                    && transparent(w.conf().getLayer())) {
                layer = w.getUnderlying();
            } else {
                return layer;
            }
        }
    }

    private static boolean transparent(org.deeplearning4j.nn.conf.layers.Layer conf) {
        return conf instanceof FrozenLayer || conf instanceof FrozenLayerWithBackprop || conf instanceof MaskZeroLayer;
    }

    /** The layer a wrapper holds (the forward one of a {@link Bidirectional}), or null for a plain layer. */
    private static org.deeplearning4j.nn.conf.layers.Layer wrapped(org.deeplearning4j.nn.conf.layers.Layer conf) {
        if (conf instanceof FrozenLayer f) {
            return f.getLayer();
        } else if (conf instanceof BaseWrapperLayer w) {
            return w.getUnderlying();
        } else if (conf instanceof Bidirectional b) {
            return b.getFwd();
        }
        return null;
    }

    /** Why an attention layer inside this wrapper is not read. */
    private static String wrapperReason(org.deeplearning4j.nn.conf.layers.Layer wrapper) {
        if (wrapper instanceof Bidirectional) {
            return "inside Bidirectional, which runs it twice (on the sequence and on its reverse, with separate "
                    + "parameters) and merges the outputs; not read";
        } else if (wrapper instanceof LastTimeStep) {
            return "inside LastTimeStep, which keeps only the last step of its output, so the output the reading "
                    + "is checked against is not at hand; not read";
        } else if (wrapper instanceof TimeDistributed) {
            return "inside TimeDistributed, which applies it to each time step on its own; not read";
        }
        return "inside " + wrapper.getClass().getSimpleName() + ", a wrapper whose effect on the layer's input "
                + "and output is not known here; not read";
    }

    /**
     * Classifies a layer configuration (possibly wrapped): a readable attention layer goes to {@code found}
     * with its own (unwrapped) configuration, one that cannot be read to {@code skipped} with the reason,
     * anything else is ignored.
     */
    private static void classify(String name, org.deeplearning4j.nn.conf.layers.Layer conf, List<Skipped> skipped,
                                 BiConsumer<Site, org.deeplearning4j.nn.conf.layers.Layer> found) {
        String blocked = null;
        for (org.deeplearning4j.nn.conf.layers.Layer inner = wrapped(conf); inner != null; inner = wrapped(conf)) {
            if (blocked == null && !transparent(conf)) {
                blocked = wrapperReason(conf);
            }
            conf = inner;
        }
        if (blocked != null) {
            if (isAttention(conf)) {
                skipped.add(new Skipped(name, conf.getClass().getSimpleName() + " " + blocked));
            }
            return;
        }
        if (conf instanceof SelfAttentionLayer sa) {
            found.accept(new Site(name, Kind.SELF_ATTENTION, sa.getNHeads(),
                    (int) (sa.isProjectInput() ? sa.getHeadSize() : sa.getNIn()), sa.isProjectInput()), conf);
        } else if (conf instanceof RecurrentAttentionLayer ra) {
            if (!ra.isProjectInput() && ra.getNIn() != ra.getNOut()) {
                skipped.add(new Skipped(name, "RecurrentAttentionLayer without projectInput needs nIn == nOut but has nIn="
                        + ra.getNIn() + ", nOut=" + ra.getNOut()));
                return;
            }
            found.accept(new Site(name, Kind.RECURRENT_ATTENTION, ra.getNHeads(),
                    (int) (ra.isProjectInput() ? ra.getHeadSize() : ra.getNIn()), ra.isProjectInput()), conf);
        } else if (conf instanceof LearnedSelfAttentionLayer) {
            skipped.add(new Skipped(name, LEARNED_REASON));
        } else if (isAttention(conf)) {
            skipped.add(new Skipped(name, "unknown attention layer " + conf.getClass().getName()));
        }
    }

    private static boolean isAttention(org.deeplearning4j.nn.conf.layers.Layer conf) {
        return conf != null && conf.getClass().getSimpleName().contains("Attention");
    }

    /**
     * The layer's input after its preprocessor. The minibatch size comes from the layer's output: the input
     * before preprocessing may fold time steps into rows ({@code [mb * T, n]}).
     */
    private static INDArray preprocess(InputPreProcessor pre, INDArray in, INDArray out) {
        return pre == null ? in : pre.preProcess(in, (int) out.size(0), LayerWorkspaceMgr.noWorkspaces());
    }

    private static final Field VERTEX_MASKS;

    static {
        Field f;
        try {
            f = SameDiffGraphVertex.class.getDeclaredField("maskArrays");
            f.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            f = null;
        }
        VERTEX_MASKS = f;
    }

    /**
     * The mask of one vertex input; DL4J keeps it in a field without accessor. Failing to read it fails the
     * layer (which is then skipped): measuring the heads without their mask would give wrong numbers.
     */
    private static INDArray mask(Field field, SameDiffGraphVertex v, int input) {
        try {
            INDArray[] masks = (INDArray[]) field.get(v);
            return masks == null || masks.length <= input ? null : masks[input];
        } catch (IllegalAccessException | RuntimeException e) {
            throw new IllegalStateException("cannot read the masks of vertex " + v.getVertexName() + ": " + e, e);
        }
    }

    /** AttentionVertex masks keys with {@code min(keysMask, valuesMask)}. */
    private static INDArray keyMask(Field field, SameDiffGraphVertex v) {
        INDArray k = mask(field, v, 1);
        INDArray val = mask(field, v, 2);
        if (k == null || val == null) {
            return k != null ? k : val;
        }
        return Transforms.min(k, val, true);
    }

    // ----------------------------------------------------------------------------------------------
    // extraction

    /** The activations of one forward pass, as DL4J delivers them to listeners. */
    record Forward(List<INDArray> mln, Map<String, INDArray> cg) {
    }

    private interface Read extends Function<Forward, INDArray> {
    }

    /**
     * Captures the site of a fused SameDiff attention op from its argument arrays (same layouts as the DL4J
     * layers: {@code [mb, nIn, T]}, key mask {@code [mb, T]}, weights {@code Wq, Wk, Wv: [H, hs, nIn]},
     * {@code Wo: [H*hs, nOut]}) with the given logit scale, for the given rows. Used by the SameDiff
     * listener (which extracts later, off the training thread) and checkpoint analysis.
     */
    public static Capture capture(Site site, INDArray queries, INDArray keys, INDArray values, INDArray output,
                                  INDArray keyMask, Map<String, INDArray> weights, double scale, int[] rows) {
        Binding b = new Binding(site, null, f -> queries, f -> keys, f -> values, f -> output,
                f -> keyMask, f -> null, weights::get);
        b.scale = scale;
        try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            return b.capture(null, rows, new IdentityHashMap<>());
        }
    }

    /** How to read one site's arrays from a forward pass. */
    private static final class Binding {
        final Site site;
        final org.deeplearning4j.nn.conf.layers.Layer conf;
        final Read queries;
        final Read keys;
        final Read values;
        final Read output;
        final Read keyMask;
        final Read queryMask;
        final Function<String, INDArray> param;
        /** The logit scale; NaN for DL4J's {@code 1/sqrt(headSize)}. */
        double scale = Double.NaN;

        Binding(Site site, org.deeplearning4j.nn.conf.layers.Layer conf, Read queries, Read keys, Read values,
                Read output, Read keyMask, Read queryMask, Function<String, INDArray> param) {
            this.site = site;
            this.conf = conf;
            this.queries = queries;
            this.keys = keys;
            this.values = values;
            this.output = output;
            this.keyMask = keyMask;
            this.queryMask = queryMask;
            this.param = param;
        }

        /** Copies the rows and parameters the extraction reads; {@code copies} shares arrays read twice. */
        Capture capture(Forward f, int[] rows, Map<INDArray, INDArray> copies) {
            INDArray xq = queries.apply(f);
            INDArray xk = keys.apply(f);
            INDArray xv = values.apply(f);
            xk = xk == null ? xq : xk;
            xv = xv == null ? xq : xv;
            Function<INDArray, INDArray> copy = a -> a == null ? null : copies.computeIfAbsent(a, x -> gather(x, rows));
            // The optimizer updates the parameters in place after this pass: keep the values it used.
            Map<String, INDArray> params = new HashMap<>();
            for (String key : paramKeys()) {
                INDArray p = param.apply(key);
                params.put(key, p == null ? null : p.dup());
            }
            return new Capture(site, conf, scale, copy.apply(xq), copy.apply(xk), copy.apply(xv),
                    copy.apply(output.apply(f)), copy.apply(keyMask.apply(f)), copy.apply(queryMask.apply(f)), params);
        }

        /** The parameters the extraction reads. */
        List<String> paramKeys() {
            List<String> keys = new ArrayList<>();
            if (site.projectInput) {
                keys.addAll(List.of("Wq", "Wk", "Wv", "Wo"));
            }
            if (site.kind == Kind.RECURRENT_ATTENTION) {
                keys.add(SimpleRnnParamInitializer.WEIGHT_KEY);
                keys.add(SimpleRnnParamInitializer.RECURRENT_WEIGHT_KEY);
                if (((RecurrentAttentionLayer) conf).isHasBias()) {
                    keys.add(SimpleRnnParamInitializer.BIAS_KEY);
                }
            }
            return keys;
        }
    }

    /**
     * One layer's arrays from one forward pass, copied out for the sampled sequences: their rows of the
     * layer's inputs, output and masks, and the layer's parameters as that pass used them. Taking it costs a
     * few small copies on the training thread; {@link #extract()} does the arithmetic later, on any thread.
     */
    public static final class Capture {
        private final Site site;
        private final org.deeplearning4j.nn.conf.layers.Layer conf;
        /** The logit scale; NaN for DL4J's {@code 1/sqrt(headSize)}. */
        private final double scale;
        private final INDArray xq;
        private final INDArray xk;
        private final INDArray xv;
        private final INDArray y;
        private final INDArray km;
        private final INDArray qm;
        private final Map<String, INDArray> params;

        private Capture(Site site, org.deeplearning4j.nn.conf.layers.Layer conf, double scale, INDArray xq,
                        INDArray xk, INDArray xv, INDArray y, INDArray km, INDArray qm, Map<String, INDArray> params) {
            this.site = site;
            this.conf = conf;
            this.scale = scale;
            this.xq = xq;
            this.xk = xk;
            this.xv = xv;
            this.y = y;
            this.km = km;
            this.qm = qm;
            this.params = params;
        }

        /** The layer. */
        public Site site() {
            return site;
        }

        /** Rebuilds Q, K, V per head and the layer output, and measures the weights. */
        public LayerExtraction extract() {
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                return extractDetached();
            }
        }

        private LayerExtraction extractDetached() {
            DataType type = xq.dataType() == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
            Weights w = weights();
            List<List<HeadInput>> sequences = new ArrayList<>();
            double err2 = 0;
            double norm2 = 0;
            for (int b = 0; b < xq.size(0); b++) {
                double[][] x = Mat.t(Mat.of(xq.slice(b)));                   // [T, nInQ]
                double[][] xkb = xk == xq ? x : Mat.t(Mat.of(xk.slice(b)));
                double[][] xvb = xv == xq ? x : xv == xk ? xkb : Mat.t(Mat.of(xv.slice(b)));
                double[][] actual = Mat.t(Mat.of(y.slice(b)));               // [T, nOut]
                boolean[] keyVisible = visible(km, b, xkb.length);
                boolean[] queryVisible = site.kind.separateQueries() ? visible(qm, b, x.length) : keyVisible;
                if (count(keyVisible) == 0 || count(queryVisible) == 0) {
                    continue;
                }
                Sequence s = site.kind == Kind.RECURRENT_ATTENTION
                        ? project(w, actual, x, x) : project(w, x, xkb, xvb);
                double[][] heads = heads(w, s, keyVisible);
                double[][] rebuilt = site.kind == Kind.RECURRENT_ATTENTION
                        ? recurrent(w, heads, x, type) : (site.projectInput ? Mat.mul(heads, w.wo) : heads);
                double[] en = Mat.errorAndNorm(actual, rebuilt, queryVisible);
                err2 += en[0];
                norm2 += en[1];
                sequences.add(x.length == xkb.length ? headInputs(s, keyVisible, w.scale, type)
                        : crossInputs(s, queryVisible, keyVisible, w.scale, type));
            }
            double err = norm2 > 0 ? Math.sqrt(err2 / norm2) : Double.NaN;
            return new LayerExtraction(site, Collections.unmodifiableList(sequences), y, err, qkSpectralNorms(w));
        }

        /** Per head {@code sigma_1(tau Wq_h^T Wk_h)} through the {@code hs x hs} core; null without projection. */
        private List<Double> qkSpectralNorms(Weights w) {
            if (!site.projectInput) {
                return null;
            }
            // the weights already read for the extraction: head h is rows h*hs .. (h+1)*hs-1
            double[][] qs = new double[w.heads][];
            double[][] ks = new double[w.heads][];
            for (int h = 0; h < w.heads; h++) {
                qs[h] = Mat.flatRows(w.wq, h * w.headSize, w.headSize);
                ks[h] = Mat.flatRows(w.wk, h * w.headSize, w.headSize);
            }
            return java.util.Arrays.stream(WeightAnalysis.spectralNorms(qs, ks, w.headSize, w.wq[0].length, w.wk[0].length, w.scale))
                    .boxed().toList();
        }

        private Weights weights() {
            int h = site.nHeads;
            int hs = site.headSize;
            double tau = Double.isNaN(this.scale) ? 1.0 / Math.sqrt(hs) : this.scale;
            double[][] wq = null;
            double[][] wk = null;
            double[][] wv = null;
            double[][] wo = null;
            if (site.projectInput) {
                wq = flat(params.get("Wq"), h * hs);
                wk = flat(params.get("Wk"), h * hs);
                wv = flat(params.get("Wv"), h * hs);
                wo = Mat.of(params.get("Wo"));
            }
            double[][] w = null;
            double[][] rw = null;
            double[] bias = null;
            IActivation act = null;
            if (site.kind == Kind.RECURRENT_ATTENTION) {
                w = Mat.of(params.get(SimpleRnnParamInitializer.WEIGHT_KEY));
                rw = Mat.of(params.get(SimpleRnnParamInitializer.RECURRENT_WEIGHT_KEY));
                RecurrentAttentionLayer ra = (RecurrentAttentionLayer) conf;
                bias = ra.isHasBias() ? Mat.flat(params.get(SimpleRnnParamInitializer.BIAS_KEY)) : null;
                act = ra.getActivation().getActivationFunction();
            }
            return new Weights(h, hs, tau, wq, wk, wv, wo, w, rw, bias, act);
        }

        /**
         * Per-head Q, K, V {@code [T, d]} from the query, key and value inputs {@code [T, nIn]}: projected by
         * {@code Wq[h]} etc., or the inputs themselves (one head) without projection.
         */
        private Sequence project(Weights w, double[][] xq, double[][] xk, double[][] xv) {
            if (!site.projectInput) {
                return new Sequence(Collections.singletonList(xq), Collections.singletonList(xk),
                        Collections.singletonList(xv));
            }
            double[][] q = Mat.mulT(xq, w.wq);                             // [T, H*hs]
            double[][] k = Mat.mulT(xk, w.wk);
            double[][] v = Mat.mulT(xv, w.wv);
            List<double[][]> qs = new ArrayList<>();
            List<double[][]> ks = new ArrayList<>();
            List<double[][]> vs = new ArrayList<>();
            for (int h = 0; h < w.heads; h++) {
                qs.add(Mat.cols(q, h * w.headSize, w.headSize));
                ks.add(Mat.cols(k, h * w.headSize, w.headSize));
                vs.add(Mat.cols(v, h * w.headSize, w.headSize));
            }
            return new Sequence(qs, ks, vs);
        }

        /** Concatenated per-head attention outputs {@code [Tq, H*hs]} (or {@code [Tq, nIn]} unprojected). */
        private static double[][] heads(Weights w, Sequence s, boolean[] keyVisible) {
            double[][][] outs = new double[s.q.size()][][];
            for (int h = 0; h < outs.length; h++) {
                outs[h] = Mat.attend(s.q.get(h), s.k.get(h), s.v.get(h), w.scale, keyVisible, null);
            }
            return outs.length == 1 ? outs[0] : Mat.hcat(outs);
        }

        /** {@code h_t = act(x_t W + b + attn(h_{t-1}) R)}, with the actual {@code h_{t-1}} as query. */
        private double[][] recurrent(Weights w, double[][] heads, double[][] x, DataType type) {
            double[][] att = site.projectInput ? Mat.mul(heads, w.wo) : heads;
            double[][] z = Mat.mul(x, w.w);                                   // [T, nOut]
            double[][] shifted = Mat.mul(att, w.rw);
            for (int t = 0; t < z.length; t++) {
                for (int j = 0; j < z[t].length; j++) {
                    z[t][j] += (w.bias != null ? w.bias[j] : 0) + (t > 0 ? shifted[t - 1][j] : 0);
                }
            }
            // The layer's own activation function, applied as DL4J applies it.
            return Mat.of(w.act.getActivation(Mat.nd(z, type), false));
        }
    }

    private static double[][] flat(INDArray w, int rows) {
        double[] f = Mat.flat(w);
        int cols = (int) w.size(2);
        double[][] m = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(f, i * cols, m[i], 0, cols);
        }
        return m;
    }

    /** The rows of a batch-first array ({@code [mb, C, T]}, a mask {@code [mb, T]}), detached. */
    private static INDArray gather(INDArray a, int[] rows) {
        long[] shape = a.shape().clone();
        shape[0] = 1;
        INDArray[] slices = new INDArray[rows.length];
        for (int i = 0; i < rows.length; i++) {
            slices[i] = a.slice(rows[i]).dup('c').reshape('c', shape);
        }
        return rows.length == 1 ? slices[0] : Nd4j.concat(0, slices);
    }

    private static boolean[] visible(INDArray mask, int row, long length) {
        boolean[] v = new boolean[(int) length];
        double[] m = mask == null ? null : Mat.flat(mask.slice(row));
        for (int t = 0; t < v.length; t++) {
            v[t] = m == null || m[t] != 0.0;
        }
        return v;
    }

    private static int count(boolean[] v) {
        int c = 0;
        for (boolean b : v) {
            c += b ? 1 : 0;
        }
        return c;
    }

    /**
     * Softmax attention {@code softmax(tau q k^T) v} over the visible keys: {@code [Tq, dv]}, in the type
     * of q. A public form of the rebuild the extractor runs, for checks and tests.
     */
    public static INDArray attend(INDArray q, INDArray k, INDArray v, double scale, boolean[] keyVisible) {
        return Mat.nd(Mat.attend(Mat.of(q), Mat.of(k), Mat.of(v), scale, keyVisible, null), q.dataType());
    }

    /**
     * Softmax attention where row i sees the keys j with {@code visible[i][j]}: {@code [Tq, dv]}, in the
     * type of q; a row that sees no key is zero.
     */
    public static INDArray attend(INDArray q, INDArray k, INDArray v, double scale, boolean[][] visible) {
        return Mat.nd(Mat.attend(Mat.of(q), Mat.of(k), Mat.of(v), scale, null, visible), q.dataType());
    }

    /** One sequence's per-head inputs, compacted to the visible keys as the class javadoc says. */
    private static List<HeadInput> headInputs(Sequence s, boolean[] keyVisible, double scale, DataType type) {
        int n = keyVisible.length;
        int visible = count(keyVisible);
        int prefix = 0;
        while (prefix < n && keyVisible[prefix]) {
            prefix++;
        }
        Visibility vis;
        int[] keep = null;
        if (visible == n) {
            vis = Visibility.FULL;
        } else if (prefix == visible) {
            vis = Visibility.padded(prefix);
        } else {
            vis = Visibility.FULL;
            keep = indices(keyVisible);
        }
        List<HeadInput> out = new ArrayList<>();
        for (int h = 0; h < s.q.size(); h++) {
            double[][] q = s.q.get(h);
            double[][] k = s.k.get(h);
            double[][] v = s.v.get(h);
            if (keep != null) {
                q = Mat.rows(q, keep);
                k = Mat.rows(k, keep);
                v = Mat.rows(v, keep);
            }
            out.add(HeadInput.of(Mat.flatRows(q, 0, q.length), Mat.flatRows(k, 0, k.length), Mat.flatRows(v, 0, v.length),
                    q[0].length, type, vis, scale));
        }
        return out;
    }

    /**
     * One cross-attention sequence's per-head inputs (queries and keys of different lengths): the visible
     * queries over the visible keys, {@link Visibility#FULL}.
     */
    private static List<HeadInput> crossInputs(Sequence s, boolean[] queryVisible, boolean[] keyVisible, double scale,
                                               DataType type) {
        int[] queries = indices(queryVisible);
        int[] keys = indices(keyVisible);
        List<HeadInput> out = new ArrayList<>();
        for (int h = 0; h < s.q.size(); h++) {
            double[][] q = Mat.rows(s.q.get(h), queries);
            double[][] k = Mat.rows(s.k.get(h), keys);
            double[][] v = Mat.rows(s.v.get(h), keys);
            out.add(HeadInput.of(Mat.flatRows(q, 0, q.length), Mat.flatRows(k, 0, k.length),
                    Mat.flatRows(v, 0, v.length), k[0].length, type, Visibility.FULL, scale));
        }
        return out;
    }

    /** The positions where {@code visible} holds. */
    private static int[] indices(boolean[] visible) {
        int[] out = new int[count(visible)];
        for (int j = 0, c = 0; j < visible.length; j++) {
            if (visible[j]) {
                out[c++] = j;
            }
        }
        return out;
    }

    /** Per-head Q, K, V {@code [T, d]} of one sequence. */
    private record Sequence(List<double[][]> q, List<double[][]> k, List<double[][]> v) {
    }

    private record Weights(int heads, int headSize, double scale, double[][] wq, double[][] wk, double[][] wv,
                           double[][] wo, double[][] w, double[][] rw, double[] bias, IActivation act) {
    }
}
