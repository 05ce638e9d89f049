package dev.headwatch.samediff;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.Visibility;
import dev.headwatch.dl4j.AttentionExtractor;
import dev.headwatch.dl4j.AttentionExtractor.Capture;
import dev.headwatch.dl4j.AttentionExtractor.Kind;
import dev.headwatch.dl4j.AttentionExtractor.LayerExtraction;
import dev.headwatch.dl4j.AttentionExtractor.Site;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.custom.DotProductAttention;
import org.nd4j.linalg.api.ops.impl.transforms.custom.MultiHeadDotProductAttention;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads attention heads out of SameDiff arrays: one definition shared by {@link SameDiffAttentionListener}
 * (live, during training) and checkpoint analysis (offline, on probe data), so both report the same numbers
 * for the same weights and input.
 * <ul>
 *   <li>fused {@code multi_head_dot_product_attention} and {@code dot_product_attention} ops, named by their
 *       output variable and read with the same code as the DL4J layers;</li>
 *   <li>hand-written attention declared with {@link AttentionVariables} (layouts documented there).</li>
 * </ul>
 */
public final class SameDiffExtraction {

    private SameDiffExtraction() {
    }

    /** Whether the op is a fused attention op this class reads. */
    public static boolean isFusedAttention(DifferentialFunction fn) {
        return fn.getClass() == MultiHeadDotProductAttention.class || fn.getClass() == DotProductAttention.class;
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

    /**
     * One fused op from its input arrays (in op order) and its output, for the given rows of the batch.
     *
     * @param fn an op for which {@link #isFusedAttention} holds
     */
    public static LayerExtraction fused(String name, DifferentialFunction fn, List<INDArray> in, INDArray out, int[] rows) {
        return fused(name, fn.getClass() == MultiHeadDotProductAttention.class, scaled(fn), in, out, rows);
    }

    /**
     * The same, for an op known by its kind ({@code multi_head_dot_product_attention} or
     * {@code dot_product_attention}) and {@link #scaled scaling}.
     */
    public static LayerExtraction fused(String name, boolean multiHead, boolean scaled, List<INDArray> in, INDArray out,
                                        int[] rows) {
        return capture(name, multiHead, scaled, in, out, rows).extract();
    }

    /**
     * As {@link #fused}, split: copies out the given rows and the op's weights now (training changes them
     * afterwards), so that {@link Capture#extract()} can run later on another thread.
     *
     * @param fn an op for which {@link #isFusedAttention} holds
     */
    public static Capture capture(String name, DifferentialFunction fn, List<INDArray> in, INDArray out, int[] rows) {
        return capture(name, fn.getClass() == MultiHeadDotProductAttention.class, scaled(fn), in, out, rows);
    }

    private static Capture capture(String name, boolean multiHead, boolean scaled, List<INDArray> in, INDArray out,
                                   int[] rows) {
        return multiHead ? fusedMulti(name, in, out, scaled, rows) : fusedPlain(name, in, out, scaled, rows);
    }

    private static Capture fusedMulti(String name, List<INDArray> in, INDArray out, boolean scaled, int[] r) {
        INDArray wq = in.get(3);
        Site site = new Site(name, Kind.SAMEDIFF_OP, (int) wq.size(0), (int) wq.size(1), true);
        Map<String, INDArray> w = Map.of("Wq", in.get(3), "Wk", in.get(4), "Wv", in.get(5), "Wo", in.get(6));
        INDArray mask = in.size() > 7 ? in.get(7) : null;
        double scale = scaled ? Double.NaN : 1.0;
        return AttentionExtractor.capture(site, in.get(0), in.get(1), in.get(2), out, mask, w, scale, r);
    }

    private static Capture fusedPlain(String name, List<INDArray> in, INDArray out, boolean scaled, int[] r) {
        INDArray q = in.get(0);
        INDArray k = in.get(1);
        INDArray v = in.get(2);
        INDArray mask = in.size() > 3 ? in.get(3) : null;
        if (q.rank() == 3) {
            Site site = new Site(name, Kind.SAMEDIFF_OP, 1, (int) q.size(1), false);
            return AttentionExtractor.capture(site, q, k, v, out, mask, Map.of(), scaled ? Double.NaN : 1.0, r);
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
        return AttentionExtractor.capture(site, stack(q), stack(k), stack(v), stack(out), mask, w,
                scaled ? Double.NaN : 1.0, r);
    }

    private static INDArray stack(INDArray a) {
        return a.reshape('c', a.size(0), a.size(1) * a.size(2), a.size(3));
    }

    /** The given rows of a batch-first activation, each copied out of any workspace. */
    public static List<INDArray> rows(INDArray activation, int[] rows) {
        List<INDArray> kept = new ArrayList<>();
        try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            for (int b : rows) {
                kept.add(activation.slice(b).dup('c'));
            }
        }
        return kept;
    }

    /**
     * One declared layer from the per-sequence arrays of its variables ({@link #rows}), by variable name;
     * null when q or k is missing. {@code reconstructionError} compares the declared output with attention
     * rebuilt from q, k, v (NaN without v or output).
     */
    public static LayerExtraction declared(AttentionVariables d, Map<String, List<INDArray>> captured) {
        List<INDArray> qs = captured.get(d.q());
        List<INDArray> ks = captured.get(d.k());
        if (qs == null || ks == null) {
            return null;
        }
        List<INDArray> vs = d.v() == null ? null : captured.get(d.v());
        List<INDArray> os = d.output() == null ? null : captured.get(d.output());
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
        int nHeads = sequences.isEmpty() ? d.heads() : sequences.get(0).size();
        int headSize = sequences.isEmpty() ? 0 : sequences.get(0).get(0).d();
        return new LayerExtraction(new Site(d.layer(), Kind.SAMEDIFF_OP, nHeads, headSize, false), sequences, null, err);
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
}
