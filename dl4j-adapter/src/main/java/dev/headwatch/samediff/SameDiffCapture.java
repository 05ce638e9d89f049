package dev.headwatch.samediff;

import dev.headwatch.capture.ArrayCopies;
import dev.headwatch.core.LayerCapture;
import dev.headwatch.core.Visibility;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.custom.DotProductAttention;
import org.nd4j.linalg.api.ops.impl.transforms.custom.MultiHeadDotProductAttention;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Copies SameDiff arrays into the core's {@link LayerCapture}: one definition shared by
 * {@link SameDiffAttentionListener} (live, during training) and checkpoint analysis (offline, on probe data), so
 * both report the same numbers for the same weights and input.
 * <ul>
 *   <li>fused {@code multi_head_dot_product_attention} and {@code dot_product_attention} ops, named by their
 *       output variable; this class is the one place that knows their inputs (in op order: {@code q, k, v, Wq,
 *       Wk, Wv, Wo[, mask]} and {@code q, k, v[, mask]}; {@code q, k, v} as {@code [mb, nIn, T]}, or
 *       {@code [mb, heads, d, T]} for a rank-4 {@code dot_product_attention}; the mask {@code [mb, T]} masks
 *       keys);</li>
 *   <li>hand-written attention declared with {@link AttentionVariables} (layouts documented there).</li>
 * </ul>
 */
public final class SameDiffCapture {

    private static final int QUERIES = 0;
    private static final int KEYS = 1;
    private static final int VALUES = 2;
    private static final int QUERY_WEIGHTS = 3;
    private static final int KEY_WEIGHTS = 4;
    private static final int VALUE_WEIGHTS = 5;
    private static final int OUTPUT_WEIGHTS = 6;
    /** Inputs of a multi-head op without its mask. */
    private static final int MULTI_HEAD_INPUTS = 7;
    /** Inputs of a plain op without its mask. */
    private static final int PLAIN_INPUTS = 3;

    private SameDiffCapture() {
    }

    /** Whether the op is a fused attention op this class reads. */
    public static boolean isFusedAttention(DifferentialFunction fn) {
        return fn.getClass() == MultiHeadDotProductAttention.class || fn.getClass() == DotProductAttention.class;
    }

    /** Whether a fused attention op is {@code multi_head_dot_product_attention} (else {@code dot_product_attention}). */
    public static boolean isMultiHead(DifferentialFunction fn) {
        return fn.getClass() == MultiHeadDotProductAttention.class;
    }

    /** The name a fused op is reported under: its output variable (the name the user gave), else the op name. */
    public static String layerName(SameDiffOp op) {
        return op.getOutputsOfOp() != null && !op.getOutputsOfOp().isEmpty() ? op.getOutputsOfOp().get(0) : op.getName();
    }

    /** Whether a fused op scales its logits by {@code 1/sqrt(headSize)} (its first integer argument, default on). */
    public static boolean scaled(DifferentialFunction fn) {
        long[] iArgs = fn instanceof DynamicCustomOp c ? c.iArgs() : new long[0];
        return iArgs.length == 0 || iArgs[0] != 0;
    }

    /** A fused op's query projection {@code Wq [H, hs, nIn]} among its inputs (names or arrays), or null without one. */
    public static <T> T queryWeights(boolean multiHead, List<T> inputs) {
        return multiHead && inputs.size() > QUERY_WEIGHTS ? inputs.get(QUERY_WEIGHTS) : null;
    }

    /** A fused op's key projection {@code Wk [H, hs, nIn]} among its inputs, or null without one. */
    public static <T> T keyWeights(boolean multiHead, List<T> inputs) {
        return multiHead && inputs.size() > KEY_WEIGHTS ? inputs.get(KEY_WEIGHTS) : null;
    }

    /**
     * Copies the given rows of a fused op's inputs and output and its weights (training changes them
     * afterwards): plain arrays the core reads later, on any thread.
     *
     * @param fn an op for which {@link #isFusedAttention} holds
     */
    public static LayerCapture fused(String name, DifferentialFunction fn, List<INDArray> in, INDArray out, int[] rows) {
        return fused(name, isMultiHead(fn), scaled(fn), in, out, rows);
    }

