package dev.headwatch.dl4j;

import dev.headwatch.capture.ArrayCopies;
import dev.headwatch.core.LayerCapture;
import dev.headwatch.core.LayerCapture.Nonlinearity;
import dev.headwatch.dl4j.AttentionLayers.Site;
import org.deeplearning4j.nn.conf.layers.RecurrentAttentionLayer;
import org.deeplearning4j.nn.params.SimpleRnnParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationCube;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationHardTanH;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * How to read one attention layer's arrays from a forward pass, per layer kind, and copy them into a
 * {@link LayerCapture}: its inputs (after the layer's preprocessor), its output and masks as the pass left
 * them, and its parameters as the pass used them. DL4J's layouts: inputs and outputs {@code [mb, C, T]},
 * masks {@code [mb, T]}, {@code Wq, Wk, Wv [H, headSize, nIn]}, {@code Wo [H*headSize, nOut]}; a
 * {@link RecurrentAttentionLayer} adds {@code W [nIn, nOut]}, {@code RW [nOut, nOut]} and {@code b}.
 */
final class LayerReader {

    /** Reads one array of a forward pass (null when the layer has none, such as no mask). */
    interface Read extends Function<Forward, INDArray> {
    }

    final Site site;
    private final Read queries;
    private final Read keys;
    private final Read values;
    private final Read output;
    private final Read keyMask;
    private final Read valueMask;
    private final Read queryMask;
    private final Function<String, INDArray> param;
    private final RecurrentAttentionLayer recurrent;

    private LayerReader(Site site, Read queries, Read keys, Read values, Read output, Read keyMask, Read valueMask,
                        Read queryMask, Function<String, INDArray> param, RecurrentAttentionLayer recurrent) {
        this.site = site;
        this.queries = queries;
        this.keys = keys;
        this.values = values;
        this.output = output;
        this.keyMask = keyMask;
        this.valueMask = valueMask;
        this.queryMask = queryMask;
        this.param = param;
        this.recurrent = recurrent;
    }

    /** A {@code SelfAttentionLayer}: one input for queries, keys and values; its mask masks keys and queries. */
    static LayerReader selfAttention(Site site, Read input, Read output, Read mask, Function<String, INDArray> param) {
        return new LayerReader(site, input, input, input, output, mask, f -> null, mask, param, null);
    }

    /** A {@code RecurrentAttentionLayer}: as self-attention, its queries being its own previous outputs. */
    static LayerReader recurrent(Site site, RecurrentAttentionLayer conf, Read input, Read output, Read mask,
                                 Function<String, INDArray> param) {
        return new LayerReader(site, input, input, input, output, mask, f -> null, mask, param, conf);
    }

    /** An {@code AttentionVertex}: three inputs; keys masked where the key or the value mask masks. */
    static LayerReader vertex(Site site, Read queries, Read keys, Read values, Read output, Read queryMask,
                              Read keyMask, Read valueMask, Function<String, INDArray> param) {
        return new LayerReader(site, queries, keys, values, output, keyMask, valueMask, queryMask, param, null);
    }

    /**
     * Copies the given rows of the layer's arrays and its parameters. {@code copies} shares the copies of an
     * array read twice (in a MultiLayerNetwork one layer's output is the next one's input).
     */
    LayerCapture capture(Forward f, int[] rows, Map<INDArray, double[][]> copies) {
        INDArray xq = queries.apply(f);
        INDArray xk = keys.apply(f);
        INDArray xv = values.apply(f);
        INDArray y = output.apply(f);
        double[][] q = sequences(xq, rows, copies);
        double[][] k = sequences(xk, rows, copies);
        double[][] v = sequences(xv, rows, copies);
        double[][] out = sequences(y, rows, copies);
        INDArray km = keyMask.apply(f);
        INDArray vm = valueMask.apply(f);
        INDArray qm = queryMask.apply(f);
        List<LayerCapture.Sequence> sequences = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            boolean[] keyVisible = ArrayCopies.both(ArrayCopies.visible(km, rows[i]), ArrayCopies.visible(vm, rows[i]));
            boolean[] queryVisible = qm == km ? keyVisible : ArrayCopies.visible(qm, rows[i]);
            sequences.add(new LayerCapture.Sequence((int) xq.size(2), q[i], (int) xk.size(2), k[i], v[i], out[i],
                    queryVisible, keyVisible));
        }
        // The optimizer updates the parameters in place after this pass: keep the values it used.
        LayerCapture.Projections projections = site.projectInput()
                ? new LayerCapture.Projections(copy("Wq"), copy("Wk"), copy("Wv"), copy("Wo")) : null;
        LayerCapture.Recurrence recurrence = recurrent == null ? null : new LayerCapture.Recurrence(
                copy(SimpleRnnParamInitializer.WEIGHT_KEY), copy(SimpleRnnParamInitializer.RECURRENT_WEIGHT_KEY),
                recurrent.isHasBias() ? copy(SimpleRnnParamInitializer.BIAS_KEY) : null,
                nonlinearity(recurrent.getActivation().getActivationFunction()),
                alpha(recurrent.getActivation().getActivationFunction()));
        return new LayerCapture(site.name(), site.nHeads(), site.headSize(), Double.NaN,
                xq.dataType() == DataType.DOUBLE, false, projections, recurrence, sequences);
    }

    /** A parameter as the network holds it, or null. */
    INDArray param(String key) {
        return param.apply(key);
    }

    private double[] copy(String key) {
        INDArray p = param.apply(key);
        if (p == null) {
            throw new IllegalStateException("layer " + site.name() + " has no parameter " + key);
        }
        return ArrayCopies.of(p);
    }

    /** The rows of a {@code [mb, C, T]} array, one row per position; shared with earlier reads of the same array. */
    private static double[][] sequences(INDArray a, int[] rows, Map<INDArray, double[][]> copies) {
        return copies.computeIfAbsent(a, x -> {
            double[][] out = new double[rows.length][];
            for (int i = 0; i < rows.length; i++) {
                out[i] = ArrayCopies.sequence(x, rows[i], 2);
            }
            return out;
        });
    }

    /** A fresh map for {@link #capture}'s shared copies. */
    static Map<INDArray, double[][]> copies() {
        return new IdentityHashMap<>();
    }

    /**
     * The core's form of a recurrent layer's activation, or null when it is not one the core applies (the
     * layer is then measured without {@code reconstructionError}).
     */
    static Nonlinearity nonlinearity(IActivation a) {
        if (a instanceof ActivationIdentity) {
            return Nonlinearity.IDENTITY;
        } else if (a instanceof ActivationTanH) {
            return Nonlinearity.TANH;
        } else if (a instanceof ActivationSigmoid) {
            return Nonlinearity.SIGMOID;
        } else if (a instanceof ActivationReLU r) {
            boolean plain = r.getMax() == null && (r.getThreshold() == null || r.getThreshold() == 0)
                    && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0);
            return plain ? Nonlinearity.RELU : null;
        } else if (a instanceof ActivationLReLU) {
            return Nonlinearity.LEAKY_RELU;
        } else if (a instanceof ActivationELU) {
            return Nonlinearity.ELU;
        } else if (a instanceof ActivationSoftSign) {
            return Nonlinearity.SOFTSIGN;
        } else if (a instanceof ActivationSoftPlus) {
            return Nonlinearity.SOFTPLUS;
        } else if (a instanceof ActivationCube) {
            return Nonlinearity.CUBE;
        } else if (a instanceof ActivationHardTanH) {
            return Nonlinearity.HARDTANH;
        }
        return null;
    }

    static double alpha(IActivation a) {
        if (a instanceof ActivationLReLU l) {
            return l.getAlpha();
        }
        return a instanceof ActivationELU e ? e.getAlpha() : Double.NaN;
    }
}
