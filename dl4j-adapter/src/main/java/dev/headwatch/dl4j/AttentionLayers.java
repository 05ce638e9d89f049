package dev.headwatch.dl4j;

import dev.headwatch.capture.ArrayCopies;
import dev.headwatch.core.LayerCapture;
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
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * Finds the attention layers of a {@link MultiLayerNetwork} or {@link ComputationGraph}, through the wrappers
 * that pass a layer's input and output through, and copies what the core needs of them at one forward pass
 * into {@link LayerCapture}s ({@link LayerReader} knows each layer kind). The core does the rest:
 * projections, the rebuild check, metrics.
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
 * the network itself: one capture code path for both. A capture is a copy made on the calling thread outside
 * DL4J's workspaces, plain Java arrays only.
 */
public final class AttentionLayers {

    /** The attention layer kinds read. */
    public enum Kind {
        SELF_ATTENTION, ATTENTION_VERTEX, RECURRENT_ATTENTION
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

    static final String LEARNED_REASON = "LearnedSelfAttentionLayer fails inside DL4J 1.0.0-M2.1 itself "
            + "(scatter_update error in inference and training); not supported";

    private final Model model;
    private final List<LayerReader> readers;
    /** The readers' sites, listed once: the listener asks for them at every observed step. */
    private final List<Site> sites;
    private final List<Skipped> skipped;

    private AttentionLayers(Model model, List<LayerReader> readers, List<Skipped> skipped) {
        this.model = model;
        this.readers = readers;
        this.sites = readers.stream().map(r -> r.site).toList();
        this.skipped = skipped;
    }

    /** Finds the attention layers of a {@link MultiLayerNetwork} or {@link ComputationGraph}. */
    public static AttentionLayers of(Model model) {
        return of(model, VERTEX_MASKS);
    }

    /** As {@link #of(Model)}, reading {@link SameDiffGraphVertex} masks through {@code vertexMasks} (null: unreadable). */
    static AttentionLayers of(Model model, Field vertexMasks) {
        List<LayerReader> readers = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        if (model instanceof MultiLayerNetwork net) {
            for (int i = 0; i < net.getnLayers(); i++) {
                Layer layer = inside(net.getLayer(i));
                org.deeplearning4j.nn.conf.layers.Layer outer = net.getLayerWiseConfigurations().getConf(i).getLayer();
                String name = outer.getLayerName() != null ? outer.getLayerName() : String.valueOf(i);
                int index = i;
                InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
                classify(name, outer, skipped, (site, conf) -> readers.add(reader(site, conf,
                        f -> preprocess(pre, f.mln().get(index), f.mln().get(index + 1)),
                        f -> f.mln().get(index + 1), layer)));
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
                        readers.add(reader(site, conf, f -> preprocess(pre, f.cg().get(in.get(0)), f.cg().get(name)),
                                f -> f.cg().get(name), layer));
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
                        readers.add(LayerReader.vertex(site,
                                f -> f.cg().get(in.get(0)), f -> f.cg().get(in.get(1)), f -> f.cg().get(in.get(2)),
                                f -> f.cg().get(name), f -> mask(vertexMasks, sdv, 0), f -> mask(vertexMasks, sdv, 1),
                                f -> mask(vertexMasks, sdv, 2), params::get));
                    } else if (conf != null && conf.getClass().getSimpleName().contains("Attention")) {
                        skipped.add(new Skipped(name, "unknown attention vertex " + conf.getClass().getName()));
                    }
                }
            }
        } else {
            throw new IllegalArgumentException("model must be a MultiLayerNetwork or ComputationGraph but was "
                    + (model == null ? "null" : model.getClass().getName()));
        }
        return new AttentionLayers(model, List.copyOf(readers), List.copyOf(skipped));
    }

    /** The reader of a layer found by {@link #classify}, by its kind. */
    private static LayerReader reader(Site site, org.deeplearning4j.nn.conf.layers.Layer conf, LayerReader.Read input,
                                      LayerReader.Read output, Layer layer) {
        return conf instanceof RecurrentAttentionLayer ra
                ? LayerReader.recurrent(site, ra, input, output, f -> layer.getMaskArray(), layer::getParam)
                : LayerReader.selfAttention(site, input, output, f -> layer.getMaskArray(), layer::getParam);
    }

    /** The readable attention layers, in network order. */
    public List<Site> sites() {
        return sites;
    }

    /**
     * A parameter of a readable layer ({@code "Wq"}, {@code "Wk"}, ...) as the network holds it, or null when
     * the layer has none: a view into the network's parameters, so dup what you keep.
     */
    public INDArray parameter(Site site, String key) {
        for (LayerReader r : readers) {
            if (r.site.equals(site)) {
                return r.param(key);
            }
        }
        throw new IllegalArgumentException("layer " + site.name() + " is not a layer of this network");
    }

    /** The attention-like layers that are skipped, with the reason. */
    public List<Skipped> skipped() {
        return skipped;
    }

    /**
     * Copies the given minibatch rows of the accepted layers from the activations DL4J delivered to
     * {@code onForwardPass}, with the masks the layers hold during that pass. A layer that fails goes to
     * {@code onError}, or ends the call when it is null.
     */
    List<LayerCapture> capture(Forward f, int[] rows, Predicate<String> layers,
                               BiConsumer<Site, RuntimeException> onError) {
        List<LayerCapture> out = new ArrayList<>();
        // In a MultiLayerNetwork one layer's output is the next one's input: copy each array once.
        Map<INDArray, double[][]> copies = LayerReader.copies();
        ArrayCopies.outsideWorkspaces(() -> {
            for (LayerReader r : readers) {
                if (!layers.test(r.site.name())) {
                    continue;
                }
                try {
                    out.add(r.capture(f, rows, copies));
                } catch (RuntimeException e) {
                    if (onError == null) {
                        throw e;
                    }
                    onError.accept(r.site, e);
                }
            }
            return null;
        });
        return out;
    }

    /**
     * Runs the network forward in inference mode on {@code inputs} (one array for a MultiLayerNetwork) with
     * optional feature {@code masks} (may be null) and captures every attention layer on the given rows.
     * For offline analysis of checkpoints and probe inputs.
     */
    public List<LayerCapture> forward(INDArray[] inputs, INDArray[] masks, int[] rows) {
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
                return capture(new Forward(acts, null), rows, n -> true, null);
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
            return capture(new Forward(null, acts), rows, n -> true, null);
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

}