    /** The same, for an op known by its kind and {@link #scaled scaling}. */
    public static LayerCapture fused(String name, boolean multiHead, boolean scaled, List<INDArray> in, INDArray out,
                                     int[] rows) {
        return ArrayCopies.outsideWorkspaces(() -> {
            int inputs = multiHead ? MULTI_HEAD_INPUTS : PLAIN_INPUTS;
            INDArray q = in.get(QUERIES);
            INDArray mask = in.size() > inputs ? in.get(inputs) : null;
            double scale = scaled ? Double.NaN : 1.0;
            // [mb, heads, d, T] is read as [T, heads*d]: the heads side by side, as the core takes them unprojected
            int time = q.rank() - 1;
            List<LayerCapture.Sequence> sequences = new ArrayList<>();
            for (int row : rows) {
                double[] x = ArrayCopies.sequence(q, row, time);
                double[] k = in.get(KEYS) == q ? x : ArrayCopies.sequence(in.get(KEYS), row, time);
                double[] v = in.get(VALUES) == q ? x : ArrayCopies.sequence(in.get(VALUES), row, time);
                boolean[] keys = ArrayCopies.visible(mask, row);
                sequences.add(new LayerCapture.Sequence((int) q.size(time), x, (int) in.get(KEYS).size(time), k, v,
                        ArrayCopies.sequence(out, row, time), null, keys));
            }
            boolean isDouble = q.dataType() == DataType.DOUBLE;
            if (multiHead) {
                INDArray wq = in.get(QUERY_WEIGHTS);
                LayerCapture.Projections p = new LayerCapture.Projections(ArrayCopies.of(wq),
                        ArrayCopies.of(in.get(KEY_WEIGHTS)), ArrayCopies.of(in.get(VALUE_WEIGHTS)),
                        ArrayCopies.of(in.get(OUTPUT_WEIGHTS)));
                return new LayerCapture(name, (int) wq.size(0), (int) wq.size(1), scale, isDouble, false, p, null, sequences);
            }
            int heads = q.rank() == 4 ? (int) q.size(1) : 1;
            return new LayerCapture(name, heads, (int) q.size(time - 1), scale, isDouble, false, null, null, sequences);
        });
    }

    /**
     * The sampled sequences of one variable of a declared layer, one row per position ({@code [T, heads*hs]}).
     *
     * @param heads     the heads of a rank-4 layout, 0 for rank 3 (the declaration says)
     * @param positions T
     * @param sequences per sampled sequence, the copy
     * @param isDouble  whether the variable is float64
     */
    public record Variable(int heads, int positions, List<double[]> sequences, boolean isDouble) {
    }

    /** Copies the given rows of a declared layer's variable ({@link AttentionVariables} layouts). */
    public static Variable variable(String layer, INDArray a, int[] rows) {
        if (a.rank() != 3 && a.rank() != 4) {
            throw new IllegalArgumentException("layer " + layer + ": expected [mb, heads, T, headSize] or "
                    + "[mb, T, heads*headSize] but a variable had shape " + Arrays.toString(a.shape()));
        }
        int time = a.rank() == 4 ? 2 : 1;
        return ArrayCopies.outsideWorkspaces(() -> {
            List<double[]> out = new ArrayList<>();
            for (int row : rows) {
                out.add(ArrayCopies.sequence(a, row, time));
            }
            return new Variable(a.rank() == 4 ? (int) a.size(1) : 0, (int) a.size(time), out,
                    a.dataType() == DataType.DOUBLE);
        });
    }

    /**
     * One declared layer from the copies of its variables ({@link #variable}), by variable name; null when q or k
     * is missing. Its output, when declared, is the attention result before the output projection, so the core's
     * rebuild from q, k, v checks it ({@code reconstructionError}, NaN without v or output).
     */
    public static LayerCapture declared(AttentionVariables d, Map<String, Variable> captured) {
        Variable q = captured.get(d.q());
        Variable k = captured.get(d.k());
        if (q == null || k == null) {
            return null;
        }
        Variable v = d.v() == null ? null : captured.get(d.v());
        Variable o = d.output() == null ? null : captured.get(d.output());
        int heads = q.heads() > 0 ? q.heads() : d.heads();
        int width = q.sequences().isEmpty() ? heads : q.sequences().get(0).length / q.positions();
        if (width % heads != 0) {
            throw new IllegalArgumentException("layer " + d.layer() + ": " + width + " columns do not split into "
                    + heads + " heads");
        }
        Visibility vis = d.visibility();
        boolean[] padded = null;
        if (vis.kind() == Visibility.Kind.PADDED) {
            padded = new boolean[q.positions()];
            Arrays.fill(padded, 0, Math.min(vis.length(), padded.length), true);
        }
        List<LayerCapture.Sequence> sequences = new ArrayList<>();
        for (int s = 0; s < q.sequences().size(); s++) {
            sequences.add(new LayerCapture.Sequence(q.positions(), q.sequences().get(s), k.positions(),
                    k.sequences().get(s), v == null ? null : v.sequences().get(s), o == null ? null : o.sequences().get(s),
                    padded, padded));
        }
        return new LayerCapture(d.layer(), heads, width / heads, d.scale(), q.isDouble(),
                vis.kind() == Visibility.Kind.CAUSAL, null, null, sequences);
    }
}
